import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from bcsk.metrics import compatibility_report  # noqa: E402
from bcsk.plotting import (  # noqa: E402
    BEC_AXIS_LABEL,
    BTC_AXIS_LABEL,
    H1_LINE_LABEL,
    REGION_NAMES,
    CompatibilityDisplay,
    CompatibilityTradeoffDisplay,
)

# Same hand-worked example as in test_metrics.py: both right 2, new errors 2
# (true classes 1 and 2), fixed errors 1, both wrong 1; BTC 0.5, BEC 1/3.
Y_TRUE = [0, 1, 1, 0, 2, 2]
H1 = [0, 1, 0, 1, 2, 2]
H2 = [0, 0, 1, 1, 2, 1]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def masked(values):
    """Build a parameter column the way GridSearchCV does."""
    column = np.ma.MaskedArray(np.empty(len(values), dtype=object), mask=True)
    for i, value in enumerate(values):
        if value is not np.ma.masked:
            column[i] = value
    return column


def cv_results():
    # Two architectures x three lambdas, as GridSearchCV would report them.
    return {
        "param_lambda_c": masked([0.0, 0.5, 1.0, 0.0, 0.5, 1.0]),
        "param_model__hidden": masked(
            [(32,), (32,), (32,), (64, 32), (64, 32), (64, 32)]
        ),
        "mean_test_accuracy": np.array([0.86, 0.85, 0.83, 0.87, 0.86, 0.84]),
        "mean_test_btc": np.array([0.90, 0.94, 0.97, 0.91, 0.95, 0.98]),
        "mean_test_bec": np.array([0.55, 0.65, 0.80, 0.56, 0.66, 0.81]),
        "params": [{}] * 6,
    }


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


# ---------------------------------------------------------------- tradeoff ---


def test_tradeoff_plot_points_labels_and_reference_line():
    display = CompatibilityTradeoffDisplay(
        accuracy=[0.86, 0.85, 0.83],
        btc=[0.90, 0.95, 0.98],
        bec=[0.60, 0.70, 0.80],
        lambda_c=[0.0, 0.5, 1.0],
        h1_accuracy=0.82,
    )
    assert display.plot() is display
    btc_ax, bec_ax = display.ax_
    assert display.figure_ is btc_ax.figure
    for ax, values in ((btc_ax, [0.90, 0.95, 0.98]), (bec_ax, [0.60, 0.70, 0.80])):
        (points,) = ax.collections
        np.testing.assert_allclose(points.get_offsets()[:, 0], values)
        np.testing.assert_allclose(points.get_offsets()[:, 1], [0.86, 0.85, 0.83])
        assert texts(ax) == ["λ=0", "λ=0.5", "λ=1"]
        assert ax.get_ylabel() == "h2 accuracy"
        (line,) = ax.get_lines()
        assert line.get_label() == H1_LINE_LABEL
        np.testing.assert_allclose(line.get_ydata(), [0.82, 0.82])
    assert btc_ax.get_xlabel().startswith(BTC_AXIS_LABEL)
    assert bec_ax.get_xlabel().startswith(BEC_AXIS_LABEL)
    assert "BTC: share of h1's correct answers h2 keeps" in btc_ax.get_xlabel()
    assert "BEC: share of h2's errors h1 also made" in bec_ax.get_xlabel()
    assert H1_LINE_LABEL in legend_texts(bec_ax)
    # Short titles, no narrative figure title.
    assert (btc_ax.get_title(), bec_ax.get_title()) == (
        "Accuracy vs BTC",
        "Accuracy vs BEC",
    )
    assert display.figure_.get_suptitle() == ""
    assert len(display.annotations_) == 6
    assert len(display.h1_lines_) == 2
    assert display.best_markers_ == []


def test_tradeoff_without_h1_accuracy_has_no_line_and_can_skip_labels():
    display = CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [2]).plot(
        annotate=False
    )
    for ax in display.ax_:
        assert ax.get_lines() == []
        assert texts(ax) == []
    assert legend_texts(display.ax_[1]) == ["candidate h2 models"]


