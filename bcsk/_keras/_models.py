"""The Keras models bcsk's estimators train, on every Keras backend.

:class:`BCObjectiveMixin` adds the backward-compatibility objective to a Keras
model through :meth:`keras.Model.compute_loss`, Keras 3's hook for a custom
objective; ``train_step`` stays Keras' own on TensorFlow, JAX and PyTorch.
:class:`ReferenceInputModel` (one h2) and :class:`ReferenceInputPathModel`
(several copies, the path model behind the lambda_c path, the ensembles and
the one-call search) take h1's outputs as inputs. They are private to bcsk's
estimators and never saved. BCML's public model classes, built on the mixin,
stay in :mod:`bcsk.tensorflow.models` under BCML's module name.
"""

from __future__ import annotations

import copy

import keras
from keras import ops

# Keras' own reading of a metric's name ("accuracy": binary, categorical or
# sparse from the shapes), for metrics compiled per group of copies.
from keras.src.trainers import compile_utils

from bcsk._keras._state import build_training_state
from bcsk.objective import _outputs
from bcsk.objective._dissonances import (
    CompatibilityTerm,
    Dissonance,
    Objective,
    get_dissonance,
    reweights_task_loss,
    task_loss_weights,
)

__all__ = ["BCObjectiveMixin", "ReferenceInputModel", "ReferenceInputPathModel"]


def _one_output_metrics(spec) -> list:
    """The metrics compiled for a model of one output, as a flat list."""
    if spec is None:
        return []
    if isinstance(spec, dict):  # {output name: metrics} for the one output
        (spec,) = spec.values()
    if not isinstance(spec, (list, tuple)):
        return [spec]
    if len(spec) == 1 and isinstance(spec[0], (list, tuple)):  # [[...]]
        return list(spec[0])
    return list(spec)


class _MeanPerName(keras.metrics.Metric):
    """Several running means in one metric: one variable update per step.

    The loss of each group of copies a search may serve, weighed by batch
    size as Keras' loss tracker is. One metric (two variables) instead of
    one ``Mean`` per group keeps the step small: 13 groups were 13 metric
    updates in every step.
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__(name="group_losses")
        self.names = list(names)
        shape = (len(self.names),)
        self.total = self.add_variable(shape, initializer="zeros", name="total")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, values, batch_size):
        batch_size = ops.cast(batch_size, self.dtype)
        self.total.assign_add(ops.cast(values, self.dtype) * batch_size)
        self.count.assign_add(batch_size)

    def result(self) -> dict:
        means = ops.divide_no_nan(self.total, self.count)
        return {name: means[i] for i, name in enumerate(self.names)}


def _per_sample(sample_weight) -> bool:
    """Whether sample weights are one per sample (or absent): foldable."""
    if sample_weight is None:
        return True
    shape = tuple(sample_weight.shape)
    return len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1)


def _regularization(losses):
    """The sum of a model's added losses (regularisers), as Keras adds them."""
    total = 0.0
    for loss in losses:
        if not keras.backend.is_float_dtype(loss.dtype):
            loss = ops.cast(loss, keras.backend.floatx())
        total = total + ops.sum(loss)
    return total


