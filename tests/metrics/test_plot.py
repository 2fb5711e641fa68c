import sys
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from bcsk.gate import CompatibleUpdateClassifierCV  # noqa: E402
from bcsk.metrics import (  # noqa: E402
    CompatibilityDisplay,
    CompatibilityTradeoffDisplay,
    compatibility_report,  # noqa: E402
)
from bcsk.metrics._plot._base import (  # noqa: E402
    BEC_AXIS_LABEL,
    BTC_AXIS_LABEL,
    H1_LINE_LABEL,
    REGION_NAMES,
)
from bcsk.metrics._plot._front import candidate_label as _candidate_label  # noqa: E402
from bcsk.metrics._plot._front import pareto_mask as _pareto_mask  # noqa: E402

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


# ------------------------------------------------------------------- front ---


class _NamedDissonance:
    """Stands in for a bcsk.objective dissonance (its ``name``, a long repr), so
    that these tests need no Keras."""

    def __init__(self, name, **params):
        self.name = name
        self.params = params

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name.title().replace('_', '')}({args})"


FOCAL = _NamedDissonance("focal_distillation", alpha=1, beta=5)


def one_call_results():
    """cv_results_ of a one-call search: dissonances x lambda_c x members x cost.

    Hand-computed front (accuracy up, negative flip rate down): rows 2 and 4
    tie (0.905, 0.030) and are both on it, row 3 (0.900, 0.015) and row 6
    (0.890, 0.010) too; row 0 is beaten by row 2, row 1 by row 3, row 5 by
    row 3 (same flips, lower accuracy), row 7 by all, and row 8 has an
    undefined flip rate.
    """
    rows = [
        # dissonance, lambda_c, n_members, flip_cost, accuracy, nfr
        ("new_error", 0.0, 1, 1.0, 0.900, 0.040),
        ("new_error", 0.0, 1, 2.0, 0.895, 0.020),
        ("focal_distillation", 0.1, 1, 1.0, 0.905, 0.030),
        ("focal_distillation", 0.1, 1, 1.5, 0.900, 0.015),
        ("new_error", 3.0, 5, 1.0, 0.905, 0.030),
        (FOCAL, 1.0, 1, 1.5, 0.880, 0.015),
        ("logit_difference", 0.3, 5, 2.0, 0.890, 0.010),
        ("strict_imitation", 1.0, 1, 1.0, 0.850, 0.050),
        ("new_error", 0.3, 1, 1.0, 0.870, np.nan),
    ]
    names = ("dissonance", "lambda_c", "n_members", "flip_cost")
    params = [dict(zip(names, row[:4], strict=True)) for row in rows]
    accuracy = np.array([row[4] for row in rows])
    nfr = np.array([row[5] for row in rows])
    results = {"params": params}
    for name in names:
        results[f"param_{name}"] = masked([p[name] for p in params])
    results.update(
        mean_test_accuracy=accuracy,
        mean_test_neg_nfr=-nfr,
        mean_test_btc=1 - nfr / accuracy,
        mean_test_bec=np.linspace(0.5, 0.9, len(rows)),
    )
    for key in ("accuracy", "neg_nfr", "btc", "bec"):
        results[f"std_test_{key}"] = np.zeros(len(rows))
        results[f"rank_test_{key}"] = np.ones(len(rows), dtype=np.int32)
    return results


ONE_CALL_LABELS = [
    "plain",
    "plain + gate 2",
    "focal λ=0.1",
    "focal λ=0.1 + gate 1.5",
    "5× new error λ=3",
    "focal λ=1 + gate 1.5",
    "5× logit diff λ=0.3 + gate 2",
    "strict imitation λ=1",
    "new error λ=0.3",  # not drawn: its flip rate is undefined
]
ONE_CALL_FRONT = [2, 3, 4, 6]


