"""``CompatibilityDisplay``: where the samples fall, for one or more updates.

For each candidate h2, how many samples fall in each region (both right, new
errors, fixed errors, both wrong), and which classes the new errors fall on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk.metrics._plot._base import _REGION_COLORS, _format_score, _named, _two_axes
from bcsk.metrics._report import CompatibilityReport, compatibility_report

__all__ = ["CompatibilityDisplay"]


class CompatibilityDisplay:
    """Right and wrong answers of an old model h1 and one or more new models h2.

    The left panel counts the samples in each of the four regions: both
    right, new errors (h1 right, h2 wrong, highlighted), fixed errors (h1
    wrong, h2 right) and both wrong. The right panel shows on which true
    classes the new errors fall. With several candidate h2 models (for
    example the plain update, ``lambda_c=0``, and the one chosen), their bars
    stand side by side, one colour per candidate, and the legend gives each
    one's BTC and BEC; with one, the left panel's title gives them.

    Build and draw it with :meth:`from_predictions` or :meth:`from_estimator`,
    or build it from :class:`~bcsk.metrics.CompatibilityReport` objects and
    call :meth:`plot`.

    Parameters
    ----------
    reports : CompatibilityReport or dict of str to CompatibilityReport
        Counts and scores from :func:`bcsk.metrics.compatibility_report`, one
        per candidate h2, by name (a single report is named "h2").

    Attributes
    ----------
    reports : dict of str to CompatibilityReport
        The reports, by candidate name.
    ax_ : ndarray of 2 matplotlib Axes
        The regions panel and the per-class panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    region_bars_ : list of matplotlib BarContainer
        The four region bars of each candidate, in the order of
        :data:`REGION_NAMES`.
    class_bars_ : list of matplotlib BarContainer
        The bars of new errors per class of each candidate.

    See Also
    --------
    CompatibilityTradeoffDisplay : Accuracy against BTC and BEC for many models.

    Examples
    --------
    >>> from bcsk.metrics import compatibility_report
    >>> from bcsk.metrics import CompatibilityDisplay
    >>> report = compatibility_report(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2], h2_pred=[0, 0, 1, 1, 2, 1]
    ... )
    >>> display = CompatibilityDisplay(report)
    >>> display.reports["h2"].new_errors
    2
    >>> display.plot()  # doctest: +SKIP

    Drawn straight from predictions, two candidates side by side:

    >>> CompatibilityDisplay.from_predictions(  # doctest: +SKIP
    ...     y_test,
    ...     h1_pred=h1.predict(X_test),
    ...     h2_pred={"plain update": plain.predict(X_test),
    ...              "chosen": chosen.predict(X_test)},
    ... )
    """

    def __init__(
        self, reports: CompatibilityReport | Mapping[str, CompatibilityReport]
    ) -> None:
        self.reports = _named(reports, "reports")
        for name, report in self.reports.items():
            if not isinstance(report, CompatibilityReport):
                raise TypeError(
                    f"reports must hold CompatibilityReport objects (from "
                    f"bcsk.metrics.compatibility_report); {name!r} is a "
                    f"{type(report).__name__}."
                )

    def plot(self, ax: Any = None, **kwargs: Any) -> CompatibilityDisplay:
        """Draw the four regions (left) and the new errors per class (right).

        Parameters
        ----------
        ax : array-like of 2 matplotlib Axes, default=None
            Axes for the two panels. By default a new figure is created.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.bar` for every bar (for
            example ``alpha=0.8`` or ``edgecolor="black"``; ``color`` replaces
            the region colours).

        Returns
        -------
        CompatibilityDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        figure, axes = _two_axes(ax, figsize=(11.0, 4.8))
        regions, per_class = axes
        reports = list(self.reports.items())
        single = len(reports) == 1
        width = 0.8 / len(reports)
        classes = list(
            dict.fromkeys(c for _, r in reports for c in r.new_errors_per_class)
        )

        self.region_bars_, self.class_bars_ = [], []
        highest_region, highest_class = 1, 1
        for i, (name, report) in enumerate(reports):
            offset = (i - (len(reports) - 1) / 2) * width
            counts = [
                report.both_right,
                report.new_errors,
                report.fixed_errors,
                report.both_wrong,
            ]
            if single:
                region_style = {"color": _REGION_COLORS, "label": name}
                class_style = {"color": _REGION_COLORS[1], "label": name}
            else:
                label = (
                    f"{name}: BTC {_format_score(report.btc)}, "
                    f"BEC {_format_score(report.bec)}"
                )
                region_style = class_style = {"color": f"C{i % 10}", "label": label}
            bars = regions.bar(
                np.arange(4) + offset,
                counts,
                width=width,
                **{**region_style, **kwargs},
            )
            # A multilabel or multi-output report counts (sample, output) cells.
            n = max(report.n_samples * report.n_outputs, 1)
            regions.bar_label(
                bars,
                labels=[f"{c}\n({c / n:.1%})" if single else f"{c}" for c in counts],
                fontsize="medium" if single else "small",
            )
            self.region_bars_.append(bars)
            highest_region = max(highest_region, *counts)

            class_counts = [report.new_errors_per_class.get(c, 0) for c in classes]
            bars = per_class.bar(
                np.arange(len(classes)) + offset,
                class_counts,
                width=width,
                **{**class_style, **kwargs},
            )
            if len(classes) * len(reports) <= 30:
                per_class.bar_label(bars, fontsize="medium" if single else "small")
            self.class_bars_.append(bars)
            highest_class = max(highest_class, *class_counts, 1)

        regions.set_xticks(
            range(4),
            [
                "both right",
                "new errors\n(h1 right,\nh2 wrong)",
                "fixed errors\n(h1 wrong,\nh2 right)",
                "both wrong",
            ],
        )
        # Headroom for the count labels above the tallest bar.
        regions.set_ylim(0, highest_region * 1.25)
        # Several outputs: the regions count cells, the right panel outputs.
        cells = any(r.n_outputs > 1 for _, r in reports)
        regions.set_ylabel("(sample, output) cells" if cells else "samples")
        if single:
            report = reports[0][1]
            regions.set_title(
                f"BTC = {_format_score(report.btc)}, BEC = {_format_score(report.bec)}"
            )
        else:
            regions.set_title("Cells by region" if cells else "Samples by region")
            regions.legend(loc="best", fontsize="small")

        per_class.set_xticks(
            range(len(classes)),
            [str(c) for c in classes],
            rotation=90 if len(classes) > 12 else 0,
        )
        per_class.set_ylim(0, highest_class * 1.15)
        per_class.yaxis.get_major_locator().set_params(integer=True)
        per_class.set_xlabel("output" if cells else "true class")
        per_class.set_ylabel("new errors (h1 right, h2 wrong)")
        per_class.set_title(
            "New errors by output" if cells else "New errors by true class"
        )
        self.ax_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        *,
        h1_pred: ArrayLike,
        h2_pred: ArrayLike | Mapping[str, ArrayLike],
        labels: ArrayLike | None = None,
        zero_division: str | float = "warn",
        ax: Any = None,
        **kwargs: Any,
    ) -> CompatibilityDisplay:
        """Draw the display from true labels and the models' predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        h1_pred : array-like of shape (n_samples,)
            Labels predicted by the old model h1. Keyword-only.
        h2_pred : array-like of shape (n_samples,) or dict of str to array-like
            Labels predicted by the new model h2, or by several candidate h2
            models, by name (for example ``{"plain update": ..., "chosen":
            ...}``). Keyword-only.
        labels : array-like, default=None
            Classes shown in the per-class panel; see
            :func:`bcsk.metrics.compatibility_report`.
        zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
            Value of an undefined BTC or BEC; see
            :func:`bcsk.metrics.compatibility_report`.
        ax : array-like of 2 matplotlib Axes, default=None
            Axes to draw on; see :meth:`plot`.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.bar`; see :meth:`plot`.

        Returns
        -------
        CompatibilityDisplay
            The display, drawn.
        """
        reports = {
            name: compatibility_report(
                y_true,
                h1_pred=h1_pred,
                h2_pred=pred,
                labels=labels,
                zero_division=zero_division,
            )
            for name, pred in _named(h2_pred, "h2_pred").items()
        }
        return cls(reports).plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        h1: Any = None,
        h1_pred: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        zero_division: str | float = "warn",
        ax: Any = None,
        **kwargs: Any,
    ) -> CompatibilityDisplay:
        """Draw the display for fitted classifiers on labelled data.

        Parameters
        ----------
        estimator : fitted classifier or dict of str to fitted classifier
            The new model h2, or several candidates by name; ``predict(X)``
            must return class labels.
        X : array-like
            Input samples.
        y : array-like of shape (n_samples,)
            True labels of ``X``.
        h1 : keras.Model, fitted scikit-learn classifier or callable, \
