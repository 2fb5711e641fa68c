"""The base class of the loss classes: one objective, many per-sample losses."""

from __future__ import annotations

import keras
from keras import ops

from bcsk._keras import _backend
from bcsk.objective import _outputs
from bcsk.objective._dissonances import Dissonance, NewError, weighted_values


def cross_entropy(y, probabilities):
    """Per-sample cross-entropy with class-index, one-hot or binary labels."""
    n_outputs = _outputs.output_width(probabilities)
    if n_outputs == 1:
        return keras.losses.binary_crossentropy(
            _outputs.one_hot_targets(y, 1, probabilities.dtype), probabilities
        )
    if _outputs.is_one_hot(y, n_outputs):
        return keras.losses.categorical_crossentropy(
            ops.cast(y, probabilities.dtype), probabilities
        )
    return keras.losses.sparse_categorical_crossentropy(
        _outputs.class_indices(y, n_outputs), probabilities
    )


def without_cached_logits(probabilities):
    """Return a softmax output without the logits Keras caches on it.

    ``keras.losses.binary_crossentropy`` reads the cached ``_keras_logits`` as *sigmoid*
    logits, which is wrong for a softmax output of several columns.
    """
    if _outputs.output_width(probabilities) > 1:
        return ops.copy(probabilities)
    return probabilities


def soft_cross_entropy(targets, probabilities):
    """Per-sample cross-entropy against soft targets (rows of probabilities)."""
    if _outputs.output_width(probabilities) == 1:
        return keras.losses.binary_crossentropy(targets, probabilities)
    return keras.losses.categorical_crossentropy(targets, probabilities)


def negative_log_likelihood(targets, probabilities):
    """``-sum_k t_k log p_k`` without renormalising ``p`` (BCML's NLL)."""
    targets = _outputs.as_two_columns(targets)
    probabilities = _outputs.as_two_columns(probabilities)
    clipped = ops.clip(probabilities, keras.backend.epsilon(), 1.0)
    return -ops.sum(targets * ops.log(clipped), axis=-1)


def kl_divergence(targets, probabilities):
    """Per-sample ``KL(targets || probabilities)``; one sigmoid unit is two classes."""
    return keras.losses.kl_divergence(
        _outputs.as_two_columns(targets), _outputs.as_two_columns(probabilities)
    )


class BCLoss:
    """Backward-compatibility loss: task loss plus ``lambda_c`` times a dissonance.

    The value is the objective of :mod:`bcsk.objective`::

        mean_i[ s_i l(y_i, h2(x_i)) ] + lambda_c * mean_i[ s_i w_i d_i ]

    with ``s_i`` the sample weight (1 by default) and ``d_i``, ``w_i`` the
    dissonance of the subclass (:attr:`dissonance_class`, built from
    ``**params``). Both means run over the whole batch, so the loss does not
    grow with the batch size. Subclasses combine a task-loss family (which
    defines :meth:`task_loss` and :meth:`imitation_loss`) with this class.

    Parameters
    ----------
    h1 : keras.Model
        The reference (old) model. It is only called, in inference mode, and
        never trained.
    h2 : keras.Model
        The model being trained. It is called once per batch with
        ``training=True``.
    lambda_c : float
        Weight of the dissonance, ``>= 0``.
    **params
        Parameters of the dissonance (e.g. ``temperature=2.0`` for focal
        distillation).
    """

    dissonance_class: type[Dissonance] = NewError

    def __init__(self, h1, h2, lambda_c: float, **params) -> None:
        _backend.require_tensorflow(
            f"{type(self).__name__} (a loss class of BCML's bc_fit)",
            "Train with BCCompatibleClassifier(method='model') and a dissonance "
            "from bcsk.objective, which run on every backend.",
        )
        if h1 is None or h2 is None:
            raise ValueError(
                f"{type(self).__name__} needs both models: pass the trained "
                "reference model as h1 and the model to train as h2."
            )
        self.h1 = h1
        self.h2 = h2
        self.lambda_c = _outputs.validate_lambda_c(lambda_c)
        valid = self.dissonance_class._param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown parameter(s) {unknown}; its "
                f"dissonance {self.dissonance_class.__name__} takes {valid or 'none'}."
            )
        self.dissonance = self.dissonance_class(**params).validate()
        self._task = _outputs.TaskLoss(self.task_loss, self.imitation_loss)
        # BCML's loss objects carry a __name__, and bc_fit prints it.
        self.__name__ = type(self).__name__

    def task_loss(self, y, h2_output):
        """Per-sample task loss ``l(y_i, h2(x_i))``, shape ``(n,)``."""
        raise NotImplementedError

    def imitation_loss(self, h1_output, h2_output):
        """Per-sample divergence of h2's output from h1's output, shape ``(n,)``."""
        raise NotImplementedError

    def objective(self, y, h1_output, h2_output, sample_weight=None):
        """The loss value from precomputed model outputs.

        Parameters
        ----------
        y : tensor
            Labels: class indices of shape ``(n,)`` or ``(n, 1)``, one-hot rows,
            or 0/1 labels for a single sigmoid unit.
        h1_output, h2_output : tensor
            Probabilities of shape ``(n, n_classes)`` (or ``(n, 1)``).
        sample_weight : tensor, optional
            Per-sample weights of shape ``(n,)``.

        Returns
        -------
        tensor
            Scalar loss.
        """
        task = self.task_loss(y, h2_output)
        term = weighted_values(self.dissonance, self._task, y, h1_output, h2_output)
        if sample_weight is not None:
            sample_weight = ops.reshape(ops.cast(sample_weight, task.dtype), (-1,))
            task = task * sample_weight
            term = term * sample_weight
        return ops.mean(task) + self.lambda_c * ops.mean(term)

    def __call__(self, x, y, sample_weight=None):
        """Run h1 and h2 on a batch and return the loss (call inside a tape)."""
        h1_output = self.h1(x, training=False)
        h2_output = self.h2(x, training=True)
        return self.objective(y, h1_output, h2_output, sample_weight)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lambda_c={self.lambda_c}, "
            f"dissonance={self.dissonance!r})"
        )