@pytest.mark.parametrize(
    "params, label",
    [
        ({"lambda_c": 0.0}, "plain"),
        # Plain training has no dissonance, whatever the grid says.
        ({"lambda_c": 0.0, "dissonance": "focal_distillation"}, "plain"),
        ({"lambda_c": 0.0, "flip_cost": 2.0}, "plain + gate 2"),
        ({"lambda_c": 0.0, "flip_cost": 1.0}, "plain"),
        ({"lambda_c": 0.1, "dissonance": "focal_distillation"}, "focal λ=0.1"),
        (
            {"lambda_c": 0.1, "dissonance": "focal_distillation", "flip_cost": 1.5},
            "focal λ=0.1 + gate 1.5",
        ),
        (
            {"lambda_c": 3, "dissonance": "new_error", "n_members": 5},
            "5× new error λ=3",
        ),
        ({"lambda_c": 0.0, "n_members": 5}, "5× plain"),
        ({"lambda_c": 0.3, "n_members": 1}, "λ=0.3"),
        ({"dissonance": FOCAL, "lambda_c": 1.0}, "focal λ=1"),
        ({"dissonance": "strict_imitation"}, "strict imitation"),
        ({"dissonance": "logit_difference", "lambda_c": 0.5}, "logit diff λ=0.5"),
        ({"dissonance": "my_own_dissonance"}, "my own dissonance"),
        # Pipeline prefixes, NumPy scalars, masked entries.
        (
            {"clf__lambda_c": np.float64(0.25), "clf__n_members": np.int64(3)},
            "3× λ=0.25",
        ),
        ({"lambda_c": np.ma.masked, "flip_cost": 2.0}, "gate 2"),
        ({"flip_cost": 1.0}, "no gate"),
        ({"flip_cost": np.float64(1.25)}, "gate 1.25"),
        ({"n_members": 4}, "4 members"),
        ({}, "default"),
        ({"C": 1.0}, "default"),
    ],
)
def test_candidate_label(params, label):
    assert _candidate_label(params) == label


def test_candidate_label_never_calls_a_cost_lambda():
    assert _candidate_label({"flip_cost": 2.0}, "flip_cost") == "gate 2"
    assert _candidate_label({"gate__flip_cost": 1.0}, "gate__flip_cost") == "no gate"
    # Another parameter can stand in for lambda_c.
    assert _candidate_label({"alpha": 0.5}, "alpha") == "λ=0.5"


def test_pareto_mask_by_hand():
    results = one_call_results()
    mask = _pareto_mask(results["mean_test_accuracy"], -results["mean_test_neg_nfr"])
    assert np.flatnonzero(mask).tolist() == ONE_CALL_FRONT
    # Ties: equal points are all on the front; one strict edge is enough.
    assert _pareto_mask([0.9, 0.9], [0.1, 0.1]).tolist() == [True, True]
    assert _pareto_mask([0.9, 0.9], [0.1, 0.2]).tolist() == [True, False]
    assert _pareto_mask([0.8, 0.9], [0.1, 0.1]).tolist() == [False, True]
    # A trade-off keeps both; NaN is never on the front nor beats anything.
    assert _pareto_mask([0.9, 0.8, np.nan], [0.2, 0.1, 0.0]).tolist() == [
        True,
        True,
        False,
    ]
    assert _pareto_mask([], []).tolist() == []


def test_front_from_cv_results():
    results = one_call_results()
    display = CompatibilityTradeoffDisplay.from_cv_results(
        results, x_metric="negative_flip_rate", best_index=3, h1_accuracy=0.88
    )
    ax = display.ax_
    assert display.figure_ is ax.figure
    assert display.figure_.get_suptitle() == ""
    assert list(display.labels) == ONE_CALL_LABELS
    # The undefined point is not labelled; no cost is called λ.
    assert texts(ax) == ONE_CALL_LABELS[:-1]
    assert not any("λ=1.5" in t or "λ=2" in t for t in texts(ax))
    (points,) = display.scatters_
    nfr = -results["mean_test_neg_nfr"]
    np.testing.assert_allclose(points.get_offsets()[:8, 0], nfr[:8])
    np.testing.assert_allclose(
        points.get_offsets()[:, 1], results["mean_test_accuracy"]
    )
    assert np.flatnonzero(display.front_mask_).tolist() == ONE_CALL_FRONT
    # The line runs through the front in increasing flip rate.
    np.testing.assert_allclose(
        display.front_line_.get_xdata(), [0.010, 0.015, 0.030, 0.030]
    )
    np.testing.assert_allclose(
        display.front_line_.get_ydata(), [0.890, 0.900, 0.905, 0.905]
    )
    (best,) = display.best_markers_
    np.testing.assert_allclose(best.get_offsets(), [[0.015, 0.900]])
    (h1_line,) = display.h1_lines_
    np.testing.assert_allclose(h1_line.get_ydata(), [0.88, 0.88])
    assert ax.get_xlabel() == "negative flip rate: h1 right, h2 wrong (lower is better)"
    assert ax.get_ylabel() == "h2 accuracy"
    assert ax.get_title() == "Accuracy vs negative flip rate"
    assert set(legend_texts(ax)) == {
        "candidate h2 models",
        "Pareto front",
        "chosen candidate",
        H1_LINE_LABEL,
    }


