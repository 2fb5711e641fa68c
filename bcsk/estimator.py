"""``BCCompatibleClassifier``: a scikit-learn classifier that stays compatible with h1.

Built on scikeras' ``KerasClassifier``; the backward-compatibility objective is
added where scikeras hands the prepared arrays to Keras (``_fit_keras_model``),
after validation, label encoding and the dropping of zero-weight samples, so
h1's outputs line up with the samples actually trained on.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

import keras
import numpy as np
import scipy.sparse
import tensorflow as tf
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import KerasClassifier
from sklearn.base import clone
from sklearn.utils import ClassifierTags, _safe_indexing

# TensorFlow has no public getter for op determinism; see _restore_op_determinism.
from tensorflow.python.framework import config as tf_config

from bcsk import _h1
from bcsk.tensorflow import _objective
from bcsk.tensorflow._training import build_training_state
from bcsk.tensorflow.helpers import bc_fit
from bcsk.tensorflow.loss import new_error, strict_imitation
from bcsk.tensorflow.models import BCCompatibilityModel

__all__ = ["BCCompatibleClassifier"]

METHODS = ("model", "bc_fit")

_CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy")

# Loss class used by method="bc_fit", by (compiled loss family, dissonance).
_BC_FIT_LOSSES = {
    **{(kind, "new_error"): new_error.BCCrossEntropyLoss for kind in _CROSS_ENTROPIES},
    **{
        (kind, "strict_imitation"): strict_imitation.BCStrictImitationCrossEntropyLoss
        for kind in _CROSS_ENTROPIES
    },
    ("binary_crossentropy", "new_error"): new_error.BCBinaryCrossEntropyLoss,
    ("binary_crossentropy", "strict_imitation"): (
        strict_imitation.BCStrictImitationBinaryCrossEntropyLoss
    ),
    ("kl_divergence", "new_error"): new_error.BCKLDivLoss,
    ("kl_divergence", "strict_imitation"): strict_imitation.BCStrictImitationKLDivLoss,
}


def _compile_like(target: keras.Model, source: keras.Model, loss) -> None:
    """Compile ``target`` as ``source`` is compiled, with another loss.

    The optimizer object is reused, so its state (and a warm start) carries over.
    """
    config = source.get_compile_config() or {}
    kwargs = {
        key: keras.saving.deserialize_keras_object(value)
        for key, value in config.items()
        if key not in ("optimizer", "loss")
    }
    target.compile(optimizer=source.optimizer, loss=loss, **kwargs)


@contextlib.contextmanager
def _compiled_with(model: keras.Model, loss):
    """Train ``model`` with ``loss`` inside the block, then restore its own loss."""
    original = model.loss
    _compile_like(model, model, loss)
    try:
        yield
    finally:
        _compile_like(model, model, original)


@contextlib.contextmanager
def _restore_op_determinism():
    """Undo the op determinism that a seeded scikeras fit leaves switched on.

    scikeras 0.13 sets ``TF_DETERMINISTIC_OPS`` before asking TensorFlow whether
    determinism was already on, so it never switches it off again; every later
    unseeded random op in the process then fails ("Random ops require a seed").
    """
    was_enabled = tf_config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled and tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


def _snapshot(model: keras.Model) -> list:
    """Copies of a model's and its optimizer's variables."""
    optimizer_variables = model.optimizer.variables if model.optimizer else []
    return [v.numpy() for v in [*model.variables, *optimizer_variables]]


def _restore(model: keras.Model, values: list) -> None:
    """Assign back what :func:`_snapshot` copied (if the variables still match)."""
    optimizer_variables = model.optimizer.variables if model.optimizer else []
    variables = [*model.variables, *optimizer_variables]
    if len(variables) == len(values):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)


class BCCompatibleClassifier(KerasClassifier):
    """A Keras classifier h2 trained to keep the trust users placed in h1.

    ``fit`` minimises ``L = mean(l(y, h2(x))) + lambda_c * mean(c * d)``, where
    ``c`` marks the training samples the old model h1 predicts correctly and
    ``d`` is the dissonance: the task loss again (``"new_error"``) or the
    divergence of h2 from h1's output (``"strict_imitation"``). Everything else
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
        never trained, modified, copied or cloned.
    lambda_c : float, default=0.5
        Weight of the compatibility term, ``>= 0``. 0 is plain training.
    dissonance : {"new_error", "strict_imitation"}, default="new_error"
        ``"new_error"`` counts the task loss again on samples h1 gets right;
        ``"strict_imitation"`` pulls h2's output towards h1's probabilities
        there (needs h1 probabilities).
    method : {"model", "bc_fit"}, default="model"
        ``"model"`` trains with ``Model.fit``; ``"bc_fit"`` with
        :func:`bcsk.tensorflow.helpers.bc_fit` and the matching loss class
        (needs a Keras h1). Both minimise the same objective.
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
        The trained h2 (a plain Keras model; h1 is not inside it).
    classes_ : ndarray
        Sorted class labels.
    history_ : dict
        Per-epoch training figures; ``"loss"`` is the compatibility objective.

    Notes
    -----
    h1 is frozen, so its outputs on the training data are computed once per
    ``fit`` (batched). With ``method="model"`` the objective then becomes a
    plain Keras fit: new error is the task loss with sample weights
    ``s_i * (1 + lambda_c * c_i)`` (exact for any loss with Keras' default
    reduction); strict imitation with a cross-entropy loss is a soft-target
    cross-entropy with targets ``(onehot(y_i) + lambda_c c_i p1_i) /
    (1 + lambda_c c_i)`` and the same weights. Other strict-imitation losses
    (KL divergence, custom losses) fall back to calling a Keras h1 inside every
    training step (:class:`bcsk.tensorflow.models.BCCompatibilityModel`).

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
        dissonance: str = "new_error",
        method: str = "model",
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

    # -- scikit-learn protocol ------------------------------------------------

    def __sklearn_tags__(self):
        # scikeras lists ClassifierMixin after BaseEstimator, so on
        # scikit-learn >= 1.6 its tags say "not a classifier" and
        # cross-validation silently stops stratifying. Say it explicitly.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def __sklearn_clone__(self):
        # h1 is frozen: share it between clones instead of deep-copying a Keras
        # model (slow) or re-creating an unfitted scikit-learn h1 (wrong).
        params = self.get_params(deep=False)
        return type(self)(
            **{
                name: value if name == "h1" else clone(value, safe=False)
                for name, value in params.items()
            }
        )

    # -- fitting --------------------------------------------------------------

    def _check_compatibility_params(self) -> None:
        _objective.validate_lambda_c(self.lambda_c)
        _objective.validate_dissonance(self.dissonance)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        kind = _h1.h1_kind(self.h1)
        if self.dissonance == "strict_imitation" and not _h1.has_probabilities(self.h1):
            raise ValueError(
                "dissonance='strict_imitation' needs h1's probabilities, but h1 "
                f"({type(self.h1).__name__}) has no predict_proba. Use "
                "dissonance='new_error', or an h1 with predict_proba."
            )
        if self.method == "bc_fit" and kind != "keras":
            raise ValueError(
                "method='bc_fit' calls h1 inside every training step, so h1 must be "
                f"a Keras model; got {type(self.h1).__name__}. Use method='model'."
            )

    def fit(self, X, y, sample_weight=None, **kwargs) -> BCCompatibleClassifier:
        """Build h2 and train it with the compatibility objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples (h1 receives them too).
        y : array-like of shape (n_samples,)
            Labels (strings or integers).
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights; multiplied into both terms of the objective.
        **kwargs
            Passed to ``Model.fit`` (prefer ``fit__*`` parameters).

        Returns
        -------
        self
        """
        return self._run_fit(super().fit, X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(
        self, X, y, classes=None, sample_weight=None, **kwargs
    ) -> BCCompatibleClassifier:
        """Train for one epoch on ``(X, y)``, keeping the current weights.

        Parameters are as for :meth:`fit`; ``classes`` lists every label when
        the first batch does not contain them all.

        Returns
        -------
        self
        """
        return self._run_fit(
            super().partial_fit,
            X,
            y,
            classes=classes,
            sample_weight=sample_weight,
            **kwargs,
        )

    def _run_fit(self, fit, X, y, sample_weight=None, **kwargs):
        self._check_compatibility_params()
        if scipy.sparse.issparse(X):
            # scikeras lets sparse X through, and TensorFlow then fails deep
            # inside its input pipeline; say so up front instead.
            raise TypeError(
                f"{type(self).__name__} does not accept sparse X (got "
                f"{type(X).__name__}): pass a dense array, e.g. X.toarray()."
            )
        if sample_weight is not None:
            # KerasClassifier multiplies class weights into sample_weight in
            # place: never let that reach the caller's array.
            sample_weight = np.array(sample_weight, dtype=float)
        # A fit that fails part-way must not leave a half-trained estimator:
        # restore the attributes and, on a warm start, the weights it had.
        saved = dict(self.__dict__)
        model = saved.get("model_")
        weights = None if model is None else _snapshot(model)
        # h1 gets the X the user passed (a DataFrame keeps its column names),
        # not scikeras' validated copy; _validate_sample_weight notes the rows kept.
        self._h1_X, self._h1_rows = X, None
        try:
            with _restore_op_determinism():
                fit(X, y, sample_weight=sample_weight, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if weights is not None:
                _restore(model, weights)
            raise
        finally:
            self.__dict__.pop("_h1_X", None)
            self.__dict__.pop("_h1_rows", None)
        return self

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        **kwargs
            Passed to ``Model.predict`` (prefer ``predict__*`` parameters).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        # scikeras squeezes the result, so one sample would come back 1-D.
        proba = super().predict_proba(X, **kwargs)
        return np.reshape(proba, (-1, len(self.classes_)))

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # scikeras refuses, after a float32 fit, float64 or integer X at predict
        # time ("casting is not safe"); cast numbers to the dtype seen in fit.
        if not reset and X is not None and hasattr(self, "X_dtype_"):
            if not scipy.sparse.issparse(X):
                array = np.asarray(X)
                if array.dtype.kind in "biuf" and self.X_dtype_.kind == "f":
                    X = array.astype(self.X_dtype_, copy=False)
        return super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)

    def _validate_sample_weight(self, X, y, sample_weight):
        # scikeras drops zero-weight samples; remember which rows it keeps so
        # that h1's outputs on the raw X line up with the training rows.
        if self.__dict__.get("_h1_X") is not None:
            weights = np.asarray(sample_weight, dtype=float).reshape(-1)
            if weights.size == len(y):
                self._h1_rows = np.flatnonzero(weights != 0)
        return super()._validate_sample_weight(X, y, sample_weight)

    def _h1_input(self, X):
        """The rows of X that h1 should see.

        A scikit-learn h1 given a DataFrame gets the user's DataFrame rows (its
        column names matter to h1); otherwise h1 gets scikeras' validated array.
        """
        raw = self.__dict__.get("_h1_X")
        if not hasattr(raw, "columns") or _h1.h1_kind(self.h1) != "sklearn":
            return X
        rows = self.__dict__.get("_h1_rows")
        raw = raw if rows is None else _safe_indexing(raw, rows)
        return raw if raw.shape[0] == X.shape[0] else X

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ) -> None:
        # X, y and sample_weight are validated, encoded and free of zero-weight
        # samples here, so h1's outputs computed now align with training rows.
        # scikeras resets classes_ to None on a warm start; its encoder knows them.
        classes = self.classes_ = np.asarray(self.target_encoder_.classes_)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but y "
                f"contains only one class: {classes.tolist()}."
            )
        lambda_c = _objective.validate_lambda_c(self.lambda_c)
        reference = _h1.h1_outputs(
            self.h1,
            self._h1_input(X),
            classes,
            need_probabilities=self.dissonance == "strict_imitation",
        )
        y_index = (
            np.argmax(y, axis=1)
            if y.ndim == 2 and y.shape[1] > 1
            else (np.asarray(y).reshape(-1).astype(int))
        )
        correct = (reference.labels == classes[y_index]).astype(float)
        weight = (
            np.ones(len(y_index))
            if sample_weight is None
            else np.asarray(sample_weight)
        )
        fit = (X, epochs, initial_epoch, warm_start, kwargs)
        if self.method == "bc_fit":
            self._fit_with_bc_fit(X, y, weight, epochs, initial_epoch, warm_start)
            return
        if self.dissonance == "new_error":
            self._fit_plain(y, weight * (1.0 + lambda_c * correct), *fit)
            return
        kind, from_logits = _objective.loss_kind(self.model_.loss)
        n_outputs = int(self.model_.outputs[0].shape[-1])
        factor = 1.0 + lambda_c * correct
        pull = (lambda_c * correct)[:, None] * reference.probabilities
        if kind in _CROSS_ENTROPIES and n_outputs == classes.size:
            targets = (np.eye(classes.size)[y_index] + pull) / factor[:, None]
            loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits)
            with _compiled_with(self.model_, loss):
                self._fit_plain(targets, weight * factor, *fit)
        elif kind == "binary_crossentropy" and n_outputs == 1:
            targets = (y_index + pull[:, 1]) / factor
            self._fit_plain(targets[:, None], weight * factor, *fit)
        else:
            self._fit_per_step(y, sample_weight, *fit)

    def _fit_plain(self, y, sample_weight, X, epochs, initial_epoch, warm_start, kw):
        y = np.asarray(y, dtype=keras.backend.floatx())
        sample_weight = np.asarray(sample_weight, dtype=keras.backend.floatx())
        build_training_state(self.model_, (X, y, sample_weight))
        super()._fit_keras_model(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=warm_start,
            epochs=epochs,
            initial_epoch=initial_epoch,
            **kw,
        )

    def _fit_per_step(self, y, sample_weight, X, epochs, initial_epoch, warm_start, kw):
        if _h1.h1_kind(self.h1) != "keras":
            raise ValueError(
                f"dissonance='strict_imitation' with loss {self.model_.loss!r} "
                "needs h1 inside every training step, so h1 must be a Keras model; got "
                f"{type(self.h1).__name__}. Use a cross-entropy loss (the fast path) "
                "or dissonance='new_error'."
            )
        h2 = self.model_
        # Under a tf.distribute strategy the wrapper's state must live in h2's scope.
        with h2.distribute_strategy.scope():
            wrapper = BCCompatibilityModel(
                h2, h1=self.h1, lambda_c=self.lambda_c, dissonance=self.dissonance
            )
            _compile_like(wrapper, h2, h2.loss)
        build_training_state(wrapper, (X, y, sample_weight))
        self.model_ = wrapper
        try:
            super()._fit_keras_model(
                X,
                y,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                **kw,
            )
        finally:
            self.model_ = h2

    def _fit_with_bc_fit(self, X, y, weight, epochs, initial_epoch, warm_start):
        ignored = [
            name
            for name in ("callbacks", "validation_split")
            if getattr(self, name, None) or getattr(self, f"fit__{name}", None)
        ]
        if ignored:
            raise ValueError(
                f"method='bc_fit' runs its own training loop, which does not support "
                f"{' or '.join(ignored)}; use method='model' (the default)."
            )
        kind, from_logits = _objective.loss_kind(self.model_.loss)
        loss_class = _BC_FIT_LOSSES.get((kind, self.dissonance))
        if loss_class is None or from_logits:
            raise ValueError(
                f"method='bc_fit' supports cross-entropy, binary cross-entropy and KL "
                f"divergence losses on probabilities; got loss={self.model_.loss!r}. "
                "Use method='model' for other losses."
            )
        batch_size = getattr(self, "fit__batch_size", self.batch_size) or 32
        shuffle = getattr(self, "fit__shuffle", self.shuffle)
        dataset = tf.data.Dataset.from_tensor_slices(
            (X, y, weight.astype(keras.backend.floatx()))
        )
        if shuffle:
            dataset = dataset.shuffle(
                len(X), seed=self._random_state, reshuffle_each_iteration=True
            )
        bc_loss = loss_class(self.h1, self.model_, self.lambda_c)
        run = dict(
            training_set=dataset.batch(batch_size),
            epochs=epochs,
            bc_loss=bc_loss,
            optimizer=self.model_.optimizer,
            verbose=self.verbose,
        )
        if self._random_state is not None:
            with tensorflow_random_state(self._random_state):
                history = bc_fit(self.model_, **run)
        else:
            history = bc_fit(self.model_, **run)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += values
