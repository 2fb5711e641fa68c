"""Plots that show what an update h1 -> h2 does to a classifier's answers.

Two displays follow scikit-learn's Display API (as
:class:`sklearn.metrics.ConfusionMatrixDisplay` does): the constructor stores
computed values, ``plot`` draws them and returns the display, and class
methods build a display from predictions, estimators or search results.

* :class:`CompatibilityTradeoffDisplay`: h2's accuracy against BTC and BEC,
  one point per candidate model, to choose the compatibility weight
  ``lambda_c``.
* :class:`CompatibilityDisplay`: for one pair of models, how many samples
  both get right, h2 breaks, h2 fixes and both get wrong, and which classes
  the new errors fall on.

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

from bcsk.metrics import CompatibilityReport, _to_python, compatibility_report

__all__ = ["CompatibilityDisplay", "CompatibilityTradeoffDisplay"]

H1_LINE_LABEL = "h1 (old model) accuracy"
BTC_AXIS_LABEL = "BTC: share of h1's correct answers h2 keeps"
BEC_AXIS_LABEL = "BEC: share of h2's errors h1 also made"
ACCURACY_AXIS_LABEL = "h2 accuracy"

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


def _two_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, np.ndarray, bool]:
    """Return (figure, array of 2 axes, whether the figure was created here)."""
    plt = _pyplot()
    if ax is None:
        figure, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
        return figure, np.asarray(axes, dtype=object), True
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(
            "ax must hold 2 matplotlib Axes, one per panel (for example from "
            f"`fig, ax = plt.subplots(1, 2)`); got {axes.size} object(s)."
        )
    return axes[0].figure, axes, False


def _format_score(value: float) -> str:
    """Format a score for a title; NaN means the score is undefined."""
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def _lambda_text(value: Any) -> str:
    """Annotation for one candidate's ``lambda_c``."""
    if value is None or value is np.ma.masked:
        return "λ=default"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"λ={float(value):g}"
    return f"λ={value}"


