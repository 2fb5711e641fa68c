"""The fence around scikeras: every use of its internals, and every workaround.

bcsk's estimator is a scikeras ``KerasClassifier`` (scikeras 0.13, pinned
``>=0.13,<0.14``). scikeras is unmaintained, and bcsk needs more of it than
its public API: the hook where it hands validated, encoded arrays to Keras,
the rows it keeps, its random state, its routed ``fit__*`` parameters. All of
that lives here, in :class:`ScikerasClassifier`, with contract tests in
``tests/test_scikeras_adapter.py`` that pin what bcsk relies on. Lifting the
pin means rerunning those tests against the new scikeras and adapting this
module alone.

The estimator subclasses :class:`ScikerasClassifier` and implements one
method, :meth:`ScikerasClassifier._train`, which scikeras' ``fit`` must call
exactly once per fit. If a scikeras release stopped routing through its
``_fit_keras_model`` hook, ``fit`` would otherwise train a plain model and
ignore ``lambda_c`` silently; here it raises instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import random
import threading
from collections import defaultdict
from typing import Any

import keras
import numpy as np
import scipy.sparse
from scikeras._utils import route_params
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.utils.transformers import (
    ClassifierLabelEncoder,
    _is_categorical_crossentropy,
)
from scikeras.wrappers import KerasClassifier
from sklearn.utils import ClassifierTags, _safe_indexing
from sklearn.utils.multiclass import type_of_target

# TensorFlow has no public getter for op determinism; see _restore_op_determinism.
from tensorflow.python.framework import config as tf_config

from bcsk._keras import _backend

SCIKERAS_PIN = "scikeras>=0.13,<0.14"

# What keras.Model.fit takes (read once: tests may wrap Model.fit), and
# warm_start, which scikeras' hook takes beside them.
_MODEL_FIT_ARGUMENTS = frozenset(inspect.signature(keras.Model.fit).parameters) | {
    "warm_start"
}


@dataclasses.dataclass
class FitInputs:
    """What one call of ``fit`` or ``partial_fit`` passes down to :meth:`_train`.

    Attributes
    ----------
    X : array-like
        The ``X`` the user passed (a DataFrame keeps its column names for a
        scikit-learn h1), before scikeras' validation.
    rows : ndarray or None
        The rows of ``X`` that scikeras kept (it drops zero-weight samples);
        ``None`` when it kept them all.
    trained : bool
        Whether the training hook ran.
    logged : tuple or None
        ``(h1_proba, h1_pred)``, h1's logged outputs on the user's rows (one
        of them None), or None for a live h1. Index them with ``rows``.
    validated : ndarray or None
        ``X`` as scikeras validated it, before its ``feature_encoder`` (which
        may split it into the several inputs of a Keras model): what h1
        receives. Index it with ``rows``.
    """

    X: Any
    rows: np.ndarray | None = None
    trained: bool = False
    logged: tuple | None = None
    validated: Any = None


# -- reproducible initial weights ------------------------------------------------


class _ThreadLocalRandom:
    """Stands in for the ``random`` module inside Keras' seed generator.

    Keras draws the seed of every unseeded initializer from Python's global
    ``random`` (``keras.src.random.seed_generator.make_default_seed``), and
    scikeras makes a seeded fit reproducible by seeding that global generator.
    Any other thread drawing from it at the same time (a dask worker's
    communication, a threaded joblib backend, a second fit) changes the seeds
    the model is built with. While :func:`keras_seeds` is active in a thread,
    Keras' draws in that thread come from a generator of its own.
    """

    def __init__(self, module) -> None:
        self._module = module
        self._local = threading.local()

    def __getattr__(self, name: str):
        generator = getattr(self._local, "generator", None)
        return getattr(self._module if generator is None else generator, name)


_install_lock = threading.Lock()


def _keras_random() -> _ThreadLocalRandom:
    from keras.src.random import seed_generator

    with _install_lock:
        if not isinstance(seed_generator.python_random, _ThreadLocalRandom):
            seed_generator.python_random = _ThreadLocalRandom(
                seed_generator.python_random
            )
    return seed_generator.python_random


@contextlib.contextmanager
def keras_seeds(seed: int | None):
    """Keras' unseeded initializers in this thread draw from ``Random(seed)``."""
    if seed is None:
        yield
        return
    local = _keras_random()._local
    previous = getattr(local, "generator", None)
    local.generator = random.Random(seed)
    try:
        yield
    finally:
        local.generator = previous


