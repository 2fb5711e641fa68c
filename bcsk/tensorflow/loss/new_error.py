"""New-error losses: the task loss, counted again where h1 was right.

The dissonance of sample ``i`` is its task loss ``l(y_i, h2(x_i))``, counted
only where h1 predicts ``i`` correctly, so h2 pays extra for every *new* error::

    L = mean_i[ l_i ] + lambda_c * mean_i[ c_i * l_i ]

Use it as in BackwardCompatibilityML::

    bc_loss = BCCrossEntropyLoss(h1, h2, lambda_c=0.7)
    tf_helpers.bc_fit(h2, training_set=ds_train, testing_set=ds_test,
                      epochs=6, bc_loss=bc_loss, optimizer=optimizer)
"""

from bcsk.objective._dissonances import NewError
from bcsk.tensorflow.loss._base import (
    BCLoss,
    BinaryCrossEntropyFamily,
    CrossEntropyFamily,
    KLDivFamily,
    NLLFamily,
)

__all__ = ["BCCrossEntropyLoss", "BCNLLLoss", "BCBinaryCrossEntropyLoss", "BCKLDivLoss"]


class BCCrossEntropyLoss(CrossEntropyFamily, BCLoss):
    """New-error compatibility loss: cross-entropy as the task loss.

    Cross-entropy of h2 on every sample, plus ``lambda_c`` times the same
    loss on the samples h1 predicts correctly. See :class:`BCLoss` for the
    parameters, the label formats and the exact formula.
    """

    dissonance_class = NewError


class BCNLLLoss(NLLFamily, BCLoss):
    """New-error compatibility loss: negative log-likelihood as the task loss.

    Negative log-likelihood of h2 on every sample, plus ``lambda_c`` times the same
    loss on the samples h1 predicts correctly. See :class:`BCLoss` for the
    parameters, the label formats and the exact formula.
    """

    dissonance_class = NewError


class BCBinaryCrossEntropyLoss(BinaryCrossEntropyFamily, BCLoss):
    """New-error compatibility loss: binary cross-entropy as the task loss.

    Binary cross-entropy of h2 on every sample, plus ``lambda_c`` times the same
    loss on the samples h1 predicts correctly. See :class:`BCLoss` for the
    parameters, the label formats and the exact formula.
    """

    dissonance_class = NewError


class BCKLDivLoss(KLDivFamily, BCLoss):
    """New-error compatibility loss: Kullback-Leibler divergence as the task loss.

    Kullback-Leibler divergence of h2 on every sample, plus ``lambda_c`` times the same
    loss on the samples h1 predicts correctly. See :class:`BCLoss` for the
    parameters, the label formats and the exact formula.
    """

    dissonance_class = NewError
