"""Backward-compatibility loss classes (BCML's ``tensorflow.loss`` package)."""

from bcsk.tensorflow.loss._base import BCLoss
from bcsk.tensorflow.loss.distillation import (
    BCFocalDistillationLoss,
    BCLogitDifferenceLoss,
)
from bcsk.tensorflow.loss.new_error import (
    BCBinaryCrossEntropyLoss,
    BCCrossEntropyLoss,
    BCKLDivLoss,
    BCNLLLoss,
)
from bcsk.tensorflow.loss.strict_imitation import (
    BCStrictImitationBinaryCrossEntropyLoss,
    BCStrictImitationCrossEntropyLoss,
    BCStrictImitationKLDivLoss,
    BCStrictImitationNLLLoss,
)

__all__ = [
    "BCLoss",
    "BCCrossEntropyLoss",
    "BCNLLLoss",
    "BCBinaryCrossEntropyLoss",
    "BCKLDivLoss",
    "BCStrictImitationCrossEntropyLoss",
    "BCStrictImitationNLLLoss",
    "BCStrictImitationBinaryCrossEntropyLoss",
    "BCStrictImitationKLDivLoss",
    "BCFocalDistillationLoss",
    "BCLogitDifferenceLoss",
]
