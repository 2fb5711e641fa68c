"""Public names imported on first use (PEP 562), so that imports stay cheap.

``import bcsk`` and ``import bcsk.model_selection`` must not import TensorFlow:
a package lists its public names with the module that defines each, and
:func:`attach` gives it the ``__getattr__``, ``__dir__`` and ``__all__`` that
import that module when the name is first read (as scientific-python's
``lazy_loader.attach`` does).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def attach(
    package: str, names: Mapping[str, str], modules: Mapping[str, str] | None = None
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> module that defines it.
    modules : mapping of str to str, optional
        Public name -> module re-exported under that name.
    """
    modules = dict(modules or {})
    public = sorted([*names, *modules])
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> object:
        if name in modules:
            value = importlib.import_module(modules[name])
        elif name in names:
            value = getattr(importlib.import_module(names[name]), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__, public
