"""Label arrays, the four regions of an update, and undefined ratios.

The private core that :mod:`bcsk.scores`, :mod:`bcsk.metrics`,
:mod:`bcsk.scorers` and :mod:`bcsk.plotting` share, so that every one of them
reads labels, compares them and counts the regions the same way:

* :func:`check_label_arrays` validates label containers of any type;
* :func:`equal` compares labels with Python's ``==``;
* :func:`region_counts` splits the samples into the four regions, named as
  everywhere in bcsk: **both right**, **new errors** (h1 right, h2 wrong),
  **fixed errors** (h1 wrong, h2 right) and **both wrong**;
* :func:`check_zero_division` and :func:`divide` give a ratio whose denominator
  can be zero the value that the caller's ``zero_division`` asks for.

NumPy only: scoring predictions never imports TensorFlow, and scikit-learn
only to warn about an undefined ratio.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

# Kinds of NumPy dtypes whose values compare like Python numbers.
_NUMERIC_KINDS = frozenset("biufc")


class RegionCounts(NamedTuple):
    """Samples in each region of the h1-right / h2-right table."""

    both_right: int
    new_errors: int
    fixed_errors: int
    both_wrong: int

    @property
    def n_samples(self) -> int:
        """All samples: the four counts add up to it."""
        return self.both_right + self.new_errors + self.fixed_errors + self.both_wrong


def as_label_array(labels: ArrayLike) -> np.ndarray:
    """Convert one label container to an array without changing its labels.

    ``np.asarray`` turns ``[1, "a"]`` into the strings ``["1", "a"]`` and strips
    trailing NUL characters from strings, so a list that is not purely numeric
    is kept as Python objects: labels then compare exactly as they do in Python.
    """
    if isinstance(labels, np.ndarray):
        return labels
    array = np.asarray(labels)
    if array.dtype.kind not in _NUMERIC_KINDS:
        array = np.asarray(labels, dtype=object)
    return array


def join(names: Sequence[str]) -> str:
    """Join parameter names as ``a, b and c``."""
    return ", ".join(names[:-1]) + " and " + names[-1]


def check_label_arrays(
    arrays: Sequence[ArrayLike], names: Sequence[str]
) -> list[np.ndarray]:
    """Validate label arrays and return them as 1-D arrays of equal length.

    Parameters
    ----------
    arrays : sequence of array-like
        The label containers, in the caller's parameter order.
    names : sequence of str
        The caller's parameter names, used in error messages.

    Returns
    -------
    list of ndarray
        One 1-D array per input; column vectors of shape (n, 1) are ravelled.

    Raises
    ------
    ValueError
        If an input is not 1-D or a column vector, or the lengths differ.
    """
    converted = [as_label_array(a) for a in arrays]
    shapes = [a.shape for a in converted]
    if any(
        not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) for shape in shapes
    ):
        described = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=True))
        hint = ""
        if any(len(shape) == 2 and shape[1] > 1 for shape in shapes):
            hint = (
                " If you passed class probabilities or one-hot rows, pass their "
                "argmax(axis=1) instead."
            )
        raise ValueError(
            f"{join(names)} must each hold one label per sample: a 1-D array or "
            f"a column vector of shape (n_samples, 1); got shapes {described}." + hint
        )
    converted = [a.ravel() for a in converted]
    lengths = [a.shape[0] for a in converted]
    if len(set(lengths)) > 1:
        described = ", ".join(f"{n}={k}" for n, k in zip(names, lengths, strict=True))
        raise ValueError(
            f"{join(names)} must have the same number of samples; got lengths "
            f"{described}. Pass the predictions of both models for exactly the "
            "samples whose true labels you pass."
        )
    return converted


def equal(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Compare two label arrays elementwise with Python's ``==`` semantics."""
    lk, rk = left.dtype.kind, right.dtype.kind
    if (lk in _NUMERIC_KINDS and rk in _NUMERIC_KINDS) or (lk == rk and lk in "US"):
        return np.asarray(left == right, dtype=bool)
    # NumPy refuses to compare, say, integers with strings; objects fall back
    # on each label's own __eq__, so 1 == "1" is simply False.
    return np.asarray(left.astype(object) == right.astype(object), dtype=bool)


def region_counts(h1_correct: np.ndarray, h2_correct: np.ndarray) -> RegionCounts:
    """Count the four regions from the masks of each model's correct answers."""
    both_right = int(np.count_nonzero(h1_correct & h2_correct))
    new_errors = int(np.count_nonzero(h1_correct & ~h2_correct))
    fixed_errors = int(np.count_nonzero(~h1_correct & h2_correct))
    both_wrong = int(h1_correct.shape[0]) - both_right - new_errors - fixed_errors
    return RegionCounts(both_right, new_errors, fixed_errors, both_wrong)


def to_python(value: Any) -> Any:
    """Turn a NumPy scalar into the equivalent Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def unique_labels(*arrays: np.ndarray) -> list[Any]:
    """Return the sorted union of the labels in ``arrays``, as Python scalars."""
    seen: dict[Any, None] = {}
    for array in arrays:
        if array.dtype.kind in "biufcUS":
            values = np.unique(array).tolist()
        else:
            values = [to_python(v) for v in array.tolist()]
        seen.update(dict.fromkeys(values))
    try:
        return sorted(seen)
    except TypeError:
        # Mixed label types such as 1 and "a" have no natural order; group
        # them by type so that the table still reads predictably.
        return sorted(seen, key=lambda v: (type(v).__name__, str(v)))


def check_labels(labels: Iterable[Any]) -> list[Any]:
    """Validate a ``labels`` parameter (classes to list) and return it as a list."""
    if isinstance(labels, str):
        raise ValueError(
            f"labels must be a sequence of class labels, got the string {labels!r}. "
            f"Wrap a single label in a list: labels=[{labels!r}]."
        )
    checked = [to_python(v) for v in labels]
    duplicates = sorted(
        {str(v) for v, k in Counter(checked).items() if k > 1},
    )
    if duplicates:
        raise ValueError(
            f"labels must not repeat a label; got duplicates {duplicates}."
        )
    return checked


def check_zero_division(zero_division: Any) -> None:
    """Raise ``ValueError`` unless ``zero_division`` is "warn", 0, 1 or NaN."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return
    elif isinstance(zero_division, numbers.Real) and not isinstance(
        zero_division, bool
    ):
        value = float(zero_division)
        if value in (0.0, 1.0) or math.isnan(value):
            return
    raise ValueError(
        f"zero_division must be 'warn', 0.0, 1.0 or np.nan; got {zero_division!r}."
    )


def divide(
    numerator: int,
    denominator: int,
    zero_division: str | float,
    score_name: str,
    empty_reason: str,
    stacklevel: int = 4,
) -> float:
    """Divide two counts, replacing an undefined ratio by ``zero_division``.

    ``empty_reason`` completes the warning: "... because <empty_reason>".
    The default ``stacklevel`` points the warning at the caller of a public
    function that calls a ``*_from_counts`` helper that calls this one.
    """
    if denominator:
        return numerator / denominator
    if zero_division != "warn":
        return float(zero_division)
    # Imported here: scikit-learn takes seconds to import and is only needed
    # on this rare path.
    from sklearn.exceptions import UndefinedMetricWarning

    warnings.warn(
        f"{score_name} is ill-defined and being set to 0.0 because "
        f"{empty_reason}, so its denominator is zero. Use `zero_division` "
        "parameter to control this behavior.",
        UndefinedMetricWarning,
        stacklevel=stacklevel,
    )
    return 0.0
