"""The compatibility report: what a model owner reads before replacing h1 by h2.

:func:`compatibility_report` gathers in one :class:`CompatibilityReport` the
four regions (both right, new errors, fixed errors, both wrong), both
accuracies, BTC and BEC from :mod:`bcsk.scores`, the flip metrics of
:mod:`bcsk.metrics` and the new errors per class. NumPy only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _labels
from bcsk.metrics._flips import (
    _check,
    _nfi_from_counts,
    _nfr_from_counts,
    _pfr_from_counts,
    _relative_nfr_from_counts,
)
from bcsk.scores import _bec_from_counts, _btc_from_counts

__all__ = ["CompatibilityReport", "compatibility_report"]


@dataclass(frozen=True, eq=False)
class CompatibilityReport:
    """Summary of the differences between an old model h1 and a new model h2.

    Build it with :func:`compatibility_report`. The four region counts split
    the samples by whether each model is right, so they add up to
    ``n_samples``; for a multilabel or multi-output target they split the
    (sample, output) cells, and add up to ``n_samples * n_outputs``.

    Attributes
    ----------
    n_samples : int
        Number of samples compared.
    both_right : int
        Samples (cells, for several outputs) both models label correctly.
    new_errors : int
        Samples h1 labels correctly and h2 gets wrong: the negative flips
        that users of h1 would notice as regressions.
    fixed_errors : int
        Samples h1 gets wrong and h2 labels correctly: the positive flips.
    both_wrong : int
        Samples both models get wrong (not always with the same label).
    h1_accuracy : float or ndarray of shape (n_outputs,)
        Accuracy of h1: for several outputs, the share of cells it gets
        right (the ``"macro"`` and ``"samples"`` means are the same number),
        or one accuracy per output with ``average=None``.
    h2_accuracy : float or ndarray of shape (n_outputs,)
        Accuracy of h2, as ``h1_accuracy``.
    btc : float or ndarray of shape (n_outputs,)
        Backward trust compatibility: share of h1's correct answers that h2
        keeps (see :func:`bcsk.scores.trust_compatibility_score`).
    bec : float or ndarray of shape (n_outputs,)
        Backward error compatibility: share of h2's errors that h1 made too
        (see :func:`bcsk.scores.error_compatibility_score`).
    negative_flip_rate : float or ndarray of shape (n_outputs,)
        ``new_errors / n_samples`` (see :func:`negative_flip_rate`).
    positive_flip_rate : float or ndarray of shape (n_outputs,)
        ``fixed_errors / n_samples`` (see :func:`positive_flip_rate`).
    negative_flip_impact : float or ndarray of shape (n_outputs,)
        ``new_errors`` divided by h2's errors, ``1 - bec``
        (see :func:`negative_flip_impact`).
    relative_negative_flip_rate : float or ndarray of shape (n_outputs,)
        ``negative_flip_rate / (h1_accuracy * (1 - h2_accuracy))``
        (see :func:`relative_negative_flip_rate`).
    new_errors_per_class : dict
        Maps each class label to the number of new errors whose *true* label
        is that class, zero counts included. For several outputs, maps each
        output's column index to its number of new errors.
    n_outputs : int, default=1
        Number of outputs (labels of a multilabel indicator, or outputs of a
        multi-output target); 1 for one label per sample.
    average : {"micro", "macro", "samples"} or None, default="micro"
        How the ratios of several outputs were averaged (see
        :func:`compatibility_report`); with ``None`` every ratio and accuracy
        is an array, one value per output. Always ``"micro"`` for one label
        per sample, where every average gives the same values. An
        init-only argument, not a field: :func:`dataclasses.fields` leaves it
        out, and :meth:`to_dict` adds it for several outputs only, so that
        the dict of a one-output report holds numbers only, as it always did.
    """

    n_samples: int
    both_right: int
    new_errors: int
    fixed_errors: int
    both_wrong: int
    h1_accuracy: float | np.ndarray
    h2_accuracy: float | np.ndarray
    btc: float | np.ndarray
    bec: float | np.ndarray
    negative_flip_rate: float | np.ndarray
    positive_flip_rate: float | np.ndarray
    negative_flip_impact: float | np.ndarray
    relative_negative_flip_rate: float | np.ndarray
    # A dict cannot be hashed; leaving it out of the hash keeps the frozen
    # report hashable while equality still compares it.
    new_errors_per_class: dict[Any, int] = field(hash=False)
    # Last and with a default, so that reports built by keyword before
    # multi-output targets existed still build.
    n_outputs: int = 1
    average: InitVar[str | None] = "micro"

    def __post_init__(self, average: str | None) -> None:
        # An InitVar, not a field, so that to_dict of a one-output report stays
        # all numbers; the instance attribute shadows the class default.
        object.__setattr__(self, "average", average)

    def _values(self) -> tuple[Any, ...]:
        return (self.average, *(getattr(self, f.name) for f in fields(self)))

    # Written out because arrays (average=None) break the generated methods:
    # their == is elementwise and they cannot be hashed.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        for mine, theirs in zip(self._values(), other._values(), strict=True):
            if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
                if not (mine is theirs or np.array_equal(mine, theirs)):
                    return False
            # ``is`` first, as tuples compare: a NaN equals itself only.
            elif not (mine is theirs or mine == theirs):
                return False
        return True

    def __hash__(self) -> int:
        values = [self.average]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.hash is False:
                continue
            if isinstance(value, np.ndarray):
                # NaN hashes by identity; None keeps the hash of one report
                # the same from call to call.
                value = tuple(None if v != v else v for v in value.tolist())
            values.append(value)
        return hash(tuple(values))

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a dict of plain Python values.

        Returns
        -------
        dict
            One key per attribute; ``new_errors_per_class`` is a fresh dict
            and per-output arrays become lists. A report of several outputs
            also has the key ``"average"``. The result can be passed to
            :func:`json.dumps` (undefined scores are NaN, which :mod:`json`
            writes as ``NaN``, and non-string class labels or output indices
            become string keys there).
        """
        as_dict: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, dict):
                value = dict(value)
            as_dict[f.name] = value
        if self.n_outputs > 1:
            as_dict["average"] = self.average
        return as_dict

    def __str__(self) -> str:
        multi = self.n_outputs > 1
        # For several outputs every count and share is of (sample, output)
        # cells; saying "samples" there would misread by a factor n_outputs.
        unit = "cells" if multi else "samples"
        n = self.n_samples * self.n_outputs
        regions = [
            ("both right", self.both_right, ""),
            ("new errors", self.new_errors, "h1 right, h2 wrong (negative flips)"),
            ("fixed errors", self.fixed_errors, "h1 wrong, h2 right (positive flips)"),
            ("both wrong", self.both_wrong, ""),
        ]
        scores = [
            ("h1 accuracy", self.h1_accuracy, "old model"),
            ("h2 accuracy", self.h2_accuracy, "new model"),
            ("BTC", self.btc, "share of h1's correct answers that h2 keeps"),
            ("BEC", self.bec, "share of h2's errors that h1 made too"),
            (
                "NFR",
                self.negative_flip_rate,
                f"negative flip rate = new errors / {unit}",
            ),
            (
                "PFR",
                self.positive_flip_rate,
                f"positive flip rate = fixed errors / {unit}",
            ),
            (
                "NFI",
                self.negative_flip_impact,
                "negative flip impact = new errors / h2's errors",
            ),
            (
                "relative NFR",
                self.relative_negative_flip_rate,
                "NFR / (h1 accuracy x h2 error rate)",
            ),
        ]
        name_width = max(len(name) for name, _, _ in regions + scores)
        count_width = max(len(unit), len(str(n)))

        title = "Backward compatibility report: h1 (old model) -> h2 (new model)"
        if multi:
            # Two lines: the title of a one-output report is kept as it was.
            lines = [
                title,
                f"{self.n_samples} samples x {self.n_outputs} outputs, "
                f"average={self.average!r}",
            ]
        else:
            lines = [f"{title}, {n} samples"]
        lines += [
            "",
            f"{'':<{name_width}}  {unit:>{count_width}}  {'share':>6}",
        ]
        for name, count, note in regions:
            row = f"{name:<{name_width}}  {count:>{count_width}}  {count / n:>6.1%}"
            lines.append(f"{row}   {note}".rstrip())
        lines.append("")
        if multi and self.average is None:
            lines += self._per_output_lines(scores)
        else:
            for name, value, note in scores:
                row = f"{name:<{name_width}}  {value:>{count_width}.4f}"
                lines.append(f"{row}   {note}")

        kind = "output" if multi else "class"
        lines += ["", "New errors by output" if multi else "New errors by true class"]
        if self.new_errors_per_class:
            label_width = max(
                len(kind), *(len(str(c)) for c in self.new_errors_per_class)
            )
            header = "new errors"
            lines.append(f"{kind:>{label_width}}  {header}")
            for label, count in self.new_errors_per_class.items():
                lines.append(f"{label!s:>{label_width}}  {count:>{len(header)}}")
        else:
            lines.append(f"(no {kind}s)")
        return "\n".join(lines)

    def _per_output_lines(self, scores: list[tuple[str, Any, str]]) -> list[str]:
        """One row per output and one column per score, for ``average=None``."""
        # One row per output rather than one column: a multilabel target can
        # have hundreds of labels, and rows keep the width fixed.
        # Short names keep the table within 80 columns.
        names = ["h1 acc", "h2 acc", "BTC", "BEC", "NFR", "PFR", "NFI", "rel NFR"]
        widths = [max(len(name), 6) for name in names]
        index_width = max(len("output"), len(str(self.n_outputs - 1)))
        header = "  ".join(
            f"{name:>{w}}" for name, w in zip(names, widths, strict=True)
        )
        lines = [
            "Scores per output: h1 and h2 accuracy, BTC, BEC, NFR, PFR, NFI and "
            "relative NFR",
            f"{'output':>{index_width}}  {header}",
        ]
        for j in range(self.n_outputs):
            cells = "  ".join(
                f"{values[j]:>{w}.4f}"
                for (_, values, _), w in zip(scores, widths, strict=True)
            )
            lines.append(f"{j:>{index_width}}  {cells}")
        return lines


