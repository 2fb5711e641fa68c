"""Label and output plumbing shared by every training path (Keras ops only).

The loss classes, the Keras models and the scikit-learn estimator all build the
objective of :mod:`bcsk.objective`::

    L = mean_i[ s_i * l(y_i, h2(x_i)) ] + lambda_c * mean_i[ s_i * w_i * d_i ]

This module holds the parts that must agree between those paths: validating
``lambda_c``, reading labels in every accepted shape, deciding where h1 is
right (``c_i``), turning outputs into centred log-probabilities, and reading the
per-sample task loss ``l_i`` off a compiled Keras loss.

One rule decides a prediction everywhere in bcsk (here, in the NumPy code of
``bcsk._h1`` and in the tests' oracle): the class of highest probability, ties
going to the lower class index (``numpy.argmax``); a single sigmoid unit ``p``
is the two columns ``[1 - p, p]``, so it predicts class 1 only when
``p > 0.5``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable, Mapping

import keras
from keras import ops

# Probabilities are clipped here before their logarithm (centred log-probabilities).
LOG_CLIP = 1e-7


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


def output_width(tensor) -> int:
    """Number of output columns of a model output (1 for a single sigmoid unit)."""
    shape = tuple(tensor.shape)
    return 1 if len(shape) < 2 else int(shape[-1])


def check_same_width(h1_output, h2_output) -> None:
    """Raise a clear error when h1 and h2 do not score the same classes."""
    check_widths(output_width(h1_output), output_width(h2_output))


def check_widths(h1_width: int, h2_width: int) -> None:
    """:func:`check_same_width` from the numbers of output columns."""
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
        return ops.cast(ops.greater(ops.cast(y, "float32"), 0.5), "int32")
    return ops.cast(y, "int32")


def one_hot_targets(y, n_outputs: int, dtype: str):
    """Targets as one row of ``n_outputs`` probabilities per sample."""
    if is_one_hot(y, n_outputs):
        return ops.cast(y, dtype)
    if n_outputs == 1:
        return ops.cast(ops.reshape(y, (-1, 1)), dtype)
    return ops.one_hot(class_indices(y, n_outputs), n_outputs, dtype=dtype)


def predicted_indices(probabilities):
    """Predicted class: argmax (ties to the lower index); ``p > 0.5`` for one unit."""
    if output_width(probabilities) == 1:
        flat = ops.reshape(probabilities, (-1,))
        return ops.cast(ops.greater(flat, 0.5), "int32")
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


def log_probabilities(output, from_logits: bool = False):
    """``z``, the log-probabilities of an output up to a constant per row, ``(n, k)``.

    For probabilities ``z = log(clip(p, 1e-7, 1))``; for logits
    (``from_logits``) ``z`` is the output itself. A single sigmoid unit is the
    two columns ``[1 - p, p]`` (logits ``[0, x]``). Enough for what does not
    change when a row is shifted (``log_softmax``); otherwise use
    :func:`centred_log_probabilities`.
    """
    if from_logits:
        if output_width(output) == 1:
            z = ops.reshape(output, (-1, 1))
            return ops.concatenate([ops.zeros_like(z), z], axis=-1)
        return output
    return ops.log(ops.clip(as_two_columns(output), LOG_CLIP, 1.0))


def overrides_call_only(loss) -> bool:
    """Whether a compiled loss is a ``Loss`` that overrides ``__call__`` alone."""
    loss = single_loss(loss)
    return isinstance(loss, keras.losses.Loss) and (
        type(loss).call is keras.losses.Loss.call
    )


def averages_over_samples(loss) -> bool:
    """Whether a compiled loss divides its weighted sum by the number of samples.

    Keras' default reduction (``"sum_over_batch_size"``, and ``"mean"``, the
    same divisor) does, whatever the sample weights; ``"sum"`` and
    ``"mean_with_sample_weight"`` do not. A string or a function given to
    ``compile`` gets the default.
    """
    loss = single_loss(loss)
    if isinstance(loss, keras.losses.Loss):
        return loss.reduction in ("sum_over_batch_size", "mean")
    return isinstance(loss, str) or (callable(loss) and not isinstance(loss, type))


def centred_log_probabilities(output, from_logits: bool = False):
    """``z - mean_k z`` of the log-probabilities of an output, shape ``(n, k)``.

    For probabilities ``z = log(clip(p, 1e-7, 1))``; for logits (``from_logits``)
    ``z`` is the output itself. Centring removes the free constant of a softmax's
    logits, so the centred log-probabilities of a softmax layer equal its centred
    logits, and h1's probabilities and h2's logits can be compared. A single
    sigmoid unit is the two columns ``[1 - p, p]`` (logits ``[0, x]``).
    """
    z = log_probabilities(output, from_logits)
    return z - ops.mean(z, axis=-1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class TaskLoss:
    """What a dissonance may ask of the task loss ``l``.

    Attributes
    ----------
    per_sample : callable
        ``(y, y_pred) -> (n,)``: the task loss of each sample, unreduced.
    imitation : callable
        ``(h1_probabilities, y_pred) -> (n,)``: the divergence of h2's output
        from h1's that matches the task loss (strict imitation's ``d_i``).
    from_logits : bool
        Whether ``y_pred`` holds logits rather than probabilities.
    """

    per_sample: Callable
    imitation: Callable
    from_logits: bool = False


class TaskTerm(keras.losses.Loss):
    """``mean_i[ s_i l_i ]`` of a :class:`TaskLoss`, as a Keras loss.

    Reduced as Keras reduces a compiled loss, and scaled under
    ``tf.distribute`` strategies.
    """

    def __init__(self, task: TaskLoss, name: str = "task") -> None:
        super().__init__(name=name)
        self.task = task

    def call(self, y_true, y_pred):
        """Per-sample ``l_i``."""
        return self.task.per_sample(y_true, y_pred)


def share_output_names(wrapper: keras.Model, original: keras.Model) -> None:
    """Give a wrapper around one model the names of that model's outputs.

    A loss or metrics given to ``compile`` as a dict keyed by output name
    (``{"out1": ...}``) are matched by Keras against the compiled model's
    ``output_names``, which a subclassed wrapper does not have. A model
    without names (a subclassed one) leaves the wrapper as it is.
    """
    names = getattr(original, "output_names", None)
    if names:
        wrapper.output_names = list(names)


def single_loss(loss):
    """The one loss of a single-output model, however ``compile`` was given it.

    Keras takes the loss of a model with one output as the loss itself, as a
    list of one loss (``loss=["sparse_categorical_crossentropy"]``) or as a
    dict keyed by the output's name (``loss={"out1": ...}``); Keras checks the
    name. This returns the loss inside such a list or dict, and any other loss
    (a string, a function, a ``keras.losses.Loss``, a serialized loss) as it
    is.

    Parameters
    ----------
    loss : object
        What ``Model.compile(loss=...)`` received (``model.loss``).

    Returns
    -------
    object
        The loss of the single output.

    Raises
    ------
    ValueError
        For a list or dict of several losses: several outputs, which bcsk
        does not train.

    Examples
    --------
    >>> single_loss({"out1": "binary_crossentropy"})
    'binary_crossentropy'
    >>> single_loss(["sparse_categorical_crossentropy"])
    'sparse_categorical_crossentropy'
    """
    if isinstance(loss, Mapping) and not _is_serialized(loss):
        values = list(loss.values())
    elif isinstance(loss, (list, tuple)):
        values = list(loss)
    else:
        return loss
    if len(values) != 1:
        raise ValueError(
            f"The model was compiled with {len(values)} losses ({loss!r}), one per "
            "output, but y has one output (one class label per sample, or a "
            "multilabel indicator): give the model one output and one loss (as "
            "the loss itself, [loss] or {output_name: loss}), or pass y with one "
            "column per output."
        )
    return values[0]


def output_losses(loss, output_names, n_outputs: int) -> list:
    """The loss of each output of a multi-output model, as Keras pairs them.

    One loss serves every output; a list pairs with the outputs in order; a
    dict is keyed by output name. Every output must have a loss: bcsk's
    compatibility term of an output is built from its task loss.

    Examples
    --------
    >>> output_losses("binary_crossentropy", ["a", "b"], 2)
    ['binary_crossentropy', 'binary_crossentropy']
    >>> output_losses({"b": "kl_divergence", "a": "mse"}, ["a", "b"], 2)
    ['mse', 'kl_divergence']
    """
    if isinstance(loss, Mapping) and not _is_serialized(loss):
        missing = [name for name in output_names or () if name not in loss]
        if not output_names or missing or len(loss) != n_outputs:
            raise ValueError(
                f"The model has {n_outputs} outputs named {list(output_names or [])} "
                f"but its loss dict has keys {list(loss)}: give every output a "
                "loss, keyed by its name (or pass one loss for all, or a list in "
                "the order of the outputs)."
            )
        return [loss[name] for name in output_names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != n_outputs:
            raise ValueError(
                f"The model has {n_outputs} outputs but was compiled with "
                f"{len(loss)} losses: give one loss per output, or one for all."
            )
        return list(loss)
    return [loss] * n_outputs


def output_weights(loss_weights, output_names, n_outputs: int) -> list[float]:
    """Each output's ``loss_weights`` entry (1 where none was given)."""
    if loss_weights is None:
        return [1.0] * n_outputs
    if isinstance(loss_weights, Mapping):
        return [float(loss_weights.get(name, 1.0)) for name in output_names]
    return [float(weight) for weight in loss_weights]


