"""How an update h1 -> h2 changes a classifier's answers: the flip rates.

The metrics of the model-update literature, for an old model h1 and a new
model h2 scored on the same labelled samples:

* :func:`negative_flip_rate` (NFR): the share of samples h1 gets right and h2
  gets wrong, the *new errors* (negative flips);
* :func:`positive_flip_rate` (PFR): the share of samples h1 gets wrong and h2
  gets right, the *fixed errors*;
* :func:`negative_flip_impact` (NFI): the share of h2's errors that are new;
* :func:`relative_negative_flip_rate`: NFR divided by the NFR two models with
  these error rates would have if their errors were independent (Yan et al.,
  CVPR 2021).

Every function takes the true labels first and both models' predictions by
keyword (``h1_pred=``, ``h2_pred=``), so that swapping the models cannot go
unnoticed. This module needs NumPy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bcsk import _docstrings, _labels
from bcsk._labels import RegionCounts

__all__ = [
    "negative_flip_impact",
    "negative_flip_rate",
    "positive_flip_rate",
    "relative_negative_flip_rate",
]

_PARAMS = ("y_true", "h1_pred", "h2_pred")


def _check(
    y_true: ArrayLike,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    caller: str,
    multi: bool = False,
) -> list[np.ndarray]:
    """Validate the three label arrays (not empty); 1-D, or 2-D with ``multi``."""
    arrays = _labels.check_label_arrays(
        (y_true, h1_pred, h2_pred), _PARAMS, multi=multi
    )
    if arrays[0].shape[0] == 0:
        raise ValueError(
            f"{caller} needs at least one sample; y_true, h1_pred and h2_pred "
            "are empty."
        )
    return arrays


def _score(
    from_counts, y_true, h1_pred, h2_pred, caller, average, zero_division=0.0
) -> float | np.ndarray:
    """A metric of validated, non-empty inputs, averaged as ``average`` says.

    ``from_counts(counts, zero_division)`` computes it from the region counts.
    """
    _labels.check_average(average)
    y, h1, h2 = _check(y_true, h1_pred, h2_pred, caller, multi=True)
    h1_correct, h2_correct = _labels.equal(h1, y), _labels.equal(h2, y)
    return _labels.score_regions(
        from_counts, h1_correct, h2_correct, average, zero_division
    )


# Each metric once, from the counts: the public functions, the report and the
# scorers (bcsk.metrics._scorer) all call these.


# NFR and PFR are defined for any non-empty input; ``zero_division`` is taken
# so that every metric has one signature.
def _nfr_from_counts(counts: RegionCounts, zero_division: str | float = 0.0) -> float:
    return counts.new_errors / counts.n_samples


def _pfr_from_counts(counts: RegionCounts, zero_division: str | float = 0.0) -> float:
    return counts.fixed_errors / counts.n_samples


def _nfi_from_counts(counts: RegionCounts, zero_division: str | float) -> float:
    return _labels.divide(
        counts.new_errors,
        counts.new_errors + counts.both_wrong,
        zero_division,
        "Negative flip impact (NFI)",
        "h2 (the new model) makes no errors",
    )


def _relative_nfr_from_counts(
    counts: RegionCounts, zero_division: str | float
) -> float:
    # NFR / ((1 - err_h1) * err_h2) = (new / n) / ((h1 right / n) * (h2 wrong / n))
    #                              = new * n / (h1 right * h2 wrong), in integers.
    h1_right = counts.both_right + counts.new_errors
    h2_wrong = counts.new_errors + counts.both_wrong
    return _labels.divide(
        counts.new_errors * counts.n_samples,
        h1_right * h2_wrong,
        zero_division,
        "Relative negative flip rate",
        "h1 (the old model) labels no sample correctly"
        if h1_right == 0
        else "h2 (the new model) makes no errors",
    )


# The docstring sections the flip metrics share (see bcsk._docstrings).
_FLIP_DOCS = dict(
    labels="""y_true : array-like of shape (n_samples,) or (n_samples, 1)
    True labels, of any type.
