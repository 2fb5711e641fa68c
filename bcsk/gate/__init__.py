r"""The update gate: keep h1's answer unless h2 is clearly more confident.

Retraining h2 with a compatibility objective is one way to avoid new errors;
deciding at prediction time is the other (Träuble et al., NeurIPS 2021,
"Backward-compatible prediction updates"). The gate serves h2 but keeps the
old model h1's label ``y1`` unless h2 gives its own most probable label ``y2``
more than ``flip_cost`` times the probability it gives ``y1``:

.. math::

    \hat y(x) = \begin{cases}
        y_2 & \text{if } p_2(y_2 \mid x) > c \, p_2(y_1 \mid x)
              \text{ or } y_1 \notin \text{classes of } h_2, \\
        y_1 & \text{otherwise,}
    \end{cases}

with ``c = flip_cost >= 1``. No training is involved, so any h2 with
``predict_proba`` works, trained with bcsk's objective or not.

* :func:`gate_predictions`: the rule on arrays (stored predictions).
* :class:`CompatibleUpdateClassifier`: the rule as a scikit-learn classifier
  around h2, for ``Pipeline``, ``GridSearchCV`` and bcsk's scorers.
* :class:`CompatibleUpdateClassifierCV`: chooses ``flip_cost`` by
  cross-validation, evaluating a whole grid of costs on each fold's held-out
  predictions (one fit of h2 per fold).

The picture of the trade-off is :class:`bcsk.metrics.FlipCostDisplay`. This
package imports no TensorFlow (a Keras h1 imports it when h1 is first called).
"""

from bcsk.gate._gate import CompatibleUpdateClassifier, CompatibleUpdateClassifierCV
from bcsk.gate._predictions import DEFAULT_FLIP_COSTS, gate_predictions

__all__ = [
    "DEFAULT_FLIP_COSTS",
    "CompatibleUpdateClassifier",
    "CompatibleUpdateClassifierCV",
    "gate_predictions",
]
