"""A printable summary of how an update h1 -> h2 changes a classifier's answers.

:func:`compatibility_report` gathers in one :class:`CompatibilityReport` what a
model owner wants to know before replacing an old model h1 by a new model h2:
both accuracies, the backward compatibility scores BTC and BEC from
:mod:`bcsk.scores`, and how many of h1's correct answers h2 breaks (the new
errors, or negative flips), in total and per class.

This module needs NumPy only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk.scores import (
    _bec_from_counts,
    _btc_from_counts,
    _check_label_arrays,
    _check_zero_division,
    _counts_from_masks,
    _equal,
)

__all__ = ["CompatibilityReport", "compatibility_report", "negative_flip_rate"]

_REPORT_PARAMS = ("y_true", "h1_pred", "h2_pred")


@dataclass(frozen=True)
class CompatibilityReport:
    """Summary of the differences between an old model h1 and a new model h2.

    Build it with :func:`compatibility_report`. The four counts split the
    samples by whether each model is right, so they add up to ``n_samples``.

    Attributes
    ----------
    n_samples : int
        Number of samples compared.
    both_correct : int
        Samples both models label correctly.
    new_errors : int
        Samples h1 labels correctly and h2 gets wrong: the negative flips
        that users of h1 would notice as regressions.
    fixed_errors : int
        Samples h1 gets wrong and h2 labels correctly.
    both_wrong : int
        Samples both models get wrong.
    h1_accuracy : float
        Accuracy of h1.
    h2_accuracy : float
        Accuracy of h2.
    btc : float
        Backward trust compatibility: share of h1's correct answers that h2
        keeps (see :func:`bcsk.scores.trust_compatibility_score`).
    bec : float
        Backward error compatibility: share of h2's errors that h1 made too
        (see :func:`bcsk.scores.error_compatibility_score`).
    negative_flip_rate : float
        ``new_errors / n_samples``.
    new_errors_per_class : dict
        Maps each class label to the number of new errors whose *true* label
        is that class, zero counts included.
    """

    n_samples: int
    both_correct: int
    new_errors: int
    fixed_errors: int
    both_wrong: int
    h1_accuracy: float
    h2_accuracy: float
    btc: float
    bec: float
    negative_flip_rate: float
    # A dict cannot be hashed; leaving it out of the hash keeps the frozen
    # report hashable while equality still compares it.
    new_errors_per_class: dict[Any, int] = field(hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a dict of plain Python values.

        Returns
        -------
        dict
            One key per attribute; ``new_errors_per_class`` is a fresh dict.
            The result can be passed to :func:`json.dumps` (undefined scores
            are NaN, which :mod:`json` writes as ``NaN``, and non-string class
            labels become string keys there).
        """
        return {
            "n_samples": self.n_samples,
            "both_correct": self.both_correct,
            "new_errors": self.new_errors,
            "fixed_errors": self.fixed_errors,
            "both_wrong": self.both_wrong,
            "h1_accuracy": self.h1_accuracy,
            "h2_accuracy": self.h2_accuracy,
            "btc": self.btc,
            "bec": self.bec,
            "negative_flip_rate": self.negative_flip_rate,
            "new_errors_per_class": dict(self.new_errors_per_class),
        }

    def __str__(self) -> str:
        n = self.n_samples
        regions = [
            ("both correct", self.both_correct, ""),
            ("new errors", self.new_errors, "h1 right, h2 wrong (negative flips)"),
            ("fixed errors", self.fixed_errors, "h1 wrong, h2 right"),
            ("both wrong", self.both_wrong, ""),
        ]
        scores = [
            ("h1 accuracy", self.h1_accuracy, "old model"),
            ("h2 accuracy", self.h2_accuracy, "new model"),
            ("BTC", self.btc, "share of h1's correct answers that h2 keeps"),
            ("BEC", self.bec, "share of h2's errors that h1 made too"),
            ("negative flip rate", self.negative_flip_rate, "new errors / samples"),
        ]
        name_width = max(len(name) for name, _, _ in regions + scores)
        count_width = max(len("samples"), len(str(n)))

        lines = [
            f"Backward compatibility report: h1 (old model) -> h2 (new model), "
            f"{n} samples",
            "",
            f"{'':<{name_width}}  {'samples':>{count_width}}  {'share':>6}",
        ]
        for name, count, note in regions:
            row = f"{name:<{name_width}}  {count:>{count_width}}  {count / n:>6.1%}"
            lines.append(f"{row}   {note}".rstrip())
        lines.append("")
        for name, value, note in scores:
            row = f"{name:<{name_width}}  {value:>{count_width}.4f}"
            lines.append(f"{row}   {note}")

        lines += ["", "New errors by true class"]
        if self.new_errors_per_class:
            label_width = max(
                len("class"), *(len(str(c)) for c in self.new_errors_per_class)
            )
            header = "new errors"
            lines.append(f"{'class':>{label_width}}  {header}")
            for label, count in self.new_errors_per_class.items():
                lines.append(f"{label!s:>{label_width}}  {count:>{len(header)}}")
        else:
            lines.append("(no classes)")
        return "\n".join(lines)


