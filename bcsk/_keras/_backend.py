"""What differs between Keras 3's backends (TensorFlow, JAX, PyTorch), in one place.

bcsk's estimators, objective and Keras models use Keras' own API and run on
every backend. Two things do not: BCML's training loop
(:func:`bcsk.tensorflow.helpers.bc_fit`, with ``tf.GradientTape`` and
``tf.data``) and its loss classes (:mod:`bcsk.tensorflow.loss`). They call
:func:`require_tensorflow`, which refuses on another backend with a message
that names the alternative.
"""

from __future__ import annotations

import contextlib

import keras


def backend() -> str:
    """The name of the Keras backend this process runs (fixed at import)."""
    return keras.backend.backend()


def require_tensorflow(what: str, alternative: str) -> None:
    """Refuse ``what`` unless Keras runs on TensorFlow.

    Parameters
    ----------
    what : str
        What needs TensorFlow, e.g. ``"method='bc_fit'"``.
    alternative : str
        What to use instead on the current backend.

    Raises
    ------
    RuntimeError
        When ``keras.backend.backend()`` is not ``"tensorflow"``.
    """
    name = backend()
    if name != "tensorflow":
        raise RuntimeError(
            f"{what} is TensorFlow-only (it runs tf.GradientTape and tf.data), and "
            f"Keras runs on the {name!r} backend (KERAS_BACKEND={name}). {alternative}"
            " Or set KERAS_BACKEND=tensorflow before Keras is imported."
        )


def strategy_scope(model: keras.Model):
    """The model's ``tf.distribute`` scope on TensorFlow, a no-op elsewhere.

    Only Keras' TensorFlow trainer has ``distribute_strategy``; on JAX and
    PyTorch a model's state needs no scope.
    """
    strategy = getattr(model, "distribute_strategy", None)
    return contextlib.nullcontext() if strategy is None else strategy.scope()


@contextlib.contextmanager
def backend_seeds(seed: int | None):
    """Seed the JAX or PyTorch side of a fit; nothing on TensorFlow.

    On TensorFlow, scikeras' ``tensorflow_random_state`` seeds everything a
    fit draws from, and bcsk keeps exactly that. On JAX and PyTorch, Keras
    draws its op seeds from its own global ``SeedGenerator`` (and PyTorch from
    its global generator): :func:`keras.utils.set_random_seed` resets both. The
    previous PyTorch generator state is restored afterwards, as scikeras
    restores Python's and NumPy's.
    """
    if seed is None or backend() == "tensorflow":
        yield
        return
    import random

    import numpy as np

    torch_state = None
    if backend() == "torch":
        import torch

        torch_state = torch.random.get_rng_state()
    # set_random_seed seeds the legacy global generators too: restore them.
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
        if torch_state is not None:
            torch.random.set_rng_state(torch_state)