def test_front_on_given_axes_groups_and_style():
    fig, ax = plt.subplots()
    display = CompatibilityTradeoffDisplay.from_cv_results(
        one_call_results(),
        x_metric="negative_flip_rate",
        group_param="n_members",
        group_name="members",
        ax=ax,
        annotate=False,
        front_kw={"color": "red", "linestyle": ":"},
        s=7,
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert texts(ax) == [] and display.best_markers_ == []
    assert [len(s.get_offsets()) for s in display.scatters_] == [7, 2]
    np.testing.assert_allclose(display.scatters_[1].get_sizes(), [7])
    assert display.front_line_.get_color() == "red"
    assert display.front_line_.get_linestyle() == ":"
    assert legend_texts(ax)[:2] == ["Pareto front", "members = 1"]
    with pytest.raises(ValueError, match="ax must be one matplotlib Axes"):
        CompatibilityTradeoffDisplay.from_cv_results(
            one_call_results(), x_metric="negative_flip_rate", ax=plt.subplots(1, 2)[1]
        )


def test_front_from_gate_results_without_lambda():
    # CompatibleUpdateClassifierCV's layout: the costs are all there is.
    results = {
        "params": [{"flip_cost": c} for c in (1.0, 1.5, 2.0)],
        "param_flip_cost": masked([1.0, 1.5, 2.0]),
        "mean_test_accuracy": np.array([0.90, 0.90, 0.89]),
        "mean_test_neg_nfr": np.array([-0.03, -0.02, -0.02]),
    }
    display = CompatibilityTradeoffDisplay.from_cv_results(
        results, x_metric="negative_flip_rate"
    )
    assert texts(display.ax_) == ["no gate", "gate 1.5", "gate 2"]
    assert display.front_mask_.tolist() == [False, True, False]
    assert display.lambda_c is None and display.btc is None
    # The BTC/BEC panels need what the front does not.
    with pytest.raises(ValueError, match=r"no key 'mean_test_btc'"):
        CompatibilityTradeoffDisplay.from_cv_results(results, lambda_param="flip_cost")
    with pytest.raises(ValueError, match="btc and bec is None"):
        display.plot()


def test_flip_cost_labels_in_the_btc_bec_panels_say_gate():
    results = one_call_results()
    display = CompatibilityTradeoffDisplay.from_cv_results(
        results, lambda_param="flip_cost"
    )
    expected = ["no gate", "gate 2", "no gate", "gate 1.5", "no gate", "gate 1.5"]
    expected += ["gate 2", "no gate", "no gate"]
    btc_ax, bec_ax = display.ax_
    # The last row's BTC is undefined, so only the BEC panel labels it.
    assert texts(btc_ax) == expected[:-1]
    assert texts(bec_ax) == expected
    assert not any("λ" in t for t in texts(btc_ax) + texts(bec_ax))


def test_btc_bec_panels_unchanged_when_flips_are_scored():
    # No third panel appears because neg_nfr is there: ax= of 2 keeps working.
    fig, axes = plt.subplots(1, 2)
    display = CompatibilityTradeoffDisplay.from_cv_results(
        one_call_results(), ax=axes, best_index=0
    )
    assert len(display.ax_) == 2 and len(fig.axes) == 2
    assert display.front_line_ is None and display.front_mask_ is None
    assert texts(axes[0])[:3] == ["λ=0", "λ=0", "λ=0.1"]
    assert [ax.get_title() for ax in axes] == ["Accuracy vs BTC", "Accuracy vs BEC"]
    # The flips are kept, so the same display can draw its front afterwards.
    front = display.plot(x_metric="negative_flip_rate")
    assert np.flatnonzero(front.front_mask_).tolist() == ONE_CALL_FRONT
    assert texts(front.ax_)[:3] == ["λ=0", "λ=0", "λ=0.1"]


def test_front_bad_input():
    results = one_call_results()
    del results["mean_test_neg_nfr"]
    with pytest.raises(ValueError, match=r"no key 'mean_test_neg_nfr'.*neg_nfr_key="):
        CompatibilityTradeoffDisplay.from_cv_results(
            results, x_metric="negative_flip_rate"
        )
    with pytest.raises(ValueError, match="x_metric must be one of"):
        CompatibilityTradeoffDisplay.from_cv_results(one_call_results(), x_metric="nfr")
    display = CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [0])
    with pytest.raises(ValueError, match="negative_flip_rate is None"):
        display.plot(x_metric="negative_flip_rate")
    with pytest.raises(ValueError, match="x_metric must be one of"):
        display.plot(x_metric="btc")
    with pytest.raises(ValueError, match="one value per candidate"):
        CompatibilityTradeoffDisplay(
            [0.9], None, None, None, negative_flip_rate=[0.1, 0.2]
        ).plot(x_metric="negative_flip_rate")


