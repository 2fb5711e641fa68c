"""The compatibility report: what a model owner reads before replacing h1 by h2.

:func:`compatibility_report` gathers in one :class:`CompatibilityReport` the
four regions (both right, new errors, fixed errors, both wrong), both
accuracies, BTC and BEC from :mod:`bcsk.scores`, the flip metrics of
:mod:`bcsk.metrics` and the new errors per class. For one label per sample it
also holds a table per class, a table per group of users (``groups=``), the
classes new errors flip to, example rows and, on request, bootstrap intervals.
The report checks thresholds (:meth:`CompatibilityReport.check`), writes a
versioned JSON record (:meth:`CompatibilityReport.to_json`) and a page
(:meth:`CompatibilityReport.to_html`, in :mod:`bcsk.report`). NumPy only at
import; Jinja2 and matplotlib are imported when a page is written.
"""

from __future__ import annotations

import json
import numbers
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field, fields
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _labels
from bcsk.metrics import _formats
from bcsk.metrics._flips import (
    _check,
    _nfi_from_counts,
    _nfr_from_counts,
    _pfr_from_counts,
    _relative_nfr_from_counts,
)
from bcsk.metrics._formats import _json_safe
from bcsk.metrics._slices import (
    NewErrorExample,
    SliceRow,
    _check_min_group_size,
    _Details,
    _details,
)
from bcsk.scores import _bec_from_counts, _btc_from_counts

__all__ = ["CompatibilityReport", "compatibility_report"]


