"""``BCCompatibleClassifier``: a scikit-learn classifier that stays compatible with h1.

Built on scikeras' ``KerasClassifier`` through :mod:`bcsk._scikeras`, which
holds every use of scikeras' internals; this module holds the compatibility
objective's side: the parameters, h1's outputs, and the training paths.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from bcsk import _h1
from bcsk._keras import _backend
from bcsk._keras._ensemble import MeanEnsemble
from bcsk._keras._models import ReferenceInputModel, ReferenceInputPathModel
from bcsk._keras._state import build_training_state, mirror_compiled_metrics
from bcsk._scikeras import (
    MULTILABEL,
    ONE_HOT,
    ScikerasClassifier,
    _target_kind,
    first_rows,
    keras_seeds,
)
from bcsk.objective import _outputs
from bcsk.objective._dissonances import (
    DISSONANCES,
    Dissonance,
    FocalDistillation,
    LogitDifference,
    NewError,
    StrictImitation,
    get_dissonance,
    reweights_task_loss,
    task_loss_weights,
)
from bcsk.tensorflow.helpers import bc_fit
from bcsk.tensorflow.loss import distillation, new_error, strict_imitation

__all__ = ["BCCompatibleClassifier"]

METHODS = ("model", "bc_fit")

_CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy")

# Loss class used by method="bc_fit", by (compiled loss family, dissonance class).
_BC_FIT_LOSSES = {
    **{(kind, NewError): new_error.BCCrossEntropyLoss for kind in _CROSS_ENTROPIES},
    **{
        (kind, StrictImitation): strict_imitation.BCStrictImitationCrossEntropyLoss
        for kind in _CROSS_ENTROPIES
    },
    **{
        (kind, FocalDistillation): distillation.BCFocalDistillationLoss
        for kind in _CROSS_ENTROPIES
    },
    **{
        (kind, LogitDifference): distillation.BCLogitDifferenceLoss
        for kind in _CROSS_ENTROPIES
    },
    ("binary_crossentropy", NewError): new_error.BCBinaryCrossEntropyLoss,
    ("binary_crossentropy", StrictImitation): (
        strict_imitation.BCStrictImitationBinaryCrossEntropyLoss
    ),
    ("kl_divergence", NewError): new_error.BCKLDivLoss,
    ("kl_divergence", StrictImitation): strict_imitation.BCStrictImitationKLDivLoss,
}


def _compile_like(target: keras.Model, source: keras.Model, loss) -> None:
    """Compile ``target`` as ``source`` is compiled, with another loss.

    The optimizer object is reused, so its state (and a warm start) carries over.
    """
    config = source.get_compile_config() or {}
    # Without a compiled loss (the path model applies the task losses itself)
    # there is nothing for Keras to weigh.
    skipped = ("optimizer", "loss") + (("loss_weights",) if loss is None else ())
    kwargs = {
        key: keras.saving.deserialize_keras_object(value)
        for key, value in config.items()
        if key not in skipped
    }
    target.compile(optimizer=source.optimizer, loss=loss, **kwargs)


def loss_weights_of(model: keras.Model):
    """The ``loss_weights`` a model was compiled with (None if none)."""
    return (model.get_compile_config() or {}).get("loss_weights")


def member_seeds(seed: int | None, n_members: int) -> list[int | None]:
    """The build seed of each ensemble member, derived from the fit's seed.

    Member 0 is built under ``seed`` itself, so that one member is the
    network a fit with ``n_members=1`` trains; the others under seeds spawned
    from it by NumPy's ``SeedSequence`` (independent streams, and no overlap
    with the seeds of other ``random_state`` values). Without a seed every
    build draws fresh weights.
    """
    if seed is None:
        return [None] * n_members
    spawned = np.random.SeedSequence(seed).spawn(n_members - 1)
    # 31 bits: TensorFlow's and scikeras' seeds must be non-negative int32.
    return [seed] + [int(s.generate_state(1)[0] >> 1) for s in spawned]


def check_same_networks(models, parameter: str) -> None:
    """Raise unless the builder gave networks of one shape (weights and output)."""
    shapes = [[tuple(w.shape) for w in m.weights] for m in models]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(
            f"The model builder returned networks of different shapes for the same "
            f"parameters ({len(shapes)} builds for {parameter}): the copies must be "
            "the same network, with the same output width. Make the builder "
            "deterministic in its architecture."
        )


def _output_width(model: keras.Model, X) -> int:
    """Number of output columns of h2 (1 for a single sigmoid unit)."""
    try:
        outputs = model.outputs
    except AttributeError:  # a subclassed model has no symbolic outputs
        outputs = None
    if outputs:
        return _outputs.output_width(outputs[0])
    return _outputs.output_width(model(first_rows(X, 1), training=False))


def _output_widths(model: keras.Model, X) -> list[int]:
    """Number of columns of each output of h2 (a multi-output model)."""
    try:
        outputs = model.outputs
    except AttributeError:  # a subclassed model has no symbolic outputs
        outputs = None
    if not outputs:
        outputs = model(first_rows(X, 1), training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
    return [_outputs.output_width(output) for output in outputs]


def _reference_arrays(reference: _h1.H1Outputs, classes, y, width: int):
    """``(h1_output, correct)`` of one output from h1's view of it.

    ``y`` holds scikeras' encoded labels (class indices, or one-hot rows);
    ``correct`` compares h1's labels, so that a label h1 knows but the
    estimator does not counts as an error. ``h1_output`` has h2's layout
    (one column for a single sigmoid unit); an h1 that only predicts labels
    gives one-hot rows.
    """
    y = np.asarray(y)
    y_index = (
        np.argmax(y, axis=1)
        if y.ndim == 2 and y.shape[1] > 1
        else y.reshape(-1).astype(int)
    )
    correct = reference.labels == classes[y_index]
    h1_output = reference.probabilities
    if h1_output is None:
        h1_output = (reference.labels[:, None] == classes[None, :]).astype(float)
    if width == 1:
        h1_output = h1_output[:, 1:]
    return h1_output, correct


class BCCompatibleClassifier(ScikerasClassifier):
    """A Keras classifier h2 trained to keep the trust users placed in h1.

    ``fit`` minimises ``L = mean_i[s_i l_i] + lambda_c * mean_i[s_i w_i d_i]``:
    the task loss ``l`` plus the weighted dissonance ``w_i d_i`` between h2 and
    the old model h1 (:mod:`bcsk.objective`; ``w_i`` depends on whether h1
    predicts training sample ``i`` correctly). Everything else
    is scikeras' ``KerasClassifier``: the model builder, routed ``model__*``,
    ``optimizer__*``, ``fit__*`` parameters, ``predict``, ``predict_proba``,
    ``score``, ``history_``, ``warm_start`` and ``partial_fit``.

    Parameters
    ----------
    model : callable or keras.Model
        A function that builds the Keras model h2 (it may take ``meta``,
        ``compile_kwargs`` and routed ``model__*`` arguments), or a model. Its
        output must give one probability per class (one sigmoid unit for a
        binary problem with ``loss="binary_crossentropy"``).
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model. A Keras model or a callable ``X -> probabilities`` gives
        one column per class in the order of ``classes_`` (sorted labels); a
        scikit-learn classifier is mapped through its own ``classes_``, so it may
        know only some of the classes. h1 receives the same ``X`` as this
        estimator (in a ``Pipeline``, the output of the preceding steps). It is
        never trained, modified, copied or cloned. A list of versions, oldest
        first, is trained against its last; a model that knows fewer classes
        than ``y`` says which with :func:`bcsk.with_classes` (:ref:`lineage`).
    lambda_c : float, default=0.5
        Weight of the compatibility term, ``>= 0``. 0 is plain training.
    dissonance : str or Dissonance, default="new_error"
        What h2 pays for disagreeing with h1: ``"new_error"`` (the task loss
        again where h1 is right), ``"strict_imitation"``,
        ``"focal_distillation"``, ``"logit_difference"``, or an object of
        :mod:`bcsk.objective` such as ``FocalDistillation(temperature=2)``
        (``GridSearchCV`` reaches its parameters as ``dissonance__*``). All but
        new error need h1's probabilities. See "Choosing a dissonance" in the
        docs.
    method : {"model", "bc_fit"}, default="model"
        ``"model"`` trains with ``Model.fit``; ``"bc_fit"`` with
        :func:`bcsk.tensorflow.helpers.bc_fit` and the matching loss class
        (needs a Keras h1). Both minimise the same objective.
    n_members : int, default=1
        Number of networks trained and averaged (an ensemble). Each member is
        built by ``model`` under its own seed derived from ``random_state``
        (member 0 under ``random_state`` itself), all members train on the same
        batches, each with its own objective (the objectives are summed), and
        ``predict_proba`` is the mean of their probabilities. The members
        train in one Keras model, cheaper than separate fits; serving costs n
        networks. ``model_`` is then a :class:`~bcsk.ensemble.MeanEnsemble`,
        and ``members_`` lists the members as plain Keras models. Needs
        ``method="model"`` and outputs that are probabilities.
    loss, optimizer, metrics, epochs, batch_size, verbose, random_state, \
