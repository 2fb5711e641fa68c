import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning

from bcsk.scores import (
    compatibility_counts,
    error_compatibility_score,
    trust_compatibility_score,
)

# Hand-worked example used throughout:
#
#   sample     0  1  2  3  4  5
#   y_true     0  1  1  0  2  2
#   h1         0  1  0  1  2  2   -> right on 0, 1, 4, 5 (4 right, 2 wrong)
#   h2         0  0  1  1  2  1   -> right on 0, 2, 4    (3 right, 3 wrong)
#
#   both right: 0, 4        -> 2
#   new errors: 1, 5        -> 2 (h1 right, h2 wrong)
#   fixed errors: 2         -> 1 (h1 wrong, h2 right)
#   both wrong: 3           -> 1
#
#   BTC = both right / h1 right = 2 / 4 = 0.5
#   BEC = both wrong / h2 wrong = 1 / 3   (BCML's code would give 1 / 2)
Y_TRUE = [0, 1, 1, 0, 2, 2]
H1 = [0, 1, 0, 1, 2, 2]
H2 = [0, 0, 1, 1, 2, 1]

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_counts_hand_example():
    assert compatibility_counts(H1, H2, Y_TRUE) == (2, 2, 1, 1)


def test_counts_are_python_ints():
    counts = compatibility_counts(np.array(H1), np.array(H2), np.array(Y_TRUE))
    assert all(type(c) is int for c in counts)


def test_btc_hand_example():
    score = trust_compatibility_score(H1, H2, Y_TRUE)
    assert score == 0.5
    assert type(score) is float


def test_bec_divides_by_h2_errors():
    score = error_compatibility_score(H1, H2, Y_TRUE)
    assert score == pytest.approx(1 / 3)
    assert type(score) is float
    # Swapping the models gives the BCML-code value: h1's errors are now the
    # denominator (2 of them, 1 shared).
    assert error_compatibility_score(H2, H1, Y_TRUE) == pytest.approx(1 / 2)


def test_positional_argument_order():
    # h1 first, h2 second, expected last: swapping h1 and h2 changes BTC from
    # 2/4 (h1 right 4 times) to 2/3 (h2 right 3 times).
    assert trust_compatibility_score(H2, H1, Y_TRUE) == pytest.approx(2 / 3)


def test_identical_models_are_fully_compatible():
    assert trust_compatibility_score(H1, H1, Y_TRUE) == 1.0
    assert error_compatibility_score(H1, H1, Y_TRUE) == 1.0


def test_string_labels():
    # y: cat dog bird cat; h1 right on 0, 1, 3; h2 right on 0, 2.
    # both right {0}; new errors {1, 3}; fixed errors {2}; both wrong {}.
    y = ["cat", "dog", "bird", "cat"]
    h1 = ["cat", "dog", "dog", "cat"]
    h2 = ["cat", "cat", "bird", "dog"]
    assert compatibility_counts(h1, h2, y) == (1, 2, 1, 0)
    assert trust_compatibility_score(h1, h2, y) == pytest.approx(1 / 3)
    assert error_compatibility_score(h1, h2, y) == 0.0


def test_mixed_label_types_compare_like_python():
    # 1 and "1" are different labels; 1, 1.0 and True are equal in Python.
    y = [1, "a", None, 2.0]
    h1 = ["1", "a", None, 2]
    h2 = [1, "a", "None", 2.0]
    # h1 right on 1, 2, 3; h2 right on 0, 1, 3.
    assert compatibility_counts(h1, h2, y) == (2, 1, 1, 0)
    assert compatibility_counts([True, 2], [1.0, 3], np.array([1, 2])) == (1, 1, 0, 0)


def test_mixed_list_is_not_coerced_to_strings():
    # np.asarray([1, "a"]) would turn 1 into "1" and then match the string.
    y = np.array([1, "a"], dtype=object)
    assert compatibility_counts([1, "a"], ["1", "a"], y) == (1, 1, 0, 0)


def test_accepts_tuples_arrays_and_bools():
    y = (True, False, True)
    assert compatibility_counts(np.array([True, True, True]), y, y) == (2, 0, 1, 0)


def test_column_vectors_are_ravelled():
    column = np.array(H1).reshape(-1, 1)
    assert trust_compatibility_score(column, np.array(H2)[:, None], Y_TRUE) == 0.5
    assert compatibility_counts([[0], [1]], [0, 1], [[0], [0]]) == (1, 0, 0, 1)


def test_length_mismatch_names_all_lengths():
    with pytest.raises(
        ValueError,
        match=r"same number of samples; got lengths h1_output_labels=3, "
        r"h2_output_labels=2, expected_labels=2\.",
    ):
        trust_compatibility_score([0, 1, 2], [0, 1], [0, 1])


@pytest.mark.parametrize(
    "bad, shape",
    [
        (np.zeros((3, 2)), r"\(3, 2\)"),
        (np.zeros((3, 1, 1)), r"\(3, 1, 1\)"),
        (np.int64(3), r"\(\)"),
    ],
)
def test_non_1d_input_is_rejected(bad, shape):
    message = rf"one label per sample.*got shapes h1_output_labels {shape}"
    with pytest.raises(ValueError, match=message):
        error_compatibility_score(bad, [0, 1, 2], [0, 1, 2])


