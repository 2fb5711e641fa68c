import dataclasses
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning

from bcsk.metrics import (
    CompatibilityReport,
    compatibility_report,
    negative_flip_impact,
    negative_flip_rate,
    positive_flip_rate,
    relative_negative_flip_rate,
)
from bcsk.scores import error_compatibility_score, trust_compatibility_score

FLIP_METRICS = [
    negative_flip_rate,
    positive_flip_rate,
    negative_flip_impact,
    relative_negative_flip_rate,
]

# Hand-worked example:
#
#   sample     0  1  2  3  4  5
#   y_true     0  1  1  0  2  2
#   h1         0  1  0  1  2  2   -> right on 0, 1, 4, 5 (accuracy 4/6)
#   h2         0  0  1  1  2  1   -> right on 0, 2, 4    (accuracy 3/6)
#
#   both right {0, 4} = 2; new errors {1, 5} = 2 (true classes 1 and 2);
#   fixed errors {2} = 1; both wrong {3} = 1.
#   BTC = 2/4, BEC = 1/3, negative flip rate = 2/6, positive flip rate = 1/6,
#   negative flip impact = new errors / h2 errors = 2/3,
#   relative NFR = NFR / (h1 accuracy * h2 error rate) = (2/6) / (4/6 * 3/6) = 1.
Y_TRUE = [0, 1, 1, 0, 2, 2]
H1 = [0, 1, 0, 1, 2, 2]
H2 = [0, 0, 1, 1, 2, 1]


def test_report_hand_example():
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    assert report == CompatibilityReport(
        n_samples=6,
        both_right=2,
        new_errors=2,
        fixed_errors=1,
        both_wrong=1,
        h1_accuracy=pytest.approx(4 / 6),
        h2_accuracy=0.5,
        btc=0.5,
        bec=pytest.approx(1 / 3),
        negative_flip_rate=pytest.approx(2 / 6),
        positive_flip_rate=pytest.approx(1 / 6),
        negative_flip_impact=pytest.approx(2 / 3),
        relative_negative_flip_rate=pytest.approx(1.0),
        new_errors_per_class={0: 0, 1: 1, 2: 1},
    )


def test_report_agrees_with_scores():
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    assert report.btc == trust_compatibility_score(H1, H2, Y_TRUE)
    assert report.bec == error_compatibility_score(H1, H2, Y_TRUE)
    for func in FLIP_METRICS:
        assert getattr(report, func.__name__) == func(Y_TRUE, h1_pred=H1, h2_pred=H2)
    # NFI is 1 - BEC; h2's accuracy minus h1's is PFR - NFR.
    assert report.negative_flip_impact == pytest.approx(1 - report.bec)
    assert report.h2_accuracy - report.h1_accuracy == pytest.approx(
        report.positive_flip_rate - report.negative_flip_rate
    )


def test_report_is_frozen_and_hashable():
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.btc = 1.0
    assert hash(report) == hash(compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2))


def test_per_class_includes_labels_only_predicted():
    # Class 3 appears only in h2's predictions; it still gets a zero row.
    # h1 right on 0 and 1; h2 breaks sample 1 (true class 1).
    report = compatibility_report([0, 1, 2], h1_pred=[0, 1, 0], h2_pred=[0, 3, 1])
    assert report.new_errors_per_class == {0: 0, 1: 1, 2: 0, 3: 0}
    assert list(report.new_errors_per_class) == [0, 1, 2, 3]


def test_per_class_with_explicit_labels_keeps_their_order():
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2, labels=[2, 1, 5])
    assert list(report.new_errors_per_class.items()) == [(2, 1), (1, 1), (5, 0)]
    # Totals still count every sample.
    assert report.new_errors == 2


def test_per_class_numpy_labels_become_python_scalars():
    report = compatibility_report(
        np.array(Y_TRUE),
        h1_pred=np.array(H1),
        h2_pred=np.array(H2),
        labels=np.array([0, 1, 2]),
    )
    assert all(type(k) is int for k in report.new_errors_per_class)
    assert all(type(v) is int for v in report.new_errors_per_class.values())


