"""Docstring sections that several public functions share, written once.

A line of a docstring that holds only ``%(name)s`` is replaced by the
fragment ``name``, indented as that line (the convention of scipy's
``doccer``); the rest of the docstring is left alone, so formulas keep their
braces and percent signs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def fill(**fragments: str) -> Callable[[T], T]:
    r"""Decorator: put ``fragments`` into the decorated object's docstring.

    Parameters
    ----------
    **fragments : str
        Fragment text by name, indented as you like (it is dedented).

    Returns
    -------
    callable
        The decorator; it returns the object with its ``__doc__`` filled.

    Examples
    --------
    >>> @fill(returns="float\n    A number.")
    ... def f():
    ...     '''Return one.
    ...
    ...     Returns
    ...     -------
    ...     %(returns)s
    ...     '''
    >>> print(f.__doc__.splitlines()[-2].strip())
    A number.
    """
    texts = {
        name: textwrap.dedent(text).strip("\n").splitlines()
        for name, text in fragments.items()
    }

    def decorate(obj: T) -> T:
        if obj.__doc__ is None:  # python -OO strips docstrings
            return obj
        lines = []
        for line in obj.__doc__.splitlines():
            key = line.strip()
            if key.startswith("%(") and key.endswith(")s"):
                indent = line[: len(line) - len(line.lstrip())]
                lines += [indent + text if text else "" for text in texts[key[2:-2]]]
            else:
                lines.append(line)
        obj.__doc__ = "\n".join(lines)
        return obj

    return decorate