def test_tradeoff_style_keywords_go_to_the_points():
    display = CompatibilityTradeoffDisplay([0.9, 0.8], [0.8, 0.9], [0.7, 0.6], [0, 1])
    display.plot(s=99, alpha=0.5, marker="x")
    for scatter in display.scatters_:
        np.testing.assert_allclose(scatter.get_sizes(), [99])
        assert scatter.get_alpha() == 0.5


def test_tradeoff_marks_the_best_candidate():
    display = CompatibilityTradeoffDisplay(
        [0.9, 0.8], [0.8, 0.9], [0.7, 0.6], [0, 1], best_index=1
    ).plot()
    assert len(display.best_markers_) == 2
    np.testing.assert_allclose(display.best_markers_[0].get_offsets(), [[0.9, 0.8]])
    np.testing.assert_allclose(display.best_markers_[1].get_offsets(), [[0.6, 0.8]])
    assert "chosen candidate" in legend_texts(display.ax_[1])
    with pytest.raises(ValueError, match="best_index must be the index"):
        CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [0], best_index=1).plot()


def test_tradeoff_skips_labels_of_undefined_points():
    display = CompatibilityTradeoffDisplay(
        [0.9, 0.8], [0.8, 0.9], [np.nan, 0.5], [0.1, 0.2]
    ).plot()
    assert texts(display.ax_[0]) == ["λ=0.1", "λ=0.2"]
    assert texts(display.ax_[1]) == ["λ=0.2"]


def test_tradeoff_from_cv_results_draws_groups():
    display = CompatibilityTradeoffDisplay.from_cv_results(
        cv_results(), group_param="model__hidden", h1_accuracy=0.84
    )
    assert isinstance(display, CompatibilityTradeoffDisplay)
    assert display.group_name == "model__hidden"
    btc_ax, bec_ax = display.ax_
    assert display.figure_ is btc_ax.figure
    # One scatter per architecture in each panel, three points each.
    assert [len(c.get_offsets()) for c in btc_ax.collections] == [3, 3]
    assert [len(c.get_offsets()) for c in bec_ax.collections] == [3, 3]
    colours = [tuple(c.get_facecolor()[0]) for c in btc_ax.collections]
    assert colours[0] != colours[1]
    np.testing.assert_allclose(
        btc_ax.collections[1].get_offsets(), [[0.91, 0.87], [0.95, 0.86], [0.98, 0.84]]
    )
    assert texts(btc_ax) == ["λ=0", "λ=0.5", "λ=1"] * 2
    assert legend_texts(bec_ax) == [
        "model__hidden = (32,)",
        "model__hidden = (64, 32)",
        H1_LINE_LABEL,
    ]


def test_tradeoff_from_cv_results_group_name_ax_and_style():
    fig, axes = plt.subplots(1, 2)
    display = CompatibilityTradeoffDisplay.from_cv_results(
        cv_results(),
        group_param="model__hidden",
        group_name="hidden layers",
        best_index=4,
        ax=axes,
        annotate=False,
        s=12,
    )
    assert list(display.ax_) == list(axes) and display.figure_ is fig
    assert texts(axes[0]) == []
    assert legend_texts(axes[1])[:2] == [
        "hidden layers = (32,)",
        "hidden layers = (64, 32)",
    ]
    np.testing.assert_allclose(display.scatters_[0].get_sizes(), [12])
    np.testing.assert_allclose(display.best_markers_[0].get_offsets(), [[0.95, 0.86]])


def test_tradeoff_from_cv_results_masked_lambda_and_pipeline_suffix():
    results = cv_results()
    # A pipeline step prefixes the parameter, and one candidate (from a second
    # grid) did not search lambda_c at all.
    results["param_clf__lambda_c"] = masked([0.0, 0.5, 1.0, 0.0, 0.5, np.ma.masked])
    del results["param_lambda_c"]
    display = CompatibilityTradeoffDisplay.from_cv_results(results)
    assert texts(display.ax_[0])[-2:] == ["λ=0.5", "λ=default"]


