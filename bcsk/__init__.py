"""bcsk: ship a new classifier without breaking the trust users placed in the old one.

The scores (:mod:`bcsk.scores`, :mod:`bcsk.metrics`) need only NumPy; the
TensorFlow interface, the estimator and the scorers are imported on first use,
so ``from bcsk import trust_compatibility_score`` does not import TensorFlow.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> module that defines it. Modules are imported on first access
# (PEP 562), so importing bcsk stays cheap.
_LAZY = {
    "trust_compatibility_score": "bcsk.scores",
    "error_compatibility_score": "bcsk.scores",
    "compatibility_counts": "bcsk.scores",
    "compatibility_report": "bcsk.metrics",
    "CompatibilityReport": "bcsk.metrics",
    "negative_flip_rate": "bcsk.metrics",
    "positive_flip_rate": "bcsk.metrics",
    "negative_flip_impact": "bcsk.metrics",
    "relative_negative_flip_rate": "bcsk.metrics",
    "CompatibilityDisplay": "bcsk.plotting",
    "CompatibilityTradeoffDisplay": "bcsk.plotting",
    "FlipCostDisplay": "bcsk.plotting",
    "CompatibleUpdateClassifier": "bcsk.gate",
    "CompatibleUpdateClassifierCV": "bcsk.gate",
    "gate_predictions": "bcsk.gate",
    "MeanEnsemble": "bcsk.ensemble",
    "BCCompatibilityModel": "bcsk.tensorflow.models",
    "BCNewErrorCompatibilityModel": "bcsk.tensorflow.models",
    "BCLoss": "bcsk.tensorflow.loss",
    "BCCrossEntropyLoss": "bcsk.tensorflow.loss",
    "BCNLLLoss": "bcsk.tensorflow.loss",
    "BCBinaryCrossEntropyLoss": "bcsk.tensorflow.loss",
    "BCKLDivLoss": "bcsk.tensorflow.loss",
    "BCStrictImitationCrossEntropyLoss": "bcsk.tensorflow.loss",
    "BCStrictImitationNLLLoss": "bcsk.tensorflow.loss",
    "BCStrictImitationBinaryCrossEntropyLoss": "bcsk.tensorflow.loss",
    "BCStrictImitationKLDivLoss": "bcsk.tensorflow.loss",
    "BCFocalDistillationLoss": "bcsk.tensorflow.loss",
    "BCLogitDifferenceLoss": "bcsk.tensorflow.loss",
    "Dissonance": "bcsk.dissonances",
    "NewError": "bcsk.dissonances",
    "StrictImitation": "bcsk.dissonances",
    "FocalDistillation": "bcsk.dissonances",
    "LogitDifference": "bcsk.dissonances",
    "bc_fit": "bcsk.tensorflow.helpers",
    "BCCompatibleClassifier": "bcsk.estimator",
    "BCCompatibleClassifierCV": "bcsk.lambda_path",
    "btc_scorer": "bcsk.scorers",
    "bec_scorer": "bcsk.scorers",
    "make_btc_scorer": "bcsk.scorers",
    "make_bec_scorer": "bcsk.scorers",
    "compatibility_scoring": "bcsk.scorers",
    "CompatibilityScorer": "bcsk.scorers",
    "MultimetricCompatibilityScorer": "bcsk.scorers",
    "neg_nfr_scorer": "bcsk.scorers",
    "pfr_scorer": "bcsk.scorers",
    "neg_nfi_scorer": "bcsk.scorers",
    "neg_relative_nfr_scorer": "bcsk.scorers",
    "best_accuracy_with_btc_at_least": "bcsk.scorers",
    "fewest_new_errors_within": "bcsk.scorers",
    "lowest_update_cost": "bcsk.scorers",
}
# Modules re-exported under a name of their own (BCML's ``tf_helpers`` idiom).
_LAZY_MODULES = {"tf_helpers": "bcsk.tensorflow.helpers"}

__all__ = sorted([*_LAZY, *_LAZY_MODULES])


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        value = importlib.import_module(_LAZY_MODULES[name])
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'bcsk' has no attribute {name!r}")
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


# keras.models.load_model of a bcsk .keras file works after a bare
# ``import bcsk``: bcsk's Keras classes are registered as soon as keras is
# imported, without importing keras here (see bcsk/_keras_registration.py).
from bcsk import _keras_registration  # noqa: E402

_keras_registration.install()
