"""``CompatibilityTradeoffDisplay``: accuracy against compatibility, per candidate.

h2's accuracy against BTC and BEC, to choose the compatibility weight
``lambda_c``; or, with ``x_metric="negative_flip_rate"``, against the negative
flip rate, with the Pareto front of the search joined by a line.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _docstrings
from bcsk._labels import to_python as _to_python
from bcsk.metrics._plot._base import (
    _MARKERS,
    ACCURACY_AXIS_LABEL,
    BEC_AXIS_LABEL,
    BTC_AXIS_LABEL,
    FRONT_LINE_LABEL,
    H1_LINE_LABEL,
    NFR_AXIS_LABEL,
    X_METRICS,
    _has_param,
    _lambda_text,
    _object_array,
    _one_axes,
    _param_column,
    _param_rows,
    _score_column,
    _two_axes,
)
from bcsk.metrics._plot._front import LABEL_PARAMS as _LABEL_PARAMS
from bcsk.metrics._plot._front import base_name as _base_name
from bcsk.metrics._plot._front import candidate_label as _candidate_label
from bcsk.metrics._plot._front import pareto_mask as _pareto_mask

__all__ = ["CompatibilityTradeoffDisplay"]

# The drawing parameters of the classmethods (see bcsk._docstrings).
_DRAWING_DOC = """ax : matplotlib Axes or array-like of them, default=None
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
"""


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
    :func:`~bcsk.metrics.compatibility_scoring` (which reports ``neg_nfr``
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
    >>> from bcsk.metrics import CompatibilityTradeoffDisplay
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
    @_docstrings.fill(drawing=_DRAWING_DOC)
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
        negative flip rate, as :func:`bcsk.metrics.compatibility_scoring`
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
        %(drawing)s

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
    @_docstrings.fill(drawing=_DRAWING_DOC)
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
        %(drawing)s

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