def test_probability_matrix_hint():
    with pytest.raises(ValueError, match=r"argmax\(axis=1\)"):
        compatibility_counts([0, 1], [[0.2, 0.8], [0.9, 0.1]], [0, 1])


H1_NEVER_RIGHT = r"BTC\) is ill-defined .* h1 \(the old model\) labels no sample"
H2_NEVER_WRONG = r"BEC\) is ill-defined .* h2 \(the new model\) makes no errors"


@pytest.mark.parametrize(
    "score, reason, h1, h2, y",
    [
        # h1 is never right: BTC's denominator #(h1 right) is 0.
        (trust_compatibility_score, H1_NEVER_RIGHT, [1, 1], [0, 1], [0, 0]),
        # h2 is never wrong: BEC's denominator #(h2 wrong) is 0.
        (error_compatibility_score, H2_NEVER_WRONG, [1, 1], [0, 0], [0, 0]),
        (trust_compatibility_score, "there are no samples", [], [], []),
        (error_compatibility_score, "there are no samples", [], [], []),
    ],
)
def test_zero_division(score, reason, h1, h2, y):
    with pytest.warns(UndefinedMetricWarning, match=reason) as record:
        assert score(h1, h2, y) == 0.0
    assert "zero_division" in str(record[0].message)
    # The warning points at the caller, not at bcsk internals.
    assert record[0].filename == __file__

    for value in (0.0, 1.0, 0, 1):
        result = score(h1, h2, y, zero_division=value)
        assert result == value
        assert type(result) is float
    assert math.isnan(score(h1, h2, y, zero_division=np.nan))


def test_zero_division_silent_when_defined():
    # No warning (warnings are errors under pytest) when the denominator > 0.
    assert trust_compatibility_score(H1, H2, Y_TRUE, zero_division="warn") == 0.5


@pytest.mark.parametrize("bad", ["ignore", 0.5, -1, True, None, "0"])
def test_invalid_zero_division(bad):
    message = r"zero_division must be 'warn', 0\.0, 1\.0 or np\.nan; got"
    with pytest.raises(ValueError, match=message):
        trust_compatibility_score(H1, H2, Y_TRUE, zero_division=bad)
    with pytest.raises(ValueError, match="zero_division"):
        error_compatibility_score(H1, H2, Y_TRUE, zero_division=bad)


def test_zero_division_is_keyword_only():
    with pytest.raises(TypeError):
        trust_compatibility_score(H1, H2, Y_TRUE, 1.0)


def _reference(h1, h2, y):
    """Plain-Python reference: loop over samples and apply the definitions."""
    h1_right = h2_right = both_right = both_wrong = h2_wrong = 0
    for a, b, t in zip(h1, h2, y, strict=True):
        h1_right += a == t
        h2_right += b == t
        both_right += a == t and b == t
        both_wrong += a != t and b != t
        h2_wrong += b != t
    btc = both_right / h1_right if h1_right else math.nan
    bec = both_wrong / h2_wrong if h2_wrong else math.nan
    return btc, bec


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


# "a\x00" would equal "a" after np.asarray (NumPy strips trailing NULs).
STRINGS = ["a", "b", "c", "a\x00", ""]
label_lists = st.one_of(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(*[st.lists(st.integers(-2, 2), min_size=n, max_size=n)] * 3)
    ),
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            *[st.lists(st.sampled_from(STRINGS), min_size=n, max_size=n)] * 3
        )
    ),
    st.integers(1, 20).flatmap(
        lambda n: st.tuples(
            *[
                st.lists(
                    st.text(alphabet="ab\x00é ", max_size=2), min_size=n, max_size=n
                )
            ]
            * 3
        )
    ),
)


@given(label_lists)
def test_scores_match_python_loop(lists):
    h1, h2, y = lists
    btc, bec = _reference(h1, h2, y)
    assert _same(trust_compatibility_score(h1, h2, y, zero_division=np.nan), btc)
    assert _same(error_compatibility_score(h1, h2, y, zero_division=np.nan), bec)
    both, new, fixed, wrong = compatibility_counts(h1, h2, y)
    assert both + new + fixed + wrong == len(y)


@given(label_lists)
def test_array_and_list_inputs_agree(lists):
    h1, h2, y = lists
    as_arrays = [np.array(v) for v in lists]
    # NumPy strips trailing NUL characters from fixed-width strings, so only
    # compare when the array kept every label intact.
    if all(a.tolist() == v for a, v in zip(as_arrays, lists, strict=True)):
        assert compatibility_counts(*as_arrays) == compatibility_counts(h1, h2, y)


def test_importing_scores_plotting_does_not_import_tensorflow():
    code = (
        "import sys, bcsk.scores, bcsk.metrics, bcsk.plotting; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
        "assert 'keras' not in sys.modules, 'keras imported'; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