# scikeras seeds a fit by setting process-wide state (Python's, NumPy's and
# TensorFlow's global seeds, op determinism) and restoring it afterwards, and
# Keras draws the op seeds of its shuffling from TensorFlow's global seed. Two
# seeded fits running at once in threads of one process (joblib's threading
# backend, a dask worker with several threads) would change each other's
# seeds; they take turns instead. Reentrant: a fit inside a fit (an h1 or a
# callback that fits) in the same thread does not wait for itself.
_seeded_lock = threading.RLock()


@contextlib.contextmanager
def _seeded_on_backend(seed: int):
    """Seed as scikeras does, plus Keras' own seeds on JAX and PyTorch."""
    with tensorflow_random_state(seed), _backend.backend_seeds(seed):
        yield


def _seeded_turn(seed):
    """Hold the turn of seeded fits in this process (no-op without seed)."""
    return contextlib.nullcontext() if seed is None else _seeded_lock


@contextlib.contextmanager
def _restore_op_determinism():
    """Undo the op determinism that a seeded scikeras fit leaves switched on.

    scikeras 0.13 sets ``TF_DETERMINISTIC_OPS`` before asking TensorFlow whether
    determinism was already on; until something switches it explicitly,
    TensorFlow answers from that variable, so scikeras never switches it off
    again, and every later unseeded random op in the process fails ("Random ops
    require a seed"). Only a fresh process shows it (see the contract tests).
    """
    was_enabled = tf_config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled and tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


def _snapshot(model) -> tuple:
    """The values of a model's variables and of its optimizer's (if compiled)."""
    optimizer = getattr(model, "optimizer", None)
    slots = None if optimizer is None else [v.numpy() for v in optimizer.variables]
    return [v.numpy() for v in model.variables], slots


def _restore(model, snapshot: tuple) -> None:
    """Put back what :func:`_snapshot` saw.

    The model's variables always (a model from ``initialize`` is compiled
    by the fit that failed, so its optimizer may be new); the optimizer's when
    it existed before.
    """
    weights, slots = snapshot
    optimizer = getattr(model, "optimizer", None)
    pairs = [(model.variables, weights)]
    if optimizer is not None and slots is not None:
        pairs.append((optimizer.variables, slots))
    for variables, values in pairs:
        if len(variables) == len(values):
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)


def _target_kind(y) -> str | None:
    """``"multilabel-indicator"`` or ``"multiclass-multioutput"`` for such a 2-D y.

    One-hot rows (exactly one 1 per row), which scikit-learn also calls
    multilabel-indicator, and anything else give None.
    """
    try:
        Y = np.asarray(y)
        kind = type_of_target(Y)
    except (TypeError, ValueError):
        return None
    if kind == "multilabel-indicator":
        return None if _is_one_hot(Y) else kind
    return kind if kind == "multiclass-multioutput" else None


def _is_one_hot(Y: np.ndarray) -> bool:
    """Whether a 0/1 matrix has exactly one 1 per row (one-hot rows)."""
    return np.array_equal(Y.sum(axis=1), np.ones(len(Y)))


MULTIOUTPUT = "multiclass-multioutput"

# How the encoded target reaches Keras (see target_layout).
LABELS, ONE_HOT, MULTILABEL, OUTPUTS = "labels", "one-hot", "multilabel", "outputs"


