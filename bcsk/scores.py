"""Backward compatibility scores between an old model h1 and a new model h2.

Two scores from Srivastava et al. (KDD 2020) say how much an update h1 -> h2
breaks the trust that users placed in h1:

* :func:`trust_compatibility_score` (BTC): the share of h1's correct answers
  that h2 still gets right.
* :func:`error_compatibility_score` (BEC): the share of h2's errors that h1
  made too, that is the probability that a mistake of the new model is not new.

Both are built on :func:`compatibility_counts`, which splits the samples into
the four regions of a 2 x 2 table (h1 right or wrong, h2 right or wrong): both
right, new errors (h1 right, h2 wrong), fixed errors (h1 wrong, h2 right) and
both wrong.

The functions keep BackwardCompatibilityML's positional order ``(h1, h2,
expected)``, so that ported code runs unchanged; :mod:`bcsk.metrics` takes
``y_true`` first and the predictions by keyword.

This module needs NumPy only, so that scoring predictions does not pull in
TensorFlow or scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _docstrings, _labels
from bcsk._labels import RegionCounts

__all__ = [
    "compatibility_counts",
    "error_compatibility_score",
    "trust_compatibility_score",
]

_SCORE_PARAMS = ("h1_output_labels", "h2_output_labels", "expected_labels")


def _correct_masks(
    h1_output_labels: ArrayLike,
    h2_output_labels: ArrayLike,
    expected_labels: ArrayLike,
    names: Sequence[str] = _SCORE_PARAMS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return boolean masks of h1's and h2's correct answers, and the labels.

    Parameters
    ----------
    h1_output_labels, h2_output_labels, expected_labels : array-like
        Labels predicted by h1 and h2, and the true labels.
    names : sequence of str
        Parameter names of the public caller, in the same order as the arrays,
        so that validation errors name what the user actually passed.

    Returns
    -------
    h1_correct, h2_correct : ndarray of bool
        Whether each model's label equals the true label.
    expected : ndarray
        The true labels as a 1-D array.
    """
    h1, h2, expected = _labels.check_label_arrays(
        (h1_output_labels, h2_output_labels, expected_labels), names, multi=True
    )
    return _labels.equal(h1, expected), _labels.equal(h2, expected), expected


def compatibility_counts(
    h1_output_labels: ArrayLike,
    h2_output_labels: ArrayLike,
    expected_labels: ArrayLike,
) -> tuple[int, int, int, int]:
    """Count samples by whether the old model h1 and the new model h2 are right.

    Parameters
    ----------
    h1_output_labels : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the old model h1.
    h2_output_labels : array-like of shape (n_samples,) or (n_samples, 1)
        Labels predicted by the new model h2.
    expected_labels : array-like of shape (n_samples,) or (n_samples, 1)
        True labels. Labels may be of any type (integers, floats, strings,
        booleans or a mix of them); a prediction is correct when it compares
        equal to the true label. A multilabel indicator or multi-output
        target, with all three arrays of shape (n_samples, n_outputs), counts
        every (sample, output) cell once.

    Returns
    -------
    both_right : int
        Samples that h1 and h2 both label correctly.
    new_errors : int
        Samples that h1 labels correctly and h2 gets wrong: the new errors
        (negative flips) that the update introduced.
    fixed_errors : int
        Samples that h1 gets wrong and h2 labels correctly: the errors that
        the update fixed.
    both_wrong : int
        Samples that both models get wrong.

    Raises
    ------
    ValueError
        If an input is not 1-D (or a column vector), or the three inputs do
        not have the same length.

    See Also
    --------
    trust_compatibility_score : Share of h1's correct answers that h2 keeps.
    error_compatibility_score : Share of h2's errors that h1 made too.

    Examples
    --------
    >>> from bcsk.scores import compatibility_counts
    >>> y_true = [0, 1, 1, 0, 2, 2]
    >>> h1_pred = [0, 1, 0, 1, 2, 2]
    >>> h2_pred = [0, 0, 1, 1, 2, 1]
    >>> compatibility_counts(h1_pred, h2_pred, y_true)
    (2, 2, 1, 1)
    """
    h1_correct, h2_correct, _ = _correct_masks(
        h1_output_labels, h2_output_labels, expected_labels
    )
    return tuple(_labels.region_counts(h1_correct, h2_correct))


def _btc_from_counts(counts: RegionCounts, zero_division: str | float) -> float:
    """Compute BTC from the output of :func:`compatibility_counts`."""
    return _labels.divide(
        counts.both_right,
        counts.both_right + counts.new_errors,
        zero_division,
        "Backward trust compatibility (BTC)",
        "h1 (the old model) labels no sample correctly"
        if counts.n_samples
        else "there are no samples",
    )


def _bec_from_counts(counts: RegionCounts, zero_division: str | float) -> float:
    """Compute BEC from the output of :func:`compatibility_counts`."""
    return _labels.divide(
        counts.both_wrong,
        counts.both_wrong + counts.new_errors,
        zero_division,
        "Backward error compatibility (BEC)",
        "h2 (the new model) makes no errors"
        if counts.n_samples
        else "there are no samples",
    )


