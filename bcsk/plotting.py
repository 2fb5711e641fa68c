"""Plots that show what an update h1 -> h2 does to a classifier's answers.

The displays follow scikit-learn's Display API (as
:class:`sklearn.metrics.ConfusionMatrixDisplay` does): the constructor stores
computed values and ``plot(ax=None, **kwargs)`` draws them; the class methods
``from_predictions``, ``from_estimator``, ``from_cv_results`` and
``from_search`` compute the values, draw them and return the display, with
``ax_`` and ``figure_`` set. They take ``ax=`` to draw on given axes, and style
keyword arguments that go to matplotlib. Titles are short; the axes say the
rest.

* :class:`CompatibilityTradeoffDisplay`: h2's accuracy against BTC and BEC,
  one point per candidate model, to choose the compatibility weight
  ``lambda_c``; or, with ``x_metric="negative_flip_rate"``, against the
  negative flip rate, with the Pareto front of the search joined by a line.
* :class:`CompatibilityDisplay`: for one or more candidate h2 models, how many
  samples fall in each region (both right, new errors, fixed errors, both
  wrong), and which classes the new errors fall on.
* :class:`FlipCostDisplay`: for one update gate
  (:class:`~bcsk.gate.CompatibleUpdateClassifier`), accuracy against negative
  flips (or BTC) as ``flip_cost`` varies.

matplotlib is an optional dependency: it is imported when a plot is drawn, so
importing this module does not need it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk._labels import to_python as _to_python
from bcsk._plot_front import LABEL_PARAMS as _LABEL_PARAMS
from bcsk._plot_front import base_name as _base_name
from bcsk._plot_front import candidate_label as _candidate_label
from bcsk._plot_front import pareto_mask as _pareto_mask
from bcsk._plot_front import resolve as _resolve
from bcsk._plot_front import value_text as _value_text
from bcsk.metrics import CompatibilityReport, compatibility_report

__all__ = ["CompatibilityDisplay", "CompatibilityTradeoffDisplay", "FlipCostDisplay"]

H1_LINE_LABEL = "h1 (old model) accuracy"
BTC_AXIS_LABEL = "BTC: share of h1's correct answers h2 keeps"
BEC_AXIS_LABEL = "BEC: share of h2's errors h1 also made"
ACCURACY_AXIS_LABEL = "h2 accuracy"
REGION_NAMES = ("both right", "new errors", "fixed errors", "both wrong")
"""The four regions, in the order the displays draw them."""

# Colours of the four regions: new errors stand out in red, the rest stay quiet.
_REGION_COLORS = ("0.65", "tab:red", "tab:blue", "0.4")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot``, or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "bcsk's plots need matplotlib, which is not installed. Install it "
            "with: pip install 'bcsk[plot]'"
        ) from exc
    return plt


def _two_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """Return (figure, array of 2 axes), creating them when ``ax`` is None."""
    if ax is None:
        plt = _pyplot()
        figure, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
        return figure, np.asarray(axes, dtype=object)
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(
            "ax must hold 2 matplotlib Axes, one per panel (for example from "
            f"`fig, ax = plt.subplots(1, 2)`); got {axes.size} object(s)."
        )
    return axes[0].figure, axes


def _one_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """Return (figure, axes), creating them when ``ax`` is None."""
    if ax is None:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=figsize, layout="constrained")
        return figure, axes
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 1:
        raise ValueError(
            "ax must be one matplotlib Axes for x_metric='negative_flip_rate' "
            f"(for example from `fig, ax = plt.subplots()`); got {axes.size} "
            "objects."
        )
    return axes[0].figure, axes[0]


def _format_score(value: float) -> str:
    """Format a score for a title; NaN means the score is undefined."""
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def _lambda_text(value: Any) -> str:
    """Annotation for one candidate's ``lambda_c``."""
    if value is None or value is np.ma.masked:
        return "λ=default"
    return f"λ={_value_text(value)}"


X_METRICS = ("btc_bec", "negative_flip_rate")
"""What :meth:`CompatibilityTradeoffDisplay.plot` can put on the x axis."""

NFR_AXIS_LABEL = "negative flip rate: h1 right, h2 wrong"
FRONT_LINE_LABEL = "Pareto front"