# The four task losses. Each family pairs a task loss on the labels with the
# matching divergence from h1's output; the loss modules combine them with
# BCLoss and a dissonance.


class CrossEntropyFamily:
    """Cross-entropy task loss; strict imitation uses h1's output as soft target."""

    def task_loss(self, y, h2_output):
        """Per-sample cross-entropy of h2's output against ``y``."""
        return cross_entropy(y, h2_output)

    def imitation_loss(self, h1_output, h2_output):
        """Per-sample ``-sum_k p1_k log p2_k``."""
        return soft_cross_entropy(h1_output, h2_output)


class NLLFamily:
    """Negative log-likelihood of the true class, without renormalising h2."""

    def task_loss(self, y, h2_output):
        """Per-sample ``-log p2[y]``."""
        n_outputs = _outputs.output_width(h2_output)
        targets = _outputs.one_hot_targets(y, n_outputs, h2_output.dtype)
        return negative_log_likelihood(targets, h2_output)

    def imitation_loss(self, h1_output, h2_output):
        """Per-sample ``-sum_k p1_k log p2_k``."""
        return negative_log_likelihood(h1_output, h2_output)


class BinaryCrossEntropyFamily:
    """Binary cross-entropy per output column, averaged over the columns."""

    def task_loss(self, y, h2_output):
        """Per-sample binary cross-entropy against one-hot (or 0/1) targets."""
        n_outputs = _outputs.output_width(h2_output)
        targets = _outputs.one_hot_targets(y, n_outputs, h2_output.dtype)
        return keras.losses.binary_crossentropy(
            targets, without_cached_logits(h2_output)
        )

    def imitation_loss(self, h1_output, h2_output):
        """Per-sample binary cross-entropy with h1's probabilities as targets."""
        return keras.losses.binary_crossentropy(
            h1_output, without_cached_logits(h2_output)
        )


class KLDivFamily:
    """Kullback-Leibler divergence from the target distribution."""

    def task_loss(self, y, h2_output):
        """Per-sample ``KL(onehot(y) || p2)``."""
        n_outputs = _outputs.output_width(h2_output)
        targets = _outputs.one_hot_targets(y, n_outputs, h2_output.dtype)
        return kl_divergence(targets, h2_output)

    def imitation_loss(self, h1_output, h2_output):
        """Per-sample ``KL(p1 || p2)``."""
        return kl_divergence(h1_output, h2_output)
