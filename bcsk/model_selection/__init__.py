"""Choose the update to ship: the one-call search and the refit rules.

As :mod:`sklearn.model_selection`: :class:`BCCompatibleClassifierCV` searches
dissonance x ``lambda_c`` x flip cost x ensemble size by cross-validation,
every candidate of a fold trained as one Keras model; the refit rules pick a
candidate from any search's ``cv_results_`` (``GridSearchCV`` too). The names
are imported on first use: the refit rules need no TensorFlow.
"""

from bcsk import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "BCCompatibleClassifierCV": "bcsk.model_selection._search",
        "best_accuracy_with_btc_at_least": "bcsk.model_selection._refit",
        "fewest_new_errors_within": "bcsk.model_selection._refit",
        "lowest_update_cost": "bcsk.model_selection._refit",
    },
)