h1_pred : array-like of shape (n_samples,) or (n_samples, 1)
    Labels predicted by the old model h1. Keyword-only.
h2_pred : array-like of shape (n_samples,) or (n_samples, 1)
    Labels predicted by the new model h2. Keyword-only.
average : {"micro", "macro", "samples"} or None, default="micro"
    For a multilabel or multi-output target, all three arrays of shape
    (n_samples, n_outputs): ``"micro"`` counts every (sample, output) cell
    once; ``"macro"`` is the mean of the outputs' values, ``"samples"`` the
    mean of the samples' values, ``None`` one value per output. Ignored for
    one label per sample. See :ref:`multi-output-averages`.
""",
    raises="""ValueError
    If the inputs are empty, not 1-D (or column vectors), or differ in
    length.
""",
    raises_zero_division="""ValueError
    If the inputs are empty, not 1-D (or column vectors), differ in
    length, or ``zero_division`` is not one of the allowed values.
""",
    yan2021=""".. [1] S. Yan, Y. Xiong, K. Kundu, S. Yang, S. Deng, M. Wang, W. Xia and
   S. Soatto, "Positive-Congruent Training: Towards Regression-Free Model
   Updates", CVPR 2021.
""",
)


@_docstrings.fill(**_FLIP_DOCS)
def negative_flip_rate(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    average: str | None = "micro",
) -> float | np.ndarray:
    r"""Negative flip rate (NFR): share of samples h1 gets right and h2 gets wrong.

    .. math::

       \mathrm{NFR} = \frac{1}{n} \sum_i
       \mathbf{1}[h_1(x_i) = y_i \wedge h_2(x_i) \ne y_i]
       = \frac{\text{new errors}}{n}

    Unlike BTC it does not depend on how accurate h1 was: it counts the
    regressions a user of h1 would meet per sample. Lower is better.

    Parameters
    ----------
    %(labels)s

    Returns
    -------
    float
        The number of new errors (negative flips) divided by ``n_samples``,
        in [0, 1]. Defined for any non-empty input.

    Raises
    ------
    %(raises)s

    See Also
    --------
    positive_flip_rate : The share of fixed errors.
    relative_negative_flip_rate : NFR against independent errors.

    References
    ----------
    %(yan2021)s

    Examples
    --------
    h2 breaks 2 of h1's correct answers out of 6 samples:

    >>> from bcsk.metrics import negative_flip_rate
    >>> negative_flip_rate(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2], h2_pred=[0, 0, 1, 1, 2, 1]
    ... )
    0.3333333333333333
    """
    return _score(
        _nfr_from_counts, y_true, h1_pred, h2_pred, "negative_flip_rate", average
    )


@_docstrings.fill(**_FLIP_DOCS)
def positive_flip_rate(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    average: str | None = "micro",
) -> float | np.ndarray:
    r"""Positive flip rate (PFR): share of samples h1 gets wrong and h2 gets right.

    .. math::

       \mathrm{PFR} = \frac{1}{n} \sum_i
       \mathbf{1}[h_1(x_i) \ne y_i \wedge h_2(x_i) = y_i]
       = \frac{\text{fixed errors}}{n}

    Higher is better. h2's accuracy minus h1's is ``PFR - NFR``.

    Parameters
    ----------
    %(labels)s

    Returns
    -------
    float
        The number of fixed errors (positive flips) divided by ``n_samples``,
        in [0, 1]. Defined for any non-empty input.

    Raises
    ------
    %(raises)s

    See Also
    --------
    negative_flip_rate : The share of new errors.

    Examples
    --------
    h2 fixes 1 of h1's errors out of 6 samples:

    >>> from bcsk.metrics import positive_flip_rate
    >>> positive_flip_rate(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2], h2_pred=[0, 0, 1, 1, 2, 1]
    ... )
    0.16666666666666666
    """
    return _score(
        _pfr_from_counts, y_true, h1_pred, h2_pred, "positive_flip_rate", average
    )


@_docstrings.fill(**_FLIP_DOCS)
def negative_flip_impact(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    average: str | None = "micro",
    zero_division: str | float = "warn",
) -> float | np.ndarray:
    r"""Negative flip impact (NFI): share of h2's errors that are new.

    .. math::

       \mathrm{NFI} = \frac{\text{new errors}}{\#\{i : h_2(x_i) \ne y_i\}}
       = \frac{\text{new errors}}{\text{new errors} + \text{both wrong}}
       = 1 - \mathrm{BEC}

    Of the mistakes users of h2 meet, the share that h1 did not make. Lower is
    better.

    Parameters
    ----------
    %(labels)s
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when h2 makes no errors (then there is no new error
        either, so the ratio is 0/0). "warn" returns 0.0 and emits an
        :class:`sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    float
        NFI in [0, 1], or the ``zero_division`` value when undefined.

    Raises
    ------
    %(raises_zero_division)s

    See Also
    --------
    bcsk.scores.error_compatibility_score : BEC, which is ``1 - NFI``.

    Examples
    --------
    h2 makes 3 errors, 2 of them new:

    >>> from bcsk.metrics import negative_flip_impact
    >>> negative_flip_impact(
    ...     [0, 1, 1, 0, 2, 2], h1_pred=[0, 1, 0, 1, 2, 2], h2_pred=[0, 0, 1, 1, 2, 1]
    ... )
    0.6666666666666666
    """
    _labels.check_zero_division(zero_division)
    return _score(
        _nfi_from_counts,
        y_true,
        h1_pred,
        h2_pred,
        "negative_flip_impact",
        average,
        zero_division,
    )


@_docstrings.fill(**_FLIP_DOCS)
def relative_negative_flip_rate(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    average: str | None = "micro",
    zero_division: str | float = "warn",
) -> float | np.ndarray:
    r"""Negative flip rate relative to that of independent errors.

    Yan et al. (CVPR 2021, eq. 11) divide the NFR by the NFR that two models
    with h1's and h2's error rates would have if they erred independently:

    .. math::

       \mathrm{NFR}_{\mathrm{rel}} =
       \frac{\mathrm{NFR}}{(1 - \mathrm{ERR}_1)\, \mathrm{ERR}_2}

    where :math:`\mathrm{ERR}_1` and :math:`\mathrm{ERR}_2` are the error
    rates of h1 and h2. 1 means as many new errors as chance would give, less
    than 1 fewer: it compares updates whose accuracies differ. Lower is better.

    Parameters
    ----------
    %(labels)s
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when h1 is never right or h2 is never wrong (then there
        is no new error either, so the ratio is 0/0). "warn" returns 0.0 and
        emits an :class:`sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    float
        The relative NFR, at least 0 (it can exceed 1), or the
        ``zero_division`` value when undefined.

    Raises
    ------
    %(raises_zero_division)s

    See Also
    --------
    negative_flip_rate : The NFR itself.

    References
    ----------
    %(yan2021)s

    Examples
    --------
    Ten samples: h1 is right on 7, h2 wrong on 4, and 2 errors are new, so
    ``0.2 / (0.7 * 0.4)``:

    >>> from bcsk.metrics import relative_negative_flip_rate
    >>> y_true = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    >>> h1_pred = [0, 1, 2, 1, 1, 0, 0, 1, 2, 2]
    >>> h2_pred = [0, 2, 2, 0, 1, 1, 0, 0, 2, 2]
    >>> relative_negative_flip_rate(y_true, h1_pred=h1_pred, h2_pred=h2_pred)
    0.7142857142857143
    """
    _labels.check_zero_division(zero_division)
    return _score(
        _relative_nfr_from_counts,
        y_true,
        h1_pred,
        h2_pred,
        "relative_negative_flip_rate",
        average,
        zero_division,
    )
