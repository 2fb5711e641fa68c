"""Old home of the scorers and refit rules, kept so that old imports and pickles work.

The scorers now live in :mod:`bcsk.metrics`, the refit rules in
:mod:`bcsk.model_selection`. Pickles of fitted searches made by bcsk 0.1
store the rule classes under this module's name, so it still holds them.
"""

from bcsk.metrics._scorer import (
    CompatibilityScorer,
    MultimetricCompatibilityScorer,
    _backward_error_compatibility,
    _backward_trust_compatibility,
    bec_scorer,
    btc_scorer,
    compatibility_scoring,
    make_bec_scorer,
    make_btc_scorer,
    neg_nfi_scorer,
    neg_nfr_scorer,
    neg_relative_nfr_scorer,
    pfr_scorer,
)
from bcsk.model_selection._refit import (
    _FewestNewErrorsWithin,
    _LowestUpdateCost,
    _MostAccurateWithBTC,
    best_accuracy_with_btc_at_least,
    fewest_new_errors_within,
    lowest_update_cost,
)

__all__ = [
    "CompatibilityScorer",
    "MultimetricCompatibilityScorer",
    "bec_scorer",
    "best_accuracy_with_btc_at_least",
    "btc_scorer",
    "compatibility_scoring",
    "fewest_new_errors_within",
    "lowest_update_cost",
    "make_bec_scorer",
    "make_btc_scorer",
    "neg_nfi_scorer",
    "neg_nfr_scorer",
    "neg_relative_nfr_scorer",
    "pfr_scorer",
]

# Names pickles of bcsk 0.1 refer to: the refit rules of fitted searches and
# the metrics that btc_scorer and bec_scorer hold.
_PICKLED = (
    _FewestNewErrorsWithin,
    _LowestUpdateCost,
    _MostAccurateWithBTC,
    _backward_error_compatibility,
    _backward_trust_compatibility,
)