class ThresholdResult(NamedTuple):
    """One threshold checked by :meth:`CompatibilityReport.check`.

    Attributes
    ----------
    threshold : str
        Name of the threshold (``"max_new_error_rate"``, ``"min_btc"``,
        ``"max_accuracy_drop"`` or ``"max_group_new_error_rate"``).
    value : float
        The report's figure (for a group threshold, the group's).
    limit : float
        The limit passed.
    group : object or None
        The group the figure is of; None for the whole table.
    passed : bool
        Whether the figure is within the limit (a NaN figure never is).
    """

    threshold: str
    value: float
    limit: float
    group: Any
    passed: bool


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
    # Per-class and per-group tables, flips, examples and intervals: set by
    # compatibility_report for one label per sample, never by the constructor.
    _details: ClassVar[_Details | None] = None
    # Samples whose true class h1 does not know (h1_classes=): left out.
    n_left_out: ClassVar[int] = 0

    def __post_init__(self, average: str | None) -> None:
        # An InitVar, not a field, so that to_dict of a one-output report stays
        # all numbers; the instance attribute shadows the class default.
        object.__setattr__(self, "average", average)

    def _values(self) -> tuple[Any, ...]:
        # Groups and intervals are what a caller asked for, so they count; the
        # per-class table, flips and examples follow from the same inputs.
        extras = (self.groups, self.min_group_size, self._intervals_record())
        extras = json.dumps(_json_safe(extras), sort_keys=True)
        return (self.average, *(getattr(self, f.name) for f in fields(self)), extras)

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

    # -- what compatibility_report adds for one label per sample ----------------

    @property
    def per_class(self) -> tuple[SliceRow, ...] | None:
        """One :class:`SliceRow` per class of ``y_true``, in label order.

        None for a report of several outputs or one built directly.
        """
        return None if self._details is None else self._details.per_class

    @property
    def groups(self) -> tuple[SliceRow, ...] | None:
        """One :class:`SliceRow` per group, highest new-error rate first.

        None unless ``groups=`` was passed to :func:`compatibility_report`.
        Ties go to the larger group, then to the group listed first.
        """
        return None if self._details is None else self._details.groups

    @property
    def min_group_size(self) -> int | None:
        """Groups with fewer rows are flagged ``small`` and not gated.

        None unless ``groups=`` was passed.
        """
        if self._details is None or self._details.groups is None:
            return None
        return self._details.min_group_size

    @property
    def flips(self) -> tuple[tuple[Any, Any, int], ...] | None:
        """``(true class, h2's label, count)`` of the new errors, most frequent first.

        Which classes h1's right answers flip to. None for a report of
        several outputs or one built directly.
        """
        return None if self._details is None else self._details.flips

    @property
    def new_error_examples(self) -> tuple[NewErrorExample, ...] | None:
        """Up to 20 new errors, in row order: row id, true label, h2's label, group.

        The row id is the ``ids=`` value passed to :func:`compatibility_report`,
        by default the row's position.
        """
        return None if self._details is None else self._details.examples

    @property
    def intervals(self) -> dict[str, tuple[float, float]] | None:
        """Bootstrap intervals ``(low, high)`` of the headline figures.

        Keys ``h1_accuracy``, ``h2_accuracy``, ``btc``, ``bec``,
        ``negative_flip_rate``, ``positive_flip_rate`` and
        ``negative_flip_impact``. None unless ``n_bootstraps > 0`` was passed;
        the level is :attr:`confidence_level`.
        """
        if self._details is None or self._details.intervals is None:
            return None
        return dict(self._details.intervals)

    @property
    def confidence_level(self) -> float | None:
        """Level of :attr:`intervals`, or None when there are none."""
        return None if self.intervals is None else self._details.confidence_level

    @property
    def accuracy_drop(self) -> float | np.ndarray:
        """``h1_accuracy - h2_accuracy``: what the update loses (negative: gains)."""
        return self.h1_accuracy - self.h2_accuracy

    def _intervals_record(self) -> dict[str, Any] | None:
        if self.intervals is None:
            return None
        return {
            "confidence_level": self._details.confidence_level,
            "n_bootstraps": self._details.n_bootstraps,
            "random_state": self._details.random_state,
            "scores": {k: list(v) for k, v in self.intervals.items()},
        }

    # -- thresholds -----------------------------------------------------------------

    def _threshold_results(
        self,
        *,
        max_new_error_rate: float | None = None,
        min_btc: float | None = None,
        max_accuracy_drop: float | None = None,
        max_group_new_error_rate: float | None = None,
        min_group_size: int | None = None,
    ) -> list[ThresholdResult]:
        """Every threshold passed, checked: the verdicts the page shows."""
        for name, limit in (
            ("max_new_error_rate", max_new_error_rate),
            ("min_btc", min_btc),
            ("max_accuracy_drop", max_accuracy_drop),
            ("max_group_new_error_rate", max_group_new_error_rate),
        ):
            if limit is not None:
                _check_fraction(limit, name)
        if min_group_size is not None:
            _check_min_group_size(min_group_size)
        figures = (self.negative_flip_rate, self.btc, self.accuracy_drop)
        if any(isinstance(v, np.ndarray) for v in figures):
            raise ValueError(
                "check needs one value per figure; this report has one per output "
                "(average=None). Build the report with average='micro' or "
                "'macro', or check each output's column on its own."
            )
        results = []

        def add(name, value, limit, group, passed):
            results.append(ThresholdResult(name, float(value), limit, group, passed))

        # NaN compares False both ways: an undefined figure never passes.
        if max_new_error_rate is not None:
            value = self.negative_flip_rate
            add(
                "max_new_error_rate",
                value,
                max_new_error_rate,
                None,
                bool(value <= max_new_error_rate),
            )
        if min_btc is not None:
            add("min_btc", self.btc, min_btc, None, bool(self.btc >= min_btc))
        if max_accuracy_drop is not None:
            drop = self.accuracy_drop
            # The accuracies are counts over n: allow for their last bits.
            add(
                "max_accuracy_drop",
                drop,
                max_accuracy_drop,
                None,
                bool(drop <= max_accuracy_drop + 1e-12),
            )
        if max_group_new_error_rate is not None:
            if self.groups is None:
                raise ValueError(
                    "max_group_new_error_rate needs the report's groups: pass "
                    "groups= (one group label per row) to compatibility_report or "
                    "CompatibilityReport.from_estimator."
                )
            smallest = self.min_group_size if min_group_size is None else min_group_size
            for row in self.groups:
                if row.n < smallest:
                    continue
                add(
                    "max_group_new_error_rate",
                    row.new_error_rate,
                    max_group_new_error_rate,
                    row.label,
                    bool(row.new_error_rate <= max_group_new_error_rate),
                )
        return results

    def check(
        self,
        *,
        max_new_error_rate: float | None = None,
        min_btc: float | None = None,
        max_accuracy_drop: float | None = None,
        max_group_new_error_rate: float | None = None,
        min_group_size: int | None = None,
    ) -> list[ThresholdResult]:
        """Check the update against thresholds; return those that fail.

        Parameters
        ----------
        max_new_error_rate : float in [0, 1], optional
            Highest acceptable negative flip rate (new errors / samples).
        min_btc : float in [0, 1], optional
            Lowest acceptable BTC.
        max_accuracy_drop : float in [0, 1], optional
            Highest acceptable ``h1_accuracy - h2_accuracy`` (0: h2 must be
            at least as accurate as h1).
        max_group_new_error_rate : float in [0, 1], optional
            Highest acceptable new-error rate within any group of at least
            ``min_group_size`` rows. Needs a report built with ``groups=``.
        min_group_size : int >= 1, optional
            Groups with fewer rows are not gated (their rate is too noisy);
            by default the report's ``min_group_size``.

        Returns
        -------
        list of ThresholdResult
            The failed thresholds, each with its value, its limit and the
            group it failed on (None for the whole table); empty when every
            threshold holds. A threshold left at None is not checked.

        Raises
        ------
        ValueError
            If a limit is outside [0, 1] or not a number, ``min_group_size``
            is not an integer >= 1, a group threshold is asked of a report
            without groups, or the report has one value per output.

        Examples
        --------
        >>> from bcsk.metrics import compatibility_report
        >>> report = compatibility_report(
        ...     [0, 1, 1, 0, 1, 1], h1_pred=[0, 1, 1, 0, 1, 0],
        ...     h2_pred=[0, 1, 0, 0, 1, 1], groups=["a", "a", "b", "b", "b", "b"],
        ...     min_group_size=2,
        ... )
        >>> report.check(max_new_error_rate=0.2)
        []
        >>> [(f.threshold, f.value, f.limit, f.group)
        ...  for f in report.check(max_group_new_error_rate=0.2)]
        [('max_group_new_error_rate', 0.25, 0.2, 'b')]
        """
        results = self._threshold_results(
            max_new_error_rate=max_new_error_rate,
            min_btc=min_btc,
            max_accuracy_drop=max_accuracy_drop,
            max_group_new_error_rate=max_group_new_error_rate,
            min_group_size=min_group_size,
        )
        return [result for result in results if not result.passed]

    # -- the JSON record ------------------------------------------------------------

    def to_record(
        self, *, thresholds: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the report as a versioned, JSON-safe record with stable keys.

        Unlike :meth:`to_dict` every key is always there (None where a part
        was not computed), NaN becomes None and labels stay JSON values
        (a label that is not a number, a string or a bool becomes its
        string).

        Parameters
        ----------
        thresholds : dict, optional
            Keyword arguments of :meth:`check`; the record's ``checks`` then
            lists every threshold checked with its verdict.

        Returns
        -------
        dict
            Keys ``schema``, ``schema_version``, ``n_samples``, ``n_outputs``,
            ``average``, ``counts`` (the four regions), ``scores`` (the
            ratios of the fields and ``accuracy_drop``), ``intervals``,
            ``new_errors_per_class``, ``per_class``, ``groups``, ``flips``,
            ``new_error_examples`` and ``checks``. :meth:`from_record` reads
            it back (all but ``checks``).
        """
        checks = None
        if thresholds is not None:
            checks = [r._asdict() for r in self._threshold_results(**thresholds)]
        return _formats.to_record(self, checks)

    def to_json(
        self,
        path: str | os.PathLike | None = None,
        *,
        thresholds: Mapping[str, Any] | None = None,
        indent: int = 2,
    ) -> str:
        """Return the record of :meth:`to_record` as JSON text; write it to ``path``.

        Parameters
        ----------
        path : str or path-like, optional
            File to write (UTF-8), replaced if it exists.
        thresholds : dict, optional
            Keyword arguments of :meth:`check`, recorded with their verdicts
            under ``checks``.
        indent : int, default=2
            Indentation of the JSON text.

        Returns
        -------
        str
            Strict JSON (no NaN): :meth:`from_json` reads it back.

        Examples
        --------
        >>> import json
        >>> from bcsk.metrics import CompatibilityReport, compatibility_report
        >>> report = compatibility_report(
        ...     [0, 1, 1], h1_pred=[0, 1, 0], h2_pred=[0, 0, 1]
        ... )
        >>> record = json.loads(report.to_json())
        >>> record["schema_version"], record["counts"]["new_errors"]
        (1, 1)
        >>> CompatibilityReport.from_json(report.to_json()) == report
        True
        """
        record = self.to_record(thresholds=thresholds)
        text = json.dumps(record, indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        return text

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CompatibilityReport:
        """Rebuild a report from :meth:`to_record`'s dict.

        Parameters
        ----------
        record : dict
            A record of schema version 1.

        Returns
        -------
        CompatibilityReport
            Equal to the report that wrote the record, up to labels that were
            not JSON values (they come back as strings) and tuple labels.

        Raises
        ------
        ValueError
            If ``record`` is not a bcsk compatibility report record of a
            version this bcsk reads.
        """
        return _formats.from_record(cls, record)

    @classmethod
    def from_json(cls, text: str | os.PathLike) -> CompatibilityReport:
        """Read a report from :meth:`to_json`'s text, or from a file holding it.

        Parameters
        ----------
        text : str or path-like
            JSON text (a string starting with ``{``) or the path of a file.

        Returns
        -------
        CompatibilityReport
        """
        if isinstance(text, str) and text.lstrip().startswith("{"):
            return cls.from_record(json.loads(text))
        with open(text, encoding="utf-8") as file:
            return cls.from_record(json.load(file))

    # -- the page and the estimator -------------------------------------------------

    def to_html(
        self,
        path: str | os.PathLike,
        *,
        title: str = "Backward compatibility report",
        thresholds: Mapping[str, float] | None = None,
        plots: bool = True,
        lineage: Any = None,
    ) -> str:
        """Write the report as one self-contained HTML page.

        The page opens from disk: its plots are embedded as data URIs and it
        fetches nothing from the network. It needs Jinja2; the plots need
        matplotlib, and without it the page says they were left out.

        Parameters
        ----------
        path : str or path-like
            File to write (UTF-8), replaced if it exists.
        title : str, default="Backward compatibility report"
            Title of the page.
        thresholds : dict, optional
            Keyword arguments of :meth:`check`; the page shows each verdict.
        plots : bool, default=True
            Draw the plots (when matplotlib is installed).
        lineage : LineageReport, optional
            The chain of versions whose last two this report compares
            (:func:`bcsk.metrics.lineage_report`); the page adds a section on
            the versions.

        Returns
        -------
        str
            The HTML text written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from bcsk.metrics import compatibility_report
        >>> report = compatibility_report(
        ...     [0, 1, 1, 2], h1_pred=[0, 1, 0, 2], h2_pred=[0, 0, 1, 2],
        ...     groups=["a", "a", "b", "b"],
        ... )
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.html"
        >>> html = report.to_html(path, thresholds={"max_new_error_rate": 0.1})
        >>> "FAIL: 1 threshold(s) failed" in path.read_text(encoding="utf-8")
        True
        """
        from bcsk.report._page import render_page

        text = render_page(
            self, title=title, thresholds=thresholds, plots=plots, lineage=lineage
        )
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return text

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        groups: ArrayLike | None = None,
        h1_pred: ArrayLike | None = None,
        h1_proba: ArrayLike | None = None,
        **kwargs: Any,
    ) -> CompatibilityReport:
        """Report on a fitted bcsk estimator or search, h1 taken from it.

        h1 is found as bcsk's scorers find it: on a
        :class:`~bcsk.BCCompatibleClassifier`, an update gate, the last step
        of a ``Pipeline`` ending in one, or a fitted search's
        ``best_estimator_``. With h1's logged labels (``h1_pred=``) or
        probabilities (``h1_proba=``), h1 is not called.

        Parameters
        ----------
        estimator : fitted estimator
            h2, holding its h1.
        X : array-like of shape (n_samples, n_features)
            Samples to compare the models on.
        y : array-like of shape (n_samples,)
            True labels.
        groups : array-like of shape (n_samples,), optional
            A group label per row; see :func:`compatibility_report`.
        h1_pred, h1_proba : array-like, optional
            h1's logged labels or probabilities on ``X``.
        **kwargs
            Passed to :func:`compatibility_report` (``min_group_size``,
            ``ids``, ``n_bootstraps``, ...). When the estimator's h1 (the last
            version of a chain) says its classes with
            :func:`bcsk.with_classes`, ``h1_classes`` defaults to them.

        Returns
        -------
        CompatibilityReport

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> from bcsk.gate import CompatibleUpdateClassifier
        >>> from bcsk.metrics import CompatibilityReport
        >>> X, y = load_iris(return_X_y=True)
        >>> h1 = LogisticRegression(max_iter=200).fit(X[::5], y[::5])
        >>> gate = CompatibleUpdateClassifier(
        ...     LogisticRegression(max_iter=200), h1=h1, flip_cost=3.0
        ... ).fit(X, y)
        >>> report = CompatibilityReport.from_estimator(gate, X, y, groups=y % 2)
        >>> [row.label for row in report.groups], report.n_samples
        ([0, 1], 150)
        """
        from bcsk.metrics._scorer import _h1_labels, _h2_predict

        h1_labels = _h1_labels(None, estimator, X, y, h1_pred, h1_proba)
        logged = None if h1_pred is None and h1_proba is None else h1_labels
        h2_labels = _h2_predict(estimator, X, logged)
        if "h1_classes" not in kwargs and logged is None:
            # An h1 that says its classes (bcsk.with_classes) leaves out the
            # samples of the classes it does not know.
            from bcsk._h1 import known_classes

            kwargs["h1_classes"] = known_classes(getattr(estimator, "h1", None))
        return compatibility_report(
            y, h1_pred=h1_labels, h2_pred=h2_labels, groups=groups, **kwargs
        )

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
        return _formats.text(self)


# -- helpers of the tables, the intervals and the record -----------------------------


def _check_fraction(value: Any, name: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= value <= 1  # False for NaN
    ):
        raise ValueError(
            f"{name} must be a number in [0, 1] (a share, 0.02 for 2 %); got {value!r}."
        )


def compatibility_report(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    labels: Iterable[Any] | None = None,
    average: str | None = "micro",
    zero_division: str | float = "warn",
    groups: ArrayLike | None = None,
    min_group_size: int = 30,
    ids: ArrayLike | None = None,
    n_bootstraps: int = 0,
    confidence_level: float = 0.95,
    random_state: int | None = 0,
    h1_classes: Iterable[Any] | None = None,
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
    groups : array-like of shape (n_samples,), optional
        A group label per row (a slice of users: a country, a client, a
        device). The report then has a per-group table
        (:attr:`CompatibilityReport.groups`): rows, both accuracies, new
        errors, new-error rate and BTC per group. One label per sample only.
    min_group_size : int, default=30
        Groups with fewer rows are flagged ``small`` in the table and not
        gated by :meth:`CompatibilityReport.check`. See :ref:`min-group-size`.
    ids : array-like of shape (n_samples,), optional
        Row ids, shown for the example new errors; by default the row
        positions 0, 1, ...
    n_bootstraps : int, default=0
        Resamples for bootstrap intervals of the headline figures
        (:attr:`CompatibilityReport.intervals`); 0 computes none. One label
        per sample only.
    confidence_level : float, default=0.95
        Level of the intervals, in (0, 1).
    random_state : int or None, default=0
        Seed of the resamples: the same seed gives the same intervals.

    h1_classes : array-like, optional
        The classes h1 knows, when a later version added classes (one label
        per sample only). Only the samples whose true class h1 knows are
        compared: h1 could not have got the others right, so they are left
        out of every count and rate, and the report's ``n_left_out`` says how
        many (its text says why).

    Returns
    -------
    CompatibilityReport
        Region counts, accuracies, BTC, BEC, the flip metrics and new errors
        per class (per output, for several outputs). ``print`` it for a text
        table. For one label per sample it also holds a per-class table, the
        classes the new errors flip to and example rows.

    Raises
    ------
    ValueError
        If the inputs are empty, differ in length, are neither 1-D (or
        column vectors) nor all three of the same shape (n_samples,
        n_outputs); if ``labels`` repeats a label or, for several outputs,
        is not a column index; if ``average`` or ``zero_division`` is not
        an allowed value; if ``groups`` or ``ids`` is not one value per row,
        or ``groups`` has missing values; if ``groups`` or bootstrap
        intervals are asked for several outputs; or if ``min_group_size``,
        ``n_bootstraps`` or ``confidence_level`` is out of range.

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

    Per group: users of group ``"b"`` meet both new errors.

    >>> report = compatibility_report(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2],
    ...     h2_pred=[0, 0, 1, 1, 2, 1], groups=["a", "b", "a", "a", "b", "b"],
    ...     min_group_size=3,
    ... )
    >>> [(g.label, g.n, g.new_errors, round(g.new_error_rate, 4))
    ...  for g in report.groups]
    [('b', 3, 2, 0.6667), ('a', 3, 0, 0.0)]
    """
    _labels.check_zero_division(zero_division)
    _labels.check_average(average)
    _check_min_group_size(min_group_size)
    if (
        isinstance(n_bootstraps, bool)
        or not isinstance(n_bootstraps, numbers.Integral)
        or n_bootstraps < 0
    ):
        raise ValueError(
            f"n_bootstraps must be an integer >= 0; got {n_bootstraps!r}. Pass 0 "
            "for no intervals, 1000 for intervals good to about a point."
        )
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, numbers.Real)
        or not 0 < confidence_level < 1
    ):
        raise ValueError(
            f"confidence_level must be a number in (0, 1); got "
            f"{confidence_level!r}. For 95 % intervals, pass 0.95."
        )
    y, h1, h2 = _check(y_true, h1_pred, h2_pred, "compatibility_report", multi=True)
    n_left_out = 0
    if h1_classes is not None:
        if y.ndim == 2:
            raise ValueError(
                "h1_classes needs one label per sample; y_true has "
                f"{y.shape[1]} outputs."
            )
        known = _labels.check_known_classes(
            h1_classes, _labels.unique_labels(y), "h1_classes"
        )
        rows = _labels.known_rows(y, known)
        if not rows.any():
            raise ValueError(
                f"No sample's true class is one h1 knows ({known}): there is "
                "nothing to compare."
            )
        n_left_out = int(rows.size - rows.sum())
        if ids is None:
            ids = np.arange(rows.size)
        y, h1, h2 = y[rows], h1[rows], h2[rows]
        groups = None if groups is None else np.asarray(groups)[rows]
        ids = np.asarray(ids)[rows]
    if y.ndim == 2 and (groups is not None or ids is not None or n_bootstraps):
        raise ValueError(
            "groups, ids and n_bootstraps need one label per sample; y_true has "
            f"{y.shape[1]} outputs. Report on one output at a time: pass "
            "y_true[:, k], h1_pred[:, k] and h2_pred[:, k]."
        )
    h1_correct, h2_correct = _labels.equal(h1, y), _labels.equal(h2, y)
    counts = _labels.region_counts(h1_correct, h2_correct)
    n_cells = counts.n_samples
    multi = y.ndim == 2

    def ratio(from_counts):
        # As _score does, so that every field equals its standalone metric
        # with the same average, to the last bit.
        return _labels.score_regions(
            from_counts, h1_correct, h2_correct, average, zero_division
        )

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

    report = CompatibilityReport(
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
    if multi:
        return report
    object.__setattr__(
        report,
        "_details",
        _details(
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
        ),
    )
    if n_left_out:
        object.__setattr__(report, "n_left_out", n_left_out)
    return report