def _to_python(value: Any) -> Any:
    """Turn a NumPy scalar into the equivalent Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def _unique_labels(*arrays: np.ndarray) -> list[Any]:
    """Return the sorted union of the labels in ``arrays``, as Python scalars."""
    seen: dict[Any, None] = {}
    for array in arrays:
        if array.dtype.kind in "biufcUS":
            values = np.unique(array).tolist()
        else:
            values = [_to_python(v) for v in array.tolist()]
        seen.update(dict.fromkeys(values))
    try:
        return sorted(seen)
    except TypeError:
        # Mixed label types such as 1 and "a" have no natural order; group
        # them by type so that the table still reads predictably.
        return sorted(seen, key=lambda v: (type(v).__name__, str(v)))


def _check_labels(labels: Iterable[Any]) -> list[Any]:
    """Validate the ``labels`` parameter and return it as a list."""
    if isinstance(labels, str):
        raise ValueError(
            f"labels must be a sequence of class labels, got the string {labels!r}. "
            f"Wrap a single label in a list: labels=[{labels!r}]."
        )
    checked = [_to_python(v) for v in labels]
    duplicates = sorted(
        {str(v) for v, k in Counter(checked).items() if k > 1},
    )
    if duplicates:
        raise ValueError(
            f"labels must not repeat a label; got duplicates {duplicates}."
        )
    return checked


def compatibility_report(
    y_true: ArrayLike,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    *,
    labels: Iterable[Any] | None = None,
    zero_division: str | float = "warn",
) -> CompatibilityReport:
    """Summarise how replacing an old model h1 by a new model h2 changes answers.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        True labels, of any type.
    h1_pred : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the old model h1.
    h2_pred : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the new model h2.
    labels : array-like, default=None
        Classes listed in ``new_errors_per_class``, in this order. New errors
        on other classes still count in every total but get no row. By
        default, every label found in ``y_true``, ``h1_pred`` or ``h2_pred``,
        sorted.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of BTC when h1 is never right, and of BEC when h2 is never
        wrong. "warn" gives 0.0 and emits an
        :class:`sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    CompatibilityReport
        Counts, accuracies, BTC, BEC, negative flip rate and new errors per
        class. ``print`` it for a text table.

    Raises
    ------
    ValueError
        If the inputs are empty, not 1-D (or column vectors), differ in
        length, if ``labels`` repeats a label, or if ``zero_division`` is not
        an allowed value.

    See Also
    --------
    bcsk.scores.trust_compatibility_score : BTC on its own.
    bcsk.scores.error_compatibility_score : BEC on its own.

    Examples
    --------
    h1 is right on samples 0, 1, 4 and 5; h2 on samples 0, 2 and 4. So h2
    breaks samples 1 (class 1) and 5 (class 2), and fixes sample 2:

    >>> from bcsk.metrics import compatibility_report
    >>> y_true = [0, 1, 1, 0, 2, 2]
    >>> h1_pred = [0, 1, 0, 1, 2, 2]
    >>> h2_pred = [0, 0, 1, 1, 2, 1]
    >>> report = compatibility_report(y_true, h1_pred, h2_pred)
    >>> report.new_errors, report.fixed_errors, report.btc
    (2, 1, 0.5)
    >>> report.new_errors_per_class
    {0: 0, 1: 1, 2: 1}
    >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
    Backward compatibility report: h1 (old model) -> h2 (new model), 6 samples
    <BLANKLINE>
                        samples   share
    both correct              2   33.3%
    new errors                2   33.3%   h1 right, h2 wrong (negative flips)
    fixed errors              1   16.7%   h1 wrong, h2 right
    both wrong                1   16.7%
    <BLANKLINE>
    h1 accuracy          0.6667   old model
    h2 accuracy          0.5000   new model
    BTC                  0.5000   share of h1's correct answers that h2 keeps
    BEC                  0.3333   share of h2's errors that h1 made too
    negative flip rate   0.3333   new errors / samples
    <BLANKLINE>
    New errors by true class
    class  new errors
        0           0
        1           1
        2           1
    """
    _check_zero_division(zero_division)
    y, h1, h2 = _check_label_arrays((y_true, h1_pred, h2_pred), _REPORT_PARAMS)
    n_samples = int(y.shape[0])
    if n_samples == 0:
        raise ValueError(
            "compatibility_report needs at least one sample; y_true, h1_pred and "
            "h2_pred are empty."
        )
    h1_correct, h2_correct = _equal(h1, y), _equal(h2, y)
    counts = _counts_from_masks(h1_correct, h2_correct)
    both_correct, new_errors, fixed_errors, both_wrong = counts

    classes = _unique_labels(y, h1, h2) if labels is None else _check_labels(labels)
    new_error_labels = Counter(
        _to_python(v) for v in y[h1_correct & ~h2_correct].tolist()
    )
    per_class = {label: new_error_labels.get(label, 0) for label in classes}

    return CompatibilityReport(
        n_samples=n_samples,
        both_correct=both_correct,
        new_errors=new_errors,
        fixed_errors=fixed_errors,
        both_wrong=both_wrong,
        h1_accuracy=(both_correct + new_errors) / n_samples,
        h2_accuracy=(both_correct + fixed_errors) / n_samples,
        btc=_btc_from_counts(counts, zero_division),
        bec=_bec_from_counts(counts, zero_division),
        negative_flip_rate=new_errors / n_samples,
        new_errors_per_class=per_class,
    )


def negative_flip_rate(
    y_true: ArrayLike, h1_pred: ArrayLike, h2_pred: ArrayLike
) -> float:
    """Share of samples that h1 labels correctly and h2 gets wrong.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        True labels, of any type.
    h1_pred : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the old model h1.
    h2_pred : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the new model h2.

    Returns
    -------
    float
        The number of new errors (negative flips) divided by ``n_samples``.

    Raises
    ------
    ValueError
        If the inputs are empty, not 1-D (or column vectors), or differ in
        length.

    Examples
    --------
    h2 breaks 2 of h1's correct answers out of 6 samples:

    >>> from bcsk.metrics import negative_flip_rate
    >>> negative_flip_rate([0, 1, 1, 0, 2, 2], [0, 1, 0, 1, 2, 2], [0, 0, 1, 1, 2, 1])
    0.3333333333333333
    """
    y, h1, h2 = _check_label_arrays((y_true, h1_pred, h2_pred), _REPORT_PARAMS)
    if y.shape[0] == 0:
        raise ValueError(
            "negative_flip_rate needs at least one sample; y_true, h1_pred and "
            "h2_pred are empty."
        )
    new_errors = np.count_nonzero(_equal(h1, y) & ~_equal(h2, y))
    return int(new_errors) / int(y.shape[0])
