"""compatibility_report's groups, checks, intervals, JSON record and from_estimator.

The figures are counted by hand on an 8-row table:

    row  y  h1  h2  group   region
    0    0  0   0   a       both right
    1    1  1   0   a       new error (1 -> 0)
    2    1  0   1   a       fixed
    3    0  0   1   b       new error (0 -> 1)
    4    2  2   2   b       both right
    5    2  2   1   b       new error (2 -> 1)
    6    1  1   1   c       both right
    7    0  1   0   c       fixed
"""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from bcsk.gate import CompatibleUpdateClassifier
from bcsk.metrics import CompatibilityReport, compatibility_report

Y = [0, 1, 1, 0, 2, 2, 1, 0]
H1 = [0, 1, 0, 0, 2, 2, 1, 1]
H2 = [0, 0, 1, 1, 2, 1, 1, 0]
G = ["a", "a", "a", "b", "b", "b", "c", "c"]


def build(**kwargs):
    kwargs.setdefault("groups", G)
    kwargs.setdefault("min_group_size", 3)
    return compatibility_report(Y, h1_pred=H1, h2_pred=H2, **kwargs)


def test_headline_counts_by_hand():
    report = build()
    assert (report.both_right, report.new_errors) == (3, 3)
    assert (report.fixed_errors, report.both_wrong) == (2, 0)
    assert report.h1_accuracy == 6 / 8 and report.h2_accuracy == 5 / 8
    assert report.btc == 3 / 6 and report.negative_flip_rate == 3 / 8
    assert report.accuracy_drop == pytest.approx(1 / 8)


def test_group_table_by_hand():
    report = build()
    # Highest new-error rate first: b (2/3), a (1/3), c (0).
    assert [tuple(row) for row in report.groups] == [
        ("b", 3, 1.0, 1 / 3, 2, 0, 2 / 3, 1 / 3, False),
        ("a", 3, 2 / 3, 2 / 3, 1, 1, 1 / 3, 1 / 2, False),
        ("c", 2, 1 / 2, 1.0, 0, 1, 0.0, 1.0, True),
    ]
    assert report.min_group_size == 3


def test_per_class_flips_and_examples_by_hand():
    report = build(ids=[f"r{i}" for i in range(8)])
    assert [tuple(row)[:6] for row in report.per_class] == [
        (0, 3, 2 / 3, 2 / 3, 1, 1),
        (1, 3, 2 / 3, 2 / 3, 1, 1),
        (2, 2, 1.0, 1 / 2, 1, 0),
    ]
    assert report.flips == ((0, 1, 1), (1, 0, 1), (2, 1, 1))
    assert [tuple(e) for e in report.new_error_examples] == [
        ("r1", 1, 0, "a"),
        ("r3", 0, 1, "b"),
        ("r5", 2, 1, "b"),
    ]
    # Without ids the row positions; without groups no group.
    plain = compatibility_report(Y, h1_pred=H1, h2_pred=H2)
    assert [e.id for e in plain.new_error_examples] == [1, 3, 5]
    assert plain.groups is None and plain.new_error_examples[0].group is None


def test_ties_in_the_group_table_go_to_the_larger_group():
    report = compatibility_report(
        [0, 0, 0, 0, 0],
        h1_pred=[0] * 5,
        h2_pred=[1, 0, 1, 0, 0],
        groups=["x", "y", "y", "z", "z"],
    )
    # x: 1/1 new; y: 1/2; z: 0/2.
    assert [row.label for row in report.groups] == ["x", "y", "z"]
    report = compatibility_report(
        [0] * 4,
        h1_pred=[0] * 4,
        h2_pred=[0] * 4,
        groups=["s", "t", "t", "t"],
        zero_division=1.0,
    )
    assert [row.label for row in report.groups] == ["t", "s"]


