"""Distillation losses: focal distillation and logit-difference inhibition.

The task loss is cross-entropy (binary cross-entropy for one sigmoid unit); the
dissonance compares the centred log-probabilities of h1 and h2 on *every*
sample (see :mod:`bcsk.objective`)::

    L = mean_i[ l_i ] + lambda_c * mean_i[ w_i * d_i ]

Use them as BackwardCompatibilityML's loss classes, with the dissonance's
parameters as keyword arguments::

    bc_loss = BCFocalDistillationLoss(h1, h2, lambda_c=0.3, temperature=2.0)
    tf_helpers.bc_fit(h2, training_set=ds_train, epochs=6, bc_loss=bc_loss,
                      optimizer=optimizer)
"""

from bcsk.objective._dissonances import FocalDistillation, LogitDifference
from bcsk.tensorflow.loss._base import BCLoss, CrossEntropyFamily

__all__ = ["BCFocalDistillationLoss", "BCLogitDifferenceLoss"]


class BCFocalDistillationLoss(CrossEntropyFamily, BCLoss):
    """Cross-entropy plus ``lambda_c`` times focal distillation from h1.

    Takes ``(h1, h2, lambda_c, alpha=1.0, beta=5.0, temperature=..., divergence="kl")``;
    see :class:`bcsk.objective.FocalDistillation` for the dissonance and
    :class:`BCLoss` for the objective.
    """

    dissonance_class = FocalDistillation


class BCLogitDifferenceLoss(CrossEntropyFamily, BCLoss):
    """Cross-entropy plus ``lambda_c`` times logit-difference inhibition.

    Takes ``(h1, h2, lambda_c, margin=0.5, power=2)``; see
    :class:`bcsk.objective.LogitDifference` for the dissonance and
    :class:`BCLoss` for the objective.
    """

    dissonance_class = LogitDifference
