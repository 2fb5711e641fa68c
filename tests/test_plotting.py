import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from bcsk.metrics import compatibility_report  # noqa: E402
from bcsk.plotting import (  # noqa: E402
    BEC_AXIS_LABEL,
    BTC_AXIS_LABEL,
    H1_LINE_LABEL,
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
    assert display.figure_.get_suptitle().startswith(
        "Accuracy vs backward compatibility"
    )
    assert len(display.annotations_) == 6
    assert len(display.h1_lines_) == 2


def test_tradeoff_without_h1_accuracy_has_no_line_and_can_skip_labels():
    display = CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [2]).plot(
        annotate=False
    )
    for ax in display.ax_:
        assert ax.get_lines() == []
        assert texts(ax) == []
    assert legend_texts(display.ax_[1]) == ["candidate h2 models"]


def test_tradeoff_skips_labels_of_undefined_points():
    display = CompatibilityTradeoffDisplay(
        [0.9, 0.8], [0.8, 0.9], [np.nan, 0.5], [0.1, 0.2]
    ).plot()
    assert texts(display.ax_[0]) == ["λ=0.1", "λ=0.2"]
    assert texts(display.ax_[1]) == ["λ=0.2"]


def test_tradeoff_from_cv_results_groups():
    display = CompatibilityTradeoffDisplay.from_cv_results(
        cv_results(), group_param="model__hidden", h1_accuracy=0.84
    )
    assert display.group_name == "model__hidden"
    display.plot()
    btc_ax, bec_ax = display.ax_
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


def test_tradeoff_from_cv_results_masked_lambda_and_pipeline_suffix():
    results = cv_results()
    # A pipeline step prefixes the parameter, and one candidate (from a second
    # grid) did not search lambda_c at all.
    results["param_clf__lambda_c"] = masked([0.0, 0.5, 1.0, 0.0, 0.5, np.ma.masked])
    del results["param_lambda_c"]
    display = CompatibilityTradeoffDisplay.from_cv_results(results).plot()
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
        refit=False,
        cv=2,
    ).fit(X, y)
    display = CompatibilityTradeoffDisplay.from_search(
        search, lambda_param="constant", group_param="strategy", h1_accuracy=0.5
    )
    np.testing.assert_allclose(display.accuracy, [0.5, 0.5])
    np.testing.assert_allclose(display.btc, [0.0, 1.0])
    display.plot()
    assert texts(display.ax_[0]) == ["λ=1", "λ=1"]
    assert legend_texts(display.ax_[1]) == [
        "strategy = most_frequent",
        "strategy = constant",
        H1_LINE_LABEL,
    ]
    with pytest.raises(TypeError):
        CompatibilityTradeoffDisplay.from_search(search, lambda_parm="constant")


def test_tradeoff_from_search_not_fitted():
    search = GridSearchCV(DummyClassifier(), {"strategy": ["prior"]})
    with pytest.raises(NotFittedError, match="call fit"):
        CompatibilityTradeoffDisplay.from_search(search)


def test_tradeoff_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    display = CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [1]).plot(ax=axes)
    assert list(display.ax_) == list(axes)
    assert display.figure_ is fig
    # The caller's figure keeps its own (absent) title.
    assert fig.get_suptitle() == ""


@pytest.mark.parametrize("n_axes", [1, 3])
def test_wrong_number_of_axes(n_axes):
    _, axes = plt.subplots(1, n_axes, squeeze=False)
    with pytest.raises(
        ValueError, match=rf"ax must hold 2 matplotlib Axes.*got {n_axes}"
    ):
        CompatibilityTradeoffDisplay([0.9], [0.8], [0.7], [1]).plot(ax=axes)
    with pytest.raises(ValueError, match="ax must hold 2"):
        CompatibilityDisplay(compatibility_report(Y_TRUE, H1, H2)).plot(ax=axes)


# ----------------------------------------------------------- compatibility ---


def test_compatibility_display_bars_and_title():
    display = CompatibilityDisplay.from_predictions(Y_TRUE, H1, H2)
    assert display.plot() is display
    regions, per_class = display.ax_
    heights = [bar.get_height() for bar in display.region_bars_]
    assert heights == [2, 2, 1, 1]
    labels = [t.get_text() for t in regions.get_xticklabels()]
    assert labels[0] == "both right"
    assert labels[1].startswith("new errors") and "h1 right" in labels[1]
    assert labels[2].startswith("fixed errors") and "h1 wrong" in labels[2]
    assert labels[3] == "both wrong"
    assert texts(regions) == ["2\n(33.3%)", "2\n(33.3%)", "1\n(16.7%)", "1\n(16.7%)"]
    # New errors stand out: their colour is used by no other region.
    colours = [tuple(bar.get_facecolor()) for bar in display.region_bars_]
    assert colours.count(colours[1]) == 1

    assert [bar.get_height() for bar in display.class_bars_] == [0, 1, 1]
    assert [t.get_text() for t in per_class.get_xticklabels()] == ["0", "1", "2"]
    assert texts(per_class) == ["0", "1", "1"]
    assert per_class.get_xlabel() == "true class"
    assert per_class.get_title() == "New errors by true class"

    title = display.figure_.get_suptitle()
    assert display.title_.get_text() == title
    assert "BTC = 0.500" in title and "BEC = 0.333" in title


def test_compatibility_display_on_given_axes_titles_left_panel():
    fig, axes = plt.subplots(1, 2)
    report = compatibility_report(Y_TRUE, H1, H2, labels=[2, 1])
    display = CompatibilityDisplay(report).plot(ax=list(axes))
    assert display.figure_ is fig
    assert fig.get_suptitle() == ""
    assert "BTC = 0.500" in axes[0].get_title()
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["2", "1"]


def test_compatibility_display_undefined_score_in_title():
    display = CompatibilityDisplay.from_predictions(
        Y_TRUE, H1, Y_TRUE, zero_division=np.nan
    ).plot()
    assert "BEC = undefined" in display.title_.get_text()


def test_compatibility_display_string_labels():
    display = CompatibilityDisplay.from_predictions(
        ["cat", "dog", "bird", "cat"],
        ["cat", "dog", "dog", "cat"],
        ["cat", "cat", "bird", "dog"],
    ).plot()
    ticks = [t.get_text() for t in display.ax_[1].get_xticklabels()]
    assert ticks == ["bird", "cat", "dog"]
    assert [bar.get_height() for bar in display.class_bars_] == [0, 1, 1]


class _FixedPredictor:
    """Any object with predict: here, canned labels."""

    def __init__(self, labels):
        self.labels = labels

    def predict(self, X):
        assert len(X) == len(self.labels)
        return np.asarray(self.labels)


def test_compatibility_display_from_estimator():
    X = np.zeros((6, 2))
    display = CompatibilityDisplay.from_estimator(
        _FixedPredictor(H2), X, Y_TRUE, h1=_FixedPredictor(H1)
    )
    assert display.report == compatibility_report(Y_TRUE, H1, H2)
    with pytest.raises(TypeError, match="h1 must be a fitted classifier"):
        CompatibilityDisplay.from_estimator(_FixedPredictor(H2), X, Y_TRUE, h1=None)


def test_missing_matplotlib_message(monkeypatch):
    # A None entry in sys.modules makes `import matplotlib...` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    display = CompatibilityDisplay(compatibility_report(Y_TRUE, H1, H2))
    with pytest.raises(ImportError, match=r"pip install 'bcsk\[plot\]'"):
        display.plot()