def test_check_by_hand():
    report = build()
    assert report.check() == []
    (failed,) = report.check(max_new_error_rate=0.3)
    assert tuple(failed) == ("max_new_error_rate", 0.375, 0.3, None, False)
    assert report.check(min_btc=0.5) == []  # 0.5 >= 0.5 holds
    (failed,) = report.check(min_btc=0.6)
    assert (failed.value, failed.limit) == (0.5, 0.6)
    (failed,) = report.check(max_accuracy_drop=0.1)
    assert failed.value == pytest.approx(0.125)
    assert report.check(max_accuracy_drop=0.125) == []
    # Group c (2 rows) is below min_group_size=3: not gated.
    (failed,) = report.check(max_group_new_error_rate=0.5)
    assert (failed.threshold, failed.group, failed.value) == (
        "max_group_new_error_rate",
        "b",
        2 / 3,
    )
    assert [f.group for f in report.check(max_group_new_error_rate=0.2)] == ["b", "a"]
    assert report.check(max_group_new_error_rate=0.2, min_group_size=4) == []
    # Every limit together: the failures in the order of the parameters.
    names = [
        f.threshold
        for f in report.check(
            max_new_error_rate=0.3,
            min_btc=0.6,
            max_accuracy_drop=0.1,
            max_group_new_error_rate=0.5,
        )
    ]
    assert names == [
        "max_new_error_rate",
        "min_btc",
        "max_accuracy_drop",
        "max_group_new_error_rate",
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_new_error_rate": 1.5}, "max_new_error_rate must be a number in"),
        ({"min_btc": -0.1}, "min_btc must be"),
        ({"max_accuracy_drop": float("nan")}, "max_accuracy_drop must be"),
        ({"min_btc": True}, "min_btc must be"),
        ({"max_group_new_error_rate": 0.1, "min_group_size": 0}, "min_group_size"),
    ],
)
def test_check_refuses_bad_limits(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build().check(**kwargs)


def test_group_threshold_needs_groups():
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2)
    with pytest.raises(ValueError, match="pass groups="):
        report.check(max_group_new_error_rate=0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"groups": G[:-1]}, "one value per row of y_true"),
        ({"groups": ["a"] * 7 + [None]}, "missing value"),
        ({"groups": [1.0] * 7 + [np.nan]}, "missing value"),
        ({"ids": list(range(9))}, "ids must hold one value per row"),
        ({"min_group_size": 0}, "min_group_size must be an integer >= 1"),
        ({"min_group_size": 2.5}, "min_group_size"),
        ({"n_bootstraps": -1}, "n_bootstraps must be an integer >= 0"),
        ({"n_bootstraps": 10, "confidence_level": 1.0}, "confidence_level"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(**kwargs)


def test_groups_of_several_outputs_are_refused():
    y = [[0, 1], [1, 1]]
    with pytest.raises(ValueError, match="one output at a time"):
        compatibility_report(y, h1_pred=y, h2_pred=y, groups=["a", "b"])


def test_reports_without_the_new_arguments_are_unchanged():
    plain = compatibility_report(Y, h1_pred=H1, h2_pred=H2)
    assert plain.intervals is None and plain.groups is None
    assert set(plain.to_dict()) == {
        "n_samples",
        "both_right",
        "new_errors",
        "fixed_errors",
        "both_wrong",
        "h1_accuracy",
        "h2_accuracy",
        "btc",
        "bec",
        "negative_flip_rate",
        "positive_flip_rate",
        "negative_flip_impact",
        "relative_negative_flip_rate",
        "new_errors_per_class",
        "n_outputs",
    }
    assert str(plain) == str(build())  # the text table does not change
    # Groups count in equality: the caller asked for them.
    assert plain != build()
    assert build() == build() and hash(build()) == hash(build())


def test_bootstrap_intervals_are_seeded_and_sensible():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 1000)
    h1 = np.where(rng.random(1000) < 0.8, y, (y + 1) % 3)
    h2 = np.where(rng.random(1000) < 0.85, y, (y + 2) % 3)

    def report(seed):
        return compatibility_report(
            y, h1_pred=h1, h2_pred=h2, n_bootstraps=2000, random_state=seed
        )

    first = report(0)
    assert first.intervals == report(0).intervals
    assert first.intervals != report(1).intervals
    assert first.confidence_level == 0.95
    for name, (low, high) in first.intervals.items():
        assert low <= getattr(first, name) <= high, name
    # The rate of new errors is a binomial share: its 95 % interval is
    # about +-1.96 standard errors wide.
    p = first.negative_flip_rate
    low, high = first.intervals["negative_flip_rate"]
    expected = 2 * 1.96 * np.sqrt(p * (1 - p) / 1000)
    assert high - low == pytest.approx(expected, rel=0.15)


def test_bootstrap_of_an_undefined_figure_is_nan():
    # h2 makes no error: BEC and NFI are undefined in every resample.
    report = compatibility_report(
        [0, 1], h1_pred=[0, 0], h2_pred=[0, 1], n_bootstraps=50, zero_division=1.0
    )
    assert np.isnan(report.intervals["bec"]).all()
    assert report.intervals["h2_accuracy"] == (1.0, 1.0)


