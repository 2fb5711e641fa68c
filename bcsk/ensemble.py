"""``MeanEnsemble``: the Keras model that averages the members of an ensemble.

Its code lives with bcsk's other Keras models (:mod:`bcsk._keras._ensemble`);
this is its public module, as in bcsk 0.1.
"""

from bcsk._keras._ensemble import MeanEnsemble

__all__ = ["MeanEnsemble"]
