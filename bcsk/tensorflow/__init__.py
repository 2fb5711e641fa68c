"""BackwardCompatibilityML's TensorFlow interface on Keras 3.

``bcsk.tensorflow.models`` holds the Keras models trained by ``fit``,
``bcsk.tensorflow.loss`` the loss classes and ``bcsk.tensorflow.helpers`` the
``bc_fit`` training loop, under the module names BCML used.
"""

from bcsk.tensorflow import helpers, loss, models

__all__ = ["helpers", "loss", "models"]