def target_layout(y, classes, encoded_type: str | None) -> str:
    """How an encoded target reaches Keras, read off the encoder's result.

    Parameters
    ----------
    y : ndarray or list of ndarray
        The target encoder's ``transform(y)``: what Keras trains on.
    classes : ndarray or list of ndarray
        The encoder's ``classes_`` (a list: one array per output, or per
        label of a multilabel y, as scikeras' custom encoders give it).
    encoded_type : str or None
        The encoder's own name for the target (scikeras' ``_target_type``,
        which tells one-hot rows from a multilabel indicator).

    Returns
    -------
    str
        ``"outputs"`` (one Keras target per output: a list), ``"multilabel"``
        (one column per label of one output), ``"one-hot"`` (one label per
        sample as one-hot rows) or ``"labels"`` (one label per sample).
    """
    if isinstance(y, (list, tuple)):
        if not isinstance(classes, list) or len(classes) != len(y):
            n_classes = len(classes) if isinstance(classes, list) else "no list"
            raise ValueError(
                f"The target encoder gives {len(y)} targets (one per Keras output) "
                f"but classes_ has {n_classes} entries: a target encoder of "
                "several outputs must give classes_ as a list of one array of "
                "classes per output, in the order of its targets."
            )
        return OUTPUTS
    if isinstance(classes, list) or encoded_type == "multilabel-indicator":
        # A custom encoder's classes_ per label, or scikeras' multilabel.
        width = np.shape(y)[1] if np.ndim(y) == 2 else 1
        if isinstance(classes, list) and width != len(classes):
            raise ValueError(
                f"The target encoder gives classes_ as a list of {len(classes)} "
                f"entries but one target of {width} column(s): give one target "
                "per entry of classes_ (a list of arrays, one per Keras output), "
                "or one column per entry (a multilabel indicator)."
            )
        return MULTILABEL
    if encoded_type == "multiclass-onehot":
        return ONE_HOT
    return LABELS


class ClassifierTargetEncoder(ClassifierLabelEncoder):
    """scikeras' target encoder, plus a multiclass-multioutput y.

    Any other y is encoded by scikeras' ``ClassifierLabelEncoder`` itself. A
    y of K columns, each a class label (``type_of_target`` says
    "multiclass-multioutput"), gets one ``ClassifierLabelEncoder`` per
    column: the Keras model has K outputs, output ``k`` trained on column
    ``k`` (one-hot when its loss is categorical cross-entropy), and
    ``classes_`` and ``n_classes_`` are lists, one entry per output, as in
    scikit-learn's multi-output classifiers. ``predict`` gives one label per
    sample and output, shape ``(n_samples, K)``; ``predict_proba`` a list of
    K arrays, one ``(n_samples, n_classes_k)`` per output (a single sigmoid
    unit as the two columns ``[1 - p, p]``).

    Parameters
    ----------
    loss : str, keras.losses.Loss, list or None, default=None
        The estimator's ``loss``: one loss for every output, or a list of one
        per output in the order of y's columns.
    categories : "auto" or list, default="auto"
        As scikeras'; for a multi-output y, one list of classes per output.
    """

    def fit(self, y) -> ClassifierTargetEncoder:
        """Fit scikeras' encoder, or one per output for a multi-output y."""
        y = np.asarray(y)
        if _target_kind(y) != MULTIOUTPUT:
            self._outputs = None
            return super().fit(y)
        n_outputs = y.shape[1]
        losses = self._output_losses(n_outputs)
        categories = self.categories
        if isinstance(categories, str):
            categories = [categories] * n_outputs
        elif len(categories) != n_outputs:
            raise ValueError(
                f"classes must list the classes of each of y's {n_outputs} outputs "
                f"(a list of {n_outputs} arrays); got {len(categories)}."
            )
        self._outputs = [
            _OutputEncoder(
                loss=loss,
                categories=c if isinstance(c, str) else [np.asarray(c)],
            ).fit(y[:, k])
            for k, (loss, c) in enumerate(zip(losses, categories, strict=True))
        ]
        self._y_shape = y.shape
        self._y_dtype = y.dtype
        self._target_type = MULTIOUTPUT
        self.classes_ = [encoder.classes_ for encoder in self._outputs]
        self.n_classes_ = [encoder.n_classes_ for encoder in self._outputs]
        self.n_outputs_ = self.n_outputs_expected_ = n_outputs
        return self

    def _output_losses(self, n_outputs: int) -> list:
        # The loss of each output decides its encoding (one-hot for categorical
        # cross-entropy): a list pairs with y's columns, one loss serves all.
        # A dict is keyed by output names, which exist only once the model is
        # built (after the encoder): it encodes every output as class indices.
        loss = self.loss
        if isinstance(loss, (list, tuple)):
            if len(loss) != n_outputs:
                raise ValueError(
                    f"loss is a list of {len(loss)} losses but y has {n_outputs} "
                    "outputs (columns): give one loss per output, or one loss for "
                    "all."
                )
            return list(loss)
        if isinstance(loss, dict) and not ("class_name" in loss and "config" in loss):
            if any(_is_categorical_crossentropy(value) for value in loss.values()):
                raise ValueError(
                    "A dict of losses is keyed by output names, which bcsk cannot "
                    "pair with y's columns before the model is built, and "
                    "categorical cross-entropy needs one-hot targets: give the "
                    "losses as a list, in the order of y's columns."
                )
            return [None] * n_outputs
        return [loss] * n_outputs

    def transform(self, y):
        """The Keras targets: one array per output for a multi-output y."""
        if self._outputs is None:
            return super().transform(y)
        y = np.asarray(y)
        return [encoder.transform(y[:, k]) for k, encoder in enumerate(self._outputs)]

    def inverse_transform(self, y, return_proba: bool = False):
        """Labels (or probabilities) from the Keras model's outputs."""
        if self._outputs is None:
            return super().inverse_transform(y, return_proba=return_proba)
        outputs = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(outputs) != len(self._outputs):
            raise ValueError(
                f"The model gives {len(outputs)} output(s) but y has "
                f"{len(self._outputs)} outputs: build one output per column of y."
            )
        probabilities = [
            _class_columns(np.asarray(output), encoder.n_classes_)
            for output, encoder in zip(outputs, self._outputs, strict=True)
        ]
        if return_proba:
            return probabilities
        labels = [
            encoder.inverse_transform(proba).reshape(-1)
            for proba, encoder in zip(probabilities, self._outputs, strict=True)
        ]
        return np.column_stack(labels).astype(self._y_dtype, copy=False)