def test_front_from_values_with_labels():
    display = CompatibilityTradeoffDisplay(
        [0.9, 0.8, 0.85],
        None,
        None,
        None,
        negative_flip_rate=[0.02, 0.01, 0.03],
        labels=["a", "b", "c"],
        best_index=0,
    ).plot(x_metric="negative_flip_rate")
    assert texts(display.ax_) == ["a", "b", "c"]
    assert display.front_mask_.tolist() == [True, True, False]
    np.testing.assert_allclose(display.best_markers_[0].get_offsets(), [[0.02, 0.9]])


class _Configured(ClassifierMixin, BaseEstimator):
    """Parameters a search left at the estimator's value, for from_search."""

    def __init__(self, lambda_c=1.0, dissonance="focal_distillation"):
        self.lambda_c = lambda_c
        self.dissonance = dissonance


def test_front_from_search_fills_labels_from_the_estimator():
    # A search over lambda_c alone: the dissonance comes from the estimator.
    search = SimpleNamespace(
        estimator=Pipeline([("clf", _Configured())]),
        best_index_=1,
        cv_results_={
            "params": [{"clf__lambda_c": 0.0}, {"clf__lambda_c": 0.1}],
            "param_clf__lambda_c": masked([0.0, 0.1]),
            "mean_test_accuracy": np.array([0.9, 0.89]),
            "mean_test_neg_nfr": np.array([-0.03, -0.01]),
        },
    )
    display = CompatibilityTradeoffDisplay.from_search(
        search, x_metric="negative_flip_rate"
    )
    assert texts(display.ax_) == ["plain", "focal λ=0.1"]
    assert display.best_index == 1
    assert display.front_mask_.tolist() == [True, True]


def test_front_of_a_real_gate_search():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    h1 = LogisticRegression(max_iter=500).fit(X[:150], y[:150])
    search = CompatibleUpdateClassifierCV(
        LogisticRegression(max_iter=500),
        h1=h1,
        flip_costs=[1.5, 3],
        max_accuracy_drop=0.01,
        cv=3,
    ).fit(X[150:750], y[150:750])
    display = CompatibilityTradeoffDisplay.from_cv_results(
        search.cv_results_,
        best_index=search.best_index_,
        x_metric="negative_flip_rate",
    )
    assert texts(display.ax_) == ["no gate", "gate 1.5", "gate 3"]
    nfr = -search.cv_results_["mean_test_neg_nfr"]
    np.testing.assert_allclose(display.scatters_[0].get_offsets()[:, 0], nfr)
    best = search.best_index_
    np.testing.assert_allclose(
        display.best_markers_[0].get_offsets(),
        [[nfr[best], search.cv_results_["mean_test_accuracy"][best]]],
    )
    # The gate's rule (fewest flips among the accurate enough, then highest
    # accuracy) never picks a dominated cost.
    assert display.front_mask_[best]
    # The BTC/BEC panels of the same search label costs as gates, too.
    panels = CompatibilityTradeoffDisplay.from_cv_results(
        search.cv_results_, lambda_param="flip_cost", best_index=best
    )
    assert texts(panels.ax_[1]) == ["no gate", "gate 1.5", "gate 3"]
    assert len(panels.best_markers_) == 2
