"""Measure an update h1 -> h2: flip rates, the compatibility report, scorers, Displays.

As :mod:`sklearn.metrics`: the functions take the true labels first and both
models' predictions by keyword (``h1_pred=``, ``h2_pred=``); the scorers plug
into ``GridSearchCV`` and ``cross_validate``; the Displays draw with matplotlib,
imported only when a plot is drawn. BTC and BEC themselves, in
BackwardCompatibilityML's form, stay in :mod:`bcsk.scores`. Nothing here
imports TensorFlow or Keras.
"""

from bcsk.metrics._flips import (
    negative_flip_impact,
    negative_flip_rate,
    positive_flip_rate,
    relative_negative_flip_rate,
)
from bcsk.metrics._lineage import LineageReport, lineage_report
from bcsk.metrics._plot.compatibility import CompatibilityDisplay
from bcsk.metrics._plot.flip_cost import FlipCostDisplay
from bcsk.metrics._plot.lineage import LineageDisplay
from bcsk.metrics._plot.tradeoff import CompatibilityTradeoffDisplay
from bcsk.metrics._report import CompatibilityReport, compatibility_report
from bcsk.metrics._scorer import (
    CompatibilityScorer,
    MultimetricCompatibilityScorer,
    bec_scorer,
    btc_scorer,
    compatibility_scoring,
    make_bec_scorer,
    make_btc_scorer,
    make_worst_group_nfr_scorer,
    neg_nfi_scorer,
    neg_nfr_scorer,
    neg_relative_nfr_scorer,
    pfr_scorer,
)
from bcsk.metrics._slices import worst_group_new_error_rate

__all__ = [
    "CompatibilityDisplay",
    "CompatibilityReport",
    "CompatibilityScorer",
    "CompatibilityTradeoffDisplay",
    "FlipCostDisplay",
    "LineageDisplay",
    "LineageReport",
    "MultimetricCompatibilityScorer",
    "bec_scorer",
    "btc_scorer",
    "compatibility_report",
    "compatibility_scoring",
    "lineage_report",
    "make_bec_scorer",
    "make_btc_scorer",
    "make_worst_group_nfr_scorer",
    "neg_nfi_scorer",
    "neg_nfr_scorer",
    "neg_relative_nfr_scorer",
    "pfr_scorer",
    "negative_flip_impact",
    "negative_flip_rate",
    "positive_flip_rate",
    "relative_negative_flip_rate",
    "worst_group_new_error_rate",
]