@pytest.mark.parametrize(
    "labels",
    [
        (Y, H1, H2),
        tuple([["cat", "dog", "bird"][v] for v in a] for a in (Y, H1, H2)),
    ],
    ids=["ints", "strings"],
)
def test_json_round_trip(labels, tmp_path):
    y, h1, h2 = labels
    report = compatibility_report(
        y,
        h1_pred=h1,
        h2_pred=h2,
        groups=G,
        min_group_size=3,
        n_bootstraps=100,
        ids=[f"r{i}" for i in range(8)],
    )
    text = report.to_json(tmp_path / "report.json")
    assert (tmp_path / "report.json").read_text() == text + "\n"
    record = json.loads(text)
    assert record["schema"] == "bcsk.compatibility_report"
    assert record["schema_version"] == 1
    assert record["counts"] == {
        "both_right": 3,
        "new_errors": 3,
        "fixed_errors": 2,
        "both_wrong": 0,
    }
    assert record["groups"]["rows"][0]["label"] == "b"
    back = CompatibilityReport.from_json(text)
    assert back == report
    assert back.to_record() == report.to_record()
    assert back.groups == report.groups and back.intervals == report.intervals
    assert CompatibilityReport.from_json(tmp_path / "report.json") == report
    assert back.check(max_group_new_error_rate=0.5) == report.check(
        max_group_new_error_rate=0.5
    )


def test_record_keys_are_stable():
    keys = {
        "schema",
        "schema_version",
        "n_samples",
        "n_outputs",
        "average",
        "counts",
        "scores",
        "intervals",
        "new_errors_per_class",
        "per_class",
        "groups",
        "flips",
        "new_error_examples",
        "checks",
    }
    plain = compatibility_report(Y, h1_pred=H1, h2_pred=H2).to_record()
    full = build(n_bootstraps=10).to_record(thresholds={"min_btc": 0.9})
    assert set(plain) == set(full) == keys
    assert plain["groups"] is None and plain["intervals"] is None
    assert full["checks"] == [
        {
            "threshold": "min_btc",
            "value": 0.5,
            "limit": 0.9,
            "group": None,
            "passed": False,
        }
    ]


def test_record_is_strict_json_and_versioned():
    # h1 never right: BTC undefined (NaN) is written as null, not NaN.
    report = compatibility_report(
        [0, 1], h1_pred=[1, 0], h2_pred=[1, 1], zero_division=np.nan
    )
    record = json.loads(report.to_json())
    assert record["scores"]["btc"] is None
    back = CompatibilityReport.from_json(report.to_json())
    assert np.isnan(back.btc)
    with pytest.raises(ValueError, match="schema_version 2"):
        CompatibilityReport.from_record({**record, "schema_version": 2})
    with pytest.raises(ValueError, match="not a bcsk compatibility report"):
        CompatibilityReport.from_record({"n_samples": 3})


def test_multioutput_record_round_trips():
    y = [[0, 1], [1, 1], [1, 0]]
    h1 = [[0, 1], [1, 0], [1, 0]]
    report = compatibility_report(
        y, h1_pred=h1, h2_pred=y, average=None, zero_division=0.0
    )
    back = CompatibilityReport.from_json(report.to_json())
    assert back == report and back.per_class is None


@pytest.fixture(scope="module")
def iris_gate():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    h1 = LogisticRegression(max_iter=200).fit(X[::5], y[::5])
    gate = CompatibleUpdateClassifier(
        LogisticRegression(C=0.05, max_iter=200), h1=h1
    ).fit(X, y)
    return X, y, h1, gate


def test_from_estimator_takes_h1_from_the_estimator(iris_gate):
    X, y, h1, gate = iris_gate
    groups = np.arange(len(y)) % 4
    report = CompatibilityReport.from_estimator(gate, X, y, groups=groups)
    expected = compatibility_report(
        y, h1_pred=h1.predict(X), h2_pred=gate.predict(X), groups=groups
    )
    assert report == expected
    assert report.groups == expected.groups
    # Logged labels of h1: the same report, h1 not called.
    logged = CompatibilityReport.from_estimator(
        gate, X, y, groups=groups, h1_pred=h1.predict(X)
    )
    assert logged == expected


def test_from_estimator_of_a_search(iris_gate):
    X, y, h1, _ = iris_gate
    search = GridSearchCV(
        CompatibleUpdateClassifier(LogisticRegression(max_iter=200), h1=h1),
        {"flip_cost": [1.0, 3.0]},
        cv=3,
    ).fit(X, y)
    report = CompatibilityReport.from_estimator(search, X, y, n_bootstraps=20)
    assert report == compatibility_report(
        y, h1_pred=h1.predict(X), h2_pred=search.predict(X), n_bootstraps=20
    )


def test_from_estimator_without_h1_says_what_to_do(iris_gate):
    X, y, _, _ = iris_gate
    plain = LogisticRegression(max_iter=200).fit(X, y)
    with pytest.raises(ValueError, match="Cannot find h1"):
        CompatibilityReport.from_estimator(plain, X, y)
