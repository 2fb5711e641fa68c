"""bcsk.metrics._lineage: a chain of versions, against hand counts and a loop oracle."""

import numpy as np
import pytest

from bcsk.metrics import LineageReport, lineage_report

# Hand-worked chain of 6 samples:
#   y   0 1 1 0 2 2
#   v1  0 1 1 0 2 0   right: 1 1 1 1 1 0
#   v2  0 1 0 0 2 0   right: 1 1 0 1 1 0   v1 -> v2: 1 new error (sample 2)
#   v3  0 0 1 0 2 0   right: 1 0 1 1 1 0   v2 -> v3: 1 new (1), 1 fixed (2)
# Ever-right regressions: v2 loses sample 2; v3 loses sample 1 (last right in
# v2) but has sample 2 back, so 1 each.
Y = [0, 1, 1, 0, 2, 2]
V = [[0, 1, 1, 0, 2, 0], [0, 1, 0, 0, 2, 0], [0, 0, 1, 0, 2, 0]]


def oracle(y, preds):
    """Per-sample loops, no shared code with the module."""
    y = list(y)
    n, m = len(y), len(preds)
    right = [[preds[k][i] == y[i] for i in range(n)] for k in range(m)]
    new = [
        sum(right[k - 1][i] and not right[k][i] for i in range(n)) for k in range(1, m)
    ]
    fixed = [
        sum((not right[k - 1][i]) and right[k][i] for i in range(n))
        for k in range(1, m)
    ]
    ever = [
        sum(any(right[j][i] for j in range(k)) and not right[k][i] for i in range(n))
        for k in range(1, m)
    ]
    last = []
    for i in range(n):
        earlier = [j for j in range(m - 1) if right[j][i]]
        last.append(earlier[-1] if earlier and not right[m - 1][i] else -1)
    accuracy = [sum(r) / n for r in right]
    return new, fixed, ever, last, accuracy


def test_hand_counts():
    report = lineage_report(Y, V)
    assert isinstance(report, LineageReport)
    assert report.names == ("v1", "v2", "v3")
    assert report.new_errors == (1, 1)
    assert report.fixed_errors == (0, 1)
    assert report.ever_right_regressions == (1, 1)
    assert report.last_right.tolist() == [-1, 1, -1, -1, -1, -1]
    assert report.regressions_by_last_right == {"v1": 0, "v2": 1}
    assert report.accuracy == pytest.approx((5 / 6, 4 / 6, 4 / 6))
    assert report.total_new_errors == 2
    assert report.final_regressions == 1
    assert report.negative_flip_rates == pytest.approx((1 / 6, 1 / 6))
    assert report.left_out == (0, 0)
    assert report.steps == ("v1 -> v2", "v2 -> v3")


def test_ever_right_counts_answers_lost_two_versions_back():
    # v2 breaks sample 0, v3 keeps it broken: v3 still owes it to v1's users,
    # although the step v2 -> v3 has no new error.
    report = lineage_report([0, 1], [[0, 1], [1, 1], [1, 1]])
    assert report.new_errors == (1, 0)
    assert report.ever_right_regressions == (1, 1)
    assert report.regressions_by_last_right == {"v1": 1, "v2": 0}


@pytest.mark.parametrize("seed", range(5))
def test_against_loop_oracle(seed):
    rng = np.random.default_rng(seed)
    n, m = 200, int(rng.integers(2, 6))
    y = rng.integers(0, 4, n)
    preds = [np.where(rng.random(n) < 0.7, y, rng.integers(0, 4, n)) for _ in range(m)]
    report = lineage_report(y, preds, labels=range(4))
    new, fixed, ever, last, accuracy = oracle(y, preds)
    assert list(report.new_errors) == new
    assert list(report.fixed_errors) == fixed
    assert list(report.ever_right_regressions) == ever
    assert report.last_right.tolist() == last
    assert report.accuracy == pytest.approx(accuracy)