def test_tradeoff_from_cv_results_missing_keys():
    with pytest.raises(ValueError, match=r"no key 'mean_test_btc'.*mean_test_accuracy"):
        CompatibilityTradeoffDisplay.from_cv_results(
            {k: v for k, v in cv_results().items() if k != "mean_test_btc"}
        )
    with pytest.raises(ValueError, match=r"no column 'param_alpha'.*'lambda_c'"):
        CompatibilityTradeoffDisplay.from_cv_results(cv_results(), lambda_param="alpha")
    with pytest.raises(ValueError, match="one value per candidate"):
        CompatibilityTradeoffDisplay([0.9, 0.8], [0.8], [0.7], [1]).plot()


def test_tradeoff_from_search_uses_estimator_defaults():
    # A real GridSearchCV over a pipeline with scikit-learn's dummy classifier:
    # it searches "clf__strategy" only, "constant" stands in for lambda_c (not
    # searched, so its value comes from the estimator), and accuracy-type
    # scorers stand in for BTC/BEC (the display only reads cv_results_).
    X = np.zeros((20, 1))
    y = np.array([0, 1] * 10)
    search = GridSearchCV(
        Pipeline([("clf", DummyClassifier(constant=1))]),
        {"clf__strategy": ["most_frequent", "constant"]},
        scoring={"accuracy": "accuracy", "btc": "recall", "bec": "balanced_accuracy"},
        refit="btc",
        cv=2,
    ).fit(X, y)
    display = CompatibilityTradeoffDisplay.from_search(
        search, lambda_param="constant", group_param="strategy", h1_accuracy=0.5
    )
    np.testing.assert_allclose(display.accuracy, [0.5, 0.5])
    np.testing.assert_allclose(display.btc, [0.0, 1.0])
    assert texts(display.ax_[0]) == ["λ=1", "λ=1"]
    # The refitted candidate (best BTC: "constant") is circled.
    assert display.best_index == 1 == search.best_index_
    np.testing.assert_allclose(display.best_markers_[0].get_offsets(), [[1.0, 0.5]])
    assert legend_texts(display.ax_[1]) == [
        "strategy = most_frequent",
        "strategy = constant",
        "chosen candidate",
        H1_LINE_LABEL,
    ]
    plain = CompatibilityTradeoffDisplay.from_search(
        search, lambda_param="constant", mark_best=False
    )
    assert plain.best_index is None and plain.best_markers_ == []
    # Other keywords style the points, as in scikit-learn's displays.
    styled = CompatibilityTradeoffDisplay.from_search(
        search, lambda_param="constant", s=5
    )
    np.testing.assert_allclose(styled.scatters_[0].get_sizes(), [5])


def test_tradeoff_from_search_without_refit_marks_nothing():
    X = np.zeros((20, 1))
    y = np.array([0, 1] * 10)
    search = GridSearchCV(
        DummyClassifier(constant=1),
        {"strategy": ["most_frequent", "constant"]},
        scoring={"accuracy": "accuracy", "btc": "recall", "bec": "recall"},
        refit=False,
        cv=2,
    ).fit(X, y)
    display = CompatibilityTradeoffDisplay.from_search(search, lambda_param="constant")
    assert display.best_index is None


def test_tradeoff_from_search_not_fitted():
    search = GridSearchCV(DummyClassifier(), {"strategy": ["prior"]})
    with pytest.raises(NotFittedError, match="call fit"):
        CompatibilityTradeoffDisplay.from_search(search)


def test_tradeoff_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    display = CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [1]).plot(ax=axes)
    assert list(display.ax_) == list(axes)
    assert display.figure_ is fig
    assert fig.get_suptitle() == ""