class BCObjectiveMixin:
    """The backward-compatibility objective, shared by the model classes.

    h1 is stored outside Keras' layer tracking: its variables never appear in
    ``weights`` or ``trainable_weights`` of the model being trained, so no
    optimizer can update them, whatever ``h1.trainable`` says. h1 is still saved
    with the model (``model.save`` walks its attributes) and restored on load.
    """

    def _setup_compatibility(self, h1, lambda_c, dissonance) -> None:
        if h1 is None:
            raise ValueError(
                f"{type(self).__name__} needs the reference model: pass "
                "h1=<your trained Keras model>."
            )
        if not isinstance(h1, keras.layers.Layer):
            raise TypeError(
                f"h1 must be a Keras model, got {type(h1).__name__}. To update a "
                "scikit-learn model (or any callable), use "
                "bcsk.BCCompatibleClassifier, which accepts those as h1."
            )
        object.__setattr__(self, "_h1", h1)
        self._set_objective(lambda_c, dissonance)

    def _set_objective(self, lambda_c, dissonance) -> None:
        object.__setattr__(self, "_lambda_c", _outputs.validate_lambda_c(lambda_c))
        # A private copy: the compiled steps hold its parameters as constants,
        # so a later change to the caller's object must not go unnoticed.
        object.__setattr__(
            self, "_dissonance", copy.deepcopy(get_dissonance(dissonance))
        )

    @property
    def h1(self) -> keras.Model:
        """The reference model h1 (never trained)."""
        return self._h1

    @property
    def dissonance(self) -> Dissonance:
        """The dissonance (a copy; assign a new one to change it between fits)."""
        return copy.deepcopy(self._dissonance)

    @dissonance.setter
    def dissonance(self, value: str | Dissonance) -> None:
        object.__setattr__(self, "_dissonance", copy.deepcopy(get_dissonance(value)))
        # As for lambda_c: the compiled steps must be traced again.
        self.train_function = None
        self.test_function = None

    @property
    def lambda_c(self) -> float:
        """Weight of the compatibility term; can be changed between fits."""
        return self._lambda_c

    @lambda_c.setter
    def lambda_c(self, value: float) -> None:
        object.__setattr__(self, "_lambda_c", _outputs.validate_lambda_c(value))
        # The compiled train/test steps hold lambda_c as a constant: drop them so
        # the next fit or evaluate traces them again with the new value.
        self.train_function = None
        self.test_function = None

    def fit(self, *args, **kwargs):
        """``keras.Model.fit``, with the optimizer's variables created first.

        Keras on TensorFlow creates them while tracing the first training
        step, which makes TensorFlow trace that step twice; building them
        first (when the model is built and has no compiled metrics) saves one
        trace. Training is unchanged. Takes the arguments of
        :meth:`keras.Model.fit`.
        """
        build_training_state(self)
        return super().fit(*args, **kwargs)

    # Whether compute_loss takes a model of several outputs (a multi-output y).
    _trains_several_outputs = False

    def _h1_reference(self, x, y_pred):
        """h1's output on the batch, and ``c_i`` (``None``: derived from it)."""
        return self._h1(x, training=False), None

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """Compiled loss plus ``lambda_c`` times the weighted dissonance.

        The compiled loss (with regularisation losses) is Keras' own; the
        compatibility term ``lambda_c * mean_i[ s_i w_i d_i ]`` is a
        :class:`bcsk.objective._dissonances.CompatibilityTerm` built from the dissonance
        and the compiled loss, reduced and scaled by Keras as the compiled loss
        is.
        """
        if y is None or y_pred is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        several = isinstance(y_pred, (list, tuple, dict))
        if several and not self._trains_several_outputs:
            raise ValueError(
                f"{type(self).__name__} supports single-output classifiers; this "
                "model returns several outputs."
            )
        if self._lambda_c == 0:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        if several:
            total = super().compute_loss(x, y, y_pred, sample_weight, training=training)
            return total + self._several_outputs_term(x, y, y_pred, sample_weight)
        h1_output, correct = self._h1_reference(x, y_pred)
        if self._folds_term(correct, sample_weight):
            # The checks the term would make (same classes as h1), then new
            # error as the task loss once, under weights s_i (1 + lambda_c c_i).
            _outputs.check_same_width(h1_output, y_pred)
            weights = task_loss_weights(
                self._dissonance, self._lambda_c, correct, sample_weight
            )
            return super().compute_loss(x, y, y_pred, weights, training=training)
        task = _outputs.compiled_task_loss(
            getattr(self, "loss", None), _outputs.output_width(y_pred)
        )
        multilabel = getattr(self, "_multilabel", False)
        if self._plain_mean_task_loss(correct, sample_weight):
            # Task and term in one Keras loss (built while tracing the step).
            objective = Objective(
                self._dissonance, task, self._lambda_c, multilabel=multilabel
            )
            total = objective((y, h1_output, correct), y_pred, sample_weight)
            return total + _regularization(self.losses)
        total = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        h1_output = ops.stop_gradient(ops.cast(h1_output, y_pred.dtype))
        _outputs.check_same_width(h1_output, y_pred)
        if correct is None:
            correct = _outputs.h1_correct(h1_output, y, y_pred.dtype)
        # Built while tracing the step (not per batch); follows a re-compile.
        term = CompatibilityTerm(self._dissonance, task, multilabel=multilabel)
        return total + self._lambda_c * term(
            (y, h1_output, correct), y_pred, sample_weight=sample_weight
        )

    def _folds_term(self, correct, sample_weight) -> bool:
        """Whether the term folds into the compiled loss's sample weights.

        It does for a dissonance whose ``d_i`` is the task loss
        (:func:`~bcsk.objective._dissonances.reweights_task_loss`), one label
        per sample, when the compiled loss is a plain mean over the samples
        (:meth:`_plain_mean_task_loss`).
        """
        return (
            reweights_task_loss(self._dissonance)
            and not getattr(self, "_multilabel", False)
            and self._plain_mean_task_loss(correct, sample_weight)
        )

    def _plain_mean_task_loss(self, correct, sample_weight) -> bool:
        """Whether the objective may be computed outside Keras' compiled loss.

        True when ``c_i`` is known without h1 and the compiled loss averages
        over the samples with weight 1 (no ``loss_weights``: they would scale
        the term too), one sample weight per sample: then the task loss
        reduced with other weights, or one Keras loss holding task and term
        (:class:`~bcsk.objective._dissonances.Objective`), is the same
        objective. Only models that record their ``loss_weights`` at
        ``compile`` (:class:`ReferenceInputModel`) qualify. A loss that
        overrides ``__call__`` alone does not: the term's path checks that it
        gives one value per sample.
        """
        return (
            correct is not None
            and "_loss_weights" in vars(self)
            and self._loss_weights is None
            and _outputs.averages_over_samples(getattr(self, "loss", None))
            and not _outputs.overrides_call_only(getattr(self, "loss", None))
            and _per_sample(sample_weight)
        )

    def _compatibility_config(self) -> dict:
        return {
            "h1": keras.saving.serialize_keras_object(self._h1),
            "lambda_c": self._lambda_c,
        }