class _OutputEncoder(ClassifierLabelEncoder):
    """scikeras' encoder of one output, one-hot for any categorical cross-entropy.

    scikeras one-hot encodes a multiclass y for categorical cross-entropy but
    keeps a binary one as class indices, which a softmax output of 2 units
    with that loss cannot take; an output of a multi-output y may well be
    binary.
    """

    def _type_of_target(self, y):
        kind = super()._type_of_target(y)
        if kind == "binary" and _is_categorical_crossentropy(self.loss):
            return "multiclass"
        return kind


def _class_columns(output: np.ndarray, n_classes: int) -> np.ndarray:
    """One output's probabilities as ``(n_samples, n_classes)`` columns."""
    output = output.reshape(len(output), -1)
    if output.shape[1] == 1 and n_classes == 2:  # one sigmoid unit
        output = np.hstack([1.0 - output, output])
    if output.shape[1] != n_classes:
        raise ValueError(
            f"An output of the model has {output.shape[1]} unit(s) but its column "
            f"of y has {n_classes} classes: give output k meta['n_classes_'][k] "
            "units (one sigmoid unit for 2 classes)."
        )
    return output


def _one_hot_rows(y) -> bool:
    """Whether y is a 0/1 matrix of one 1 per row."""
    try:
        Y = np.asarray(y)
        return type_of_target(Y) == "multilabel-indicator" and _is_one_hot(Y)
    except (TypeError, ValueError):
        return False


def _described_target(y) -> str:
    """What a 2-D y that bcsk does not train is, in words."""
    try:
        return f"a 2-D y of type {type_of_target(np.asarray(y))!r}"
    except (TypeError, ValueError):
        return "a 2-D y"


