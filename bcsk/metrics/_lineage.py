"""A chain of versions v1 -> v2 -> ... -> vN: what each release did to its users.

A user who learned to trust version 1 does not care whether version 3 is
compatible with version 2: they see v3 get wrong an answer that v1 got right.
:func:`lineage_report` measures a chain of versions' predictions on the same
labelled samples (oldest first):

* per step ``v(k-1) -> vk``: the new errors (negative flips) and fixed errors;
* per version: its accuracy and its **ever-right regressions**, the samples
  some earlier version got right that this version gets wrong (cumulative:
  every answer users ever saw right and lost);
* for the last version's regressions, the version that was last right on each
  sample (how long users had seen the answer before losing it).

Versions may know fewer classes than ``y_true`` holds (a class added by a
later version): with ``version_classes=``, a step counts only the samples
whose true class the older version knows, and the report says how many were
left out. NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _labels

__all__ = ["LineageReport", "lineage_report"]


@dataclass(frozen=True, eq=False)
class LineageReport:
    """Flips along a chain of versions, from :func:`lineage_report`.

    Step ``k`` (``0 <= k < n_versions - 1``) is the update from
    ``names[k]`` to ``names[k + 1]``.

    Attributes
    ----------
    names : tuple of str
        The versions, oldest first.
    n_samples : int
        Number of scored samples.
    accuracy : tuple of float
        Accuracy of each version on all samples.
    new_errors : tuple of int
        Per step: samples the older version got right and the newer gets
        wrong (negative flips).
    fixed_errors : tuple of int
        Per step: samples the older version got wrong and the newer right.
    step_samples : tuple of int
        Per step: samples whose true class the older version knows, the
        denominator of :attr:`negative_flip_rates`.
    left_out : tuple of int
        Per step: samples left out of the step's rates because their true
        class is one the older version does not know (0 without
        ``version_classes``).
    ever_right_regressions : tuple of int
        Per version from the second: samples some earlier version got right
        and this version gets wrong.
    last_right : ndarray of shape (n_samples,)
        For each of the last version's ever-right regressions, the index (in
        ``names``) of the latest earlier version that got it right; ``-1`` on
        every other sample.
    """

    names: tuple[str, ...]
    n_samples: int
    accuracy: tuple[float, ...]
    new_errors: tuple[int, ...]
    fixed_errors: tuple[int, ...]
    step_samples: tuple[int, ...]
    left_out: tuple[int, ...]
    ever_right_regressions: tuple[int, ...]
    last_right: np.ndarray

    @property
    def n_versions(self) -> int:
        """Number of versions in the chain."""
        return len(self.names)

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps' names, ``"v1 -> v2"``."""
        return tuple(
            f"{a} -> {b}" for a, b in zip(self.names[:-1], self.names[1:], strict=True)
        )

    @property
    def total_new_errors(self) -> int:
        """New errors summed over the steps (a sample may count more than once)."""
        return int(sum(self.new_errors))

    @property
    def final_regressions(self) -> int:
        """The last version's ever-right regressions."""
        return int(self.ever_right_regressions[-1])

    @property
    def negative_flip_rates(self) -> tuple[float, ...]:
        """Per step: new errors / :attr:`step_samples` (NaN for an empty step)."""
        return tuple(
            n / d if d else float("nan")
            for n, d in zip(self.new_errors, self.step_samples, strict=True)
        )

    @property
    def regressions_by_last_right(self) -> dict[str, int]:
        """The last version's regressions, by the version last right on them."""
        counts = np.bincount(
            self.last_right[self.last_right >= 0], minlength=self.n_versions
        )
        return {name: int(counts[k]) for k, name in enumerate(self.names[:-1])}

    def rows(self) -> list[dict]:
        """One dict per version: the table of :meth:`__str__` and the page."""
        rows = []
        for k, name in enumerate(self.names):
            row = {"version": name, "accuracy": self.accuracy[k]}
            if k:
                row.update(
                    new_errors=self.new_errors[k - 1],
                    fixed_errors=self.fixed_errors[k - 1],
                    left_out=self.left_out[k - 1],
                    ever_right_regressions=self.ever_right_regressions[k - 1],
                )
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        """The report as JSON-safe Python values."""
        return {
            "names": list(self.names),
            "n_samples": self.n_samples,
            "accuracy": list(self.accuracy),
            "new_errors": list(self.new_errors),
            "fixed_errors": list(self.fixed_errors),
            "step_samples": list(self.step_samples),
            "left_out": list(self.left_out),
            "ever_right_regressions": list(self.ever_right_regressions),
            "regressions_by_last_right": self.regressions_by_last_right,
        }

    def __str__(self) -> str:
        header = ("version", "accuracy", "new errors", "fixed", "ever-right lost")
        lines = [header]
        for row in self.rows():
            lines.append(
                (
                    row["version"],
                    f"{row['accuracy']:.4f}",
                    str(row.get("new_errors", "")),
                    str(row.get("fixed_errors", "")),
                    str(row.get("ever_right_regressions", "")),
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
            for line in lines
        ]
        by_version = ", ".join(
            f"{name}: {n}" for name, n in self.regressions_by_last_right.items()
        )
        text.append(
            f"{self.names[-1]}'s {self.final_regressions} ever-right regressions, "
            f"by the version last right on them: {by_version}"
        )
        if any(self.left_out):
            text.append(
                "left out of each step (true class unknown to the older "
                "version): "
                + ", ".join(
                    f"{step}: {n}"
                    for step, n in zip(self.steps, self.left_out, strict=True)
                )
            )
        return "\n".join(text)


def _named_versions(predictions, names) -> tuple[list[str], list]:
    if isinstance(predictions, Mapping):
        if names is not None:
            raise ValueError(
                "predictions is a mapping name -> predictions, which names the "
                "versions already: leave names=None, or pass a list of arrays."
            )
        names, predictions = list(map(str, predictions)), list(predictions.values())
    elif isinstance(predictions, np.ndarray) and predictions.ndim == 2:
        predictions = list(predictions)  # one row per version
    else:
        predictions = list(predictions)
    if len(predictions) < 2:
        raise ValueError(
            f"A lineage needs at least two versions' predictions, oldest first; "
            f"got {len(predictions)}. For one update use compatibility_report."
        )
    if names is None:
        names = [f"v{k + 1}" for k in range(len(predictions))]
    names = [str(name) for name in names]
    if len(names) != len(predictions):
        raise ValueError(
            f"names has {len(names)} entries but {len(predictions)} versions' "
            "predictions were given: give one name per version, oldest first."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"The versions' names must differ; got {names}.")
    return names, predictions


def check_version_classes(version_classes, labels, names) -> list[np.ndarray | None]:
    """Each version's classes, checked against ``labels`` and each other's order.

    Every class a version knows must be one of ``labels`` (the classes of
    ``y``), listed once; two versions must list the classes they share in the
    same order (a different order is almost always a column list copied
    wrong). ``None`` (for the whole argument or a version) means all of
    ``labels``.
    """
    if version_classes is None:
        return [None] * len(names)
    version_classes = list(version_classes)
    if len(version_classes) != len(names):
        raise ValueError(
            f"version_classes has {len(version_classes)} entries but there are "
            f"{len(names)} versions: give one list of classes per version "
            "(None for a version that knows every class)."
        )
    known = list(labels)
    checked = []
    for name, classes in zip(names, version_classes, strict=True):
        if classes is None:
            checked.append(None)
            continue
        classes = _labels.as_label_array(classes).ravel()
        unknown = [c for c in classes.tolist() if c not in known]
        if unknown:
            raise ValueError(
                f"Version {name!r} is said to know classes {unknown[:5]} that are "
                f"not among the classes of y {known}: a version's classes must "
                "be a subset of y's, with the same labels."
            )
        if len(set(classes.tolist())) != classes.size:
            raise ValueError(
                f"Version {name!r} lists a class twice: {classes.tolist()}."
            )
        checked.append(classes)
    listed = [(n, c) for n, c in zip(names, checked, strict=True) if c is not None]
    for (name_a, a), (name_b, b) in zip(listed[:-1], listed[1:], strict=True):
        shared = [c for c in a.tolist() if c in b.tolist()]
        in_b = [c for c in b.tolist() if c in shared]
        if shared != in_b:
            raise ValueError(
                f"Versions {name_a!r} and {name_b!r} list their shared classes "
                f"in different orders ({shared} and {in_b}). Each list gives the "
                "class of each output column, so a different order means a "
                "column list was copied wrong: fix the list of one of them."
            )
    return checked


def lineage_report(
    y_true: ArrayLike,
    predictions: Sequence[ArrayLike] | Mapping[str, ArrayLike],
    *,
    names: Sequence[str] | None = None,
    labels: ArrayLike | None = None,
    version_classes: Sequence[ArrayLike | None] | None = None,
) -> LineageReport:
    """Flips, ever-right regressions and accuracy along a chain of versions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    predictions : sequence of array-like of shape (n_samples,), or dict
        Each version's predicted labels on the same samples, **oldest
        first**; or a dict name -> predictions in that order.
    names : sequence of str, optional
        The versions' names (default ``"v1"``, ``"v2"``, ...).
    labels : array-like, optional
        Every class label (default: those present in ``y_true``). A version
        predicting a label outside them is refused.
    version_classes : sequence of (array-like or None), optional
        The classes each version knows, one entry per version (``None``: all
        of them), for a chain in which a later version adds a class. A step's
        flips and rates count only the samples whose true class the older
        version knows; the others are counted in ``left_out``.

    Returns
    -------
    LineageReport

    Raises
    ------
    ValueError
        If fewer than two versions are given, arrays differ in length, a
        version predicts a label outside ``labels``, or ``version_classes``
        names classes outside them or disagrees on the order of shared classes.

    See Also
    --------
    compatibility_report : One update, in detail.
    LineageDisplay : Draws the report.

    Examples
    --------
    v2 breaks one of v1's right answers; v3 breaks one more and fixes one:

    >>> from bcsk.metrics import lineage_report
    >>> report = lineage_report(
    ...     [0, 1, 1, 0, 2, 2],
    ...     [[0, 1, 1, 0, 2, 0], [0, 1, 0, 0, 2, 0], [0, 0, 1, 0, 2, 0]],
    ... )
    >>> report.new_errors, report.ever_right_regressions
    ((1, 1), (1, 1))
    >>> report.regressions_by_last_right
    {'v1': 0, 'v2': 1}
    """
    names, predictions = _named_versions(predictions, names)
    arrays = _labels.check_label_arrays(
        [y_true, *predictions], ["y_true", *[f"predictions[{n!r}]" for n in names]]
    )
    y, versions = arrays[0], arrays[1:]
    if y.shape[0] == 0:
        raise ValueError("lineage_report needs at least one sample; y_true is empty.")
    if labels is None:
        classes = _labels.unique_labels(y)
    else:
        classes = list(_labels.as_label_array(labels).ravel().tolist())
        missing = [c for c in _labels.unique_labels(y) if c not in classes]
        if missing:
            raise ValueError(
                f"y_true holds labels {missing[:5]} that are not in labels={classes}."
            )
    for name, pred in zip(names, versions, strict=True):
        outside = [c for c in _labels.unique_labels(pred) if c not in classes]
        if outside:
            raise ValueError(
                f"Version {name!r} predicts labels {outside[:5]} that are not "
                f"among y's classes {classes}: the versions and y_true must use "
                "the same labels. If y_true lacks a class by chance, name every "
                "class with labels=."
            )
    known = check_version_classes(version_classes, classes, names)

    right = np.stack([_labels.equal(pred, y) for pred in versions])
    n = y.shape[0]
    new_errors, fixed_errors, step_samples, left_out = [], [], [], []
    for k in range(len(names) - 1):
        counted = (
            np.ones(n, dtype=bool)
            if known[k] is None
            else np.fromiter(
                (label in set(known[k].tolist()) for label in y.tolist()),
                dtype=bool,
                count=n,
            )
        )
        old, new = right[k] & counted, right[k + 1] & counted
        new_errors.append(int(np.sum(old & ~new)))
        fixed_errors.append(int(np.sum(~right[k] & new)))
        step_samples.append(int(counted.sum()))
        left_out.append(int(n - counted.sum()))
    ever = np.logical_or.accumulate(right, axis=0)
    regressions = tuple(
        int(np.sum(ever[k - 1] & ~right[k])) for k in range(1, len(names))
    )
    # The latest earlier version right on each of the last version's regressions.
    earlier = right[:-1]
    latest = earlier.shape[0] - 1 - np.argmax(earlier[::-1], axis=0)
    lost = ever[-2] & ~right[-1]
    last_right = np.where(lost, latest, -1)
    return LineageReport(
        names=tuple(names),
        n_samples=int(n),
        accuracy=tuple(float(r.mean()) for r in right),
        new_errors=tuple(new_errors),
        fixed_errors=tuple(fixed_errors),
        step_samples=tuple(step_samples),
        left_out=tuple(left_out),
        ever_right_regressions=regressions,
        last_right=last_right,
    )
