"""The report's tables by slice, its examples and its bootstrap intervals.

A one-label-per-sample :class:`~bcsk.metrics.CompatibilityReport` holds, beyond
its totals, a table per class and per group of users (:class:`SliceRow`), the
classes h1's right answers flip to, example new errors and, on request,
bootstrap intervals of the headline figures: :func:`_details` computes them.
:func:`worst_group_new_error_rate` is the figure the worst-group scorer and
refit bound read. NumPy only.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _labels
from bcsk.metrics._flips import _check

__all__ = ["worst_group_new_error_rate"]

# How many new errors the report keeps as examples (their row ids).
_N_EXAMPLES = 20


# The headline figures that get bootstrap intervals, in the page's order.
_HEADLINE = (
    "h1_accuracy",
    "h2_accuracy",
    "btc",
    "bec",
    "negative_flip_rate",
    "positive_flip_rate",
    "negative_flip_impact",
)


class SliceRow(NamedTuple):
    """One row of the per-class or per-group table of a report.

    Attributes
    ----------
    label : object
        The class (per-class table) or group (per-group table).
    n : int
        Rows in the slice.
    h1_accuracy, h2_accuracy : float
        Share of the slice each model gets right.
    new_errors : int
        Rows of the slice h1 gets right and h2 gets wrong.
    fixed_errors : int
        Rows of the slice h1 gets wrong and h2 gets right.
    new_error_rate : float
        ``new_errors / n``: the negative flip rate within the slice.
    btc : float
        Share of h1's right answers in the slice that h2 keeps; NaN when h1
        gets none of it right.
    small : bool
        Whether ``n`` is below the report's ``min_group_size``: too few rows
        for the rate to mean much, and not gated by
        :meth:`CompatibilityReport.check`.
    """

    label: Any
    n: int
    h1_accuracy: float
    h2_accuracy: float
    new_errors: int
    fixed_errors: int
    new_error_rate: float
    btc: float
    small: bool


class NewErrorExample(NamedTuple):
    """A row h1 got right and h2 gets wrong: its id, true label, h2's label, group."""

    id: Any
    y_true: Any
    h2_pred: Any
    group: Any


@dataclass(frozen=True)
class _Details:
    """What a one-label-per-sample report holds beyond its fields."""

    per_class: tuple[SliceRow, ...]
    flips: tuple[tuple[Any, Any, int], ...]
    examples: tuple[NewErrorExample, ...]
    groups: tuple[SliceRow, ...] | None = None
    min_group_size: int = 30
    intervals: Mapping[str, tuple[float, float]] | None = None
    confidence_level: float | None = None
    n_bootstraps: int = 0
    random_state: int | None = None


def _check_min_group_size(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"min_group_size must be an integer >= 1; got {value!r}. Groups with "
            "fewer rows are flagged and not gated; docs/review.rst explains how "
            "to choose it (for a limit L on a group's new-error rate, 3 / L rows "
            "can show a rate below L)."
        )


