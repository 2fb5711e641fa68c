"""``FlipCostDisplay``: what the update gate's ``flip_cost`` trades.

For one update gate (:class:`~bcsk.gate.CompatibleUpdateClassifier`), accuracy
against negative flips (or BTC) as ``flip_cost`` varies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk.metrics._plot._base import BTC_AXIS_LABEL, H1_LINE_LABEL, _pyplot

__all__ = ["FlipCostDisplay"]


class FlipCostDisplay:
    """Accuracy against negative flips (or BTC) of an update gate, per cost.

    One point per ``flip_cost`` of a :class:`~bcsk.gate.CompatibleUpdateClassifier`
    (the gate keeps h1's label unless h2 is ``flip_cost`` times surer of its
    own), joined in increasing order of the cost: ``flip_cost=1`` is h2 alone,
    larger costs keep more of h1's answers. Points up and to the left (fewer
    negative flips) are better.

    Build it with :meth:`from_estimator` or :meth:`from_predictions` (both
    draw), or from computed values, then call :meth:`plot`.

    Parameters
    ----------
    flip_costs : array-like of shape (n_costs,)
        The costs, each ``>= 1``.
    accuracy : array-like of shape (n_costs,)
        The gate's accuracy at each cost.
    negative_flip_rate : array-like of shape (n_costs,)
        Share of samples h1 labels correctly and the gate gets wrong.
    btc : array-like of shape (n_costs,)
        Share of h1's correct answers the gate keeps.
    flip_cost : float, default=None
        The cost of the gate being shown, marked on the curve.
    h1_accuracy : float, default=None
        Accuracy of h1, drawn as a horizontal reference line.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    line_ : matplotlib Line2D
        The curve.
    annotations_ : list of matplotlib Annotation
        The cost written next to each point.
    chosen_ : matplotlib PathCollection or None
        The marker of ``flip_cost``; None when it is not given or not on the
        curve.
    h1_line_ : matplotlib Line2D or None
        The h1 reference line; None without ``h1_accuracy``.

    See Also
    --------
    bcsk.gate.CompatibleUpdateClassifierCV : Chooses ``flip_cost`` by
        cross-validation.
    CompatibilityTradeoffDisplay : Accuracy against BTC and BEC for many models.

    Examples
    --------
    >>> from bcsk.metrics import FlipCostDisplay
    >>> display = FlipCostDisplay(
    ...     flip_costs=[1, 2, 3],
    ...     accuracy=[0.91, 0.905, 0.89],
    ...     negative_flip_rate=[0.030, 0.014, 0.009],
    ...     btc=[0.966, 0.985, 0.990],
    ...     flip_cost=2,
    ... )
    >>> display.plot()  # doctest: +SKIP
    """

    _METRICS = {
        "negative_flip_rate": (
            "negative flip rate: h1 right, gate wrong (lower is better)",
            "Update gate: accuracy vs negative flips",
        ),
        "btc": (
            f"{BTC_AXIS_LABEL.replace('h2', 'the gate')} (higher is better)",
            "Update gate: accuracy vs BTC",
        ),
    }

    def __init__(
        self,
        flip_costs: ArrayLike,
        accuracy: ArrayLike,
        negative_flip_rate: ArrayLike,
        btc: ArrayLike,
        *,
        flip_cost: float | None = None,
        h1_accuracy: float | None = None,
    ) -> None:
        self.flip_costs = flip_costs
        self.accuracy = accuracy
        self.negative_flip_rate = negative_flip_rate
        self.btc = btc
        self.flip_cost = flip_cost
        self.h1_accuracy = h1_accuracy

    def plot(
        self,
        ax: Any = None,
        *,
        metric: str = "negative_flip_rate",
        annotate: bool = True,
        **kwargs: Any,
    ) -> FlipCostDisplay:
        """Draw accuracy against ``metric``, one point per cost.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; by default a new figure.
        metric : {"negative_flip_rate", "btc"}, default="negative_flip_rate"
            What the horizontal axis shows.
        annotate : bool, default=True
            Whether to write each point's cost next to it.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot` for the curve.

        Returns
        -------
        FlipCostDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        if metric not in self._METRICS:
            raise ValueError(
                f"metric must be one of {sorted(self._METRICS)}, got {metric!r}."
            )
        data = {
            name: np.asarray(getattr(self, name), dtype=float).ravel()
            for name in ("flip_costs", "accuracy", "negative_flip_rate", "btc")
        }
        lengths = {name: len(values) for name, values in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "flip_costs, accuracy, negative_flip_rate and btc need one value "
                f"per cost; got lengths {lengths}."
            )
        order = np.argsort(data["flip_costs"], kind="stable")
        costs, accuracy = data["flip_costs"][order], data["accuracy"][order]
        x = data[metric][order]

        from matplotlib.ticker import PercentFormatter

        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
        style = {"marker": "o", "label": "gate, one point per flip_cost", **kwargs}
        (self.line_,) = ax.plot(x, accuracy, **style)
        self.annotations_ = []
        if annotate:
            for cost, xi, yi in zip(costs, x, accuracy, strict=True):
                self.annotations_.append(
                    ax.annotate(
                        f"{cost:g}",
                        (xi, yi),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize="small",
                    )
                )
        self.chosen_ = None
        if self.flip_cost is not None:
            hits = np.flatnonzero(np.isclose(costs, float(self.flip_cost)))
            if hits.size:
                self.chosen_ = ax.scatter(
                    x[hits[:1]],
                    accuracy[hits[:1]],
                    s=160,
                    facecolors="none",
                    edgecolors="tab:red",
                    linewidths=1.5,
                    zorder=3,
                    label=f"flip_cost={float(self.flip_cost):g} (this gate)",
                )
        self.h1_line_ = None
        if self.h1_accuracy is not None:
            self.h1_line_ = ax.axhline(
                self.h1_accuracy,
                color="0.25",
                linestyle="--",
                linewidth=1,
                label=H1_LINE_LABEL,
            )
        xlabel, title = self._METRICS[metric]
        ax.set_xlabel(xlabel)
        ax.set_ylabel("accuracy")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.margins(x=0.1, y=0.1)
        ax.legend(loc="best", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        *,
        h1_pred: ArrayLike,
        h2_proba: ArrayLike,
        classes: ArrayLike | None = None,
        flip_costs: ArrayLike | None = None,
        flip_cost: float | None = None,
        metric: str = "negative_flip_rate",
        annotate: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> FlipCostDisplay:
        """Compute the gate's curve from stored predictions and draw it.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        h1_pred : array-like of shape (n_samples,)
            Labels of the old model h1.
        h2_proba : array-like of shape (n_samples, n_classes)
            Probabilities of the new model h2, columns in the order of
            ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Labels of ``h2_proba``'s columns (``h2.classes_``); by default the
            sorted labels of ``y_true``.
        flip_costs : array-like of float, default=None
            Costs to evaluate; by default
            :data:`bcsk.gate.DEFAULT_FLIP_COSTS`, plus ``flip_cost``.
        flip_cost : float, default=None
            A cost to mark on the curve (added to ``flip_costs``).
        metric, annotate, ax, **kwargs
            See :meth:`plot`.

        Returns
        -------
        FlipCostDisplay
            The display, drawn.
        """
        from bcsk.gate import _predictions as gate

        if classes is None:
            classes = np.unique(np.asarray(y_true))
        if flip_costs is None:
            flip_costs = gate.DEFAULT_FLIP_COSTS
        if flip_cost is not None:
            flip_costs = [*np.ravel(flip_costs), flip_cost]
        costs, scores = gate._flip_cost_curve(
            y_true, h1_pred, h2_proba, classes, flip_costs
        )
        display = cls(
            costs,
            scores["accuracy"],
            scores["negative_flip_rate"],
            scores["btc"],
            flip_cost=flip_cost,
            h1_accuracy=scores["h1_accuracy"],
        )
        return display.plot(ax=ax, metric=metric, annotate=annotate, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        h1_pred: ArrayLike | None = None,
        flip_costs: ArrayLike | None = None,
        metric: str = "negative_flip_rate",
        annotate: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> FlipCostDisplay:
        """Run a fitted gate's h1 and h2 once on ``X`` and draw its curve.

        Parameters
        ----------
        estimator : fitted CompatibleUpdateClassifier
            The gate, alone, as the last step of a ``Pipeline``, or a fitted
            :class:`~bcsk.gate.CompatibleUpdateClassifierCV`. Its own
            ``flip_cost`` is marked on the curve.
        X : array-like of shape (n_samples, n_features)
            Samples (held out from training).
        y : array-like of shape (n_samples,)
            Their true labels.
        h1_pred : array-like of shape (n_samples,), default=None
            h1's logged labels on ``X``: h1 is then not called (needed for a
            gate fitted from logged labels, which holds no h1).
        flip_costs : array-like of float, default=None
            Costs to evaluate; by default
            :data:`bcsk.gate.DEFAULT_FLIP_COSTS`. The gate's cost is added.
        metric, annotate, ax, **kwargs
            See :meth:`plot`.

        Returns
        -------
        FlipCostDisplay
            The display, drawn.
        """
        from bcsk.gate._gate import _gate_outputs

        h1_pred, h2_proba, classes, flip_cost = _gate_outputs(estimator, X, h1_pred)
        return cls.from_predictions(
            y,
            h1_pred=h1_pred,
            h2_proba=h2_proba,
            classes=classes,
            flip_costs=flip_costs,
            flip_cost=flip_cost,
            metric=metric,
            annotate=annotate,
            ax=ax,
            **kwargs,
        )