@pytest.mark.parametrize("n_axes", [1, 3])
def test_wrong_number_of_axes(n_axes):
    _, axes = plt.subplots(1, n_axes, squeeze=False)
    with pytest.raises(
        ValueError, match=rf"ax must hold 2 matplotlib Axes.*got {n_axes}"
    ):
        CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [1]).plot(ax=axes)
    with pytest.raises(ValueError, match="ax must hold 2"):
        CompatibilityDisplay.from_predictions(Y_TRUE, h1_pred=H1, h2_pred=H2, ax=axes)


# ----------------------------------------------------------- compatibility ---


def region_labels(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


def test_compatibility_display_from_predictions_draws():
    display = CompatibilityDisplay.from_predictions(Y_TRUE, h1_pred=H1, h2_pred=H2)
    assert isinstance(display, CompatibilityDisplay)
    regions, per_class = display.ax_
    assert display.figure_ is regions.figure
    assert display.reports == {
        "h2": compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    }
    (region_bars,) = display.region_bars_
    assert [bar.get_height() for bar in region_bars] == [2, 2, 1, 1]
    labels = region_labels(regions)
    assert labels[0] == "both right"
    assert labels[1].startswith("new errors") and "h1 right" in labels[1]
    assert labels[2].startswith("fixed errors") and "h1 wrong" in labels[2]
    assert labels[3] == "both wrong"
    assert [label.split("\n")[0] for label in labels] == list(REGION_NAMES)
    assert texts(regions) == ["2\n(33.3%)", "2\n(33.3%)", "1\n(16.7%)", "1\n(16.7%)"]
    # New errors stand out: their colour is used by no other region.
    colours = [tuple(bar.get_facecolor()) for bar in region_bars]
    assert colours.count(colours[1]) == 1

    (class_bars,) = display.class_bars_
    assert [bar.get_height() for bar in class_bars] == [0, 1, 1]
    assert region_labels(per_class) == ["0", "1", "2"]
    assert texts(per_class) == ["0", "1", "1"]
    assert per_class.get_xlabel() == "true class"
    # Short titles; the scores are in the left one. No figure title.
    assert regions.get_title() == "BTC = 0.500, BEC = 0.333"
    assert per_class.get_title() == "New errors by true class"
    assert display.figure_.get_suptitle() == ""


def test_compatibility_display_on_given_axes_with_style():
    fig, axes = plt.subplots(1, 2)
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2, labels=[2, 1])
    display = CompatibilityDisplay(report).plot(
        ax=list(axes), alpha=0.5, edgecolor="black"
    )
    assert display.figure_ is fig and list(display.ax_) == list(axes)
    assert fig.get_suptitle() == ""
    assert axes[0].get_title() == "BTC = 0.500, BEC = 0.333"
    assert region_labels(axes[1]) == ["2", "1"]
    for bar in [*display.region_bars_[0], *display.class_bars_[0]]:
        assert bar.get_alpha() == 0.5
        assert bar.get_edgecolor() == (0.0, 0.0, 0.0, 0.5)


def test_compatibility_display_two_candidates_side_by_side():
    # The plain update breaks samples 1 and 5; the chosen one only sample 5.
    chosen = [0, 1, 1, 1, 2, 1]
    display = CompatibilityDisplay.from_predictions(
        Y_TRUE, h1_pred=H1, h2_pred={"plain": H2, "chosen": chosen}
    )
    assert list(display.reports) == ["plain", "chosen"]
    plain_regions, chosen_regions = display.region_bars_
    assert [b.get_height() for b in plain_regions] == [2, 2, 1, 1]
    assert [b.get_height() for b in chosen_regions] == [3, 1, 1, 1]
    plain_classes, chosen_classes = display.class_bars_
    assert [b.get_height() for b in plain_classes] == [0, 1, 1]
    assert [b.get_height() for b in chosen_classes] == [0, 0, 1]
    # Side by side, not on top of each other; one colour per candidate.
    for first, second in zip(plain_classes, chosen_classes, strict=True):
        assert first.get_x() + first.get_width() <= second.get_x() + 1e-12
    assert plain_classes[0].get_facecolor() != chosen_classes[0].get_facecolor()
    regions = display.ax_[0]
    assert regions.get_title() == "Samples by region"
    assert legend_texts(regions) == [
        "plain: BTC 0.500, BEC 0.333",
        "chosen: BTC 0.750, BEC 0.500",
    ]