def _is_serialized(loss) -> bool:
    """Whether a dict is a serialized Keras object rather than a dict of losses."""
    return "class_name" in loss and "config" in loss


def _unreduced(loss) -> Callable:
    """The per-sample values of a loss given to ``compile``, as Keras computes them."""
    loss = single_loss(loss)
    if isinstance(loss, (str, Mapping)):
        loss = keras.losses.get(loss)
    if isinstance(loss, type) and issubclass(loss, keras.losses.Loss):
        loss = loss()
    if isinstance(loss, keras.losses.Loss):
        if type(loss).call is keras.losses.Loss.call:
            # A Loss that overrides __call__ alone: its values are what
            # __call__ gives, which must then be one per sample.
            return functools.partial(_call_per_sample, loss)
        return loss.call
    return functools.partial(_call_function_loss, loss)


def _call_per_sample(loss: keras.losses.Loss, y_true, y_pred):
    values = _call_function_loss(loss, y_true, y_pred)
    if len(values.shape) == 0:
        raise ValueError(
            f"The loss {type(loss).__name__} overrides __call__ and returns one "
            "value per batch; bcsk weighs each sample's loss (by h1's "
            "correctness and sample_weight), so it needs one value per sample. "
            "Implement call(y_true, y_pred) returning per-sample values, as "
            "keras.losses.Loss subclasses do, and Keras reduces them."
        )
    return values