def test_string_labels_and_column_vectors():
    # y: cat dog bird cat; h1 right on 0, 1, 3; h2 right on 0, 2.
    # new errors: 1 (dog), 3 (cat); fixed: 2 (bird).
    y = np.array(["cat", "dog", "bird", "cat"])[:, None]
    h1 = ["cat", "dog", "dog", "cat"]
    h2 = np.array(["cat", "cat", "bird", "dog"], dtype=object)
    report = compatibility_report(y, h1_pred=h1, h2_pred=h2)
    assert (report.both_right, report.new_errors) == (1, 2)
    assert (report.fixed_errors, report.both_wrong) == (1, 0)
    assert report.new_errors_per_class == {"bird": 0, "cat": 1, "dog": 1}


def test_mixed_label_types_are_sorted_by_type():
    report = compatibility_report(
        [1, "a", 0], h1_pred=[1, "a", 0], h2_pred=["b", "b", 0]
    )
    # Both 1 and "a" were broken; ints before strs, then by value.
    assert report.new_errors_per_class == {0: 0, 1: 1, "a": 1, "b": 0}
    assert list(report.new_errors_per_class) == [0, 1, "a", "b"]


def test_to_dict_is_plain_and_json_serialisable():
    report = compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2)
    as_dict = report.to_dict()
    assert set(as_dict) == {f.name for f in dataclasses.fields(CompatibilityReport)}
    assert as_dict["new_errors_per_class"] == {0: 0, 1: 1, 2: 1}
    assert as_dict["new_errors_per_class"] is not report.new_errors_per_class
    assert json.loads(json.dumps(as_dict))["new_errors_per_class"] == {
        "0": 0,
        "1": 1,
        "2": 1,
    }
    assert all(type(v) in (int, float, dict) for v in as_dict.values()), (
        "only plain Python types"
    )


def test_str_is_an_aligned_table():
    text = str(compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2))
    lines = text.splitlines()
    assert lines[0] == (
        "Backward compatibility report: h1 (old model) -> h2 (new model), 6 samples"
    )
    assert "both right          2   33.3%" in text
    assert "new errors          2   33.3%   h1 right, h2 wrong" in text
    assert "fixed errors        1   16.7%   h1 wrong, h2 right" in text
    assert "BTC            0.5000" in text
    assert "BEC            0.3333" in text
    assert "NFR            0.3333   negative flip rate" in text
    assert "PFR            0.1667   positive flip rate" in text
    assert "NFI            0.6667   negative flip impact" in text
    assert "relative NFR   1.0000" in text
    table = lines[lines.index("New errors by true class") + 1 :]
    assert table == ["class  new errors", "    0           0", "    1           1",
                     "    2           1"]  # fmt: skip
    # Rows of the count table line up on the share column.
    rows = [line for line in lines if "%" in line]
    assert len(rows) == 4
    assert len({line.index("%") for line in rows}) == 1


def test_str_with_undefined_scores():
    # h2 is perfect, so BEC is undefined; with NaN the report says nan.
    report = compatibility_report(
        Y_TRUE, h1_pred=H1, h2_pred=Y_TRUE, zero_division=np.nan
    )
    assert math.isnan(report.bec)
    assert "BEC               nan" in str(report)
    assert math.isnan(report.negative_flip_impact)
    assert math.isnan(report.relative_negative_flip_rate)


def test_zero_division_warning_and_values():
    # h1 is never right: BTC undefined. h2 is perfect: BEC undefined.
    y = [0, 0]
    with pytest.warns(UndefinedMetricWarning) as record:
        report = compatibility_report(y, h1_pred=[1, 1], h2_pred=y)
    assert (report.btc, report.bec) == (0.0, 0.0)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("Backward trust compatibility (BTC)") for m in messages)
    assert any(m.startswith("Backward error compatibility (BEC)") for m in messages)
    assert any(m.startswith("Negative flip impact (NFI)") for m in messages)
    assert any(m.startswith("Relative negative flip rate") for m in messages)
    assert (report.negative_flip_impact, report.relative_negative_flip_rate) == (0, 0)
    report = compatibility_report(y, h1_pred=[1, 1], h2_pred=y, zero_division=1.0)
    assert (report.btc, report.bec) == (1.0, 1.0)
    assert (report.negative_flip_impact, report.relative_negative_flip_rate) == (1, 1)
    # NFR and PFR are defined whenever there is a sample.
    assert (report.negative_flip_rate, report.positive_flip_rate) == (0.0, 1.0)


