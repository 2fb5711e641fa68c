"""Scores and flip metrics of multilabel and multi-output targets, per average.

Every value is checked against an oracle written here in plain NumPy from the
definitions: per (sample, output) cell, h1 and h2 are right or wrong.
"""

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning

from bcsk.metrics import (
    negative_flip_impact,
    negative_flip_rate,
    positive_flip_rate,
    relative_negative_flip_rate,
)
from bcsk.scores import (
    compatibility_counts,
    error_compatibility_score,
    trust_compatibility_score,
)

# Oracle ratios from one block of cells: (h1 right mask, h2 right mask).
ORACLES = {
    "btc": lambda a, b: (a & b).sum() / a.sum(),
    "bec": lambda a, b: (~a & ~b).sum() / (~b).sum(),
    "nfr": lambda a, b: (a & ~b).sum() / a.size,
    "pfr": lambda a, b: (~a & b).sum() / a.size,
    "nfi": lambda a, b: (a & ~b).sum() / (~b).sum(),
    "rnfr": lambda a, b: ((a & ~b).sum() / a.size) / (a.mean() * (~b).mean()),
}


def call(name, y, h1, h2, **kwargs):
    if name == "btc":
        return trust_compatibility_score(h1, h2, y, **kwargs)
    if name == "bec":
        return error_compatibility_score(h1, h2, y, **kwargs)
    function = {
        "nfr": negative_flip_rate,
        "pfr": positive_flip_rate,
        "nfi": negative_flip_impact,
        "rnfr": relative_negative_flip_rate,
    }[name]
    return function(y, h1_pred=h1, h2_pred=h2, **kwargs)


def oracle(name, y, h1, h2, average):
    a, b = h1 == y, h2 == y
    ratio = ORACLES[name]
    if average == "micro":
        return ratio(a, b)
    if average == "samples":
        return np.mean([ratio(a[i], b[i]) for i in range(a.shape[0])])
    per_output = np.array([ratio(a[:, j], b[:, j]) for j in range(a.shape[1])])
    return per_output if average is None else per_output.mean()


@pytest.fixture(scope="module")
def multilabel():
    """A multilabel indicator where every ratio is defined for every unit."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(200, 4))
    flip = lambda p: np.where(rng.random(y.shape) < p, 1 - y, y)  # noqa: E731
    h1, h2 = flip(0.2), flip(0.25)
    # Every sample needs an h1-right and an h2-wrong cell for "samples".
    h1[:, 0], h2[:, 0] = y[:, 0], y[:, 0]
    h2[:, 1] = 1 - y[:, 1]
    return y, h1, h2


@pytest.mark.parametrize("name", sorted(ORACLES))
@pytest.mark.parametrize("average", ["micro", "macro", "samples", None])
def test_multilabel_matches_the_oracle(name, average, multilabel):
    """With zero_division=NaN an undefined output is left out of the mean.

    h2 is never wrong on output 0, so BEC, NFI and the relative NFR are
    undefined there (NaN in the oracle); every other unit is defined.
    """
    y, h1, h2 = multilabel
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = oracle(name, y, h1, h2, None if average == "macro" else average)
    if average == "macro":
        expected = np.nanmean(expected)
    kwargs = {} if name in ("nfr", "pfr") else {"zero_division": np.nan}
    got = call(name, y, h1, h2, average=average, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    if average is None:
        assert got.shape == (y.shape[1],)
    else:
        assert isinstance(got, float)
    if name in ("bec", "nfi", "rnfr") and average is None:
        assert np.isnan(got[0]) and not np.isnan(got[1:]).any()


def test_multiclass_multioutput_counts_every_cell():
    y = np.array([[0, "a"], [1, "b"], [2, "a"]], dtype=object)
    h1 = np.array([[0, "a"], [1, "a"], [0, "a"]], dtype=object)
    h2 = np.array([[0, "b"], [1, "b"], [2, "b"]], dtype=object)
    # Cells: h1 right at (0,0), (0,1), (1,0), (2,1); h2 right at (0,0), (1,0),
    # (1,1), (2,0). New errors (0,1), (2,1); fixed (1,1), (2,0).
    assert compatibility_counts(h1, h2, y) == (2, 2, 2, 0)
    assert trust_compatibility_score(h1, h2, y) == 0.5
    np.testing.assert_array_equal(
        trust_compatibility_score(h1, h2, y, average=None), [1.0, 0.0]
    )
    assert negative_flip_rate(y, h1_pred=h1, h2_pred=h2, average="samples") == (
        np.mean([1 / 2, 0, 1 / 2])
    )


def test_one_label_per_sample_ignores_average():
    y, h1, h2 = [0, 1, 1, 0], [0, 1, 0, 0], [1, 1, 1, 0]
    for average in ("micro", "macro", "samples", None):
        assert trust_compatibility_score(h1, h2, y, average=average) == 2 / 3
        assert negative_flip_rate(y, h1_pred=h1, h2_pred=h2, average=average) == 0.25


def test_undefined_units_warn_once_and_count_as_zero_division():
    y = np.array([[1, 0], [0, 1]])
    h1 = np.array([[0, 0], [1, 1]])  # output 0: h1 never right
    h2 = y.copy()
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 outputs") as record:
        got = trust_compatibility_score(h1, h2, y, average="macro")
    assert len(record) == 1 and record[0].filename == __file__
    assert got == 0.5  # (0 for output 0 + 1) / 2
    assert trust_compatibility_score(h1, h2, y, average="macro", zero_division=1.0) == 1
    assert (
        trust_compatibility_score(h1, h2, y, average="macro", zero_division=np.nan)
        == 1.0
    )
    got = trust_compatibility_score(h1, h2, y, average=None, zero_division=np.nan)
    np.testing.assert_array_equal(got, [np.nan, 1.0])


@pytest.mark.parametrize(
    "arrays, match",
    [
        ((np.zeros((3, 2)), np.zeros((3, 3)), np.zeros((3, 2))), "same shape"),
        ((np.zeros(3), np.zeros((3, 2)), np.zeros((3, 2))), "argmax"),
    ],
)
def test_bad_multi_output_shapes(arrays, match):
    y, h1, h2 = arrays
    with pytest.raises(ValueError, match=match):
        negative_flip_rate(y, h1_pred=h1, h2_pred=h2)
    with pytest.raises(ValueError, match=match):
        trust_compatibility_score(h1, h2, y)


def test_bad_average():
    with pytest.raises(ValueError, match="average must be 'micro'"):
        negative_flip_rate([0], h1_pred=[0], h2_pred=[0], average="weighted")