def n_samples(X) -> int:
    """Number of samples of an array, or of a list or dict of arrays (inputs)."""
    if isinstance(X, dict):
        X = next(iter(X.values()))
    elif isinstance(X, (list, tuple)):
        X = X[0]
    return X.shape[0] if hasattr(X, "shape") else len(X)


def first_rows(X, n: int):
    """The first ``n`` rows of an array, or of each array of a list or dict."""
    return keras.tree.map_structure(lambda array: array[:n], X)


class ScikerasClassifier(KerasClassifier):
    """``KerasClassifier`` with scikeras' private hooks turned into bcsk's.

    Subclasses implement :meth:`_train`; scikeras' ``fit`` calls it once, with
    the validated and encoded arrays.
    """

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

    @property
    def target_encoder(self) -> ClassifierTargetEncoder:
        """The target encoder: scikeras', which also splits a multi-output y.

        See :class:`ClassifierTargetEncoder`.
        """
        classes = self.classes_
        if classes is None:
            categories = "auto"
        elif isinstance(classes, list):  # one array per output
            categories = classes
        else:
            categories = [classes]
        return ClassifierTargetEncoder(loss=self.loss, categories=categories)

    @property
    def _layout(self) -> str:
        """How the target of the fit under way (or the last) reaches Keras.

        One of :func:`target_layout`'s answers; an estimator fitted before
        bcsk recorded it (a pickle) reads it off ``target_type_``.
        """
        layout = self.__dict__.get("_target_layout")
        if layout is not None:
            return layout
        kind = getattr(self, "target_type_", None)
        if kind == MULTIOUTPUT:
            return OUTPUTS
        return MULTILABEL if kind == "multilabel-indicator" else LABELS

    @property
    def _multioutput(self) -> bool:
        """Whether the fit under way (or the last) trains one target per output."""
        return self._layout == OUTPUTS

    @staticmethod
    def scorer(y_true, y_pred, **kwargs) -> float:
        """Accuracy; for a multi-output y, the share of samples right on every output.

        Subset accuracy, as scikit-learn's ``MultiOutputClassifier.score``
        (whose ``accuracy_score`` refuses a multiclass-multioutput y), with
        ``sample_weight`` if given.
        """
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if y_true.ndim == 2 and _target_kind(y_true) == MULTIOUTPUT:
            right = np.all(y_true == y_pred, axis=1)
            return float(np.average(right, weights=kwargs.get("sample_weight")))
        return KerasClassifier.scorer(y_true, y_pred, **kwargs)

    # -- the training hook ----------------------------------------------------

    def _train(
        self, X, y, sample_weight, *, warm_start, epochs, initial_epoch, fit_kwargs
    ) -> None:
        """Train ``model_`` on validated, encoded arrays (subclasses implement)."""
        raise NotImplementedError

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ) -> None:
        # scikeras' hook: X, y and sample_weight are validated, encoded and
        # free of zero-weight samples here.
        inputs = self.__dict__.get("_fit_inputs")
        if inputs is not None:
            inputs.trained = True
        # X may be a list or dict of arrays: scikeras' way to multi-input
        # models is a feature_encoder that splits X. h1 receives X before the
        # encoder (_h1_input).
        # scikeras resets classes_ to None on a warm start; its encoder knows them
        # (a list of one array per output for a multi-output y).
        classes = self.target_encoder_.classes_
        self.classes_ = (
            [np.asarray(c) for c in classes]
            if isinstance(classes, list)
            else np.asarray(classes)
        )
        self._target_layout = target_layout(
            y, self.classes_, getattr(self.target_encoder_, "_target_type", None)
        )
        self._train(
            X,
            y,
            sample_weight,
            warm_start=warm_start,
            epochs=epochs,
            initial_epoch=initial_epoch,
            fit_kwargs=kwargs,
        )

    def _keras_fit(self, model, X, y, sample_weight, **fit) -> None:
        """``model.fit`` the way scikeras runs it.

        Routed ``fit__*`` parameters, callbacks, the random state and
        ``history_`` (kept across warm starts) are scikeras'. ``X`` may be a
        tuple of arrays (scikeras reads ``X.shape`` only for ``batch_size=-1``,
        which is resolved here).
        """
        self._check_fit_arguments(fit)
        for name in ("batch_size", "validation_batch_size"):
            if self._fit_args().get(name) == -1 and name not in fit:
                fit[name] = len(y)
        h2 = self.model_
        self.model_ = model
        try:
            # On PyTorch, Keras shuffles with torch's global generator, which
            # scikeras does not seed.
            with _backend.backend_seeds(self._random_state):
                KerasClassifier._fit_keras_model(self, X, y, sample_weight, **fit)
        finally:
            self.model_ = h2

    def _check_fit_arguments(self, fit: dict) -> None:
        """Refuse, before training, what ``keras.Model.fit`` does not take.

        scikeras passes every ``fit__*`` parameter and every keyword argument
        of ``fit`` to ``model_.fit``, so a custom ``Model.fit`` with arguments
        of its own receives them. bcsk trains h2 inside a model of its own
        (h2 behind h1's outputs) with ``keras.Model.fit``, which would fail
        with "fit() got an unexpected keyword argument".
        """
        routed = route_params(self.get_params(), destination="fit", pass_filter=set())
        unknown = sorted(
            name
            for name in set(routed) | set(fit)
            if name not in _MODEL_FIT_ARGUMENTS and not name.startswith("callbacks")
        )
        if unknown:
            custom = type(self.model_).fit is not keras.Model.fit
            raise ValueError(
                f"{', '.join(unknown)}: not argument(s) of keras.Model.fit (given "
                f"as fit__<name> or to fit). {type(self).__name__} trains h2 "
                "inside a Keras model of its own (h2 behind h1's outputs) with "
                "keras.Model.fit, so "
                + (
                    f"the arguments of {type(self.model_).__name__}'s own fit "
                    "cannot reach it"
                    if custom
                    else "they cannot be passed on"
                )
                + ". Pass only keras.Model.fit arguments; do what a custom fit "
                "does in a keras.callbacks.Callback instead."
            )

    def _fit_args(self) -> dict:
        """The routed ``Model.fit`` arguments (``fit__*`` over the plain ones)."""
        return route_params(
            self.get_params(),
            destination="fit",
            pass_filter=self._fit_kwargs,
            strict=True,
        )

    @property
    def _seed(self) -> int | None:
        """The integer seed of this fit (scikeras' ``_random_state``)."""
        return self._random_state

    def _seeded(self):
        """The context scikeras trains in for a seeded fit (no-op without seed)."""
        if self._random_state is None:
            return contextlib.nullcontext()
        return _seeded_on_backend(self._random_state)

    def _merge_history(self, history: dict, warm_start: bool, initial_epoch: int):
        """Add a training loop's per-epoch figures to ``history_`` as scikeras does."""
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.items():
            self.history_[key] += values

    def _build_keras_model(self):
        # scikeras' hook; subclasses build their model in _build_model.
        return self._build_model()

    def _build_model(self):
        """The model of a fit: one network (subclasses may build several)."""
        return self._build_network()

    def _build_network(self):
        """One network from the user's builder, seeded as scikeras seeds it."""
        # See _ThreadLocalRandom: the initial weights of a seeded fit must not
        # depend on what other threads draw from Python's global random.
        # initialize() builds outside fit: undo scikeras' op determinism here too.
        with (
            _seeded_turn(self._random_state),
            _restore_op_determinism(),
            _backend.backend_seeds(self._random_state),
            keras_seeds(self._random_state),
        ):
            return KerasClassifier._build_keras_model(self)

    def _build_keras_model_seeded(self, seed: int | None):
        """Build a model as scikeras would, under ``seed`` instead of the fit's.

        scikeras' builder reads the seed from ``_random_state``; the ensemble
        members and the path's copies each need a seed of their own.
        """
        saved = self._random_state
        self._random_state = seed
        try:
            return self._build_network()
        finally:
            self._random_state = saved

    # -- fit, partial_fit: nothing half done, nothing silently skipped ----------

    def _check_fit_inputs(self, X, y, *, warm: bool) -> None:
        if scipy.sparse.issparse(X):
            # scikeras lets sparse X through, and TensorFlow then fails deep
            # inside its input pipeline; say so up front instead.
            raise TypeError(
                f"{type(self).__name__} does not accept sparse X (got "
                f"{type(X).__name__}): pass a dense array, e.g. X.toarray()."
            )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None: pass the class labels of X as y."
            )
        if not isinstance(y, (list, tuple)):
            # np.asarray rather than np.shape: an array-like that is not an
            # ndarray (a pandas object, scikit-learn's _NotAnArray) converts
            # through __array__ without dispatching NumPy functions to it.
            y = np.asarray(y)
        if (
            warm
            and getattr(self, "initialized_", False)
            and np.ndim(y) != getattr(self, "y_ndim_", np.ndim(y))
        ):
            # A partial_fit (or warm start) whose y changed shape: scikeras
            # refuses it before training, with its own message ("y has 2
            # dimensions, but this ... is expecting 1 dimensions in y").
            return
        # A 2-D y of several columns trains as a multilabel or multi-output
        # target; refuse a list of targets (one 1-D array per output, which
        # scikeras would fail on) and any other 2-D y here. A nested list of
        # one row per sample is a 2-D y.
        several = (
            isinstance(y, (list, tuple))
            and len(y) > 0
            and np.ndim(y[0]) > 0
            and len(y) != n_samples(X)
        )
        shape = None if several else np.shape(y)
        if several or (shape is not None and len(shape) == 2 and shape[1] > 1):
            kind = None if shape is None else _target_kind(y)
            if kind is not None or (shape is not None and _one_hot_rows(y)):
                # multilabel: one sigmoid unit per label; multi-output: one
                # Keras output per column (ClassifierTargetEncoder); one-hot
                # rows: one label per sample or a multilabel y, which the
                # compiled loss decides once the model is built.
                return
            raise ValueError(
                f"{type(self).__name__} takes y as one class label per sample, a "
                "multilabel indicator of shape (n_samples, n_labels), or a 2-D "
                "array of class labels with one column per output (multi-output); "
                "got "
                + ("a list of targets" if several else _described_target(y))
                + ". Pass several targets as the columns of one array "
                "(np.column_stack); one-hot rows (0 and 1, one 1 per row) train "
                "with loss='categorical_crossentropy'."
            )

    def _run_fit(
        self, fit, X, y, sample_weight=None, *, logged=None, partial=False, **kwargs
    ):
        self._check_fit_inputs(X, y, warm=partial or self.warm_start)
        if sample_weight is not None:
            # KerasClassifier multiplies class weights into sample_weight in
            # place: never let that reach the caller's array.
            sample_weight = np.array(sample_weight, dtype=float)
        # A fit that fails part-way must not leave a half-trained estimator:
        # restore the attributes and, on a warm start, the weights it had.
        saved = dict(self.__dict__)
        if "history_" in saved:
            # scikeras extends history_'s lists in place on a warm start.
            saved["history_"] = defaultdict(
                list, {key: list(values) for key, values in saved["history_"].items()}
            )
        model = saved.get("model_")
        weights = None if model is None else _snapshot(model)
        inputs = self._fit_inputs = FitInputs(X, logged=logged)
        try:
            with _seeded_turn(self.random_state), _restore_op_determinism():
                fit(X, y, sample_weight=sample_weight, **kwargs)
            if not inputs.trained:
                raise RuntimeError(
                    f"scikeras did not call the training hook of {type(self).__name__}"
                    f" (KerasClassifier._fit_keras_model): the model would have been "
                    f"trained without the compatibility objective. bcsk supports "
                    f"{SCIKERAS_PIN}; install a supported scikeras."
                )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if weights is not None:
                _restore(model, weights)
            raise
        finally:
            self.__dict__.pop("_fit_inputs", None)
        return self

    def _check_model_compatibility(self, y) -> None:
        # scikeras counts model_.outputs, which a subclassed Keras 3 model (one
        # with its own call) does not have: stock scikeras fails there with
        # "AttributeError: ... has no attribute 'outputs'". Skip the count for
        # such a model (the estimator counts a multi-output model's outputs
        # from a call before training) and keep scikeras' loss check.
        try:
            self.model_.outputs  # noqa: B018 (an attribute that may be absent)
        except AttributeError:
            expected = self.__dict__.pop("n_outputs_expected_", None)
            try:
                super()._check_model_compatibility(y)
            finally:
                if expected is not None:
                    self.n_outputs_expected_ = expected
            return
        super()._check_model_compatibility(y)

    def _h1_input(self, X, *, keep_frame: bool):
        """The samples h1 receives for the training rows.

        ``X`` as scikeras validated it, before the ``feature_encoder`` (which
        may have split it into a list or dict of arrays, the inputs of a
        multi-input Keras model), limited to the rows scikeras kept. With
        ``keep_frame``, the user's DataFrame itself: a scikit-learn h1 needs
        its column names, and scikeras has replaced it with a NumPy array by
        the time the training hook runs. Returns ``X`` (what the Keras model
        is trained on) outside a fit.
        """
        inputs = self.__dict__.get("_fit_inputs")
        if inputs is None:
            return X
        raw = inputs.X if keep_frame and hasattr(inputs.X, "columns") else None
        if raw is None:
            raw = inputs.validated
        if raw is None:
            return X
        raw = raw if inputs.rows is None else _safe_indexing(raw, inputs.rows)
        return raw if raw.shape[0] == n_samples(X) else X

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # scikeras refuses, after a float32 fit, float64 or integer X at predict
        # time ("casting is not safe"); cast numbers to the dtype seen in fit.
        if not reset and X is not None and hasattr(self, "X_dtype_"):
            if not scipy.sparse.issparse(X):
                array = np.asarray(X)
                if array.dtype.kind in "biuf" and self.X_dtype_.kind == "f":
                    X = array.astype(self.X_dtype_, copy=False)
        X, y = super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)
        inputs = self.__dict__.get("_fit_inputs")
        if inputs is not None and y is not None:
            inputs.validated = X  # before the feature encoder: h1's input
        return X, y

    def _validate_sample_weight(self, X, y, sample_weight):
        # scikeras drops zero-weight samples; note which rows it keeps so that
        # h1's outputs on the user's X line up with the training rows.
        inputs = self.__dict__.get("_fit_inputs")
        if inputs is not None:
            weights = np.asarray(sample_weight, dtype=float).reshape(-1)
            if weights.size == len(y):
                inputs.rows = np.flatnonzero(weights != 0)
        return super()._validate_sample_weight(X, y, sample_weight)

    # -- prediction -----------------------------------------------------------

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        For a multi-output y, a list of one such array per output (scikit-learn's
        convention for multi-output classifiers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        **kwargs
            Passed to ``Model.predict`` (prefer ``predict__*`` parameters).

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or list of ndarray
        """
        if self._multioutput or isinstance(self.__dict__.get("classes_"), list):
            # One array per output, as scikit-learn's; or what a custom
            # target encoder's inverse_transform makes of the outputs.
            return super().predict_proba(X, **kwargs)
        proba = np.asarray(super().predict_proba(X, **kwargs))
        n_samples, n_classes = len(np.asarray(X)), len(self.classes_)
        # scikeras squeezes the result, so one sample would come back 1-D.
        if proba.size != n_samples * n_classes:
            raise ValueError(
                f"The model returns {proba.size // max(n_samples, 1)} probabilities "
                f"per sample but there are {n_classes} classes: its output layer "
                "must have one unit per class (or one sigmoid unit for 2 classes)."
            )
        return np.reshape(proba, (n_samples, n_classes))


__all__ = [
    "FitInputs",
    "SCIKERAS_PIN",
    "ScikerasClassifier",
    "first_rows",
    "keras_seeds",
    "n_samples",
]