class CompatibilityTradeoffDisplay:
    """Accuracy against backward compatibility, one point per candidate model.

    The left panel plots h2's accuracy against BTC (the share of h1's correct
    answers that h2 keeps), the right panel against BEC (the share of h2's
    errors that h1 made too). Each point is one candidate h2, annotated with
    its compatibility weight ``lambda_c``. Points up and to the right are
    both accurate and compatible.

    Build it from search results with :meth:`from_cv_results` or
    :meth:`from_search`, then call :meth:`plot`.

    Parameters
    ----------
    accuracy : array-like of shape (n_candidates,)
        Accuracy of each candidate h2.
    btc : array-like of shape (n_candidates,)
        BTC of each candidate with respect to h1.
    bec : array-like of shape (n_candidates,)
        BEC of each candidate with respect to h1.
    lambda_c : array-like of shape (n_candidates,)
        Compatibility weight of each candidate, shown next to its point.
        ``None`` shows as "λ=default".
    groups : array-like of shape (n_candidates,), default=None
        A second parameter (for example a network size) that gives each group
        of candidates its own colour and marker.
    group_name : str, default=None
        Name of the grouping parameter, used in the legend.
    h1_accuracy : float, default=None
        Accuracy of the old model h1, drawn as a horizontal reference line.

    Attributes
    ----------
    ax_ : ndarray of 2 matplotlib Axes
        The BTC panel and the BEC panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    scatters_ : list of matplotlib PathCollection
        One scatter per group and panel.
    annotations_ : list of matplotlib Annotation
        The "λ=..." labels, in both panels.
    h1_lines_ : list of matplotlib Line2D
        The h1 reference lines; empty without ``h1_accuracy``.

    See Also
    --------
    CompatibilityDisplay : Right and wrong answers of one pair of models.

    Examples
    --------
    >>> from bcsk.plotting import CompatibilityTradeoffDisplay
    >>> display = CompatibilityTradeoffDisplay(
    ...     accuracy=[0.86, 0.85, 0.83],
    ...     btc=[0.90, 0.95, 0.98],
    ...     bec=[0.60, 0.70, 0.80],
    ...     lambda_c=[0.0, 0.5, 1.0],
    ...     h1_accuracy=0.82,
    ... )
    >>> display.plot()  # doctest: +SKIP
    """

    def __init__(
        self,
        accuracy: ArrayLike,
        btc: ArrayLike,
        bec: ArrayLike,
        lambda_c: ArrayLike,
        groups: ArrayLike | None = None,
        group_name: str | None = None,
        h1_accuracy: float | None = None,
    ) -> None:
        self.accuracy = accuracy
        self.btc = btc
        self.bec = bec
        self.lambda_c = lambda_c
        self.groups = groups
        self.group_name = group_name
        self.h1_accuracy = h1_accuracy

    def _checked_data(self) -> dict[str, np.ndarray]:
        """Return the stored values as arrays after checking their lengths."""
        data = {
            "accuracy": np.asarray(self.accuracy, dtype=float).ravel(),
            "btc": np.asarray(self.btc, dtype=float).ravel(),
            "bec": np.asarray(self.bec, dtype=float).ravel(),
            "lambda_c": _object_array(self.lambda_c),
        }
        if self.groups is not None:
            data["groups"] = _object_array(self.groups)
        lengths = {name: len(values) for name, values in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "accuracy, btc, bec, lambda_c (and groups, if given) need one "
                f"value per candidate; got lengths {lengths}."
            )
        return data

    def plot(
        self,
        ax: Any = None,
        *,
        annotate: bool = True,
        scatter_kwargs: Mapping[str, Any] | None = None,
    ) -> CompatibilityTradeoffDisplay:
        """Draw accuracy against BTC (left) and against BEC (right).

        Parameters
        ----------
        ax : array-like of 2 matplotlib Axes, default=None
            Axes for the BTC and the BEC panel. By default a new figure with
            two panels is created and titled "Accuracy vs backward
            compatibility".
        annotate : bool, default=True
            Whether to write each candidate's ``lambda_c`` next to its point.
        scatter_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        data = self._checked_data()
        figure, axes, created = _two_axes(ax, figsize=(11.0, 4.8))
        if "groups" in data:
            keys = list(dict.fromkeys(str(_to_python(g)) for g in data["groups"]))
            members = np.array([str(_to_python(g)) for g in data["groups"]])
            prefix = f"{self.group_name} = " if self.group_name else ""
            series = [(f"{prefix}{key}", members == key) for key in keys]
        else:
            series = [("candidate h2 models", np.ones(len(data["btc"]), dtype=bool))]
        kwargs = {"s": 45, "zorder": 3, **(scatter_kwargs or {})}

        self.scatters_, self.annotations_, self.h1_lines_ = [], [], []
        panels = [
            (
                axes[0],
                data["btc"],
                BTC_AXIS_LABEL,
                "Does h2 keep h1's correct answers?",
            ),
            (axes[1], data["bec"], BEC_AXIS_LABEL, "Are h2's mistakes ones h1 made?"),
        ]
        for panel, x, xlabel, title in panels:
            for i, (label, selected) in enumerate(series):
                self.scatters_.append(
                    panel.scatter(
                        x[selected],
                        data["accuracy"][selected],
                        label=label,
                        **{
                            "color": f"C{i % 10}",
                            "marker": _MARKERS[i % len(_MARKERS)],
                            **kwargs,
                        },
                    )
                )
            if annotate:
                for xi, yi, lam in zip(
                    x, data["accuracy"], data["lambda_c"], strict=True
                ):
                    # Undefined scores (NaN) are not drawn, so nothing to label.
                    if np.isfinite(xi) and np.isfinite(yi):
                        self.annotations_.append(
                            panel.annotate(
                                _lambda_text(lam),
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
            panel.set_xlabel(f"{xlabel} (higher is better)")
            panel.set_ylabel(ACCURACY_AXIS_LABEL)
            panel.set_title(title)
            panel.grid(alpha=0.3)
            # Room on the right for the annotations of the outermost points.
            panel.margins(x=0.12, y=0.1)
        axes[1].legend(loc="best", fontsize="small")
        if created:
            figure.suptitle(
                "Accuracy vs backward compatibility: each point is a candidate "
                "h2,\nλ is its compatibility weight lambda_c"
            )
        self.ax_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_cv_results(
        cls,
        cv_results: Mapping[str, Any],
        *,
        lambda_param: str = "lambda_c",
        group_param: str | None = None,
        accuracy_key: str = "mean_test_accuracy",
        btc_key: str = "mean_test_btc",
        bec_key: str = "mean_test_bec",
        h1_accuracy: float | None = None,
    ) -> CompatibilityTradeoffDisplay:
        """Build the display from the ``cv_results_`` of a hyper-parameter search.

        The search must have scored accuracy, BTC and BEC (multi-metric
        ``scoring``), so that ``cv_results`` holds the keys named by
        ``accuracy_key``, ``btc_key`` and ``bec_key``.

        Parameters
        ----------
        cv_results : dict
            The ``cv_results_`` attribute of a fitted
            :class:`~sklearn.model_selection.GridSearchCV` (or any search with
            the same layout).
        lambda_param : str, default="lambda_c"
            Name of the compatibility-weight parameter, as in the search's
            parameter grid (its column is ``"param_" + lambda_param``). If no
            such column exists but exactly one column ends with
            ``"__" + lambda_param`` (a step of a pipeline), that one is used.
            Candidates for which the parameter was not searched show as
            "λ=default".
        group_param : str, default=None
            Parameter whose values get their own colour and marker, for
            example ``"hidden_units"``; looked up like ``lambda_param``.
        accuracy_key, btc_key, bec_key : str
            Keys of the mean test accuracy, BTC and BEC.
        h1_accuracy : float, default=None
            Accuracy of h1, drawn as a reference line.

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, not yet plotted.

        Raises
        ------
        ValueError
            If a key or parameter column is missing from ``cv_results``.
        """
        return cls._from_cv_results(
            cv_results,
            {},
            lambda_param=lambda_param,
            group_param=group_param,
            accuracy_key=accuracy_key,
            btc_key=btc_key,
            bec_key=bec_key,
            h1_accuracy=h1_accuracy,
        )

    @classmethod
    def _from_cv_results(
        cls,
        cv_results: Mapping[str, Any],
        defaults: Mapping[str, Any],
        *,
        lambda_param: str = "lambda_c",
        group_param: str | None = None,
        accuracy_key: str = "mean_test_accuracy",
        btc_key: str = "mean_test_btc",
        bec_key: str = "mean_test_bec",
        h1_accuracy: float | None = None,
    ) -> CompatibilityTradeoffDisplay:
        """Build the display; ``defaults`` fills parameters the search left out."""
        scores = [
            _score_column(cv_results, key) for key in (accuracy_key, btc_key, bec_key)
        ]
        n_candidates = len(scores[0])
        lambdas = _param_column(cv_results, lambda_param, defaults, n_candidates)
        groups = None
        if group_param is not None:
            groups = _param_column(cv_results, group_param, defaults, n_candidates)
        return cls(
            *scores,
            lambda_c=lambdas,
            groups=groups,
            group_name=group_param,
            h1_accuracy=h1_accuracy,
        )

    @classmethod
    def from_search(cls, search: Any, **kwargs: Any) -> CompatibilityTradeoffDisplay:
        """Build the display from a fitted hyper-parameter search.

        Parameters
        ----------
        search : fitted search object
            For example a :class:`~sklearn.model_selection.GridSearchCV`; its
            ``cv_results_`` are used. Where the search did not vary
            ``lambda_param`` (or ``group_param``), the value set on
            ``search.estimator`` is shown instead of "default".
        **kwargs
            Keyword arguments of :meth:`from_cv_results`.

        Returns
        -------
        CompatibilityTradeoffDisplay
            The display, not yet plotted.

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
        return cls._from_cv_results(search.cv_results_, defaults, **kwargs)


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
            "Search with multi-metric scoring that includes accuracy, BTC and "
            "BEC (for example scoring={'accuracy': ..., 'btc': ..., 'bec': ...}), "
            "or pass accuracy_key=, btc_key= and bec_key= naming your scores."
        )
    return np.asarray(cv_results[key], dtype=float)


