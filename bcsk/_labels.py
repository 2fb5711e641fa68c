"""Label arrays, the four regions of an update, and undefined ratios.

The private core that :mod:`bcsk.scores`, :mod:`bcsk.metrics`,
:mod:`bcsk.metrics` and :mod:`bcsk.metrics` share, so that every one of them
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
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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
    arrays: Sequence[ArrayLike], names: Sequence[str], *, multi: bool = False
) -> list[np.ndarray]:
    """Validate label arrays and return them as arrays of equal length.

    Parameters
    ----------
    arrays : sequence of array-like
        The label containers, in the caller's parameter order.
    names : sequence of str
        The caller's parameter names, used in error messages.
    multi : bool, default=False
        Also accept arrays of shape (n_samples, n_outputs), one column per
        label of a multilabel indicator or per output of a multi-output
        target, when every array has that same shape.

    Returns
    -------
    list of ndarray
        One 1-D array per input (column vectors of shape (n, 1) are
        ravelled), or with ``multi``, one 2-D array per input.

    Raises
    ------
    ValueError
        If an input is not 1-D or a column vector (or, with ``multi``, the
        2-D shapes differ), or the lengths differ.
    """
    converted = [as_label_array(a) for a in arrays]
    shapes = [a.shape for a in converted]
    if multi and all(len(shape) == 2 and shape[1] > 1 for shape in shapes):
        if len(set(shapes)) > 1:
            described = ", ".join(
                f"{n} {s}" for n, s in zip(names, shapes, strict=True)
            )
            raise ValueError(
                f"{join(names)} must have the same shape (n_samples, n_outputs): "
                f"one column per label or output, in the same order; got shapes "
                f"{described}."
            )
        return converted
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
            if multi:
                hint += (
                    " A multilabel or multi-output target needs all three of "
                    "shape (n_samples, n_outputs)."
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
    """Count the four regions from the masks of each model's correct answers.

    With 2-D masks (one column per label or output) every (sample, output)
    cell counts once: the counts of ``average="micro"``.
    """
    both_right = int(np.count_nonzero(h1_correct & h2_correct))
    new_errors = int(np.count_nonzero(h1_correct & ~h2_correct))
    fixed_errors = int(np.count_nonzero(~h1_correct & h2_correct))
    both_wrong = int(h1_correct.size) - both_right - new_errors - fixed_errors
    return RegionCounts(both_right, new_errors, fixed_errors, both_wrong)


AVERAGES = ("micro", "macro", "samples", None)


def check_average(average: Any) -> None:
    """Raise ``ValueError`` unless ``average`` is one of :data:`AVERAGES`."""
    if not (average is None or (isinstance(average, str) and average in AVERAGES)):
        raise ValueError(
            f"average must be 'micro', 'macro', 'samples' or None; got {average!r}."
        )


def is_averaged(mask: np.ndarray, average: str | None) -> bool:
    """Whether a score of ``mask`` is a mean over outputs or samples."""
    return mask.ndim == 2 and average != "micro" and mask.shape[0] > 0


def score_regions(
    score: Callable[[RegionCounts, str | float], float],
    h1_correct: np.ndarray,
    h2_correct: np.ndarray,
    average: str | None,
    zero_division: str | float,
) -> float | np.ndarray:
    """``score`` of the regions of two correctness masks, as ``average`` says.

    ``score(counts, zero_division)`` computes the score from
    :class:`RegionCounts`. One label per sample, and ``"micro"`` (every
    (sample, output) cell counts once), score the masks' :func:`region_counts`
    directly, so that a warning points at the user's call. ``"macro"`` is
    the mean of the outputs' scores, ``"samples"`` the mean of the samples'
    scores and ``None`` the array of the outputs' scores. An undefined
    score of one output (or sample) becomes ``zero_division`` before the
    mean; with ``zero_division=np.nan`` it is left out of the mean, as in
    scikit-learn, and "warn" warns once for all of them.
    """
    if not is_averaged(h1_correct, average):
        return score(region_counts(h1_correct, h2_correct), zero_division)
    axis = 1 if average == "samples" else 0  # sum over samples: one per output
    counts = [
        np.count_nonzero(mask, axis=axis)
        for mask in (
            h1_correct & h2_correct,
            h1_correct & ~h2_correct,
            ~h1_correct & h2_correct,
            ~h1_correct & ~h2_correct,
        )
    ]
    values = np.array(
        [
            score(RegionCounts(*map(int, unit)), np.nan)
            for unit in zip(*counts, strict=True)
        ],
        dtype=float,
    )
    undefined = np.isnan(values)
    if undefined.any() and not (
        isinstance(zero_division, float) and math.isnan(zero_division)
    ):
        if zero_division == "warn":
            from sklearn.exceptions import UndefinedMetricWarning

            unit = "samples" if average == "samples" else "outputs"
            warnings.warn(
                f"The score is ill-defined for {int(undefined.sum())} of "
                f"{values.shape[0]} {unit} (its denominator is zero there) and "
                "is being set to 0.0 for them. Use `zero_division` parameter to "
                "control this behavior.",
                UndefinedMetricWarning,
                stacklevel=user_stacklevel(),
            )
            zero_division = 0.0
        values[undefined] = float(zero_division)
    if average is None:
        return values
    if np.isnan(values).all():  # every unit undefined, and NaN asked for
        return float("nan")
    return float(np.nanmean(values))


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
) -> float:
    """Divide two counts, replacing an undefined ratio by ``zero_division``.

    ``empty_reason`` completes the warning: "... because <empty_reason>".
    The warning points at the first caller outside bcsk (the user's call of
    a score or metric), however deep the call came through bcsk.
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
        stacklevel=user_stacklevel(),
    )
    return 0.0


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside bcsk.

    For a ``warnings.warn`` made by the function that calls this one.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("bcsk."):
        frame, level = frame.f_back, level + 1
    return level


# -- classes an old model knows: a later version may add classes ------------------


def check_known_classes(known: Any, classes: Sequence[Any], source: str) -> list[Any]:
    """The classes an old model knows, checked to be distinct classes of ``y``.

    Parameters
    ----------
    known : array-like
        The old model's classes, in the order of its output columns.
    classes : sequence
        Every class of ``y``.
    source : str
        How the caller names ``known`` in its errors (``"h1_classes"``).

    Returns
    -------
    list
        ``known`` as Python scalars, in its order.
    """
    if known is None or isinstance(known, str):
        raise ValueError(
            f"{source} must be a sequence of class labels (the class of each of "
            f"h1's output columns, in order); got {known!r}."
        )
    values = [to_python(v) for v in as_label_array(known).ravel().tolist()]
    if not values:
        raise ValueError(f"{source} is empty: h1 must know at least one class.")
    if len(set(values)) != len(values):
        repeated = [v for v, k in Counter(values).items() if k > 1]
        raise ValueError(f"{source} lists classes {repeated} more than once.")
    listed = list(classes)
    outside = [v for v in values if v not in listed]
    if outside:
        raise ValueError(
            f"{source} names classes {outside[:5]} that are not among the classes "
            f"of y {listed}: h1 and y must use the same labels, and an old model "
            "may know fewer classes than y, not others."
        )
    return values


def known_rows(y: np.ndarray, known: Sequence[Any]) -> np.ndarray:
    """Mask of the rows of ``y`` whose true class is one of ``known``."""
    known = set(known)
    return np.fromiter((to_python(v) in known for v in y.tolist()), bool, len(y))