# The docstring sections BTC and BEC share (see bcsk._docstrings).
_SCORE_DOCS = dict(
    labels="""h1_output_labels : array-like of shape (n_samples,) or (n_samples, 1)
    Labels predicted by the old model h1.
h2_output_labels : array-like of shape (n_samples,) or (n_samples, 1)
    Labels predicted by the new model h2.
expected_labels : array-like of shape (n_samples,) or (n_samples, 1)
    True labels, of any type; a prediction is correct when it compares
    equal to the true label.
average : {"micro", "macro", "samples"} or None, default="micro"
    For a multilabel or multi-output target, arrays of shape (n_samples,
    n_outputs): ``"micro"`` counts every (sample, output) cell once, as one
    decision a user trusts; ``"macro"`` is the mean of the outputs' scores
    (each label counts the same, however rare); ``"samples"`` the mean of
    the samples' scores; ``None`` returns one score per output. Ignored for
    one label per sample.
""",
    raises="""ValueError
    If the inputs are not 1-D (or column vectors), differ in length, or
    ``zero_division`` is not one of the allowed values.
""",
    references=""".. [1] M. Srivastava, B. Nushi, E. Kamar, S. Shah and E. Horvitz, "An
   Empirical Analysis of Backward Compatibility in Machine Learning
   Systems", KDD 2020.
""",
)


def _score(
    from_counts,
    h1_output_labels,
    h2_output_labels,
    expected_labels,
    average,
    zero_division,
) -> float | np.ndarray:
    """BTC or BEC (``from_counts``) of validated labels, averaged as asked."""
    _labels.check_zero_division(zero_division)
    _labels.check_average(average)
    h1_correct, h2_correct, _ = _correct_masks(
        h1_output_labels, h2_output_labels, expected_labels
    )
    return _labels.score_regions(
        from_counts, h1_correct, h2_correct, average, zero_division
    )


@_docstrings.fill(**_SCORE_DOCS)
def trust_compatibility_score(
    h1_output_labels: ArrayLike,
    h2_output_labels: ArrayLike,
    expected_labels: ArrayLike,
    *,
    average: str | None = "micro",
    zero_division: str | float = "warn",
) -> float | np.ndarray:
    """Backward trust compatibility (BTC) of a new model h2 with an old model h1.

    BTC is the share of the samples that h1 labels correctly that h2 also
    labels correctly::

        BTC = #(h1 right and h2 right) / #(h1 right)

    A BTC of 1 means the update keeps every correct answer of h1, so users who
    learned to trust h1 on some inputs are not let down by h2.

    Parameters
    ----------
    %(labels)s
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when h1 labels no sample correctly (including empty
        input), so that the ratio is undefined. "warn" returns 0.0 and emits
        an :class:`sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        BTC in [0, 1], or the ``zero_division`` value when undefined; per
        output with ``average=None`` and a multi-output target.

    Raises
    ------
    %(raises)s

    See Also
    --------
    error_compatibility_score : Share of h2's errors that h1 made too.
    compatibility_counts : The four counts both scores are computed from.

    References
    ----------
    %(references)s

    Examples
    --------
    h1 is right on samples 0, 1, 4 and 5; h2 keeps samples 0 and 4 only:

    >>> from bcsk.scores import trust_compatibility_score
    >>> y_true = [0, 1, 1, 0, 2, 2]
    >>> h1_pred = [0, 1, 0, 1, 2, 2]
    >>> h2_pred = [0, 0, 1, 1, 2, 1]
    >>> trust_compatibility_score(h1_pred, h2_pred, y_true)
    0.5
    """
    return _score(
        _btc_from_counts,
        h1_output_labels,
        h2_output_labels,
        expected_labels,
        average,
        zero_division,
    )


@_docstrings.fill(**_SCORE_DOCS)
def error_compatibility_score(
    h1_output_labels: ArrayLike,
    h2_output_labels: ArrayLike,
    expected_labels: ArrayLike,
    *,
    average: str | None = "micro",
    zero_division: str | float = "warn",
) -> float | np.ndarray:
    """Backward error compatibility (BEC) of a new model h2 with an old model h1.

    BEC is the share of h2's errors that h1 made as well, that is the
    probability that a mistake made by the new model is not new::

        BEC = #(h1 wrong and h2 wrong) / #(h2 wrong)

    A BEC of 1 means h2 makes no mistake that users of h1 have not already
    seen (and perhaps learned to work around).

    Parameters
    ----------
    %(labels)s
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when h2 makes no errors (including empty input), so
        that the ratio is undefined. "warn" returns 0.0 and emits an
        :class:`sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        BEC in [0, 1], or the ``zero_division`` value when undefined; per
        output with ``average=None`` and a multi-output target.

    Raises
    ------
    %(raises)s

    See Also
    --------
    trust_compatibility_score : Share of h1's correct answers that h2 keeps.
    compatibility_counts : The four counts both scores are computed from.

    Notes
    -----
    bcsk divides by the number of **h2's** errors, as the definition in the
    BackwardCompatibilityML documentation and in Srivastava et al. [1]_ does.
    The BackwardCompatibilityML code (``error_compatibility_score`` in
    ``backwardcompatibilityml.scores``) divides by the number of **h1's**
    errors instead, so the two give different values whenever h1 and h2 make
    different numbers of errors. In the example below h1 makes 2 errors and
    h2 makes 3, one of them shared: bcsk gives 1/3, the BackwardCompatibilityML
    code gives 1/2.

    References
    ----------
    %(references)s

    Examples
    --------
    h2 is wrong on samples 1, 3 and 5; h1 was wrong on sample 3 too:

    >>> from bcsk.scores import error_compatibility_score
    >>> y_true = [0, 1, 1, 0, 2, 2]
    >>> h1_pred = [0, 1, 0, 1, 2, 2]
    >>> h2_pred = [0, 0, 1, 1, 2, 1]
    >>> error_compatibility_score(h1_pred, h2_pred, y_true)
    0.3333333333333333

    A perfect h2 makes no errors, so BEC is undefined:

    >>> error_compatibility_score(h1_pred, y_true, y_true, zero_division=1.0)
    1.0
    """
    return _score(
        _bec_from_counts,
        h1_output_labels,
        h2_output_labels,
        expected_labels,
        average,
        zero_division,
    )