def test_names_mapping_and_string_labels():
    preds = {"jan": ["a", "b"], "feb": ["a", "a"], "mar": ["b", "a"]}
    report = lineage_report(["a", "b"], preds)
    assert report.names == ("jan", "feb", "mar")
    assert report.ever_right_regressions == (1, 2)
    assert report.regressions_by_last_right == {"jan": 1, "feb": 1}
    assert lineage_report(
        ["a", "b"], list(preds.values()), names=list(preds)
    ).names == (
        "jan",
        "feb",
        "mar",
    )
    text = str(report)
    assert "ever-right" in text and "mar's 2 ever-right regressions" in text
    assert report.to_dict()["regressions_by_last_right"] == {"jan": 1, "feb": 1}


def test_version_classes_leave_out_unknown_classes():
    # Class 2 is added by v2: v1 knows 0 and 1 only. The step v1 -> v2 counts
    # the 4 samples of classes 0 and 1; samples 4 and 5 are left out.
    y = [0, 1, 1, 0, 2, 2]
    preds = [[0, 1, 0, 1, 1, 0], [0, 0, 1, 1, 2, 2]]
    report = lineage_report(y, preds, version_classes=[[0, 1], None])
    assert report.left_out == (2,)
    assert report.step_samples == (4,)
    assert report.new_errors == (1,)
    assert report.fixed_errors == (1,)  # sample 2; samples 4, 5 are left out
    assert report.negative_flip_rates == pytest.approx((1 / 4,))
    assert "left out" in str(report)
    plain = lineage_report(y, preds)
    assert plain.fixed_errors == (3,) and plain.left_out == (0,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(y_true=[0, 1], predictions=[[0, 1]]), "at least two versions"),
        (dict(y_true=[0, 1], predictions=[[0, 1], [0, 1, 1]]), "same number"),
        (dict(y_true=[0, 1], predictions=[[0, 1], [0, 7]]), "'v2' predicts labels"),
        (dict(y_true=[0, 1], predictions=[[0, 1], [0, 1]], names=["a"]), "one name"),
        (dict(y_true=[0, 1], predictions=[[0, 1], [0, 1]], names=["a", "a"]), "differ"),
        (
            dict(
                y_true=[0, 1],
                predictions=[[0, 1], [0, 1]],
                version_classes=[[0, 3], None],
            ),
            "not among the classes of y",
        ),
        (
            dict(y_true=[0, 1], predictions=[[0, 1], [0, 1]], version_classes=[[0]]),
            "one list of classes per version",
        ),
        (
            dict(
                y_true=[0, 1, 2],
                predictions=[[0, 1, 2], [0, 1, 2]],
                version_classes=[[0, 1], [1, 0, 2]],
            ),
            "different orders",
        ),
        (dict(y_true=[], predictions=[[], []]), "at least one sample"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lineage_report(**kwargs)


def test_labels_names_classes_absent_from_y():
    report = lineage_report([0, 0], [[0, 0], [0, 1]], labels=[0, 1])
    assert report.new_errors == (1,)


def test_display_draws():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bcsk.metrics import LineageDisplay

    try:
        display = LineageDisplay.from_predictions(Y, V, names=["a", "b", "c"])
        assert display.report.names == ("a", "b", "c")
        heights = [[p.get_height() for p in bars] for bars in display.bars_]
        assert heights == [[1, 1], [1, 1]]
        assert display.accuracy_line_.get_ydata() == pytest.approx(
            (5 / 6, 4 / 6, 4 / 6)
        )
        assert [t.get_text() for t in display.ax_.get_xticklabels()] == ["a", "b", "c"]
        assert display.figure_ is display.ax_.figure
        _, ax = plt.subplots()
        assert LineageDisplay(lineage_report(Y, V)).plot(ax=ax, alpha=0.5).ax_ is ax
        with pytest.raises(TypeError, match="LineageReport"):
            LineageDisplay({"a": 1})
    finally:
        plt.close("all")