def _resolve(name: str, names: Iterable[str]) -> str | None:
    """Find ``name``, or the only ``<step>__name``, among ``names``."""
    names = list(names)
    if name in names:
        return name
    matches = [n for n in names if n.endswith(f"__{name}")]
    return matches[0] if len(matches) == 1 else None


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


class CompatibilityDisplay:
    """Right and wrong answers of an old model h1 and a new model h2.

    The left panel counts the samples in each of the four regions: both
    right, new errors (h1 right, h2 wrong, highlighted), fixed errors (h1
    wrong, h2 right) and both wrong. The right panel shows on which true
    classes the new errors fall. The title gives BTC and BEC.

    Build it with :meth:`from_predictions` or :meth:`from_estimator`, or from
    a :class:`~bcsk.metrics.CompatibilityReport`, then call :meth:`plot`.

    Parameters
    ----------
    report : CompatibilityReport
        Counts and scores, from :func:`bcsk.metrics.compatibility_report`.

    Attributes
    ----------
    ax_ : ndarray of 2 matplotlib Axes
        The regions panel and the per-class panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    region_bars_ : matplotlib BarContainer
        The four region bars, in the order above.
    class_bars_ : matplotlib BarContainer
        One bar of new errors per class.
    title_ : matplotlib Text
        The title that gives BTC and BEC: the figure's title when ``plot``
        created the figure, else the left panel's title.

    See Also
    --------
    CompatibilityTradeoffDisplay : Accuracy against BTC and BEC for many models.

    Examples
    --------
    >>> from bcsk.plotting import CompatibilityDisplay
    >>> display = CompatibilityDisplay.from_predictions(
    ...     [0, 1, 1, 0, 2, 2], [0, 1, 0, 1, 2, 2], [0, 0, 1, 1, 2, 1]
    ... )
    >>> display.report.new_errors
    2
    >>> display.plot()  # doctest: +SKIP
    """

    def __init__(self, report: CompatibilityReport) -> None:
        self.report = report

    def plot(self, ax: Any = None) -> CompatibilityDisplay:
        """Draw the four regions (left) and the new errors per class (right).

        Parameters
        ----------
        ax : array-like of 2 matplotlib Axes, default=None
            Axes for the two panels. By default a new figure is created.

        Returns
        -------
        CompatibilityDisplay
            The display, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        report = self.report
        figure, axes, created = _two_axes(ax, figsize=(11.0, 4.8))
        regions, per_class = axes

        counts = [
            report.both_correct,
            report.new_errors,
            report.fixed_errors,
            report.both_wrong,
        ]
        names = [
            "both right",
            "new errors\n(h1 right,\nh2 wrong)",
            "fixed errors\n(h1 wrong,\nh2 right)",
            "both wrong",
        ]
        n = max(report.n_samples, 1)
        self.region_bars_ = regions.bar(
            range(4), counts, color=_REGION_COLORS, tick_label=names
        )
        regions.bar_label(
            self.region_bars_, labels=[f"{c}\n({c / n:.1%})" for c in counts]
        )
        # Headroom for the two-line count labels above the tallest bar.
        regions.set_ylim(0, max(max(counts), 1) * 1.25)
        regions.set_ylabel("samples")
        regions.set_title("Samples by which model is right")

        classes = list(report.new_errors_per_class)
        class_counts = list(report.new_errors_per_class.values())
        self.class_bars_ = per_class.bar(
            range(len(classes)), class_counts, color=_REGION_COLORS[1]
        )
        per_class.set_xticks(
            range(len(classes)),
            [str(c) for c in classes],
            rotation=90 if len(classes) > 12 else 0,
        )
        if len(classes) <= 30:
            per_class.bar_label(self.class_bars_)
        per_class.set_ylim(0, max(class_counts + [1]) * 1.15)
        per_class.yaxis.get_major_locator().set_params(integer=True)
        per_class.set_xlabel("true class")
        per_class.set_ylabel("new errors (h1 right, h2 wrong)")
        per_class.set_title("New errors by true class")

        title = (
            f"h2 vs h1 on {report.n_samples} samples: "
            f"BTC = {_format_score(report.btc)} (h1's correct answers h2 keeps), "
            f"BEC = {_format_score(report.bec)} (h2's errors h1 also made)"
        )
        if created:
            self.title_ = figure.suptitle(title)
        else:
            self.title_ = regions.set_title(
                title.replace(": ", ":\n", 1), fontsize="medium"
            )
        self.ax_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        h1_pred: ArrayLike,
        h2_pred: ArrayLike,
        *,
        labels: ArrayLike | None = None,
        zero_division: str | float = "warn",
    ) -> CompatibilityDisplay:
        """Build the display from true labels and both models' predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        h1_pred : array-like of shape (n_samples,)
            Labels predicted by the old model h1.
        h2_pred : array-like of shape (n_samples,)
            Labels predicted by the new model h2.
        labels : array-like, default=None
            Classes shown in the per-class panel; see
            :func:`bcsk.metrics.compatibility_report`.
        zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
            Value of an undefined BTC or BEC; see
            :func:`bcsk.metrics.compatibility_report`.

        Returns
        -------
        CompatibilityDisplay
            The display, not yet plotted.
        """
        report = compatibility_report(
            y_true, h1_pred, h2_pred, labels=labels, zero_division=zero_division
        )
        return cls(report)

    @classmethod
    def from_estimator(
        cls,
        h2: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        h1: Any,
        labels: ArrayLike | None = None,
        zero_division: str | float = "warn",
    ) -> CompatibilityDisplay:
        """Build the display from two fitted classifiers and labelled data.

        Parameters
        ----------
        h2 : fitted classifier
            The new model; ``h2.predict(X)`` must return class labels.
        X : array-like
            Input samples.
        y : array-like of shape (n_samples,)
            True labels of ``X``.
        h1 : fitted classifier
            The old model; ``h1.predict(X)`` must return class labels.
        labels : array-like, default=None
            Classes shown in the per-class panel.
        zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
            Value of an undefined BTC or BEC.

        Returns
        -------
        CompatibilityDisplay
            The display, not yet plotted.
        """
        for name, model in (("h1", h1), ("h2", h2)):
            if not callable(getattr(model, "predict", None)):
                raise TypeError(
                    f"{name} must be a fitted classifier with a predict method; "
                    f"got {type(model).__name__}."
                )
        return cls.from_predictions(
            y,
            h1.predict(X),
            h2.predict(X),
            labels=labels,
            zero_division=zero_division,
        )
