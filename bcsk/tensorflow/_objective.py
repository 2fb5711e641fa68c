"""Pieces of the backward-compatibility objective shared by every training path.

The loss classes, the Keras models and the scikit-learn estimator all build the
same objective::

    L = mean_i[ s_i * l(y_i, h2(x_i)) ] + lambda_c * mean_i[ s_i * c_i * d_i ]

where ``c_i`` is 1 where h1 predicts sample ``i`` correctly, ``s_i`` is the
sample weight and ``d_i`` the dissonance. This module holds the parts that must
agree between those paths: validating ``lambda_c``, reading labels in every
accepted shape, and deciding where h1 is right.
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

DISSONANCES = ("new_error", "strict_imitation")


def validate_lambda_c(lambda_c: object) -> float:
    """Return ``lambda_c`` as a float, or raise a ``ValueError`` saying why not."""
    if isinstance(lambda_c, bool) or not isinstance(lambda_c, numbers.Real):
        raise ValueError(
            f"lambda_c must be a non-negative real number, got {lambda_c!r} of type "
            f"{type(lambda_c).__name__}. Pass e.g. lambda_c=0.5."
        )
    value = float(lambda_c)
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"lambda_c must be a finite number >= 0, got {lambda_c!r}. "
            "lambda_c=0 trains without the compatibility term; larger values "
            "penalise new errors more."
        )
    return value


def validate_dissonance(dissonance: object) -> str:
    """Return ``dissonance`` if it names a known dissonance, else raise."""
    if dissonance not in DISSONANCES:
        raise ValueError(
            f"dissonance must be one of {DISSONANCES}, got {dissonance!r}."
        )
    return dissonance


def output_width(tensor) -> int:
    """Number of output columns of a model output (1 for a single sigmoid unit)."""
    shape = tuple(tensor.shape)
    return 1 if len(shape) < 2 else int(shape[-1])


def check_same_width(h1_output, h2_output) -> None:
    """Raise a clear error when h1 and h2 do not score the same classes."""
    h1_width, h2_width = output_width(h1_output), output_width(h2_output)
    if h1_width != h2_width:
        raise ValueError(
            f"h1 outputs {h1_width} column(s) but h2 outputs {h2_width}: both models "
            "must give one probability per class, for the same classes in the "
            "same order (or one sigmoid unit each for a binary problem)."
        )


def is_one_hot(y, n_outputs: int) -> bool:
    """Whether ``y`` holds one-hot rows (rather than class indices)."""
    return n_outputs > 1 and len(y.shape) == 2 and y.shape[-1] == n_outputs


def class_indices(y, n_outputs: int):
    """Integer class index per sample from sparse, column or one-hot labels."""
    if is_one_hot(y, n_outputs):
        return ops.argmax(y, axis=-1)
    y = ops.reshape(y, (-1,))
    if n_outputs == 1:
        # Binary labels for a single sigmoid unit may be floats (0.0 / 1.0).
        return ops.cast(ops.greater_equal(ops.cast(y, "float32"), 0.5), "int32")
    return ops.cast(y, "int32")


def one_hot_targets(y, n_outputs: int, dtype: str):
    """Targets as one row of ``n_outputs`` probabilities per sample."""
    if is_one_hot(y, n_outputs):
        return ops.cast(y, dtype)
    if n_outputs == 1:
        return ops.cast(ops.reshape(y, (-1, 1)), dtype)
    return ops.one_hot(class_indices(y, n_outputs), n_outputs, dtype=dtype)


def predicted_indices(probabilities):
    """Predicted class index: argmax, or ``p >= 0.5`` for a single sigmoid unit."""
    if output_width(probabilities) == 1:
        flat = ops.reshape(probabilities, (-1,))
        return ops.cast(ops.greater_equal(flat, 0.5), "int32")
    return ops.cast(ops.argmax(probabilities, axis=-1), "int32")


def h1_correct(h1_output, y, dtype: str | None = None):
    """Mask ``c_i``: 1.0 where h1 predicts sample ``i`` correctly, else 0.0.

    A mask (rather than gathering the h1-correct rows) keeps shapes static, so
    the step compiles under XLA and an all-wrong batch simply contributes zero.
    """
    n_outputs = output_width(h1_output)
    hits = ops.equal(predicted_indices(h1_output), class_indices(y, n_outputs))
    return ops.cast(hits, dtype or keras.backend.floatx())


def as_two_columns(probabilities):
    """Turn one sigmoid column ``p`` into the distribution ``[1 - p, p]``."""
    if output_width(probabilities) == 1:
        p = ops.reshape(probabilities, (-1, 1))
        return ops.concatenate([1.0 - p, p], axis=-1)
    return probabilities


# Compiled losses the objective knows how to pair with a divergence from h1 (the
# strict-imitation term) or rewrite as soft targets (the estimator's fast path).
_LOSS_KINDS = {
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "kl_divergence": "kl_divergence",
    "KLDivergence": "kl_divergence",
}


def loss_kind(loss) -> tuple[str | None, bool]:
    """Name the family of a Keras loss and whether it expects logits.

    Accepts what ``Model.compile(loss=...)`` accepts: a string, a loss function,
    a ``keras.losses.Loss`` subclass or instance. Returns ``(None, False)`` for a
    loss bcsk does not recognise (a custom loss).
    """
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            return None, False
    if isinstance(loss, type) and issubclass(loss, keras.losses.Loss):
        return _LOSS_KINDS.get(loss.__name__), False
    if isinstance(loss, keras.losses.Loss):
        from_logits = bool(loss.get_config().get("from_logits", False))
        kind = _LOSS_KINDS.get(type(loss).__name__)
        if kind is None:
            # A loss function wrapped by Keras (compile(loss=some_function)).
            kind = _LOSS_KINDS.get(getattr(getattr(loss, "fn", None), "__name__", ""))
        return kind, from_logits
    if callable(loss):
        return _LOSS_KINDS.get(getattr(loss, "__name__", "")), False
    return None, False