def test_invalid_zero_division():
    with pytest.raises(ValueError, match="zero_division must be"):
        compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2, zero_division="nan")


def test_validation_names_report_parameters():
    with pytest.raises(
        ValueError, match=r"got lengths y_true=6, h1_pred=5, h2_pred=6\."
    ):
        compatibility_report(Y_TRUE, h1_pred=H1[:5], h2_pred=H2)
    with pytest.raises(ValueError, match=r"got lengths y_true=6, h1_pred=6, h2_pred=2"):
        negative_flip_rate(Y_TRUE, h1_pred=H1, h2_pred=H2[:2])


@pytest.mark.parametrize("func", [compatibility_report, *FLIP_METRICS])
def test_empty_input_is_rejected(func):
    with pytest.raises(ValueError, match=f"{func.__name__} needs at least one sample"):
        func([], h1_pred=[], h2_pred=[])


@pytest.mark.parametrize("func", [compatibility_report, *FLIP_METRICS])
def test_predictions_are_keyword_only(func):
    # A positional swap of h1 and h2 would give wrong numbers silently.
    with pytest.raises(TypeError, match="positional argument"):
        func(Y_TRUE, H1, H2)
    with pytest.raises(TypeError, match="h2_pred"):
        func(Y_TRUE, h1_pred=H1)


def test_duplicate_and_string_labels_are_rejected():
    with pytest.raises(
        ValueError, match=r"must not repeat a label; got duplicates \['1'\]"
    ):
        compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2, labels=[0, 1, 1])
    with pytest.raises(ValueError, match=r"labels=\['cat'\]"):
        compatibility_report(Y_TRUE, h1_pred=H1, h2_pred=H2, labels="cat")


def test_negative_flip_rate_hand_example():
    assert negative_flip_rate(Y_TRUE, h1_pred=H1, h2_pred=H2) == pytest.approx(2 / 6)
    assert type(negative_flip_rate(Y_TRUE, h1_pred=H1, h2_pred=H2)) is float
    assert negative_flip_rate(Y_TRUE, h1_pred=H1, h2_pred=H1) == 0.0


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            *[st.lists(st.sampled_from([0, 1, 2, "x"]), min_size=n, max_size=n)] * 3
        )
    )
)
def test_report_matches_python_loop(lists):
    y, h1, h2 = lists
    report = compatibility_report(y, h1_pred=h1, h2_pred=h2, zero_division=np.nan)
    new_errors = [t for a, b, t in zip(h1, h2, y, strict=True) if a == t and b != t]
    assert report.new_errors == len(new_errors)
    assert sum(report.new_errors_per_class.values()) == len(new_errors)
    for label, count in report.new_errors_per_class.items():
        assert count == new_errors.count(label)
    assert set(report.new_errors_per_class) == set(y) | set(h1) | set(h2)
    assert report.n_samples == (
        report.both_right + report.new_errors + report.fixed_errors
        + report.both_wrong
    )  # fmt: skip
    assert report.h1_accuracy == pytest.approx(
        sum(a == t for a, t in zip(h1, y, strict=True)) / len(y)
    )


# The worked example of docs/concepts.rst: 10 samples, both right 5, new errors
# 2, fixed errors 1, both wrong 2; h1 right on 7, h2 wrong on 4.
CONCEPTS_Y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
CONCEPTS_H1 = [0, 1, 2, 1, 1, 0, 0, 1, 2, 2]
CONCEPTS_H2 = [0, 2, 2, 0, 1, 1, 0, 0, 2, 2]