def test_compatibility_display_undefined_score_in_title():
    display = CompatibilityDisplay.from_predictions(
        Y_TRUE, h1_pred=H1, h2_pred=Y_TRUE, zero_division=np.nan
    )
    assert "BEC = undefined" in display.ax_[0].get_title()


def test_compatibility_display_string_labels():
    display = CompatibilityDisplay.from_predictions(
        ["cat", "dog", "bird", "cat"],
        h1_pred=["cat", "dog", "dog", "cat"],
        h2_pred=["cat", "cat", "bird", "dog"],
    )
    assert region_labels(display.ax_[1]) == ["bird", "cat", "dog"]
    assert [bar.get_height() for bar in display.class_bars_[0]] == [0, 1, 1]


def test_compatibility_display_keyword_only_and_bad_reports():
    with pytest.raises(TypeError, match="positional argument"):
        CompatibilityDisplay.from_predictions(Y_TRUE, H1, H2)
    with pytest.raises(TypeError, match="CompatibilityReport objects"):
        CompatibilityDisplay({"h2": [1, 2]})
    with pytest.raises(ValueError, match="at least one candidate"):
        CompatibilityDisplay.from_predictions(Y_TRUE, h1_pred=H1, h2_pred={})


class _FixedPredictor(ClassifierMixin, BaseEstimator):
    """A "fitted" classifier with canned labels."""

    def __init__(self, labels=None):
        self.labels = labels

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        assert len(X) == len(self.labels)
        return np.asarray(self.labels)

    def predict_proba(self, X):
        return (self.predict(X)[:, None] == self.classes_).astype(float)


def test_compatibility_display_from_estimator_with_given_h1():
    X = np.zeros((6, 2))
    h1 = _FixedPredictor(H1).fit(X, Y_TRUE)
    h2 = _FixedPredictor(H2).fit(X, Y_TRUE)
    fig, axes = plt.subplots(1, 2)
    display = CompatibilityDisplay.from_estimator(h2, X, Y_TRUE, h1=h1, ax=axes)
    assert display.figure_ is fig
    assert display.reports["h2"] == compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    several = CompatibilityDisplay.from_estimator({"a": h2, "b": h1}, X, Y_TRUE, h1=h1)
    assert several.reports["b"].new_errors == 0
    with pytest.raises(TypeError, match="estimator must be a fitted classifier"):
        CompatibilityDisplay.from_estimator(object(), X, Y_TRUE, h1=h1)


def test_compatibility_display_from_estimator_finds_h1_on_the_estimator():
    # Any estimator with an ``h1`` attribute and ``classes_`` (here the last
    # step of a pipeline) is read the way the scorers read it.
    X = np.zeros((6, 2))
    h1 = _FixedPredictor(H1).fit(X, Y_TRUE)
    h2 = _FixedPredictor(H2).fit(X, Y_TRUE)
    h2.h1 = h1
    display = CompatibilityDisplay.from_estimator(Pipeline([("clf", h2)]), X, Y_TRUE)
    assert display.reports["h2"].new_errors == 2
    with pytest.raises(ValueError, match="Cannot find h1 on _FixedPredictor"):
        CompatibilityDisplay.from_estimator(h1, X, Y_TRUE)


def test_missing_matplotlib_message(monkeypatch):
    # A None entry in sys.modules makes `import matplotlib...` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    display = CompatibilityDisplay(compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2))
    with pytest.raises(ImportError, match=r"pip install 'bcsk\[plot\]'"):
        display.plot()