class CompatibilityTradeoffDisplay:
    """Accuracy against backward compatibility, one point per candidate model.

    By default (``x_metric="btc_bec"``) the left panel plots h2's accuracy
    against BTC (the share of h1's correct answers that h2 keeps), the right
    panel against BEC (the share of h2's errors that h1 made too). Each point
    is one candidate h2, annotated with its compatibility weight
    ``lambda_c``. Points up and to the right are both accurate and
    compatible.

    With ``x_metric="negative_flip_rate"``, one panel plots accuracy against
    the negative flip rate (h1 right, h2 wrong, over all samples): the front
    of a search that varies several things at once (dissonance,
    ``lambda_c``, ensemble size, gate ``flip_cost``). Each point is labelled
    with what it is ("plain", "focal λ=0.1 + gate 1.5", "5× new error λ=3"),
    the Pareto-optimal points (no other point has an accuracy as high and a
    flip rate as low, one of them strictly) are joined by a line, and the
    chosen one is circled. Points up and to the left are better.

    The panels are chosen by a keyword of :meth:`plot` rather than added when
    the scores are there, so that a plot of a search scored with
    :func:`~bcsk.scorers.compatibility_scoring` (which reports ``neg_nfr``
    too) keeps the two panels and the ``ax=`` it was drawn on.

    Build and draw it from search results with :meth:`from_cv_results` or
    :meth:`from_search`, or from computed values, then call :meth:`plot`.

    Parameters
    ----------
    accuracy : array-like of shape (n_candidates,)
        Accuracy of each candidate h2.
    btc : array-like of shape (n_candidates,) or None
        BTC of each candidate with respect to h1; needed by the BTC/BEC
        panels.
    bec : array-like of shape (n_candidates,) or None
        BEC of each candidate with respect to h1; needed by the BTC/BEC
        panels.
    lambda_c : array-like of shape (n_candidates,) or None
        Compatibility weight of each candidate, shown next to its point
        unless ``labels`` are given. ``None`` entries show as "λ=default".
    groups : array-like of shape (n_candidates,), default=None
        A second parameter (for example a network size) that gives each group
        of candidates its own colour and marker.
    group_name : str, default=None
        Name of the grouping parameter, used in the legend
        ("<group_name> = <value>").
    h1_accuracy : float, default=None
        Accuracy of the old model h1, drawn as a horizontal reference line.
    best_index : int, default=None
        Index of the chosen candidate (a search's ``best_index_``), circled in
        every panel.
    negative_flip_rate : array-like of shape (n_candidates,), default=None
        Negative flip rate of each candidate (a rate, not negated); needed by
        ``x_metric="negative_flip_rate"``.
    labels : array-like of str of shape (n_candidates,), default=None
        Text next to each point, in place of "λ=<lambda_c>".

    Attributes
    ----------
    ax_ : ndarray of 2 matplotlib Axes, or matplotlib Axes
        The BTC panel and the BEC panel; with
        ``x_metric="negative_flip_rate"``, the one panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    scatters_ : list of matplotlib PathCollection
        One scatter per group and panel.
    annotations_ : list of matplotlib Annotation
        The labels of the points, in every panel.
    h1_lines_ : list of matplotlib Line2D
        The h1 reference lines; empty without ``h1_accuracy``.
    best_markers_ : list of matplotlib PathCollection
        The circles around the chosen candidate; empty without ``best_index``.
    front_mask_ : ndarray of bool of shape (n_candidates,) or None
        Which candidates are on the Pareto front; None for the BTC/BEC panels.
    front_line_ : matplotlib Line2D or None
        The line through the front, in increasing negative flip rate; None
        for the BTC/BEC panels.

    See Also
    --------
    CompatibilityDisplay : The regions and new errors of candidate models.
    FlipCostDisplay : Accuracy against negative flips of one update gate.

    Examples
    --------
    >>> from bcsk.plotting import CompatibilityTradeoffDisplay
    >>> display = CompatibilityTradeoffDisplay(
    ...     accuracy=[0.86, 0.85, 0.83],
    ...     btc=[0.90, 0.95, 0.98],
    ...     bec=[0.60, 0.70, 0.80],
    ...     lambda_c=[0.0, 0.5, 1.0],
    ...     h1_accuracy=0.82,
    ...     negative_flip_rate=[0.03, 0.02, 0.02],
    ... )
    >>> display.plot()  # doctest: +SKIP
    >>> display.plot(x_metric="negative_flip_rate")  # doctest: +SKIP
    """

    def __init__(
        self,
        accuracy: ArrayLike,
        btc: ArrayLike | None,
        bec: ArrayLike | None,
        lambda_c: ArrayLike | None,
        groups: ArrayLike | None = None,
        group_name: str | None = None,
        h1_accuracy: float | None = None,
        best_index: int | None = None,
        *,
        negative_flip_rate: ArrayLike | None = None,
        labels: ArrayLike | None = None,
    ) -> None:
        self.accuracy = accuracy
        self.btc = btc
        self.bec = bec
        self.lambda_c = lambda_c
        self.groups = groups
        self.group_name = group_name
        self.h1_accuracy = h1_accuracy
        self.best_index = best_index
        self.negative_flip_rate = negative_flip_rate
        self.labels = labels

    def _checked_data(self, x_metric: str) -> dict[str, np.ndarray]:
        """Return the stored values as arrays after checking their lengths."""
        if x_metric not in X_METRICS:
            raise ValueError(
                f"x_metric must be one of {list(X_METRICS)}; got {x_metric!r}."
            )
        needed = ("btc", "bec") if x_metric == "btc_bec" else ("negative_flip_rate",)
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"x_metric={x_metric!r} plots accuracy against {' and '.join(needed)}"
                f", but {' and '.join(missing)} is None: pass the scores to the "
                "constructor (from_cv_results reads them from the search)."
            )
        data = {"accuracy": np.asarray(self.accuracy, dtype=float).ravel()}
        for name in ("btc", "bec", "negative_flip_rate"):
            if getattr(self, name) is not None:
                data[name] = np.asarray(getattr(self, name), dtype=float).ravel()
        for name in ("lambda_c", "labels", "groups"):
            if getattr(self, name) is not None:
                data[name] = _object_array(getattr(self, name))
        lengths = {name: len(values) for name, values in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "accuracy, btc, bec, lambda_c (and negative_flip_rate, labels and "
                f"groups, if given) need one value per candidate; got lengths "
                f"{lengths}."
            )
        n_candidates = lengths["accuracy"]
        if self.best_index is not None and not (
            isinstance(self.best_index, numbers.Integral)
            and 0 <= self.best_index < n_candidates
        ):
            raise ValueError(
                f"best_index must be the index of a candidate, from 0 to "
                f"{n_candidates - 1}; got {self.best_index!r}."
            )
        if "labels" in data:
            data["texts"] = np.array([str(t) for t in data["labels"]], dtype=object)
        elif "lambda_c" in data:
            data["texts"] = np.array(
                [_lambda_text(v) for v in data["lambda_c"]], dtype=object
            )
        return data

    def plot(
        self,
        ax: Any = None,
        *,
        x_metric: str = "btc_bec",
        annotate: bool = True,
        front_kw: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> CompatibilityTradeoffDisplay:
        """Draw accuracy against BTC and BEC, or against negative flips.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of them, default=None
            For ``x_metric="btc_bec"``, 2 Axes: the BTC and the BEC panel; for
            ``"negative_flip_rate"``, one Axes. By default a new figure.
        x_metric : {"btc_bec", "negative_flip_rate"}, default="btc_bec"
            What the x axis shows: BTC (left) and BEC (right), or, in one
            panel, the negative flip rate with the Pareto front drawn.
        annotate : bool, default=True
            Whether to write each candidate's label (by default its
            ``lambda_c``) next to its point.
        front_kw : dict, default=None
            Passed to :meth:`matplotlib.axes.Axes.plot` for the line through
            the Pareto front (``x_metric="negative_flip_rate"`` only).
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the points (for
            example ``s=80`` or ``alpha=0.8``).

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        data = self._checked_data(x_metric)
        n_candidates = len(data["accuracy"])
        if "groups" in data:
            keys = list(dict.fromkeys(str(_to_python(g)) for g in data["groups"]))
            members = np.array([str(_to_python(g)) for g in data["groups"]])
            prefix = f"{self.group_name} = " if self.group_name else ""
            series = [(f"{prefix}{key}", members == key) for key in keys]
        else:
            series = [("candidate h2 models", np.ones(n_candidates, dtype=bool))]
        style = {"s": 45, "zorder": 3, **kwargs}

        self.scatters_, self.annotations_, self.h1_lines_ = [], [], []
        self.best_markers_ = []
        self.front_mask_, self.front_line_ = None, None
        if x_metric == "btc_bec":
            figure, axes = _two_axes(ax, figsize=(11.0, 4.8))
            panels = [
                (axes[0], data["btc"], BTC_AXIS_LABEL, "Accuracy vs BTC"),
                (axes[1], data["bec"], BEC_AXIS_LABEL, "Accuracy vs BEC"),
            ]
            for panel, x, xlabel, title in panels:
                self._draw_panel(panel, x, data, series, style, annotate)
                panel.set_xlabel(f"{xlabel} (higher is better)")
                panel.set_title(title)
            legend_ax = axes[1]
        else:
            figure, axes = _one_axes(ax, figsize=(7.0, 5.0))
            x = data["negative_flip_rate"]
            self.front_mask_ = _pareto_mask(data["accuracy"], x)
            front = np.flatnonzero(self.front_mask_)
            # Along the front, lower flips go with lower accuracy: sort by flips.
            front = front[np.lexsort((data["accuracy"][front], x[front]))]
            line_style = {
                "color": "0.35",
                "linewidth": 1.2,
                "zorder": 2,
                "label": FRONT_LINE_LABEL,
                **(front_kw or {}),
            }
            (self.front_line_,) = axes.plot(
                x[front], data["accuracy"][front], **line_style
            )
            self._draw_panel(axes, x, data, series, style, annotate)
            axes.set_xlabel(f"{NFR_AXIS_LABEL} (lower is better)")
            axes.set_title("Accuracy vs negative flip rate")
            legend_ax = axes
        legend_ax.legend(loc="best", fontsize="small")
        self.ax_ = axes
        self.figure_ = figure
        return self

    def _draw_panel(
        self,
        panel: Any,
        x: np.ndarray,
        data: Mapping[str, np.ndarray],
        series: list[tuple[str, np.ndarray]],
        style: Mapping[str, Any],
        annotate: bool,
    ) -> None:
        """Points, their labels, the chosen one and the h1 line on one panel."""
        accuracy = data["accuracy"]
        for i, (label, selected) in enumerate(series):
            self.scatters_.append(
                panel.scatter(
                    x[selected],
                    accuracy[selected],
                    label=label,
                    **{
                        "color": f"C{i % 10}",
                        "marker": _MARKERS[i % len(_MARKERS)],
                        **style,
                    },
                )
            )
        if annotate and "texts" in data:
            for xi, yi, text in zip(x, accuracy, data["texts"], strict=True):
                # Undefined scores (NaN) are not drawn, so nothing to label.
                if np.isfinite(xi) and np.isfinite(yi):
                    self.annotations_.append(
                        panel.annotate(
                            text,
                            (xi, yi),
                            xytext=(5, 5),
                            textcoords="offset points",
                            fontsize="small",
                            # Over the h1 line but under the points, so a
                            # crowded label never hides a candidate.
                            zorder=2.5,
                            bbox={
                                "boxstyle": "round,pad=0.1",
                                "facecolor": "white",
                                "edgecolor": "none",
                                "alpha": 0.7,
                            },
                        )
                    )
        if self.best_index is not None:
            self.best_markers_.append(
                panel.scatter(
                    x[self.best_index],
                    accuracy[self.best_index],
                    s=260,
                    facecolors="none",
                    edgecolors="tab:green",
                    linewidths=2,
                    zorder=4,
                    label="chosen candidate",
                )
            )
        if self.h1_accuracy is not None:
            self.h1_lines_.append(
                panel.axhline(
                    self.h1_accuracy,
                    color="0.25",
                    linestyle="--",
                    linewidth=1,
                    label=H1_LINE_LABEL,
                )
            )
        panel.set_ylabel(ACCURACY_AXIS_LABEL)
        panel.grid(alpha=0.3)
        # Room on the right for the annotations of the outermost points.
        panel.margins(x=0.12, y=0.1)

    @classmethod
    def from_cv_results(
        cls,
        cv_results: Mapping[str, Any],
        *,
        lambda_param: str = "lambda_c",
        group_param: str | None = None,
        group_name: str | None = None,
        accuracy_key: str = "mean_test_accuracy",
        btc_key: str = "mean_test_btc",
        bec_key: str = "mean_test_bec",
        neg_nfr_key: str = "mean_test_neg_nfr",
        x_metric: str = "btc_bec",
        h1_accuracy: float | None = None,
        best_index: int | None = None,
        ax: Any = None,
        annotate: bool = True,
        front_kw: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> CompatibilityTradeoffDisplay:
        """Draw the ``cv_results_`` of a hyper-parameter search.

        The search must have scored accuracy and, for the default panels, BTC
        and BEC, or, for ``x_metric="negative_flip_rate"``, the negated
        negative flip rate, as :func:`bcsk.scorers.compatibility_scoring`
        does (``mean_test_neg_nfr``), so that ``cv_results`` holds the keys
        named by ``accuracy_key``, ``btc_key`` and ``bec_key``, or
        ``neg_nfr_key``.

        For the BTC/BEC panels each point is labelled with its
        ``lambda_param`` ("λ=0.5"; "gate 2" when it is a ``flip_cost``). For
        the front, each point is labelled with what the row's parameters make
        it: ``lambda_param`` (0 is "plain"), ``dissonance`` (by name:
        "focal", "new error", ...), ``n_members`` ("5×") and ``flip_cost``
        ("+ gate 1.5"; 1 is no gate); a search over anything else gives that
        to ``group_param``. Two settings of one dissonance class share a
        label: tell them apart with ``group_param="dissonance"``.

        Parameters
        ----------
        cv_results : dict
            The ``cv_results_`` attribute of a fitted
            :class:`~sklearn.model_selection.GridSearchCV` (or any search with
            the same layout, such as
            :class:`~bcsk.gate.CompatibleUpdateClassifierCV`).
        lambda_param : str, default="lambda_c"
            Name of the compatibility-weight parameter, as in the search's
            parameter grid (its column is ``"param_" + lambda_param``). If no
            such column exists but exactly one column ends with
            ``"__" + lambda_param`` (a step of a pipeline), that one is used.
            Candidates for which the parameter was not searched show as
            "λ=default". The BTC/BEC panels need the column; the front labels
            a search without it (a gate's ``flip_cost`` alone) by its other
            parameters.
        group_param : str, default=None
            Parameter whose values get their own colour and marker, for
            example ``"model__hidden"``; looked up like ``lambda_param``.
        group_name : str, default=None
            Its name in the legend; by default ``group_param``.
        accuracy_key, btc_key, bec_key : str
            Keys of the mean test accuracy, BTC and BEC.
        neg_nfr_key : str, default="mean_test_neg_nfr"
            Key of the mean test negative flip rate, negated (greater is
            better, as scikit-learn's scorers report it); the front plots the
            rate itself.
        x_metric : {"btc_bec", "negative_flip_rate"}, default="btc_bec"
            See :meth:`plot`.
        h1_accuracy : float, default=None
            Accuracy of h1, drawn as a reference line.
        best_index : int, default=None
            Candidate to circle, for example the search's ``best_index_``.
        ax : matplotlib Axes or array-like of them, default=None
            Axes to draw on; see :meth:`plot`.
        annotate : bool, default=True
            See :meth:`plot`.
        front_kw : dict, default=None
            See :meth:`plot`.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the points.

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, drawn.

        Raises
        ------
        ValueError
            If a key or parameter column is missing from ``cv_results``.
        """
        display = cls._from_cv_results(
            cv_results,
            {},
            lambda_param=lambda_param,
            group_param=group_param,
            group_name=group_name,
            accuracy_key=accuracy_key,
            btc_key=btc_key,
            bec_key=bec_key,
            neg_nfr_key=neg_nfr_key,
            x_metric=x_metric,
            h1_accuracy=h1_accuracy,
            best_index=best_index,
        )
        return display.plot(
            ax=ax, x_metric=x_metric, annotate=annotate, front_kw=front_kw, **kwargs
        )

    @classmethod
    def _from_cv_results(
        cls,
        cv_results: Mapping[str, Any],
        defaults: Mapping[str, Any],
        *,
        lambda_param: str,
        group_param: str | None,
        group_name: str | None,
        accuracy_key: str,
        btc_key: str,
        bec_key: str,
        neg_nfr_key: str,
        x_metric: str,
        h1_accuracy: float | None,
        best_index: int | None,
    ) -> CompatibilityTradeoffDisplay:
        """Build the display; ``defaults`` fills parameters the search left out."""
        if x_metric not in X_METRICS:
            raise ValueError(
                f"x_metric must be one of {list(X_METRICS)}; got {x_metric!r}."
            )
        front = x_metric == "negative_flip_rate"
        keys = {"accuracy": accuracy_key, "btc": btc_key, "bec": bec_key}
        keys["negative_flip_rate"] = neg_nfr_key
        needed = (
            ("accuracy", "negative_flip_rate") if front else ("accuracy", "btc", "bec")
        )
        # The scores a panel needs must be there; the others are kept if they are.
        scores = {
            name: _score_column(cv_results, key)
            for name, key in keys.items()
            if name in needed or key in cv_results
        }
        if "negative_flip_rate" in scores:
            scores["negative_flip_rate"] = -scores["negative_flip_rate"]
        n_candidates = len(scores["accuracy"])
        lambdas = None
        if not front or _has_param(cv_results, lambda_param, defaults):
            lambdas = _param_column(cv_results, lambda_param, defaults, n_candidates)
        groups = None
        if group_param is not None:
            groups = _param_column(cv_results, group_param, defaults, n_candidates)
        if front:
            names = (lambda_param, *_LABEL_PARAMS)
            labels = [
                _candidate_label(row, lambda_param)
                for row in _param_rows(cv_results, defaults, names, n_candidates)
            ]
        elif _base_name(lambda_param) == "flip_cost":
            labels = [_candidate_label({"flip_cost": cost}) for cost in lambdas]
        else:
            labels = None
        return cls(
            scores["accuracy"],
            scores.get("btc"),
            scores.get("bec"),
            lambda_c=lambdas,
            groups=groups,
            group_name=group_name or group_param,
            h1_accuracy=h1_accuracy,
            best_index=best_index,
            negative_flip_rate=scores.get("negative_flip_rate"),
            labels=labels,
        )

    @classmethod
    def from_search(
        cls,
        search: Any,
        *,
        lambda_param: str = "lambda_c",
        group_param: str | None = None,
        group_name: str | None = None,
        accuracy_key: str = "mean_test_accuracy",
        btc_key: str = "mean_test_btc",
        bec_key: str = "mean_test_bec",
        neg_nfr_key: str = "mean_test_neg_nfr",
        x_metric: str = "btc_bec",
        h1_accuracy: float | None = None,
        mark_best: bool = True,
        ax: Any = None,
        annotate: bool = True,
        front_kw: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> CompatibilityTradeoffDisplay:
        """Draw the candidates of a fitted hyper-parameter search.

        Parameters
        ----------
        search : fitted search object
            For example a :class:`~sklearn.model_selection.GridSearchCV`; its
            ``cv_results_`` are used. Where the search did not vary
            ``lambda_param`` (or ``group_param``, or a parameter of the
            front's labels), the value set on ``search.estimator`` is shown
            instead of "default".
        lambda_param, group_param, group_name, accuracy_key, btc_key, \
bec_key, neg_nfr_key, x_metric, h1_accuracy
            See :meth:`from_cv_results`.
        mark_best : bool, default=True
            Circle the candidate the search refitted (``search.best_index_``),
            when it refitted one.
        ax : matplotlib Axes or array-like of them, default=None
            Axes to draw on; see :meth:`plot`.
        annotate, front_kw
            See :meth:`plot`.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the points.

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, drawn.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If ``search`` has no ``cv_results_`` yet.
        """
        if not hasattr(search, "cv_results_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(search).__name__} has no cv_results_; call fit "
                "before plotting its results."
            )
        defaults: Mapping[str, Any] = {}
        estimator = getattr(search, "estimator", None)
        if hasattr(estimator, "get_params"):
            defaults = estimator.get_params(deep=True)
        best_index = getattr(search, "best_index_", None) if mark_best else None
        display = cls._from_cv_results(
            search.cv_results_,
            defaults,
            lambda_param=lambda_param,
            group_param=group_param,
            group_name=group_name,
            accuracy_key=accuracy_key,
            btc_key=btc_key,
            bec_key=bec_key,
            neg_nfr_key=neg_nfr_key,
            x_metric=x_metric,
            h1_accuracy=h1_accuracy,
            best_index=None if best_index is None else int(best_index),
        )
        return display.plot(
            ax=ax, x_metric=x_metric, annotate=annotate, front_kw=front_kw, **kwargs
        )


def _object_array(values: ArrayLike) -> np.ndarray:
    """Return ``values`` as a 1-D object array, masked entries as ``None``."""
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values).ravel()
        data = np.ma.getdata(values).ravel()
        items = [None if m else v for v, m in zip(data, mask, strict=True)]
    else:
        items = list(values)
    array = np.empty(len(items), dtype=object)
    # Assigned one by one: NumPy would unpack tuple values such as (64, 32)
    # into a second dimension.
    for i, value in enumerate(items):
        array[i] = _to_python(value)
    return array


def _score_column(cv_results: Mapping[str, Any], key: str) -> np.ndarray:
    """Return one score column of ``cv_results`` as a float array."""
    if key not in cv_results:
        present = sorted(k for k in cv_results if k.startswith("mean_test_"))
        raise ValueError(
            f"cv_results has no key {key!r}; its mean test scores are {present}. "
            "Search with scoring=bcsk.compatibility_scoring() (or any multi-metric "
            "scoring that includes accuracy, BTC and BEC, and neg_nfr for "
            "x_metric='negative_flip_rate'), or pass accuracy_key=, btc_key=, "
            "bec_key= or neg_nfr_key= naming your scores."
        )
    return np.asarray(cv_results[key], dtype=float)


def _param_column(
    cv_results: Mapping[str, Any],
    name: str,
    defaults: Mapping[str, Any],
    n_candidates: int,
) -> np.ndarray:
    """Return the values of one searched parameter, ``None`` where not searched.

    ``defaults`` (the search estimator's parameters) replaces ``None`` where
    it knows the parameter, including when no candidate searched it.
    """
    name = name.removeprefix("param_")
    params = [k.removeprefix("param_") for k in cv_results if k.startswith("param_")]
    column = _resolve(name, params)
    default_key = _resolve(column or name, defaults)
    if column is not None:
        values = _object_array(cv_results[f"param_{column}"])
    elif default_key is not None:
        values = _object_array([None] * n_candidates)
    else:
        raise ValueError(
            f"cv_results has no column 'param_{name}'; the searched parameters "
            f"are {sorted(params)}. Pass the parameter's name as written in the "
            f"parameter grid (for a pipeline step, '<step>__{name}')."
        )
    if default_key is not None:
        values = _object_array(
            [defaults[default_key] if v is None else v for v in values]
        )
    return values


def _has_param(
    cv_results: Mapping[str, Any], name: str, defaults: Mapping[str, Any]
) -> bool:
    """Whether :func:`_param_column` finds ``name`` (searched or a default)."""
    name = name.removeprefix("param_")
    params = [k.removeprefix("param_") for k in cv_results if k.startswith("param_")]
    column = _resolve(name, params)
    return column is not None or _resolve(name, defaults) is not None


def _param_rows(
    cv_results: Mapping[str, Any],
    defaults: Mapping[str, Any],
    names: Iterable[str],
    n_candidates: int,
) -> list[dict[str, Any]]:
    """Each candidate's searched parameters, as in ``cv_results["params"]``.

    Read from the ``param_*`` columns (masked entries left out); ``defaults``
    (the search estimator's parameters) fills those of ``names`` that a row
    lacks.
    """
    columns = {
        key.removeprefix("param_"): _object_array(values)
        for key, values in cv_results.items()
        if key.startswith("param_")
    }
    rows = [
        {name: values[i] for name, values in columns.items() if values[i] is not None}
        for i in range(n_candidates)
    ]
    for row in rows:
        for name in names:
            key = _resolve(name.removeprefix("param_"), defaults)
            if key is not None and _resolve(name.removeprefix("param_"), row) is None:
                row[key] = defaults[key]
    return rows


def _named(value: Any, what: str) -> dict[str, Any]:
    """A mapping name -> value as given, or ``{"h2": value}`` for a single one."""
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f"{what} must name at least one candidate h2.")
        return {str(name): item for name, item in value.items()}
    return {"h2": value}


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
    >>> from bcsk.plotting import CompatibilityDisplay
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
            :mod:`bcsk.scorers`.
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
        from bcsk.scorers import _h1_labels, _h2_predict

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
    >>> from bcsk.plotting import FlipCostDisplay
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
        from bcsk import gate

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
        from bcsk import gate

        h1_pred, h2_proba, classes, flip_cost = gate._gate_outputs(
            estimator, X, h1_pred
        )
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
