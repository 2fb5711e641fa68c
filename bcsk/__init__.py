"""bcsk: ship a new classifier without breaking the trust users placed in the old one.

The scores (:mod:`bcsk.scores`, :mod:`bcsk.metrics`) need no TensorFlow; the
TensorFlow interface, the estimators and the searches are imported on first
use, so ``from bcsk import trust_compatibility_score`` does not import
TensorFlow. The layout follows scikit-learn's: :mod:`bcsk.metrics`,
:mod:`bcsk.model_selection`, :mod:`bcsk.gate`, :mod:`bcsk.objective`
(docs/architecture.rst is the map).
"""

from __future__ import annotations

from bcsk import _lazy

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
    "CompatibilityDisplay": "bcsk.metrics",
    "CompatibilityTradeoffDisplay": "bcsk.metrics",
    "FlipCostDisplay": "bcsk.metrics",
    "lineage_report": "bcsk.metrics",
    "LineageReport": "bcsk.metrics",
    "LineageDisplay": "bcsk.metrics",
    "with_classes": "bcsk._h1",
    "CompatibleUpdateClassifier": "bcsk.gate",
    "CompatibleUpdateClassifierCV": "bcsk.gate",
    "gate_predictions": "bcsk.gate",
    "MeanEnsemble": "bcsk._keras._ensemble",
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
    "Dissonance": "bcsk.objective",
    "NewError": "bcsk.objective",
    "StrictImitation": "bcsk.objective",
    "FocalDistillation": "bcsk.objective",
    "LogitDifference": "bcsk.objective",
    "bc_fit": "bcsk.tensorflow.helpers",
    "BCCompatibleClassifier": "bcsk.estimator",
    "BCCompatibleClassifierCV": "bcsk.model_selection",
    "btc_scorer": "bcsk.metrics",
    "bec_scorer": "bcsk.metrics",
    "make_btc_scorer": "bcsk.metrics",
    "make_bec_scorer": "bcsk.metrics",
    "compatibility_scoring": "bcsk.metrics",
    "CompatibilityScorer": "bcsk.metrics",
    "MultimetricCompatibilityScorer": "bcsk.metrics",
    "neg_nfr_scorer": "bcsk.metrics",
    "pfr_scorer": "bcsk.metrics",
    "neg_nfi_scorer": "bcsk.metrics",
    "neg_relative_nfr_scorer": "bcsk.metrics",
    "best_accuracy_with_btc_at_least": "bcsk.model_selection",
    "fewest_new_errors_within": "bcsk.model_selection",
    "lowest_update_cost": "bcsk.model_selection",
}
# Modules re-exported under a name of their own (BCML's ``tf_helpers`` idiom).
_LAZY_MODULES = {"tf_helpers": "bcsk.tensorflow.helpers"}

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _LAZY, _LAZY_MODULES)

# keras.models.load_model of a bcsk .keras file works after a bare
# ``import bcsk``: bcsk's Keras classes are registered as soon as keras is
# imported, without importing keras here (see bcsk/_keras/_registration.py).
from bcsk._keras import _registration  # noqa: E402

_registration.install()