def _keys_of(values: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """The distinct values (as Python scalars, sorted) and each row's index in them."""
    if values.dtype.kind in "biufUS":
        unique, inverse = np.unique(values, return_inverse=True)
        return [_labels.to_python(v) for v in unique.tolist()], inverse.ravel()
    python = [_labels.to_python(v) for v in values.tolist()]
    keys = _labels.unique_labels(np.asarray(python, dtype=object))
    position = {key: i for i, key in enumerate(keys)}
    return keys, np.fromiter((position[v] for v in python), np.intp, len(python))


def _slice_rows(
    values: np.ndarray,
    h1_correct: np.ndarray,
    h2_correct: np.ndarray,
    min_group_size: int,
) -> list[SliceRow]:
    """One :class:`SliceRow` per distinct value of ``values``, in sorted order."""
    keys, inverse = _keys_of(values)
    size = len(keys)
    n = np.bincount(inverse, minlength=size)
    h1_right = np.bincount(inverse, weights=h1_correct, minlength=size)
    h2_right = np.bincount(inverse, weights=h2_correct, minlength=size)
    new = np.bincount(inverse, weights=h1_correct & ~h2_correct, minlength=size)
    fixed = np.bincount(inverse, weights=~h1_correct & h2_correct, minlength=size)
    rows = []
    for i, key in enumerate(keys):
        # Python ints, so that every figure is a Python float.
        n_i, h1_i, new_i = int(n[i]), int(h1_right[i]), int(new[i])
        rows.append(
            SliceRow(
                label=key,
                n=n_i,
                h1_accuracy=h1_i / n_i,
                h2_accuracy=int(h2_right[i]) / n_i,
                new_errors=new_i,
                fixed_errors=int(fixed[i]),
                new_error_rate=new_i / n_i,
                btc=(h1_i - new_i) / h1_i if h1_i else float("nan"),
                small=n_i < min_group_size,
            )
        )
    return rows


def _check_missing(values: np.ndarray, name: str) -> None:
    """Refuse None and NaN labels: they cannot be compared or grouped."""
    if values.dtype.kind == "f":
        missing = np.flatnonzero(np.isnan(values))
    elif values.dtype.kind == "O":
        missing = np.flatnonzero(
            [v is None or (isinstance(v, float) and v != v) for v in values.tolist()]
        )
    else:
        return
    if missing.size:
        raise ValueError(
            f"{name} holds {missing.size} missing value(s) (NaN or None), first "
            f"at row {int(missing[0])}; drop those rows or give them a label of "
            "their own (such as 'unknown')."
        )


def _bootstrap_intervals(
    counts: _labels.RegionCounts,
    n_bootstraps: int,
    confidence_level: float,
    random_state: int | None,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the headline figures over bootstrap resamples.

    Every headline figure is a function of the four region counts, and the
    counts of a resample of the n rows (drawn with replacement) follow a
    multinomial law with the observed shares: drawing them directly is the
    same bootstrap, in O(n_bootstraps) whatever n.
    """
    n = counts.n_samples
    rng = np.random.default_rng(random_state)
    shares = np.array(counts, dtype=float) / n
    draws = rng.multinomial(n, shares, size=n_bootstraps).astype(float)
    both_right, new, fixed, both_wrong = draws.T
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "h1_accuracy": (both_right + new) / n,
            "h2_accuracy": (both_right + fixed) / n,
            "btc": both_right / (both_right + new),
            "bec": both_wrong / (both_wrong + new),
            "negative_flip_rate": new / n,
            "positive_flip_rate": fixed / n,
            "negative_flip_impact": new / (new + both_wrong),
        }
    tail = (1 - confidence_level) / 2
    intervals = {}
    for name in _HEADLINE:
        finite = values[name][np.isfinite(values[name])]
        if finite.size == 0:  # undefined in every resample
            intervals[name] = (float("nan"), float("nan"))
        else:
            low, high = np.quantile(finite, [tail, 1 - tail])
            intervals[name] = (float(low), float(high))
    return intervals


def worst_group_new_error_rate(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    groups: ArrayLike,
    min_group_size: int = 1,
) -> float:
    r"""The highest new-error rate of any group: the users an update hurts most.

    .. math::

       \max_{g \,:\, n_g \ge m} \frac{1}{n_g} \sum_{i \in g}
       \mathbf{1}[h_1(x_i) = y_i \wedge h_2(x_i) \ne y_i]

    The negative flip rate (:func:`negative_flip_rate`) within each group of
    at least ``min_group_size`` rows, and the largest of them. Lower is
    better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    h1_pred : array-like of shape (n_samples,)
        Labels predicted by the old model h1. Keyword-only.
    h2_pred : array-like of shape (n_samples,)
        Labels predicted by the new model h2. Keyword-only.
    groups : array-like of shape (n_samples,)
        A group label per row. Keyword-only.
    min_group_size : int, default=1
        Groups with fewer rows are left out: their rate is noise. When no
        group is that large, the rate of all the rows is returned.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from bcsk.metrics import worst_group_new_error_rate
    >>> worst_group_new_error_rate(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2],
    ...     h2_pred=[0, 0, 1, 1, 2, 1], groups=["a", "b", "a", "a", "b", "b"],
    ... )
    0.6666666666666666
    """
    _check_min_group_size(min_group_size)
    y, h1, h2 = _check(y_true, h1_pred, h2_pred, "worst_group_new_error_rate")
    values = _one_per_row(groups, "groups", y.shape[0])
    _check_missing(values, "groups")
    h1_correct, h2_correct = _labels.equal(h1, y), _labels.equal(h2, y)
    rates = [
        row.new_error_rate
        for row in _slice_rows(values, h1_correct, h2_correct, min_group_size)
        if not row.small
    ]
    if not rates:
        return float(np.count_nonzero(h1_correct & ~h2_correct) / y.shape[0])
    return float(max(rates))


def _one_per_row(values: ArrayLike, name: str, n_samples: int) -> np.ndarray:
    (array,) = _labels.check_label_arrays([values], [name])
    if array.shape[0] != n_samples:
        raise ValueError(
            f"{name} must hold one value per row of y_true ({n_samples}); got "
            f"{array.shape[0]}."
        )
    return array


def _details(
    y,
    h2,
    h1_correct,
    h2_correct,
    counts,
    groups,
    min_group_size,
    ids,
    n_bootstraps,
    confidence_level,
    random_state,
) -> _Details:
    """The per-class and per-group tables, flips, examples and intervals."""
    n_samples = y.shape[0]
    group_values = None
    group_rows = None
    if groups is not None:
        group_values = _one_per_row(groups, "groups", n_samples)
        _check_missing(group_values, "groups")
        rows = _slice_rows(group_values, h1_correct, h2_correct, min_group_size)
        # Highest new-error rate first; then the larger group; then label order.
        order = sorted(
            range(len(rows)), key=lambda i: (-rows[i].new_error_rate, -rows[i].n, i)
        )
        group_rows = tuple(rows[i] for i in order)
    if ids is not None:
        ids = _one_per_row(ids, "ids", n_samples)
    new_error_mask = h1_correct & ~h2_correct
    new_rows = np.flatnonzero(new_error_mask)
    flips = Counter(
        zip(
            (_labels.to_python(v) for v in y[new_rows].tolist()),
            (_labels.to_python(v) for v in h2[new_rows].tolist()),
            strict=True,
        )
    )
    examples = tuple(
        NewErrorExample(
            id=int(i) if ids is None else _labels.to_python(ids[i]),
            y_true=_labels.to_python(y[i]),
            h2_pred=_labels.to_python(h2[i]),
            group=None if group_values is None else _labels.to_python(group_values[i]),
        )
        for i in new_rows[:_N_EXAMPLES]
    )
    return _Details(
        per_class=tuple(_slice_rows(y, h1_correct, h2_correct, 0)),
        flips=tuple(
            (a, b, c)
            for (a, b), c in sorted(flips.items(), key=lambda kv: (-kv[1], str(kv[0])))
        ),
        examples=examples,
        groups=group_rows,
        min_group_size=int(min_group_size),
        intervals=None
        if not n_bootstraps
        else _bootstrap_intervals(counts, n_bootstraps, confidence_level, random_state),
        confidence_level=float(confidence_level) if n_bootstraps else None,
        n_bootstraps=int(n_bootstraps),
        random_state=random_state if n_bootstraps else None,
    )