class ReferenceInputModel(BCObjectiveMixin, keras.Model):
    """h2 trained against h1's outputs computed before the fit (the estimator's path).

    New error under a plain compiled loss needs no such model: the estimator
    then fits h2 itself on reweighted samples (``_reweights_samples`` in
    :mod:`bcsk.estimator`).

    The inputs are the triple ``(x, h1_output, correct)``: h1 ran once on the
    whole training set (``correct`` of shape ``(n, L)`` for a multilabel y,
    with ``multilabel=True``), and its outputs travel with the batches, so no training
    step calls h1. Private to :class:`bcsk.BCCompatibleClassifier`, never saved
    (the estimator keeps the original model).
    """

    def __init__(
        self, original_model: keras.Model, lambda_c, dissonance, multilabel=False
    ) -> None:
        super().__init__()
        self.original_model = original_model
        _outputs.share_output_names(self, original_model)
        self._set_objective(lambda_c, dissonance)
        # One sigmoid unit per label: c and the dissonance per (sample, label).
        object.__setattr__(self, "_multilabel", bool(multilabel))

    def call(self, inputs, training=None):
        """Run the original model on ``x``."""
        return self.original_model(inputs[0], training=training)

    def _h1_reference(self, x, y_pred):
        return x[1], x[2]

    _trains_several_outputs = True

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, **kwargs):
        """``keras.Model.compile``; keeps ``loss_weights`` for the outputs' terms."""
        # Read while tracing the step, when the compile config (which
        # serializes the optimizer) cannot be.
        object.__setattr__(self, "_loss_weights", loss_weights)
        super().compile(
            optimizer=optimizer, loss=loss, loss_weights=loss_weights, **kwargs
        )

    def _several_outputs_term(self, x, y, y_pred, sample_weight):
        """``sum_k v_k lambda_c mean_i[s_i w_ik d_ik]`` for a multi-output y.

        Output ``k`` has its own labels ``y[k]``, task loss, h1 output
        ``x[1][k]`` and ``c_ik = x[2][:, k]``; its term is weighted by its
        ``loss_weights`` entry ``v_k``, as Keras weighs its task loss, so the
        objective is ``sum_k v_k (mean_i[s_i l_ik] + lambda_c mean_i[s_i
        w_ik d_ik])``: each output's objective keeps the share the user gave
        it. The task losses (and regularisation) are Keras' own.
        """
        if isinstance(y_pred, dict):
            raise ValueError(
                "h2 returns its outputs as a dict; bcsk trains a multi-output y "
                "on a model whose outputs are a list, one per column of y: build "
                "it as keras.Model(inputs, [output_0, output_1, ...])."
            )
        total = 0.0
        h1_outputs, correct = x[1], x[2]
        names = getattr(self, "output_names", None)
        losses = _outputs.output_losses(self.loss, names, len(y_pred))
        weights = _outputs.output_weights(
            getattr(self, "_loss_weights", None), names, len(y_pred)
        )
        for k, prediction in enumerate(y_pred):
            reference = ops.stop_gradient(ops.cast(h1_outputs[k], prediction.dtype))
            _outputs.check_same_width(reference, prediction)
            term = CompatibilityTerm(
                self._dissonance,
                _outputs.compiled_task_loss(
                    losses[k], _outputs.output_width(prediction)
                ),
            )
            value = term((y[k], reference, correct[:, k]), prediction, sample_weight)
            total = total + self._lambda_c * weights[k] * value
        return total