callbacks, validation_split, shuffle, run_eagerly, warm_start, class_weight, \
build_fn, validation_batch_size : see scikeras.wrappers.KerasClassifier
        ``verbose`` defaults to 0 here (scikit-learn's convention).
    **kwargs
        Routed parameters (``model__hidden=64``, ``optimizer__learning_rate=...``),
        as in scikeras.

    Attributes
    ----------
    model_ : keras.Model
        The trained h2 (a plain Keras model; h1 is not inside it). With
        ``n_members > 1``, a :class:`~bcsk.ensemble.MeanEnsemble` of them.
    members_ : list of keras.Model
        The trained networks: ``[model_]``, or the ensemble's members.
    classes_ : ndarray or list of ndarray
        Sorted class labels; for a multi-output ``y``, one array per output
        (``predict_proba`` then returns one array of probabilities per
        output, and ``score`` is the share of samples right on every output).
    history_ : dict
        Per-epoch training figures; ``"loss"`` is the compatibility objective
        (with ``n_members > 1``, the sum of the members'; compiled metrics are
        those of the ensemble's mean).

    Notes
    -----
    h1 is frozen, so its outputs on the training data are computed once per
    ``fit`` (batched). With ``method="model"`` they travel with the batches
    into ``Model.fit`` beside ``X``, and the training step computes the
    objective from them: no training step calls h1, whatever the dissonance,
    the compiled loss or the kind of h1.

    Before ``Model.fit`` the optimizer's and compiled metrics' variables are
    created, which spares TensorFlow a second trace of the training step; the
    trained weights are the same as without it.

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::3], y[::3])
    >>> def build(meta):
    ...     return keras.Sequential([
    ...         keras.Input((meta["n_features_in_"],)),
    ...         keras.layers.Dense(meta["n_classes_"], activation="softmax")])
    >>> clf = BCCompatibleClassifier(build, h1=h1, lambda_c=0.5,
    ...     loss="sparse_categorical_crossentropy", epochs=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        model=None,
        *,
        h1=None,
        lambda_c: float = 0.5,
        dissonance: str | Dissonance = "new_error",
        method: str = "model",
        n_members: int = 1,
        build_fn=None,
        warm_start: bool = False,
        random_state=None,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose: int = 0,
        callbacks=None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        run_eagerly: bool = False,
        epochs: int = 1,
        class_weight=None,
        **kwargs,
    ) -> None:
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            class_weight=class_weight,
            **kwargs,
        )
        self.h1 = h1
        self.lambda_c = lambda_c
        self.dissonance = dissonance
        self.method = method
        self.n_members = n_members

    # -- scikit-learn protocol ------------------------------------------------

    def __sklearn_clone__(self):
        return _h1.clone_sharing_h1(self)

    # -- fitting --------------------------------------------------------------

    # bcsk's own parameters, checked in fit with scikit-learn's messages; the
    # rest are scikeras'. Checks that involve two parameters stay in code.
    _parameter_constraints: dict = {
        # A list: a chain of versions, oldest first (bcsk._h1.reference_version).
        "h1": [HasMethods(["predict"]), callable, list, tuple, None],
        "lambda_c": [Interval(numbers.Real, 0, None, closed="left")],
        "dissonance": [StrOptions(set(DISSONANCES)), Dissonance],
        "method": [StrOptions(set(METHODS))],
        "n_members": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def _check_compatibility_params(self, logged: bool = False) -> Dissonance:
        """Check bcsk's own parameters; return the dissonance object.

        ``logged``: h1's outputs were passed to ``fit`` (``h1_proba`` or
        ``h1_pred``) instead of a live ``h1``.
        """
        self._validate_params()
        if isinstance(self.n_members, bool):  # an Integral to scikit-learn
            raise ValueError(
                f"The 'n_members' parameter of {type(self).__name__} must be an int "
                f"in the range [1, inf), the number of networks averaged; got "
                f"{self.n_members!r}."
            )
        if self.n_members > 1 and self.method == "bc_fit":
            raise ValueError(
                f"method='bc_fit' trains one network; n_members={self.n_members} "
                "needs method='model' (the default), which trains the members "
                "together in one Keras model."
            )
        # The interval admits infinity; the objective does not.
        _outputs.validate_lambda_c(self.lambda_c)
        dissonance = get_dissonance(self.dissonance)  # and its own parameters
        if self.h1 is None:
            if not logged:
                raise ValueError(
                    f"{type(self).__name__} got h1=None and no logged outputs, "
                    "but it needs h1's outputs on the training data: pass the "
                    "old model as h1=..., or, when h1 cannot run "
                    "here, its logged outputs to fit: fit(X, y, h1_proba=P) with P "
                    "of shape (n_samples, n_classes) in the order of classes_, or "
                    "fit(X, y, h1_pred=labels) for dissonance='new_error'."
                )
            if self.method == "bc_fit":
                raise ValueError(
                    "method='bc_fit' calls h1 inside every training step, so it "
                    "needs a live Keras h1, not logged outputs. Use "
                    "method='model' (the default), which trains from h1_proba or "
                    "h1_pred."
                )
            return dissonance
        kind = _h1.h1_kind(self.h1)
        if dissonance.needs_probabilities and not _h1.has_probabilities(self.h1):
            raise ValueError(
                f"dissonance={dissonance.name!r} needs h1's probabilities, but h1 "
                f"({type(self.h1).__name__}) has no predict_proba. Use "
                "dissonance='new_error' (needs only h1's labels), or an h1 with "
                "predict_proba (e.g. wrapped in CalibratedClassifierCV)."
            )
        if self.method == "bc_fit" and kind != "keras":
            raise ValueError(
                "method='bc_fit' calls h1 inside every training step, so h1 must be "
                f"a Keras model; got {type(self.h1).__name__}. Use method='model'."
            )
        return dissonance

    def fit(
        self, X, y, sample_weight=None, *, h1_proba=None, h1_pred=None, **kwargs
    ) -> BCCompatibleClassifier:
        """Build h2 and train it with the compatibility objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples (h1 receives them too).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Labels (strings or integers); a multilabel indicator of 0 and 1,
            or one column of labels per output of a multi-output model (see
            "Multilabel and multi-output targets" in the docs).
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights; multiplied into both terms of the objective.
        h1_proba : array-like of shape (n_samples, n_classes), optional
            h1's logged probabilities on ``X`` (with ``h1=None``), one column
            per class in the order of ``classes_`` (the sorted labels of
            ``y``); rows sum to 1 within 1e-3. The objective is the one a live
            h1 giving these outputs would give. For a multi-output ``y``, a
            list of one such array per output. Under metadata routing,
            request it with ``set_fit_request(h1_proba=True)``.
        h1_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            h1's logged labels on ``X`` (with ``h1=None``), enough for
            ``dissonance="new_error"``.
        **kwargs
            Passed to ``Model.fit`` (prefer ``fit__*`` parameters).

        Returns
        -------
        self
        """
        logged = self._check_logged(X, y, None, h1_proba, h1_pred, partial=False)
        return self._run_fit(
            super().fit, X, y, sample_weight=sample_weight, logged=logged, **kwargs
        )

    def partial_fit(
        self,
        X,
        y,
        classes=None,
        sample_weight=None,
        *,
        h1_proba=None,
        h1_pred=None,
        **kwargs,
    ) -> BCCompatibleClassifier:
        """Train for one epoch on ``(X, y)``, keeping the current weights.

        Parameters are as for :meth:`fit`; ``classes`` lists every label when
        the first batch does not contain them all (``h1_proba`` then has one
        column per label of ``classes``).

        Returns
        -------
        self
        """
        logged = self._check_logged(X, y, classes, h1_proba, h1_pred, partial=True)
        return self._run_fit(
            super().partial_fit,
            X,
            y,
            classes=classes,
            sample_weight=sample_weight,
            logged=logged,
            partial=True,
            **kwargs,
        )

    def _check_logged(self, X, y, classes, h1_proba, h1_pred, *, partial: bool):
        """Check the parameters and h1's logged outputs before any training.

        Returns ``(h1_proba, h1_pred)`` when outputs were logged, else None.
        The checks that need ``classes_`` run again, with scikeras' classes,
        in the training hook; here they use the sorted labels of ``y`` (and
        ``classes``, and those of an earlier ``partial_fit``).
        """
        _h1.check_not_both(self.h1, h1_proba, h1_pred, type(self).__name__)
        logged = h1_proba is not None or h1_pred is not None
        dissonance = self._check_compatibility_params(logged=logged)
        if not logged:
            return None
        if not hasattr(X, "shape") and not hasattr(X, "__len__"):
            # An array-like known only by __array__ (scikit-learn's _NotAnArray).
            X = np.asarray(X)
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        if _target_kind(y) == "multiclass-multioutput":
            Y = np.asarray(y)
            if (
                classes is None
                and partial
                and isinstance(self.__dict__.get("classes_"), list)
            ):
                classes = self.classes_
            _h1.logged_multioutput_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                classes=[
                    np.unique(Y[:, k])
                    if classes is None
                    else np.union1d(Y[:, k], classes[k])
                    for k in range(Y.shape[1])
                ],
                n_samples=n_samples,
                need_probabilities=dissonance.needs_probabilities,
            )
            return h1_proba, h1_pred
        if _target_kind(y) == "multilabel-indicator":
            _h1.logged_multilabel_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                n_labels=np.shape(y)[1],
                n_samples=n_samples,
                need_probabilities=dissonance.needs_probabilities,
            )
            return h1_proba, h1_pred
        try:
            labels = np.unique(np.asarray(y).reshape(-1))
            if classes is not None:
                labels = np.union1d(labels, np.asarray(classes))
            elif partial and getattr(self, "classes_", None) is not None:
                labels = np.union1d(labels, np.asarray(self.classes_))
        except TypeError:  # labels that do not sort: the training hook checks
            labels = None
        if labels is not None and np.asarray(y).size == n_samples:
            _h1.logged_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                classes=labels,
                n_samples=n_samples,
                need_probabilities=dissonance.needs_probabilities,
            )
        return h1_proba, h1_pred

    def _train(
        self, X, y, sample_weight, *, warm_start, epochs, initial_epoch, fit_kwargs
    ) -> None:
        # X, y and sample_weight are validated, encoded and free of zero-weight
        # samples here, so h1's outputs computed now align with training rows.
        dissonance = get_dissonance(self.dissonance)
        if self._multioutput:
            from_logits = self._check_multioutput(X)
        else:
            kind, from_logits = _outputs.loss_kind(self.model_.loss)
            _outputs.check_loss_width(kind, _output_width(self.model_, X))
            if self._multilabel:
                self._check_multilabel(kind, _output_width(self.model_, X))
            else:
                self._check_labels(kind)
        if from_logits and self.n_members > 1:
            raise ValueError(
                f"n_members={self.n_members} averages the members' probabilities, "
                "but the loss takes logits (from_logits=True): give the network a "
                "softmax (or sigmoid) output and a loss on probabilities, or use "
                "n_members=1."
            )
        fit = dict(warm_start=warm_start, epochs=epochs, initial_epoch=initial_epoch)
        if self.method == "bc_fit":
            self._fit_with_bc_fit(X, y, sample_weight, dissonance, fit_kwargs, **fit)
            return
        reweighted = self._reweights_samples(dissonance, fit_kwargs)
        validation = fit_kwargs.get(
            "validation_data", getattr(self, "fit__validation_data", None)
        )
        if validation is not None:
            if self._logged() is not None:
                raise ValueError(
                    "validation_data needs h1's outputs on the validation rows, "
                    "and this fit has h1's logged outputs on the training rows "
                    "only. Use validation_split (the logged outputs are split "
                    "with X), or pass a live h1."
                )
            X_val, y_val, weight_val, h1_X_val = self._encoded_validation(validation)
            fit_kwargs["validation_data"] = self._training_data(
                X_val, y_val, weight_val, dissonance, reweighted, h1_X=h1_X_val
            )
        x, y, sample_weight = self._training_data(
            X, y, sample_weight, dissonance, reweighted
        )
        if reweighted:
            model = self.model_  # h2's own fit, on reweighted samples
        else:
            # Under a tf.distribute strategy the wrapper's state must live in
            # h2's scope.
            with _backend.strategy_scope(self.model_):
                model = self._training_model(dissonance)
        build_training_state(model, (x, y, sample_weight))
        self._keras_fit(model, x, y, sample_weight, **fit, **fit_kwargs)
        mirror_compiled_metrics(self.model_, model, X, y)

    @property
    def _multilabel(self) -> bool:
        """Whether the fit under way (or the last) has a multilabel-indicator y."""
        return self._layout == MULTILABEL

    def _check_labels(self, loss_kind: str | None) -> None:
        """Refuse what cannot train one label per sample."""
        classes = np.asarray(self.classes_)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, "
                f"but y contains only one class: {classes.tolist()}. This differs "
                "from scikeras' KerasClassifier, which trains a one-unit model: "
                "with one class there is nothing for h2 to be compatible with "
                "(see 'Differences from KerasClassifier' in the docs)."
            )
        if self._layout == ONE_HOT and loss_kind != "categorical_crossentropy":
            # One 1 per row reads as one label per sample (one-hot) or as a
            # multilabel indicator whose rows happen to have one label each.
            raise ValueError(
                "y has one-hot rows (one 1 per row), which read as one label per "
                "sample with loss='categorical_crossentropy' and as a multilabel "
                f"indicator otherwise; the model's loss is {self.model_.loss!r}. "
                "Compile with loss='categorical_crossentropy' for one label per "
                "sample (or pass y.argmax(axis=1) with "
                "'sparse_categorical_crossentropy'); a multilabel y needs at "
                "least one row without exactly one label."
            )

    def _check_multilabel(self, loss_kind: str | None, width: int) -> None:
        """Refuse what cannot train a multilabel y one label at a time."""
        n_labels = len(self.classes_)
        if self.method == "bc_fit":
            raise ValueError(
                "method='bc_fit' (BCML's loss classes) trains one label per "
                "sample; a multilabel y needs method='model' (the default)."
            )
        if loss_kind not in (None, "binary_crossentropy"):
            raise ValueError(
                f"A multilabel y is trained one label at a time, with one sigmoid "
                f"unit per label and loss='binary_crossentropy'; got "
                f"loss={self.model_.loss!r}, which reads each row as one class."
            )
        if width != n_labels:
            raise ValueError(
                f"y is a multilabel indicator of {n_labels} labels, but h2 outputs "
                f"{width} column(s): give the network {n_labels} sigmoid units "
                "(meta['n_classes_'] in the builder), one per label."
            )

    def _check_multioutput(self, X) -> bool:
        """Refuse what cannot train a multi-output y, one output per column.

        Returns whether any output's loss takes logits.
        """
        name = type(self).__name__
        if self.method == "bc_fit":
            raise ValueError(
                "method='bc_fit' (BCML's loss classes) trains one output; a "
                "multi-output y needs method='model' (the default)."
            )
        for k, classes in enumerate(self.classes_):
            if len(classes) < 2:
                raise ValueError(
                    f"{name} needs samples of at least 2 classes in every output, "
                    f"but column {k} of y contains only {classes.tolist()}."
                )
        widths = _output_widths(self.model_, X)
        if len(widths) != len(self.classes_):
            raise ValueError(
                f"y has {len(self.classes_)} outputs (columns) but h2 gives "
                f"{len(widths)}: build one output per column of y, output k with "
                "meta['n_classes_'][k] units."
            )
        names = getattr(self.model_, "output_names", None)
        losses = _outputs.output_losses(self.model_.loss, names, len(widths))
        self._output_classes(widths)  # the widths agree with the classes
        any_logits = False
        for width, loss in zip(widths, losses, strict=True):
            kind, from_logits = _outputs.loss_kind(loss)
            _outputs.check_loss_width(kind, width)
            any_logits = any_logits or from_logits
        return any_logits

    def _output_classes(self, widths: list[int]) -> list[np.ndarray]:
        """The classes of each output, as h1's outputs are aligned with them.

        ``classes_[k]``, unless a target encoder of the user's own gives an
        output ``k`` a number of classes that is not its width (scikeras
        accepts such a model: its encoder decodes the outputs). The output's
        targets are then read as column indices, and h1 gives one column per
        index ``0 .. width - 1``. bcsk's own encoder has no such case: a
        width that does not match is a model that does not fit y.
        """
        own = getattr(self.target_encoder_, "_outputs", None) is not None
        result = []
        for k, (width, classes) in enumerate(zip(widths, self.classes_, strict=True)):
            classes = np.asarray(classes)
            if width == classes.size or (width == 1 and classes.size == 2):
                result.append(classes)
            elif own or width == 1:
                raise ValueError(
                    f"Output {k} of h2 has {width} unit(s) but column {k} of y has "
                    f"{classes.size} classes {classes.tolist()}: give output k "
                    "meta['n_classes_'][k] units (one sigmoid unit for 2 classes)."
                )
            else:
                result.append(np.arange(width))
        return result

    def _reweights_samples(self, dissonance: Dissonance, fit_kwargs: dict) -> bool:
        """Whether h2 trains in its own ``Model.fit``, on reweighted samples.

        New error's objective, with ``c_i`` known before the fit (h1 ran once
        on every row), is the task loss under the sample weights ``s_i (1 +
        lambda_c w_i)`` (:func:`~bcsk.objective._dissonances.task_loss_weights`):
        h2 then trains exactly as a plain Keras fit with those weights, with
        no model around it. That saves the wrapper's call in every step (0.4-
        0.5 ms per step on PyTorch, whose steps run eagerly) and gives JAX
        and TensorFlow plain Keras' compiled step.

        Not when the weights or the wrapper would change anything else:
        weighted metrics (they would see the folded weights), ``loss_weights``
        or a loss that does not average over the samples (the term would be
        scaled as the task loss is), a loss overriding ``__call__`` alone, a
        model with its own ``fit``, training or loss step (bcsk trains h2 with
        Keras' own), Keras' ``class_weight`` (which ``Model.fit`` does not take
        with sample weights), a multilabel or multi-output y (``c`` per label
        or output), and ensembles.
        """
        model = self.model_
        if self.n_members != 1 or self._multilabel or self._multioutput:
            return False
        if fit_kwargs.get("class_weight", self._fit_args().get("class_weight")):
            return False
        config = model.get_compile_config() or {}
        own_steps = any(
            getattr(type(model), name) is not getattr(keras.Model, name)
            for name in ("fit", "train_step", "test_step", "compute_loss")
        )
        return (
            reweights_task_loss(dissonance)
            and not own_steps
            and not config.get("weighted_metrics")
            and config.get("loss_weights") is None
            and _outputs.averages_over_samples(getattr(model, "loss", None))
            and not _outputs.overrides_call_only(model.loss)
        )

    def _training_data(
        self, X, y, sample_weight, dissonance, reweighted: bool, h1_X=None
    ):
        """What ``Model.fit`` takes: ``(x, y, sample_weight)``.

        ``x`` is the triple of :meth:`_with_reference` for the model around
        h2; when h2 trains itself (``reweighted``, see
        :meth:`_reweights_samples`) it is ``X``, and the sample weights fold
        the compatibility term in.
        """
        x, y, sample_weight = self._with_reference(
            X, y, sample_weight, dissonance, h1_X=h1_X
        )
        if not reweighted:
            return x, y, sample_weight
        X, h1_output, correct = x
        # The check the wrapper's training step makes: the same classes.
        _outputs.check_widths(
            _outputs.output_width(h1_output), _output_width(self.model_, X)
        )
        weights = task_loss_weights(dissonance, self.lambda_c, correct, sample_weight)
        return X, y, keras.ops.convert_to_numpy(weights)

    def _training_model(self, dissonance: Dissonance) -> keras.Model:
        """The compiled model that ``Model.fit`` trains: h2 behind h1's outputs."""
        if self.n_members == 1:
            wrapper = ReferenceInputModel(
                self.model_, self.lambda_c, dissonance, multilabel=self._multilabel
            )
            _compile_like(wrapper, self.model_, self.model_.loss)
            return wrapper
        # The members train side by side, each with its own objective; the
        # compiled metrics see their mean, the ensemble's prediction.
        members = self.members_
        wrapper = ReferenceInputPathModel(
            members,
            [(self.lambda_c, dissonance)] * len(members),
            self.model_.loss,
            multilabel=self._multilabel,
            loss_weights=loss_weights_of(self.model_),
        )
        _compile_like(wrapper, self.model_, None)
        return wrapper

    # -- ensembles: several networks built by the builder ---------------------

    @property
    def members_(self) -> list[keras.Model]:
        """The trained networks: ``[model_]``, or the members of an ensemble."""
        model = self.model_  # AttributeError before fit, as for model_
        return list(model.members) if isinstance(model, MeanEnsemble) else [model]

    def _build_copies(self, seeds) -> list[keras.Model]:
        """One network per seed, each built by the user's builder.

        Networks built under the same seed start from the same weights, as
        separate fits with that ``random_state`` would. A builder that returns
        one model object every time (``model=`` a Keras model) gets clones:
        with that model's weights for a repeated seed, fresh ones otherwise.
        """
        models: list[keras.Model] = []
        first_of_seed: dict = {}
        for seed in seeds:
            model = self._build_keras_model_seeded(seed)
            if any(model is other for other in models):
                with keras_seeds(seed):
                    model = keras.models.clone_model(model)
                if seed is not None and seed in first_of_seed:
                    model.set_weights(first_of_seed[seed].get_weights())
            if seed is not None:
                first_of_seed.setdefault(seed, model)
            models.append(model)
        return models

    def _build_model(self) -> keras.Model:
        if self.n_members == 1:
            return super()._build_model()
        members = self._build_copies(member_seeds(self._seed, self.n_members))
        check_same_networks(members, f"n_members={self.n_members}")
        ensemble = MeanEnsemble(members)
        if getattr(members[0], "compiled", False):  # the builder compiled it
            _compile_like(ensemble, members[0], members[0].loss)
        return ensemble

    def _with_reference(self, X, y, sample_weight, dissonance: Dissonance, h1_X=None):
        """``((X, h1_output, correct), y, sample_weight)`` for the training step.

        ``X`` is what the Keras model takes (an array, or the list or dict of
        arrays of a multi-input model); ``h1_X`` what h1 takes, the samples
        before the feature encoder (by default, the training rows'). h1 runs
        once here, on all rows. ``h1_output`` has the layout of h2's
        output (one column for a single sigmoid unit); an h1 that only predicts
        labels (new error needs no more) gives one-hot rows. ``correct`` is
        ``c_i``, computed from h1's labels, so that a label h1 knows but the
        estimator does not counts as an error.
        """
        floatx = keras.backend.floatx()
        if self._multilabel:
            h1_output, correct = self._label_reference(X, y, dissonance, h1_X)
            y = np.asarray(y).astype(floatx)
        elif self._multioutput:
            h1_output, correct = self._output_reference(X, y, dissonance, h1_X)
        else:
            h1_output, correct = self._class_reference(X, y, dissonance, h1_X)
        h1_output = keras.tree.map_structure(
            lambda array: np.asarray(array).astype(floatx), h1_output
        )
        x = (X, h1_output, correct.astype(floatx))
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=floatx)
        return x, y, sample_weight

    def _class_reference(self, X, y, dissonance, h1_X):
        """``(h1_output, correct)`` for one class label per sample."""
        classes = self.classes_
        logged = self._logged()
        if logged is not None:
            # Logged outputs are h1's on the user's rows: keep the rows that
            # scikeras kept (it drops zero-weight samples), as for a live h1.
            rows = self._fit_inputs.rows
            h1_proba, h1_pred = (_h1.take_rows(a, rows) for a in logged)
            reference = _h1.logged_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                classes=classes,
                n_samples=len(y),
                need_probabilities=dissonance.needs_probabilities,
            )
        else:
            if h1_X is None:
                h1_X = self._h1_input(X, keep_frame=_h1.h1_kind(self.h1) == "sklearn")
            reference = _h1.h1_outputs(
                self.h1,
                h1_X,
                classes,
                need_probabilities=dissonance.needs_probabilities,
            )
        return _reference_arrays(reference, classes, y, _output_width(self.model_, X))

    def _output_reference(self, X, y, dissonance, h1_X):
        """``(h1_outputs, correct)`` for a multi-output y: one entry per output.

        ``h1_outputs`` is a list (output ``k`` in the layout of h2's output
        ``k``), ``correct`` has shape ``(n_samples, K)``: ``c_ik``.
        """
        need = dissonance.needs_probabilities
        logged = self._logged()
        widths = _output_widths(self.model_, X)
        output_classes = self._output_classes(widths)
        if logged is not None:
            rows = self._fit_inputs.rows
            h1_proba, h1_pred = logged
            if h1_proba is not None:
                h1_proba = [_h1.take_rows(table, rows) for table in h1_proba]
            references = _h1.logged_multioutput_outputs(
                h1_proba=h1_proba,
                h1_pred=_h1.take_rows(h1_pred, rows),
                classes=output_classes,
                n_samples=len(y[0]),
                need_probabilities=need,
            )
        else:
            if h1_X is None:
                h1_X = self._h1_input(X, keep_frame=_h1.h1_kind(self.h1) == "sklearn")
            references = _h1.multioutput_outputs(
                self.h1, h1_X, output_classes, need_probabilities=need
            )
        pairs = [
            _reference_arrays(reference, classes, y_k, width)
            for reference, classes, y_k, width in zip(
                references, output_classes, y, widths, strict=True
            )
        ]
        return [h1 for h1, _ in pairs], np.column_stack([c for _, c in pairs])

    def _label_reference(self, X, y, dissonance, h1_X):
        """``(h1_output, correct)`` for a multilabel y: ``c`` per (sample, label).

        ``h1_output`` is h1's probability of each label (its 0/1 indicator
        when h1 only predicts), ``correct`` is 1 where h1's label agrees with
        y's, both of shape ``(n_samples, n_labels)``.
        """
        n_labels = len(self.classes_)
        need = dissonance.needs_probabilities
        logged = self._logged()
        if logged is not None:
            rows = self._fit_inputs.rows
            h1_proba, h1_pred = (_h1.take_rows(a, rows) for a in logged)
            reference = _h1.logged_multilabel_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                n_labels=n_labels,
                n_samples=len(y),
                need_probabilities=need,
            )
        else:
            if h1_X is None:
                h1_X = self._h1_input(X, keep_frame=_h1.h1_kind(self.h1) == "sklearn")
            reference = _h1.multilabel_outputs(
                self.h1, h1_X, n_labels, need_probabilities=need
            )
        correct = reference.labels == np.asarray(y).astype(int)
        h1_output = reference.probabilities
        return (reference.labels if h1_output is None else h1_output), correct

    def _logged(self):
        """``(h1_proba, h1_pred)`` of the fit under way, or None (a live h1)."""
        inputs = self.__dict__.get("_fit_inputs")
        return None if inputs is None else inputs.logged

    def _encoded_validation(self, validation):
        """``validation_data`` as scikeras would have prepared it for Keras.

        Returns ``(X_val, y_val, sample_weight_val, h1_X_val)``: ``h1_X_val``
        is ``X_val`` before the feature encoder, what h1 receives.
        """
        if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                f"sample_weight_val) of arrays; got {type(validation).__name__}."
            )
        X_val, y_val, *weight = validation
        h1_X_val = np.asarray(X_val)
        X_val = self.feature_encoder_.transform(h1_X_val)
        y_val = self.target_encoder_.transform(np.asarray(y_val))
        return X_val, y_val, (weight[0] if weight else None), h1_X_val

    def _fit_with_bc_fit(
        self,
        X,
        y,
        sample_weight,
        dissonance,
        fit_kwargs,
        epochs,
        initial_epoch,
        warm_start,
    ):
        _backend.require_tensorflow(
            "method='bc_fit'",
            "Use method='model' (the default), which trains the same objective "
            "on every backend.",
        )
        if not isinstance(X, np.ndarray):
            # bc_fit calls h1 in each step on the batch h2 gets: one array.
            raise ValueError(
                f"method='bc_fit' calls h1 inside every training step on h2's "
                f"inputs, but the feature_encoder gave h2 {type(X).__name__} "
                "(a multi-input model) and h1 takes X before the encoder. Use "
                "method='model' (the default), which runs h1 on the original X."
            )
        # BCML's loop takes batches, epochs and an optimizer, nothing else:
        # refuse what it would otherwise drop.
        fit_args = self._fit_args()
        unsupported = sorted(
            [f"fit({name}=...)" for name in fit_kwargs]
            + [
                name
                for name in (
                    "callbacks",
                    "validation_split",
                    "validation_steps",
                    "validation_freq",
                    "class_weight",
                )
                if fit_args.get(name) or (name == "callbacks" and self.callbacks)
            ]
        )
        if unsupported:
            raise ValueError(
                f"method='bc_fit' runs its own training loop, which does not support "
                f"{', '.join(unsupported)}; use method='model' (the default)."
            )
        kind, from_logits = _outputs.loss_kind(self.model_.loss)
        loss_class = _BC_FIT_LOSSES.get((kind, type(dissonance)))
        if loss_class is None or from_logits:
            raise ValueError(
                f"method='bc_fit' has no loss class for dissonance={dissonance!r} "
                f"with loss={self.model_.loss!r}: it supports cross-entropy (every "
                "dissonance), and binary cross-entropy and KL divergence (new error, "
                "strict imitation), on probabilities. Use method='model' for the rest."
            )
        weight = np.ones(len(y)) if sample_weight is None else sample_weight
        batch_size = fit_args.get("batch_size") or 32
        if batch_size == -1:
            batch_size = len(y)
        dataset = tf.data.Dataset.from_tensor_slices(
            (X, y, np.asarray(weight, dtype=keras.backend.floatx()))
        )
        if fit_args.get("shuffle", True):
            dataset = dataset.shuffle(
                len(X), seed=self._seed, reshuffle_each_iteration=True
            )
        if not self.model_.built:
            # A subclassed h2 (one with its own call) has no weights before its
            # first call, and bc_fit builds the optimizer from h2's weights.
            self.model_(X[:1], training=False)
        bc_loss = loss_class(
            self.h1, self.model_, self.lambda_c, **dissonance.get_params()
        )
        with self._seeded():
            history = bc_fit(
                self.model_,
                training_set=dataset.batch(batch_size),
                epochs=epochs,
                bc_loss=bc_loss,
                optimizer=self.model_.optimizer,
                verbose=self.verbose,
            )
        self._merge_history(history.history, warm_start, initial_epoch)