def _call_function_loss(fn: Callable, y_true, y_pred):
    # Model.compile wraps a plain function so that labels of shape (n,) meet
    # outputs of shape (n, k) as (n, 1); do the same.
    if len(y_true.shape) == len(y_pred.shape) - 1:
        y_true = ops.expand_dims(y_true, -1)
    return fn(y_true, y_pred)


def imitation_loss_for(loss, n_outputs: int) -> keras.losses.Loss:
    """The divergence from h1 that matches the loss the model was compiled with.

    Cross-entropy losses (and any loss bcsk does not recognise) imitate h1 with a
    soft-target cross-entropy, binary cross-entropy with h1's probabilities as
    targets, KL divergence with ``KL(p1 || p2)``.
    """
    kind, from_logits = loss_kind(loss)
    if n_outputs == 1 or kind == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(from_logits=from_logits)
    if kind == "kl_divergence":
        return keras.losses.KLDivergence()
    return keras.losses.CategoricalCrossentropy(from_logits=from_logits)


def check_loss_width(kind: str | None, n_outputs: int) -> None:
    """Refuse a KL-divergence task loss on a single sigmoid unit.

    Keras' KL divergence reads one column as a distribution of its own, while
    bcsk reads a single sigmoid unit as the two columns ``[1 - p, p]``
    everywhere else, so the two paths would minimise different objectives.
    """
    if kind == "kl_divergence" and n_outputs == 1:
        raise ValueError(
            "loss='kl_divergence' with a single sigmoid output unit is ambiguous: "
            "Keras reads the unit as a one-column distribution. Use "
            "loss='binary_crossentropy' for one sigmoid unit, or a softmax output "
            "with one unit per class."
        )


def compiled_task_loss(loss, n_outputs: int) -> TaskLoss:
    """The :class:`TaskLoss` of a loss given to ``Model.compile``."""
    if loss is None:
        raise ValueError(
            "The model has no compiled loss: compile it with the task loss, e.g. "
            "model.compile(loss='sparse_categorical_crossentropy', optimizer='adam')."
        )
    kind, from_logits = loss_kind(loss)
    check_loss_width(kind, n_outputs)
    return TaskLoss(
        per_sample=_unreduced(loss),
        imitation=imitation_loss_for(loss, n_outputs).call,
        from_logits=from_logits,
    )


# Compiled losses the objective knows how to pair with a divergence from h1 (the
# strict-imitation term) and whether they expect logits.
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
    loss bcsk does not recognise (a custom loss). A list of one loss or a dict
    keyed by the output's name is read as the loss inside
    (:func:`single_loss`).
    """
    loss = single_loss(loss)
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


def mean_of_outputs(outputs: list):
    """The mean of several models' outputs (output by output for multi-output)."""
    if isinstance(outputs[0], (list, tuple)):
        return [mean_of_outputs(list(parts)) for parts in zip(*outputs, strict=True)]
    return ops.mean(ops.stack(outputs, axis=0), axis=0)
