"""The objective every training path of bcsk minimises, defined once.

The dissonances (what h2 pays for disagreeing with h1) are public here, with
their names (``"new_error"``, ``"strict_imitation"``, ``"focal_distillation"``,
``"logit_difference"``); :mod:`bcsk.objective._outputs` holds the label and
output plumbing that the loss classes, the Keras models and the estimators
share. Keras ops only: the objective runs on every Keras backend.
"""

from bcsk.objective import _dissonances
from bcsk.objective._dissonances import *  # noqa: F403 (the public dissonances)

__all__ = _dissonances.__all__
