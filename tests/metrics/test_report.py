"""compatibility_report of multilabel and multi-output targets, per average.

The oracle below is written from the definitions in plain NumPy: per
(sample, output) cell, h1 and h2 are right or wrong; a ratio of a block of
cells is a count over another count; "macro" averages the outputs' ratios,
"samples" the samples' ratios. It calls nothing of bcsk.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
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

AVERAGES = ["micro", "macro", "samples", None]

# (numerator, denominator) of each ratio from one block of cells, given the
# masks a (h1 right) and b (h2 right).
FRACTIONS = {
    "h1_accuracy": lambda a, b: (a.sum(), a.size),
    "h2_accuracy": lambda a, b: (b.sum(), b.size),
    "btc": lambda a, b: ((a & b).sum(), a.sum()),
    "bec": lambda a, b: ((~a & ~b).sum(), (~b).sum()),
    "negative_flip_rate": lambda a, b: ((a & ~b).sum(), a.size),
    "positive_flip_rate": lambda a, b: ((~a & b).sum(), a.size),
    "negative_flip_impact": lambda a, b: ((a & ~b).sum(), (~b).sum()),
    # NFR / (acc1 * err2) = new * n / (h1 right * h2 wrong)
    "relative_negative_flip_rate": lambda a, b: (
        (a & ~b).sum() * a.size,
        a.sum() * (~b).sum(),
    ),
}
RATIOS = list(FRACTIONS)


def oracle_ratio(name, a, b, average, zero_division):
    """The ratio ``name`` of the masks, averaged; undefined blocks as sklearn."""

    def one(block_a, block_b):
        num, den = FRACTIONS[name](block_a, block_b)
        return num / den if den else zero_division

    if average == "micro":
        return one(a, b)
    if average == "samples":
        values = np.array([one(a[i], b[i]) for i in range(a.shape[0])])
    else:
        values = np.array([one(a[:, j], b[:, j]) for j in range(a.shape[1])])
    if average is None:
        return values
    return np.nan if np.isnan(values).all() else np.nanmean(values)


def oracle_report(y, h1, h2, average, zero_division):
    a, b = h1 == y, h2 == y
    expected = {
        "n_samples": y.shape[0],
        "n_outputs": y.shape[1],
        "both_right": int((a & b).sum()),
        "new_errors": int((a & ~b).sum()),
        "fixed_errors": int((~a & b).sum()),
        "both_wrong": int((~a & ~b).sum()),
        "new_errors_per_class": {
            j: int((a[:, j] & ~b[:, j]).sum()) for j in range(y.shape[1])
        },
    }
    for name in RATIOS:
        expected[name] = oracle_ratio(name, a, b, average, zero_division)
    return expected


def standalone(name, y, h1, h2, average, zero_division):
    """The function of bcsk that computes the field ``name`` on its own."""
    if name == "btc":
        return trust_compatibility_score(
            h1, h2, y, average=average, zero_division=zero_division
        )
    if name == "bec":
        return error_compatibility_score(
            h1, h2, y, average=average, zero_division=zero_division
        )
    function, kwargs = {
        "negative_flip_rate": (negative_flip_rate, {}),
        "positive_flip_rate": (positive_flip_rate, {}),
        "negative_flip_impact": (
            negative_flip_impact,
            {"zero_division": zero_division},
        ),
        "relative_negative_flip_rate": (
            relative_negative_flip_rate,
            {"zero_division": zero_division},
        ),
    }[name]
    return function(y, h1_pred=h1, h2_pred=h2, average=average, **kwargs)


def multilabel_data():
    """A multilabel indicator where h2 is never wrong on label 0.

    So BEC, NFI and the relative NFR are undefined for label 0 and for
    some samples: zero_division matters for "macro", "samples" and None.
    """
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=(60, 4))
    h1 = np.where(rng.random(y.shape) < 0.2, 1 - y, y)
    h2 = np.where(rng.random(y.shape) < 0.3, 1 - y, y)
    h2[:, 0] = y[:, 0]
    return y, h1, h2


def multioutput_data():
    """Multiclass-multioutput: 3 outputs with 3 classes each, one of strings."""
    rng = np.random.default_rng(11)
    n = 50
    y = np.empty((n, 3), dtype=object)
    y[:, 0] = rng.integers(0, 3, n)
    y[:, 1] = rng.choice(["cat", "dog", "bird"], n)
    y[:, 2] = rng.integers(0, 3, n)
    h1, h2 = y.copy(), y.copy()
    for pred, p in ((h1, 0.3), (h2, 0.4)):
        for j, choices in enumerate(([0, 1, 2], ["cat", "dog", "bird"], [0, 1, 2])):
            wrong = rng.random(n) < p
            pred[wrong, j] = rng.choice(choices, wrong.sum())
    return y, h1, h2


DATA = {"multilabel": multilabel_data(), "multioutput": multioutput_data()}


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
@pytest.mark.parametrize("average", AVERAGES)
def test_report_matches_the_oracle(data, average, zero_division):
    y, h1, h2 = DATA[data]
    report = compatibility_report(
        y, h1_pred=h1, h2_pred=h2, average=average, zero_division=zero_division
    )
    expected = oracle_report(y, h1, h2, average, zero_division)
    for name in ("n_samples", "n_outputs", "both_right", "new_errors"):
        assert getattr(report, name) == expected[name], name
    for name in ("fixed_errors", "both_wrong", "new_errors_per_class"):
        assert getattr(report, name) == expected[name], name
    assert report.average == average
    for name in RATIOS:
        got = getattr(report, name)
        np.testing.assert_allclose(got, expected[name], rtol=1e-12, err_msg=name)
        if average is None:
            assert isinstance(got, np.ndarray) and got.shape == (y.shape[1],)
        else:
            assert isinstance(got, float), name
    # The counts split cells, not samples.
    assert (
        report.both_right + report.new_errors + report.fixed_errors
        + report.both_wrong
    ) == y.size  # fmt: skip


def test_the_data_has_undefined_units():
    """Without undefined outputs and samples the zero_division cases test nothing."""
    y, h1, h2 = DATA["multilabel"]
    per_output = compatibility_report(
        y, h1_pred=h1, h2_pred=h2, average=None, zero_division=np.nan
    )
    assert np.isnan(per_output.bec[0]) and not np.isnan(per_output.bec[1:]).any()
    by_zero = [
        compatibility_report(
            y, h1_pred=h1, h2_pred=h2, average="samples", zero_division=value
        ).bec
        for value in (0.0, 1.0)
    ]
    assert by_zero[0] < by_zero[1]


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
@pytest.mark.parametrize("average", AVERAGES)
def test_every_ratio_equals_its_standalone_function(data, average, zero_division):
    y, h1, h2 = DATA[data]
    report = compatibility_report(
        y, h1_pred=h1, h2_pred=h2, average=average, zero_division=zero_division
    )
    for name in RATIOS[2:]:  # the accuracies have no function of their own
        got = getattr(report, name)
        expected = standalone(name, y, h1, h2, average, zero_division)
        if average is None:
            # Exactly, NaN where the function gives NaN.
            np.testing.assert_array_equal(got, expected, err_msg=name)
        else:
            assert got == expected or (math.isnan(got) and math.isnan(expected)), name


def test_accuracies_per_output_and_per_cell():
    y, h1, h2 = DATA["multioutput"]
    per_output = compatibility_report(y, h1_pred=h1, h2_pred=h2, average=None)
    np.testing.assert_array_equal(per_output.h1_accuracy, (h1 == y).mean(axis=0))
    np.testing.assert_array_equal(per_output.h2_accuracy, (h2 == y).mean(axis=0))
    for average in ("micro", "macro", "samples"):
        report = compatibility_report(
            y, h1_pred=h1, h2_pred=h2, average=average, zero_division=np.nan
        )
        # Every output has n_samples cells and every sample n_outputs, so the
        # means over outputs or samples are the share of right cells.
        assert report.h1_accuracy == (h1 == y).sum() / y.size
        assert report.h2_accuracy == (h2 == y).sum() / y.size


# Hand-worked multiclass-multioutput example, 4 samples x 2 outputs:
#
#   output 0: y 0 1 2 1, h1 0 1 0 1 (right T T F T), h2 0 1 2 0 (T T T F)
#             -> both right s0 s1, fixed s2, new s3
#   output 1: y a b a b, h1 a a a b (T F T T), h2 b b b b (F T F T)
#             -> new s0 s2, fixed s1, both right s3
#
#   cells: both right 3, new 3, fixed 2, both wrong 0 (of 8).
#   micro: h1 acc 6/8, h2 acc 5/8, BTC 3/6, BEC 0/3, NFR 3/8, PFR 2/8,
#          NFI 3/3, relative NFR 3 * 8 / (6 * 3) = 4/3.
#   output 0: h1 3/4, h2 3/4, BTC 2/3, BEC 0/1, NFR 1/4, PFR 1/4, NFI 1/1,
#             relative NFR 1 * 4 / (3 * 1) = 4/3.
#   output 1: h1 3/4, h2 2/4, BTC 1/3, BEC 0/2, NFR 2/4, PFR 1/4, NFI 2/2,
#             relative NFR 2 * 4 / (3 * 2) = 4/3.
#   sample 1: h2 right on both outputs, so its BEC, NFI and relative NFR
#             are undefined.
Y = np.array([[0, "a"], [1, "b"], [2, "a"], [1, "b"]], dtype=object)
H1 = np.array([[0, "a"], [1, "a"], [0, "a"], [1, "b"]], dtype=object)
H2 = np.array([[0, "b"], [1, "b"], [2, "b"], [0, "b"]], dtype=object)


def test_hand_example_micro():
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2)
    assert report == CompatibilityReport(
        n_samples=4,
        both_right=3,
        new_errors=3,
        fixed_errors=2,
        both_wrong=0,
        h1_accuracy=0.75,
        h2_accuracy=0.625,
        btc=0.5,
        bec=0.0,
        negative_flip_rate=0.375,
        positive_flip_rate=0.25,
        negative_flip_impact=1.0,
        relative_negative_flip_rate=pytest.approx(4 / 3),
        new_errors_per_class={0: 1, 1: 2},
        n_outputs=2,
        average="micro",
    )


def test_hand_example_per_output():
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2, average=None)
    np.testing.assert_allclose(report.btc, [2 / 3, 1 / 3])
    np.testing.assert_array_equal(report.bec, [0.0, 0.0])
    np.testing.assert_array_equal(report.negative_flip_rate, [0.25, 0.5])
    np.testing.assert_array_equal(report.h2_accuracy, [0.75, 0.5])
    np.testing.assert_allclose(report.relative_negative_flip_rate, [4 / 3, 4 / 3])


def test_print_micro_report():
    text = str(compatibility_report(Y, h1_pred=H1, h2_pred=H2))
    assert text.splitlines() == [
        "Backward compatibility report: h1 (old model) -> h2 (new model)",
        "4 samples x 2 outputs, average='micro'",
        "",
        "              cells   share",
        "both right        3   37.5%",
        "new errors        3   37.5%   h1 right, h2 wrong (negative flips)",
        "fixed errors      2   25.0%   h1 wrong, h2 right (positive flips)",
        "both wrong        0    0.0%",
        "",
        "h1 accuracy   0.7500   old model",
        "h2 accuracy   0.6250   new model",
        "BTC           0.5000   share of h1's correct answers that h2 keeps",
        "BEC           0.0000   share of h2's errors that h1 made too",
        "NFR           0.3750   negative flip rate = new errors / cells",
        "PFR           0.2500   positive flip rate = fixed errors / cells",
        "NFI           1.0000   negative flip impact = new errors / h2's errors",
        "relative NFR  1.3333   NFR / (h1 accuracy x h2 error rate)",
        "",
        "New errors by output",
        "output  new errors",
        "     0           1",
        "     1           2",
    ]


def test_print_per_output_report():
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2, average=None)
    lines = str(report).splitlines()
    assert lines[1] == "4 samples x 2 outputs, average=None"
    start = lines.index("output  h1 acc  h2 acc     BTC     BEC     NFR     PFR"
                        "     NFI  rel NFR")  # fmt: skip
    assert lines[start + 1 : start + 3] == [
        "     0  0.7500  0.7500  0.6667  0.0000  0.2500  0.2500  1.0000   1.3333",
        "     1  0.7500  0.5000  0.3333  0.0000  0.5000  0.2500  1.0000   1.3333",
    ]
    # Each value once per output, not an averaged row.
    assert not any(line.startswith("BTC ") for line in lines)


def test_print_names_the_average_and_undefined_values():
    report = compatibility_report(
        Y, h1_pred=H1, h2_pred=H2, average="samples", zero_division=np.nan
    )
    text = str(report)
    assert "4 samples x 2 outputs, average='samples'" in text
    # Sample 1's BEC is left out of the mean: the mean of 0, 0, 0.
    assert "BEC           0.0000" in text
    # h2 is never wrong: BEC, NFI and the relative NFR are undefined for both
    # outputs, and the rows say nan rather than a made-up number.
    per_output = compatibility_report(
        Y, h1_pred=H1, h2_pred=Y, average=None, zero_division=np.nan
    )
    assert (
        "     1  0.7500  1.0000  1.0000     nan  0.0000  0.2500     nan      nan"
        in str(per_output).splitlines()
    )


def test_samples_average_leaves_undefined_samples_out_with_nan():
    report = compatibility_report(
        Y, h1_pred=H1, h2_pred=H2, average="samples", zero_division=np.nan
    )
    # NFI per sample: s0 1/1, s1 undefined, s2 1/1, s3 1/1.
    assert report.negative_flip_impact == 1.0
    report = compatibility_report(
        Y, h1_pred=H1, h2_pred=H2, average="samples", zero_division=0.0
    )
    assert report.negative_flip_impact == 0.75


def test_a_label_h1_never_gets_right_warns_at_the_caller():
    y = np.array([[1, 0], [0, 1], [1, 1]])
    h1 = np.array([[0, 0], [1, 1], [0, 1]])  # label 0: h1 never right
    h2 = np.array([[1, 1], [1, 1], [1, 1]])
    # Label 1: h1 right on all 3, h2 keeps samples 1 and 2: BTC 2/3.
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 outputs") as record:
        report = compatibility_report(y, h1_pred=h1, h2_pred=h2, average="macro")
    assert all(w.filename == __file__ for w in record)
    assert report.btc == pytest.approx((0.0 + 2 / 3) / 2)
    report = compatibility_report(
        y, h1_pred=h1, h2_pred=h2, average="macro", zero_division=1.0
    )
    assert report.btc == pytest.approx((1.0 + 2 / 3) / 2)
    report = compatibility_report(
        y, h1_pred=h1, h2_pred=h2, average=None, zero_division=np.nan
    )
    assert math.isnan(report.btc[0]) and report.btc[1] == pytest.approx(2 / 3)
    assert math.isnan(report.relative_negative_flip_rate[0])
    # micro is defined: h1 is right on 3 cells, h2 keeps 2 of them.
    report = compatibility_report(y, h1_pred=h1, h2_pred=h2, zero_division=np.nan)
    assert report.btc == pytest.approx(2 / 3)


def test_h1_never_right_at_all_warns_with_the_score_name():
    y = np.array([[1, 0], [0, 1]])
    with pytest.warns(UndefinedMetricWarning) as record:
        report = compatibility_report(y, h1_pred=1 - y, h2_pred=y)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("Backward trust compatibility (BTC)") for m in messages)
    assert all(w.filename == __file__ for w in record)
    assert report.btc == 0.0 and report.positive_flip_rate == 1.0


@pytest.mark.parametrize("average", AVERAGES)
def test_one_label_per_sample_ignores_average(average):
    y, h1, h2 = [0, 1, 1, 0, 2, 2], [0, 1, 0, 1, 2, 2], [0, 0, 1, 1, 2, 1]
    report = compatibility_report(y, h1_pred=h1, h2_pred=h2, average=average)
    assert report == compatibility_report(y, h1_pred=h1, h2_pred=h2)
    assert report.average == "micro" and report.n_outputs == 1
    assert report.btc == trust_compatibility_score(h1, h2, y, average=average)
    assert report.negative_flip_rate == negative_flip_rate(
        y, h1_pred=h1, h2_pred=h2, average=average
    )
    assert isinstance(report.btc, float)
    assert "average" not in report.to_dict()
    # A column vector is one label per sample too.
    column = compatibility_report(
        np.array(y)[:, None], h1_pred=h1, h2_pred=h2, average=average
    )
    assert column.n_outputs == 1 and column == report


@pytest.mark.parametrize(
    "arrays, match",
    [
        (
            (np.zeros((3, 2)), np.zeros((3, 3)), np.zeros((3, 2))),
            r"y_true, h1_pred and h2_pred must have the same shape \(n_samples, "
            r"n_outputs\).*got shapes y_true \(3, 2\), h1_pred \(3, 3\), "
            r"h2_pred \(3, 2\)\.",
        ),
        (
            (np.zeros(3), np.zeros((3, 2)), np.zeros((3, 2))),
            r"argmax\(axis=1\) instead\. A multilabel or multi-output target "
            r"needs all three of shape \(n_samples, n_outputs\)\.",
        ),
        (
            (np.zeros((3, 2, 2)),) * 3,
            r"must each hold one label per sample.*got shapes y_true \(3, 2, 2\)",
        ),
        (
            (np.zeros((0, 2)),) * 3,
            "compatibility_report needs at least one sample",
        ),
    ],
)
def test_bad_shapes(arrays, match):
    y, h1, h2 = arrays
    with pytest.raises(ValueError, match=match):
        compatibility_report(y, h1_pred=h1, h2_pred=h2)


@pytest.mark.parametrize("average", ["weighted", "binary", "MICRO", 1])
@pytest.mark.parametrize("y", [Y, [0, 1]], ids=["2-D", "1-D"])
def test_bad_average(average, y):
    # Refused for one label per sample too, as the standalone metrics do.
    with pytest.raises(
        ValueError,
        match=rf"average must be 'micro', 'macro', 'samples' or None; got "
        rf"{average!r}\.",
    ):
        compatibility_report(y, h1_pred=y, h2_pred=y, average=average)


def test_labels_are_output_indices():
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2, labels=[1, 0])
    assert list(report.new_errors_per_class.items()) == [(1, 2), (0, 1)]
    report = compatibility_report(Y, h1_pred=H1, h2_pred=H2, labels=np.array([1]))
    assert report.new_errors_per_class == {1: 2}
    assert all(type(k) is int for k in report.new_errors_per_class)
    # Outputs not listed still count in every total and average.
    assert report.new_errors == 3 and report.btc == 0.5


@pytest.mark.parametrize("labels", [[2], [-1], ["a"], [True], [0.5]])
def test_labels_must_be_column_indices(labels):
    with pytest.raises(
        ValueError,
        match=r"labels are the column indices of the outputs to list in "
        r"new_errors_per_class, integers in \[0, 2\); got ",
    ):
        compatibility_report(Y, h1_pred=H1, h2_pred=H2, labels=labels)


def test_duplicate_output_labels_are_refused():
    with pytest.raises(ValueError, match=r"must not repeat a label"):
        compatibility_report(Y, h1_pred=H1, h2_pred=H2, labels=[0, 0])


@pytest.mark.parametrize("average", AVERAGES)
def test_to_dict_is_json_ready(average):
    report = compatibility_report(
        Y, h1_pred=H1, h2_pred=H2, average=average, zero_division=np.nan
    )
    as_dict = report.to_dict()
    names = {f.name for f in dataclasses.fields(CompatibilityReport)}
    assert set(as_dict) == names | {"average"}
    assert as_dict["average"] == average and as_dict["n_outputs"] == 2
    if average is None:
        assert as_dict["btc"] == report.btc.tolist()
        assert all(type(v) is float for v in as_dict["btc"])
    # json.dumps refuses ndarrays: the round trip proves there are none left.
    back = json.loads(json.dumps(as_dict))
    assert back["new_errors_per_class"] == {"0": 1, "1": 2}
    assert back["negative_flip_rate"] == as_dict["negative_flip_rate"]


@pytest.mark.parametrize("zero_division", [0.0, np.nan])
def test_per_output_reports_compare_and_hash(zero_division):
    def build(average=None):
        return compatibility_report(
            Y, h1_pred=H1, h2_pred=H2, average=average, zero_division=zero_division
        )

    report = build()
    assert report == report
    assert hash(report) == hash(report)
    if not math.isnan(zero_division):
        assert report == build() and hash(report) == hash(build())
    assert report != build("micro")
    # Same values as "macro" here, but a different average: not the same report.
    assert build("macro") != build("micro")
    assert build("macro") == build("macro")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.average = "micro"
