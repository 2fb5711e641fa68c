"""``bc_fit``: BackwardCompatibilityML's custom training loop, on Keras 3.

Import it the way BCML code does::

    from bcsk.tensorflow import helpers as tf_helpers

    tf_helpers.bc_fit(h2, training_set=ds_train, testing_set=ds_test, epochs=6,
                      bc_loss=bc_loss, optimizer=optimizer)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from bcsk import scores
from bcsk._keras import _backend
from bcsk.objective import _outputs

__all__ = ["bc_fit"]


def _unpack(batch):
    """``(x, y)`` or ``(x, y, sample_weight)`` from one batch."""
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return tuple(batch) if len(batch) == 3 else (batch[0], batch[1], None)
    raise ValueError(
        "Each batch of training_set/testing_set must be a tuple (x, y) or "
        f"(x, y, sample_weight); got {type(batch).__name__}."
    )


def _n_steps(dataset) -> int | None:
    if isinstance(dataset, tf.data.Dataset):
        cardinality = int(dataset.cardinality())
        return cardinality if cardinality >= 0 else None
    try:
        return len(dataset)
    except TypeError:
        return None


def _check_arguments(h2, training_set, epochs, bc_loss, optimizer):
    if not isinstance(h2, keras.Model):
        raise TypeError(f"h2 must be a Keras model, got {type(h2).__name__}.")
    if training_set is None or not (
        isinstance(training_set, tf.data.Dataset) or isinstance(training_set, Iterable)
    ):
        raise ValueError(
            "training_set must be a tf.data.Dataset of (x, y) batches or a "
            f"re-iterable collection of such batches; got {training_set!r}."
        )
    if (
        isinstance(epochs, bool)
        or not isinstance(epochs, numbers.Integral)
        or epochs < 1
    ):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if bc_loss is None or not callable(bc_loss):
        raise ValueError(
            "bc_loss must be a backward-compatibility loss, e.g. "
            f"BCCrossEntropyLoss(h1, h2, lambda_c); got {bc_loss!r}."
        )
    if getattr(bc_loss, "h2", h2) is not h2:
        raise ValueError(
            "bc_loss was built for another model: create it with this h2, "
            "e.g. BCCrossEntropyLoss(h1, h2, lambda_c)."
        )
    if optimizer is None:
        raise ValueError("optimizer is required, e.g. keras.optimizers.Adam(1e-3).")
    return keras.optimizers.get(optimizer)


def _evaluate(h2, h1, bc_loss, testing_set) -> dict[str, float]:
    """Objective, accuracy, BTC and BEC of h2 (against h1) on ``testing_set``."""
    total_loss, n_seen = 0.0, 0
    truth, h1_labels, h2_labels = [], [], []
    for batch in testing_set:
        x, y, sample_weight = _unpack(batch)
        h1_output = h1(x, training=False)
        h2_output = h2(x, training=False)
        n_batch = int(ops.shape(h2_output)[0])
        objective = getattr(bc_loss, "objective", None)
        if objective is not None:
            value = objective(y, h1_output, h2_output, sample_weight)
        else:  # a BCML-style loss object that only takes (x, y)
            value = bc_loss(x, y)
        total_loss += float(value) * n_batch
        n_seen += n_batch
        n_outputs = _outputs.output_width(h2_output)
        truth.append(ops.convert_to_numpy(_outputs.class_indices(y, n_outputs)))
        h1_labels.append(ops.convert_to_numpy(_outputs.predicted_indices(h1_output)))
        h2_labels.append(ops.convert_to_numpy(_outputs.predicted_indices(h2_output)))
    if n_seen == 0:
        raise ValueError("testing_set yielded no batches.")
    truth, h1_labels, h2_labels = (
        np.concatenate(a) for a in (truth, h1_labels, h2_labels)
    )
    return {
        "test_loss": total_loss / n_seen,
        "test_accuracy": float(np.mean(h2_labels == truth)),
        # NaN, not a warning, when a score is undefined on this test set.
        "test_btc": scores.trust_compatibility_score(
            h1_labels, h2_labels, truth, zero_division=np.nan
        ),
        "test_bec": scores.error_compatibility_score(
            h1_labels, h2_labels, truth, zero_division=np.nan
        ),
    }


def bc_fit(
    h2: keras.Model,
    training_set=None,
    testing_set=None,
    epochs: int | None = None,
    bc_loss=None,
    optimizer=None,
    *,
    verbose: int = 1,
) -> keras.callbacks.History:
    """Train h2 with a backward-compatibility loss in a compiled training loop.

    Parameters
    ----------
    h2 : keras.Model
        The model to train (the one ``bc_loss`` was built with).
    training_set : tf.data.Dataset or iterable
        Batches ``(x, y)`` or ``(x, y, sample_weight)``. Must be re-iterable
        (a ``Dataset``, a list of batches): it is read once per epoch.
    testing_set : tf.data.Dataset or iterable, optional
        Batches evaluated at the end of every epoch: the objective, h2's
        accuracy, and BTC and BEC of h2 against ``bc_loss.h1``.
    epochs : int
        Number of passes over ``training_set``.
    bc_loss : BCLoss
        A loss object such as ``BCCrossEntropyLoss(h1, h2, lambda_c)``.
    optimizer : keras.optimizers.Optimizer or str
        The optimizer that updates h2's trainable weights (h1 is never updated).
    verbose : int, default=1
        0 is silent, 1 shows a progress bar per epoch, 2 one line per epoch.

    Returns
    -------
    keras.callbacks.History
        ``history.history`` maps ``"loss"`` (mean training objective) and, with
        a ``testing_set``, ``"test_loss"``, ``"test_accuracy"``, ``"test_btc"``
        and ``"test_bec"`` to one value per epoch.

    Notes
    -----
    h2 runs once per batch, with ``training=True`` (dropout and batch
    normalisation train); h1 runs in inference mode. Regularisation losses of
    h2 (``h2.losses``) are added, as ``Model.fit`` does. BCML printed a few
    markers and returned ``None``.
    """
    _backend.require_tensorflow(
        "bc_fit (BCML's training loop)",
        "Train with BCCompatibleClassifier(method='model'), which runs on every "
        "backend.",
    )
    optimizer = _check_arguments(h2, training_set, epochs, bc_loss, optimizer)
    h1 = getattr(bc_loss, "h1", None)
    if not optimizer.built:
        # Slot variables created in the first step would land outside h2's
        # tf.distribute strategy; create them in its scope now.
        with h2.distribute_strategy.scope():
            optimizer.build(h2.trainable_variables)

    @tf.function(reduce_retracing=True)
    def train_step(x, y, sample_weight):
        with tf.GradientTape() as tape:
            if sample_weight is None:
                loss = bc_loss(x, y)
            else:
                loss = bc_loss(x, y, sample_weight)
            if h2.losses:
                loss = loss + ops.sum(h2.losses)
        gradients = tape.gradient(loss, h2.trainable_weights)
        optimizer.apply_gradients(zip(gradients, h2.trainable_weights, strict=True))
        return loss

    history = keras.callbacks.History()
    history.set_model(h2)
    history.epoch = []
    steps = _n_steps(training_set)
    for epoch in range(epochs):
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs}")
        progress = keras.utils.Progbar(steps, verbose=verbose)
        total_loss, n_seen = 0.0, 0
        for step, batch in enumerate(training_set):
            x, y, sample_weight = _unpack(batch)
            loss = float(train_step(x, y, sample_weight))
            n_batch = int(ops.shape(y)[0])
            total_loss += loss * n_batch
            n_seen += n_batch
            progress.update(step + 1, values=[("loss", loss)])
        if n_seen == 0:
            raise ValueError("training_set yielded no batches.")
        logs = {"loss": total_loss / n_seen}
        if testing_set is not None and h1 is not None:
            logs.update(_evaluate(h2, h1, bc_loss, testing_set))
        for key, value in logs.items():
            history.history.setdefault(key, []).append(value)
        history.epoch.append(epoch)
        if verbose:
            print(" - ".join(f"{key}: {value:.4f}" for key, value in logs.items()))
    return history