@pytest.mark.parametrize(
    "func, expected",
    [
        (negative_flip_rate, 2 / 10),
        (positive_flip_rate, 1 / 10),
        (negative_flip_impact, 2 / 4),
        # (2/10) / ((7/10) * (4/10)) = 20 / 28
        (relative_negative_flip_rate, 5 / 7),
    ],
)
def test_flip_metrics_hand_example(func, expected):
    value = func(CONCEPTS_Y, h1_pred=CONCEPTS_H1, h2_pred=CONCEPTS_H2)
    assert value == pytest.approx(expected, rel=1e-15)
    assert type(value) is float


def test_positive_flip_rate_swaps_with_nfr():
    # Swapping the models turns new errors into fixed errors.
    assert positive_flip_rate(Y_TRUE, h1_pred=H2, h2_pred=H1) == negative_flip_rate(
        Y_TRUE, h1_pred=H1, h2_pred=H2
    )


def test_relative_nfr_of_independent_errors_is_one():
    # h1 right on the first half, h2 right on every other sample: errors are
    # independent, so NFR = P(h1 right) * P(h2 wrong) exactly.
    y = np.zeros(8, dtype=int)
    h1 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    h2 = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    assert negative_flip_rate(y, h1_pred=h1, h2_pred=h2) == 0.25
    assert relative_negative_flip_rate(y, h1_pred=h1, h2_pred=h2) == 1.0
    # h2 wrong exactly where h1 was: no new error at all.
    assert relative_negative_flip_rate(y, h1_pred=h1, h2_pred=h1) == 0.0


@pytest.mark.parametrize(
    "func, h1, h2, reason",
    [
        (negative_flip_impact, [0, 1], [0, 1], "h2 (the new model) makes no errors"),
        (relative_negative_flip_rate, [0, 1], [0, 1], "h2 (the new model) makes no"),
        (relative_negative_flip_rate, [1, 0], [0, 0], "h1 (the old model) labels no"),
    ],
)
def test_flip_metrics_zero_division(func, h1, h2, reason):
    y = [0, 1]
    with pytest.warns(UndefinedMetricWarning, match=re.escape(reason)) as record:
        assert func(y, h1_pred=h1, h2_pred=h2) == 0.0
    # The warning points at the caller, not at bcsk.
    assert record[0].filename == __file__
    for value in (0.0, 1.0):
        assert func(y, h1_pred=h1, h2_pred=h2, zero_division=value) == value
    assert math.isnan(func(y, h1_pred=h1, h2_pred=h2, zero_division=np.nan))
    with pytest.raises(ValueError, match="zero_division must be"):
        func(y, h1_pred=h1, h2_pred=h2, zero_division=2)


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            *[st.lists(st.sampled_from([0, 1, "x"]), min_size=n, max_size=n)] * 3
        )
    )
)
def test_flip_metrics_match_python_loop(lists):
    y, h1, h2 = lists
    n = len(y)
    h1_right = [a == t for a, t in zip(h1, y, strict=True)]
    h2_right = [b == t for b, t in zip(h2, y, strict=True)]
    new = sum(a and not b for a, b in zip(h1_right, h2_right, strict=True))
    fixed = sum(b and not a for a, b in zip(h1_right, h2_right, strict=True))
    h2_wrong = n - sum(h2_right)
    kwargs = dict(h1_pred=h1, h2_pred=h2)
    assert negative_flip_rate(y, **kwargs) == pytest.approx(new / n)
    assert positive_flip_rate(y, **kwargs) == pytest.approx(fixed / n)
    nfi = negative_flip_impact(y, zero_division=np.nan, **kwargs)
    rel = relative_negative_flip_rate(y, zero_division=np.nan, **kwargs)
    if h2_wrong:
        assert nfi == pytest.approx(new / h2_wrong)
    else:
        assert math.isnan(nfi)
    if h2_wrong and sum(h1_right):
        assert rel == pytest.approx((new / n) / (sum(h1_right) / n * h2_wrong / n))
    else:
        assert math.isnan(rel)