class ReferenceInputPathModel(keras.Model):
    """k copies of h2 trained at once, copy ``j`` with its own objective.

    The one mechanism behind the lambda_c path, the ensembles and the
    one-call search: copy ``j`` is a network built by the user's builder and
    has its own ``(lambda_c_j, dissonance_j)``. The inputs are the triple
    ``(x, h1_output, correct)`` of :class:`ReferenceInputModel`. The loss is
    the sum over copies of each copy's objective, ``mean_i[s_i l_ij] +
    lambda_j mean_i[s_i w_ij d_ij]``; no copy's objective depends on another
    copy's weights, so the gradient of the sum with respect to copy ``j``'s
    weights is exactly the gradient of copy ``j``'s own objective, and an
    optimizer whose update of a weight depends only on that weight's gradient
    (SGD, Adam, RMSprop, ...) trains every copy as its own fit would. Private
    to bcsk's estimators, never saved.

    Compile it with ``loss=None``: the task loss ``loss`` is applied here, as
    one Keras loss per copy. (A compiled loss over k outputs would make Keras
    create a loss tracker per output while tracing the first step, and
    TensorFlow would trace that step twice.) Compiled metrics, if any, see the
    mean of the copies' outputs: the prediction of an ensemble whose members
    are the copies.
    """

    def __init__(
        self, originals, objectives, loss, multilabel=False, loss_weights=None
    ) -> None:
        super().__init__()
        object.__setattr__(self, "_multilabel", bool(multilabel))
        self.originals = list(originals)
        # The compiled metrics see one output, the copies' mean.
        _outputs.share_output_names(self, self.originals[0])
        objectives = [
            (_outputs.validate_lambda_c(lambda_c), get_dissonance(dissonance))
            for lambda_c, dissonance in objectives
        ]
        if len(objectives) != len(self.originals):
            raise ValueError(
                f"{len(self.originals)} copies but {len(objectives)} objectives."
            )
        object.__setattr__(self, "_objectives", objectives)
        object.__setattr__(self, "_task_loss", loss)
        # A multi-output copy: each output's objective weighed as Keras would.
        object.__setattr__(self, "_loss_weights", loss_weights)
        # Groups of copies reported on their own (track_groups): none yet.
        object.__setattr__(self, "_groups", [])
        object.__setattr__(self, "_group_metrics", [])

    def track_groups(self, groups, metrics=None, weighted_metrics=None, rows=None):
        """Report each group of copies' loss and metrics on its own, per epoch.

        A search serves some of the copies it trained (one candidate, or an
        ensemble of its first copies): their ``history_`` must hold their own
        loss and the metrics the user compiled, not the sum over every copy.
        Group ``prefix`` is reported as ``{prefix}loss`` (the sum of its
        copies' objectives, as a fit of that ensemble reports) and
        ``{prefix}{name}`` for each metric, computed on the mean of its
        copies' outputs; Keras adds ``val_`` on validation data.

        Parameters
        ----------
        groups : list of (str, list of int)
            A prefix and the indices of the group's copies.
        metrics, weighted_metrics : list, optional
            The user's compiled metrics (serialized, as in a compile config),
            built afresh for each group.
        rows : tuple, optional
            ``(y, y_pred)`` of one row: how Keras reads ``"accuracy"``.
        """
        group_metrics, flat = [], []
        for prefix, _ in groups:
            built = []
            for spec, weighted in ((metrics, False), (weighted_metrics, True)):
                for identifier in _one_output_metrics(spec):
                    metric = compile_utils.get_metric(
                        keras.saving.deserialize_keras_object(identifier), *rows
                    )
                    # As Keras names a weighted metric that repeats a name.
                    taken = {m.name for m, _ in built}
                    name = metric.name
                    if weighted and name in taken:
                        name = f"weighted_{name}"
                    metric.name = f"{prefix}{name}"
                    built.append((metric, weighted))
            group_metrics.append(built)
            flat.extend(metric for metric, _ in built)
        # Tracked (attributes of the model): Keras lists, resets and, on JAX,
        # threads their variables through the compiled step as its own.
        self._group_losses = _MeanPerName([f"{prefix}loss" for prefix, _ in groups])
        self._group_metric_list = flat
        object.__setattr__(self, "_groups", [list(i) for _, i in groups])
        object.__setattr__(self, "_group_metrics", group_metrics)

    def call(self, inputs, training=None):
        """Every copy's output on ``x``, as a list."""
        return [model(inputs[0], training=training) for model in self.originals]

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The sum of the copies' objectives, plus their regularisation losses.

        A copy with K outputs (a multi-output y) adds ``sum_k v_k (task_k +
        lambda_j term_k)``, as :class:`ReferenceInputModel` does; one output
        is the case K = 1.
        """
        if y is None or y_pred is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        h1_output, correct = x[1], x[2]
        several = isinstance(y_pred[0], (list, tuple))
        if several:
            n_outputs = len(y_pred[0])
            ys, references = list(y), list(h1_output)
            corrects = [correct[:, k] for k in range(n_outputs)]
        else:
            n_outputs, ys, references, corrects = 1, [y], [h1_output], [correct]
        names = getattr(self, "output_names", None)
        losses = (
            _outputs.output_losses(self._task_loss, names, n_outputs)
            if several
            else [self._task_loss]
        )
        weights = _outputs.output_weights(self._loss_weights, names, n_outputs)
        first = y_pred[0] if several else [y_pred[0]]
        tasks = [
            _outputs.compiled_task_loss(loss, _outputs.output_width(output))
            for loss, output in zip(losses, first, strict=True)
        ]
        task_terms = [_outputs.TaskTerm(task) for task in tasks]
        # Keras losses built while tracing: one per (objective, output) for
        # one weight per sample (task and term in one call), else one per
        # (dissonance, output) for the term beside the task term.
        objectives, terms = {}, {}
        one_call = _per_sample(sample_weight)
        copy_values = []
        for (lambda_c, dissonance), prediction in zip(
            self._objectives, y_pred, strict=True
        ):
            outputs = prediction if several else [prediction]
            copy_value = 0.0
            for k, output in enumerate(outputs):
                # weighted_values casts h1's output to the output's dtype.
                labels = (ys[k], references[k], corrects[k])
                if one_call:
                    key = (id(dissonance), lambda_c, k)
                    if key not in objectives:
                        objectives[key] = Objective(
                            dissonance, tasks[k], lambda_c, multilabel=self._multilabel
                        )
                    value = objectives[key](labels, output, sample_weight)
                else:
                    value = task_terms[k](ys[k], output, sample_weight=sample_weight)
                    if lambda_c:
                        key = (id(dissonance), k)
                        if key not in terms:
                            terms[key] = CompatibilityTerm(
                                dissonance, tasks[k], multilabel=self._multilabel
                            )
                        value = value + lambda_c * terms[key](
                            labels, output, sample_weight=sample_weight
                        )
                copy_value = copy_value + weights[k] * value
            copy_values.append(copy_value)
        total = sum(copy_values[1:], copy_values[0])
        if self._groups:
            self._track_group_losses(copy_values, x)
        if self.losses:  # the copies' regularisation losses, aggregated by Keras
            total = total + super().compute_loss(
                x, y, y_pred, sample_weight, training=training
            )
        return total

    def _track_group_losses(self, copy_values, x) -> None:
        """Each tracked group's loss: its copies' objectives and penalties.

        Updated inside ``compute_loss``, as Keras' own per-output loss trackers
        are (on JAX the step threads metric variables through it too); weighed
        by the batch's size, as Keras' loss tracker is.
        """
        values = []
        for indices in self._groups:
            value = 0.0
            for i in indices:
                value = value + copy_values[i]
                for penalty in self.originals[i].losses:
                    value = value + penalty
            values.append(value)
        batch_size = ops.shape(keras.tree.flatten(x)[0])[0]
        self._group_losses.update_state(
            ops.stop_gradient(ops.stack(values)), batch_size
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Compiled metrics of the mean of the copies' outputs.

        Each tracked group's metrics (:meth:`track_groups`) see the mean of
        that group's copies.
        """
        for indices, metrics in zip(self._groups, self._group_metrics, strict=True):
            if not metrics:
                continue
            mean = _outputs.mean_of_outputs([y_pred[i] for i in indices])
            for metric, weighted in metrics:
                metric.update_state(
                    y, mean, sample_weight=sample_weight if weighted else None
                )
        if isinstance(y_pred, (list, tuple)):
            y_pred = _outputs.mean_of_outputs(list(y_pred))
        return super().compute_metrics(x, y, y_pred, sample_weight)
