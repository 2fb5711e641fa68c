"""Creating a model's training state before ``Model.fit`` traces its first step."""

from __future__ import annotations

import keras


def build_training_state(model: keras.Model, batch=None) -> None:
    """Create the optimizer's (and compiled metrics') variables now.

    Without a distribution strategy, Keras on TensorFlow creates them while
    tracing the first training step, and TensorFlow traces a function that
    creates variables twice (once to lift their initializers out, once more to
    run it). Building them first, as Keras itself does under a distribution
    strategy, saves that second trace of the training step: 0.3-0.5 s per fresh
    model, a quarter of a small network's fit. Training is unchanged: the slots
    start at the same zeros and the trained weights are bit-identical (tested).

    On JAX and PyTorch this does nothing: there is no second trace to save.

    Parameters
    ----------
    model : keras.Model
        A compiled model (anything else is left alone).
    batch : tuple, optional
        ``(x, y, sample_weight)`` arrays of the training data. Needed only when
        the model is not built yet or has compiled metrics: their variables are
        then built from the first row, by Keras' own pre-build. Without it such
        models are left to Keras (two traces, as usual).
    """
    if not getattr(model, "compiled", False) or keras.backend.backend() != "tensorflow":
        # The double trace is TensorFlow's (tf.function); JAX and PyTorch
        # build the state in their first step at no extra cost.
        return
    optimizer = model.optimizer
    unbuilt_metrics = any(not getattr(m, "built", True) for m in model.metrics)
    with model.distribute_strategy.scope():
        if unbuilt_metrics or not model.built:
            # Keras' pre-build is private (Trainer._symbolic_build), hence the check.
            if batch is not None and hasattr(model, "_symbolic_build"):
                first_row = keras.tree.map_structure(
                    lambda a: None if a is None else a[:1], tuple(batch)
                )
                model._symbolic_build(data_batch=first_row)
        elif optimizer is not None and not optimizer.built:
            # The common case: only the optimizer's slots are missing (cheap).
            optimizer.build(model.trainable_variables)


def mirror_compiled_metrics(model: keras.Model, trained: keras.Model, x, y) -> None:
    """Give ``model`` the compiled metrics that ``trained`` computed for it.

    bcsk trains h2 inside a model of its own (h2 behind h1's outputs), which
    is compiled as h2 is, so the metrics the user compiled are computed there
    and reach ``history_``; h2's own compiled metrics are never updated, and
    Keras lists a compiled metric only once it is built. Here h2's are built
    (from one row) and take the values of the trained model's metrics of the
    same name, so that ``model.metrics`` lists and reports what the user
    compiled, as after a plain ``model.fit``.

    Parameters
    ----------
    model : keras.Model
        h2 (or the ensemble of the members), compiled.
    trained : keras.Model
        The compiled model that ``Model.fit`` trained.
    x, y
        h2's inputs and targets (arrays, or lists or dicts of arrays); the
        first row builds the metrics.
    """
    if not getattr(model, "compiled", False) or model is trained:
        return
    x_row, y_row = (
        keras.tree.map_structure(lambda array: array[:1], part) for part in (x, y)
    )
    model.compute_metrics(x_row, y_row, model(x_row, training=False))
    trained_metrics = {metric.name: metric for metric in trained.metrics}
    for metric in model.metrics:
        source = trained_metrics.get(metric.name)
        if source is None or source is metric:
            continue
        if [v.shape for v in metric.variables] == [v.shape for v in source.variables]:
            for variable, value in zip(metric.variables, source.variables, strict=True):
                variable.assign(value)