def compatibility_report(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    labels: Iterable[Any] | None = None,
    average: str | None = "micro",
    zero_division: str | float = "warn",
) -> CompatibilityReport:
    """Summarise how replacing an old model h1 by a new model h2 changes answers.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or \
(n_samples, n_outputs)
        True labels, of any type: one label per sample, or a multilabel
        indicator (one 0/1 column per label) or multi-output target (one
        column of classes per output).
    h1_pred : array-like of the shape of ``y_true``
        Labels predicted by the old model h1. Keyword-only.
    h2_pred : array-like of the shape of ``y_true``
        Labels predicted by the new model h2. Keyword-only.
    labels : array-like, default=None
        Classes listed in ``new_errors_per_class``, in this order. New errors
        on other classes still count in every total but get no row. By
        default, every label found in ``y_true``, ``h1_pred`` or ``h2_pred``,
        sorted. For several outputs, column indices of the outputs to list
        (as ``labels`` of a multilabel target in scikit-learn), by default
        every output; every output still counts in the totals and averages
        (to score some outputs only, pass those columns).
    average : {"micro", "macro", "samples"} or None, default="micro"
        For several outputs, how BTC, BEC and the flip metrics are averaged,
        each as the function of its own name would with this ``average``:
        ``"micro"`` counts every (sample, output) cell once; ``"macro"`` is
        the mean of the outputs' values, ``"samples"`` the mean of the
        samples' values, ``None`` one value per output (an array). The
        accuracies are the share of right cells (which the ``"macro"`` and
        ``"samples"`` means equal), one per output with ``None``. The region
        counts always count cells. Ignored for one label per sample. See
        :ref:`multi-output-averages`.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of a ratio whose denominator is zero: BTC and the relative NFR
        when h1 is never right, BEC, NFI and the relative NFR when h2 is
        never wrong. "warn" gives 0.0 and emits an
        :class:`sklearn.exceptions.UndefinedMetricWarning`. When averaging
        several outputs, an output (or sample) whose ratio is undefined gets
        this value before the mean, and ``np.nan`` leaves it out of the mean.

    Returns
    -------
    CompatibilityReport
        Region counts, accuracies, BTC, BEC, the flip metrics and new errors
        per class (per output, for several outputs). ``print`` it for a text
        table.

    Raises
    ------
    ValueError
        If the inputs are empty, differ in length, are neither 1-D (or
        column vectors) nor all three of the same shape (n_samples,
        n_outputs); if ``labels`` repeats a label or, for several outputs,
        is not a column index; or if ``average`` or ``zero_division`` is not
        an allowed value.

    See Also
    --------
    bcsk.scores.trust_compatibility_score : BTC on its own.
    bcsk.scores.error_compatibility_score : BEC on its own.
    negative_flip_rate : NFR on its own.

    Examples
    --------
    h1 is right on samples 0, 1, 4 and 5; h2 on samples 0, 2 and 4. So h2
    breaks samples 1 (class 1) and 5 (class 2), and fixes sample 2:

    >>> from bcsk.metrics import compatibility_report
    >>> y_true = [0, 1, 1, 0, 2, 2]
    >>> h1_pred = [0, 1, 0, 1, 2, 2]
    >>> h2_pred = [0, 0, 1, 1, 2, 1]
    >>> report = compatibility_report(y_true, h1_pred=h1_pred, h2_pred=h2_pred)
    >>> report.new_errors, report.fixed_errors, report.btc
    (2, 1, 0.5)
    >>> report.new_errors_per_class
    {0: 0, 1: 1, 2: 1}
    >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
    Backward compatibility report: h1 (old model) -> h2 (new model), 6 samples
    <BLANKLINE>
                  samples   share
    both right          2   33.3%
    new errors          2   33.3%   h1 right, h2 wrong (negative flips)
    fixed errors        1   16.7%   h1 wrong, h2 right (positive flips)
    both wrong          1   16.7%
    <BLANKLINE>
    h1 accuracy    0.6667   old model
    h2 accuracy    0.5000   new model
    BTC            0.5000   share of h1's correct answers that h2 keeps
    BEC            0.3333   share of h2's errors that h1 made too
    NFR            0.3333   negative flip rate = new errors / samples
    PFR            0.1667   positive flip rate = fixed errors / samples
    NFI            0.6667   negative flip impact = new errors / h2's errors
    relative NFR   1.0000   NFR / (h1 accuracy x h2 error rate)
    <BLANKLINE>
    New errors by true class
    class  new errors
        0           0
        1           1
        2           1

    A multilabel indicator, 3 samples x 2 labels: h1 gets 5 of the 6 cells
    right, and h2 breaks cell (0, 1) of label 1. The counts are of cells:

    >>> y_true = [[1, 0], [0, 1], [1, 1]]
    >>> h1_pred = [[1, 0], [0, 0], [1, 1]]
    >>> h2_pred = [[1, 1], [0, 0], [1, 1]]
    >>> report = compatibility_report(y_true, h1_pred=h1_pred, h2_pred=h2_pred)
    >>> report.n_samples, report.n_outputs, report.new_errors, report.btc
    (3, 2, 1, 0.8)
    >>> report.new_errors_per_class
    {0: 0, 1: 1}

    With ``average=None`` every ratio is an array, one value per label. h2
    makes no error on label 0, so its BEC is undefined there, and
    ``zero_division`` says what to put:

    >>> per_label = compatibility_report(
    ...     y_true, h1_pred=h1_pred, h2_pred=h2_pred, average=None, zero_division=1.0
    ... )
    >>> per_label.btc.tolist(), per_label.bec.tolist()
    ([1.0, 0.5], [1.0, 0.5])
    >>> print(per_label)  # doctest: +NORMALIZE_WHITESPACE
    Backward compatibility report: h1 (old model) -> h2 (new model)
    3 samples x 2 outputs, average=None
    <BLANKLINE>
                  cells   share
    both right        4   66.7%
    new errors        1   16.7%   h1 right, h2 wrong (negative flips)
    fixed errors      0    0.0%   h1 wrong, h2 right (positive flips)
    both wrong        1   16.7%
    <BLANKLINE>
    Scores per output: h1 and h2 accuracy, BTC, BEC, NFR, PFR, NFI and relative NFR
    output  h1 acc  h2 acc     BTC     BEC     NFR     PFR     NFI  rel NFR
         0  1.0000  1.0000  1.0000  1.0000  0.0000  0.0000  1.0000   1.0000
         1  0.6667  0.3333  0.5000  0.5000  0.3333  0.0000  0.5000   0.7500
    <BLANKLINE>
    New errors by output
    output  new errors
         0           0
         1           1

    """
    _labels.check_zero_division(zero_division)
    _labels.check_average(average)
    y, h1, h2 = _check(y_true, h1_pred, h2_pred, "compatibility_report", multi=True)
    h1_correct, h2_correct = _labels.equal(h1, y), _labels.equal(h2, y)
    counts = _labels.region_counts(h1_correct, h2_correct)
    n_cells = counts.n_samples
    multi = y.ndim == 2

    def ratio(from_counts):
        # As _score does, so that every field equals its standalone metric
        # with the same average, to the last bit.
        if _labels.is_averaged(h1_correct, average):
            return _labels.averaged(
                from_counts, h1_correct, h2_correct, average, zero_division
            )
        return from_counts(counts, zero_division)

    if multi and average is None:
        h1_accuracy = h1_correct.mean(axis=0)
        h2_accuracy = h2_correct.mean(axis=0)
    else:
        h1_accuracy = (counts.both_right + counts.new_errors) / n_cells
        h2_accuracy = (counts.both_right + counts.fixed_errors) / n_cells

    new_error_mask = h1_correct & ~h2_correct
    if multi:
        n_outputs = y.shape[1]
        if labels is None:
            outputs = range(n_outputs)
        else:
            outputs = _labels.check_labels(labels)
            # bool is an int to Python, but True as an output index is a slip.
            bad = [
                j
                for j in outputs
                if not (isinstance(j, int) and not isinstance(j, bool))
                or not 0 <= j < n_outputs
            ]
            if bad:
                raise ValueError(
                    "For a multilabel or multi-output target, labels are the "
                    "column indices of the outputs to list in "
                    f"new_errors_per_class, integers in [0, {n_outputs}); got "
                    f"{bad!r}. Name classes of one output by slicing its column."
                )
        per_column = np.count_nonzero(new_error_mask, axis=0)
        per_class = {j: int(per_column[j]) for j in outputs}
    else:
        n_outputs = 1
        classes = (
            _labels.unique_labels(y, h1, h2)
            if labels is None
            else _labels.check_labels(labels)
        )
        new_error_labels = Counter(
            _labels.to_python(v) for v in y[new_error_mask].tolist()
        )
        per_class = {label: new_error_labels.get(label, 0) for label in classes}

    return CompatibilityReport(
        n_samples=y.shape[0],
        both_right=counts.both_right,
        new_errors=counts.new_errors,
        fixed_errors=counts.fixed_errors,
        both_wrong=counts.both_wrong,
        h1_accuracy=h1_accuracy,
        h2_accuracy=h2_accuracy,
        btc=ratio(_btc_from_counts),
        bec=ratio(_bec_from_counts),
        negative_flip_rate=ratio(_nfr_from_counts),
        positive_flip_rate=ratio(_pfr_from_counts),
        negative_flip_impact=ratio(_nfi_from_counts),
        relative_negative_flip_rate=ratio(_relative_nfr_from_counts),
        new_errors_per_class=per_class,
        n_outputs=n_outputs,
        # With one output every average gives the same report.
        average=average if multi else "micro",
    )
