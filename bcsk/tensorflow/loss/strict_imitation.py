"""Strict-imitation losses: where h1 was right, h2 imitates h1's output.

The dissonance of sample ``i`` is the divergence of h2's output ``p2_i`` from
h1's output distribution ``p1_i``, counted only where h1 predicts ``i``
correctly::

    L = mean_i[ l(y_i, p2_i) ] + lambda_c * mean_i[ c_i * d(p1_i, p2_i) ]

Cross-entropy and NLL use ``d = -sum_k p1_ik log p2_ik``; binary cross-entropy
uses h1's probabilities as its targets; KL divergence uses ``KL(p1 || p2)``.
(BackwardCompatibilityML's TensorFlow versions compared h2 with the ground
truth instead, which made them new-error losses under another name.)
"""

from bcsk.objective._dissonances import StrictImitation
from bcsk.tensorflow.loss._base import (
    BCLoss,
    BinaryCrossEntropyFamily,
    CrossEntropyFamily,
    KLDivFamily,
    NLLFamily,
)

__all__ = [
    "BCStrictImitationCrossEntropyLoss",
    "BCStrictImitationNLLLoss",
    "BCStrictImitationBinaryCrossEntropyLoss",
    "BCStrictImitationKLDivLoss",
]


class BCStrictImitationCrossEntropyLoss(CrossEntropyFamily, BCLoss):
    """Strict-imitation backward-compatibility loss with cross-entropy.

    Cross-entropy of h2 against the labels, plus ``lambda_c`` times the
    divergence of h2's output from h1's output on the samples h1 predicts
    correctly. See :class:`BCLoss` for the parameters and the formula.
    """

    dissonance_class = StrictImitation


class BCStrictImitationNLLLoss(NLLFamily, BCLoss):
    """Strict-imitation backward-compatibility loss with negative log-likelihood.

    Negative log-likelihood of h2 against the labels, plus ``lambda_c`` times the
    divergence of h2's output from h1's output on the samples h1 predicts
    correctly. See :class:`BCLoss` for the parameters and the formula.
    """

    dissonance_class = StrictImitation


class BCStrictImitationBinaryCrossEntropyLoss(BinaryCrossEntropyFamily, BCLoss):
    """Strict-imitation backward-compatibility loss with binary cross-entropy.

    Binary cross-entropy of h2 against the labels, plus ``lambda_c`` times the
    divergence of h2's output from h1's output on the samples h1 predicts
    correctly. See :class:`BCLoss` for the parameters and the formula.
    """

    dissonance_class = StrictImitation


class BCStrictImitationKLDivLoss(KLDivFamily, BCLoss):
    """Strict-imitation backward-compatibility loss with Kullback-Leibler divergence.

    Kullback-Leibler divergence of h2 against the labels, plus ``lambda_c`` times the
    divergence of h2's output from h1's output on the samples h1 predicts
    correctly. See :class:`BCLoss` for the parameters and the formula.
    """

    dissonance_class = StrictImitation