default=None
            The old model. By default each estimator's own h1, found as the
            scorers find it (a :class:`~bcsk.BCCompatibleClassifier`, a
            ``Pipeline`` ending in one, or a fitted search); see
            :mod:`bcsk.metrics`.
        h1_pred : array-like of shape (n_samples,), default=None
            h1's logged labels on ``X``, when h1 cannot run here (or for a
            model trained from logged outputs, which holds no h1): h1 is then
            not called, and a gate's ``predict`` receives them too.
        labels : array-like, default=None
            Classes shown in the per-class panel.
        zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
            Value of an undefined BTC or BEC.
        ax : array-like of 2 matplotlib Axes, default=None
            Axes to draw on; see :meth:`plot`.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.bar`; see :meth:`plot`.

        Returns
        -------
        CompatibilityDisplay
            The display, drawn.
        """
        from bcsk.metrics._scorer import _h1_labels, _h2_predict

        estimators = _named(estimator, "estimator")
        reports = {}
        for name, model in estimators.items():
            if not callable(getattr(model, "predict", None)):
                raise TypeError(
                    f"estimator must be a fitted classifier with a predict "
                    f"method; got {type(model).__name__}."
                )
            reference = _h1_labels(h1, model, X, y, h1_pred)
            reports[name] = compatibility_report(
                y,
                h1_pred=reference,
                h2_pred=_h2_predict(model, X, None if h1_pred is None else reference),
                labels=labels,
                zero_division=zero_division,
            )
        return cls(reports).plot(ax=ax, **kwargs)
