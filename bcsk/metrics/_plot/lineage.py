"""``LineageDisplay``: what a chain of releases did to its users.

For each version after the first, its new errors against the version before
it and its ever-right regressions (answers some earlier version got right that
it gets wrong), with each version's accuracy on a second axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk.metrics._lineage import LineageReport, lineage_report
from bcsk.metrics._plot._base import _REGION_COLORS, _pyplot

__all__ = ["LineageDisplay"]


class LineageDisplay:
    """New errors, ever-right regressions and accuracy along a chain of versions.

    One group of bars per version after the first: its new errors against the
    version before it (negative flips) and its ever-right regressions, the
    samples some earlier version got right that it gets wrong; a line gives
    each version's accuracy on the right axis.

    Build and draw it with :meth:`from_predictions`, or build it from a
    :class:`~bcsk.metrics.LineageReport` and call :meth:`plot`.

    Parameters
    ----------
    report : LineageReport
        From :func:`bcsk.metrics.lineage_report`.

    Attributes
    ----------
    report : LineageReport
        The chain's figures.
    ax_ : matplotlib Axes
        The axes of the bars (counts of samples).
    accuracy_ax_ : matplotlib Axes
        The twin axes of the accuracy line.
    figure_ : matplotlib Figure
        Figure holding the axes.
    bars_ : list of matplotlib BarContainer
        The new-error bars and the ever-right regression bars.
    accuracy_line_ : matplotlib Line2D
        The accuracy of each version.

    See Also
    --------
    lineage_report : The figures drawn.
    CompatibilityDisplay : One update, by region and class.

    Examples
    --------
    >>> from bcsk.metrics import LineageDisplay, lineage_report
    >>> report = lineage_report(
    ...     [0, 1, 1, 0, 2, 2],
    ...     [[0, 1, 1, 0, 2, 0], [0, 1, 0, 0, 2, 0], [0, 0, 1, 0, 2, 0]],
    ... )
    >>> LineageDisplay(report).report.final_regressions
    1
    >>> LineageDisplay(report).plot()  # doctest: +SKIP
    """

    def __init__(self, report: LineageReport) -> None:
        if not isinstance(report, LineageReport):
            raise TypeError(
                "report must be a LineageReport (from bcsk.metrics.lineage_report); "
                f"got {type(report).__name__}."
            )
        self.report = report

    def plot(self, ax: Any = None, **kwargs: Any) -> LineageDisplay:
        """Draw the bars and the accuracy line.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. By default a new figure is created.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.bar` for every bar (for
            example ``alpha=0.8``).

        Returns
        -------
        LineageDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        if ax is None:
            plt = _pyplot()
            figure, ax = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
        else:
            figure = ax.figure
        report = self.report
        positions = np.arange(1, report.n_versions)
        width = 0.38
        new = ax.bar(
            positions - width / 2,
            report.new_errors,
            width=width,
            **{
                "color": _REGION_COLORS[1],
                "label": "new errors vs the version before",
                **kwargs,
            },
        )
        ever = ax.bar(
            positions + width / 2,
            report.ever_right_regressions,
            width=width,
            **{"color": "tab:purple", "label": "ever-right regressions", **kwargs},
        )
        ax.bar_label(new, fontsize="small")
        ax.bar_label(ever, fontsize="small")
        self.bars_ = [new, ever]
        ax.set_xticks(np.arange(report.n_versions), list(report.names))
        ax.set_xlim(-0.6, report.n_versions - 0.4)
        highest = max(1, *report.new_errors, *report.ever_right_regressions)
        ax.set_ylim(0, highest * 1.2)
        ax.set_ylabel("samples")
        ax.set_xlabel("version (oldest first)")
        twin = ax.twinx()
        (self.accuracy_line_,) = twin.plot(
            np.arange(report.n_versions),
            report.accuracy,
            color="0.2",
            marker="o",
            label="accuracy",
        )
        twin.set_ylabel("accuracy")
        handles = [new, ever, self.accuracy_line_]
        ax.legend(
            handles, [h.get_label() for h in handles], loc="best", fontsize="small"
        )
        ax.set_title(
            f"{report.names[-1]}: {report.final_regressions} ever-right regressions"
        )
        self.ax_, self.accuracy_ax_, self.figure_ = ax, twin, figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        predictions: Sequence[ArrayLike] | Mapping[str, ArrayLike],
        *,
        names: Sequence[str] | None = None,
        labels: ArrayLike | None = None,
        version_classes: Sequence[ArrayLike | None] | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> LineageDisplay:
        """Compute :func:`lineage_report` and draw it.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        predictions : sequence of array-like, or dict
            Each version's predicted labels, oldest first.
        names, labels, version_classes
            As for :func:`lineage_report`.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        LineageDisplay
        """
        report = lineage_report(
            y_true,
            predictions,
            names=names,
            labels=labels,
            version_classes=version_classes,
        )
        return cls(report).plot(ax=ax, **kwargs)
