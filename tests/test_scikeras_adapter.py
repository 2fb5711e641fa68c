"""What bcsk relies on in scikeras 0.13, pinned.

``bcsk/_scikeras.py`` holds every use of scikeras' internals. These tests
fail when a scikeras release changes one of them: the private hooks' names
and signatures, that ``fit`` and ``partial_fit`` reach the training hook once
with the validated, encoded arrays, that routed ``fit__*`` parameters arrive
in ``Model.fit``, the integer random state, and Keras' seed generator that
:func:`bcsk._scikeras.keras_seeds` stands in for. Lifting the pin on scikeras
means making these pass against the new release.
"""

import importlib.metadata
import inspect
import random
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import scikeras
import scikeras.wrappers
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from scikeras._utils import route_params
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import BaseWrapper, KerasClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from tensorflow.python.framework import config as tf_config

from bcsk import BCCompatibleClassifier
from bcsk import _scikeras as adapter

ROOT = Path(__file__).resolve().parents[1]
N = 200
NAMES = np.array(list("abcdefghij"))


def build(meta):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def make(h1, **params):
    defaults = dict(
        model=build,
        h1=h1,
        lambda_c=0.5,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=1,
        batch_size=64,
        random_state=0,
        run_eagerly=True,
    )
    return BCCompatibleClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:N], y[:N]


@pytest.fixture
def train_calls(monkeypatch):
    """Every call of the estimator's training hook, with what it received."""
    calls = []
    train = BCCompatibleClassifier._train

    def recorded(self, X, y, sample_weight, **kwargs):
        inputs = self.__dict__.get("_fit_inputs")
        calls.append(
            dict(
                X=X,
                y=y,
                sample_weight=sample_weight,
                rows=None if inputs is None else inputs.rows,
                **kwargs,
            )
        )
        return train(self, X, y, sample_weight, **kwargs)

    monkeypatch.setattr(BCCompatibleClassifier, "_train", recorded)
    return calls


@pytest.fixture
def keras_fit_calls(monkeypatch):
    """The keyword arguments of every ``keras.Model.fit`` call."""
    calls = []
    fit = keras.Model.fit

    def recorded(model, *args, **kwargs):
        calls.append(
            dict(
                kwargs,
                random_state=random.getstate(),
                np_state=np.random.get_state()[1].copy(),  # noqa: NPY002
                deterministic=tf_config.is_op_determinism_enabled(),
            )
        )
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recorded)
    return calls


# --------------------------------------------------------------------------
# The pin
# --------------------------------------------------------------------------


def test_pyproject_pins_scikeras_and_the_installed_one_satisfies_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [
        Requirement(entry)
        for entry in project["dependencies"]
        if Requirement(entry).name == "scikeras"
    ]
    assert len(pins) == 1
    assert pins[0].specifier == SpecifierSet(">=0.13,<0.14")
    assert Requirement(adapter.SCIKERAS_PIN).specifier == pins[0].specifier
    installed = importlib.metadata.version("scikeras")
    assert pins[0].specifier.contains(installed), installed
    assert scikeras.__version__ == installed


# --------------------------------------------------------------------------
# Names and signatures of the hooks bcsk overrides or calls
# --------------------------------------------------------------------------


def _parameters(function):
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(function).parameters.values()
    ]


P = inspect.Parameter


def test_fit_keras_model_signature():
    # Overridden by ScikerasClassifier._fit_keras_model and called by _keras_fit.
    assert _parameters(KerasClassifier._fit_keras_model) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("X", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("y", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("sample_weight", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("warm_start", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("epochs", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("initial_epoch", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("kwargs", P.VAR_KEYWORD, P.empty),
    ]


def test_fit_signature_and_callers():
    # fit and partial_fit both go through _fit, which calls _fit_keras_model.
    assert _parameters(BaseWrapper._fit) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("X", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("y", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("sample_weight", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("warm_start", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("epochs", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("initial_epoch", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("kwargs", P.VAR_KEYWORD, P.empty),
    ]
    for name in ("fit", "partial_fit"):
        assert "self._fit(" in inspect.getsource(getattr(BaseWrapper, name))
    source = inspect.getsource(BaseWrapper._fit)
    for hook in (
        "self._validate_data(",
        "self._validate_sample_weight(",
        "self._check_model_compatibility(",
        "self._fit_keras_model(",
    ):
        assert hook in source, hook
    assert "self._build_keras_model()" in inspect.getsource(BaseWrapper._initialize)


def test_validate_data_signature():
    assert _parameters(BaseWrapper._validate_data) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("X", P.POSITIONAL_OR_KEYWORD, None),
        ("y", P.POSITIONAL_OR_KEYWORD, None),
        ("reset", P.POSITIONAL_OR_KEYWORD, False),
        ("y_numeric", P.POSITIONAL_OR_KEYWORD, False),
    ]


def test_validate_sample_weight_is_a_static_hook_that_drops_zero_weights():
    # scikeras defines it as a staticmethod and calls it as self._...; bcsk
    # overrides it with an instance method to learn which rows are kept.
    assert isinstance(
        inspect.getattr_static(BaseWrapper, "_validate_sample_weight"), staticmethod
    )
    assert _parameters(BaseWrapper._validate_sample_weight) == [
        ("X", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("y", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("sample_weight", P.POSITIONAL_OR_KEYWORD, P.empty),
    ]
    X, y = np.arange(8.0).reshape(4, 2), np.arange(4)
    X_kept, y_kept, weights = BaseWrapper._validate_sample_weight(
        X, y, np.array([1.0, 0.0, 2.0, 0.0])
    )
    np.testing.assert_array_equal(X_kept, X[[0, 2]])
    np.testing.assert_array_equal(y_kept, [0, 2])
    np.testing.assert_array_equal(weights, [1.0, 2.0])


def test_build_and_compatibility_hooks():
    assert _parameters(BaseWrapper._build_keras_model) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty)
    ]
    assert _parameters(BaseWrapper._check_model_compatibility) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("y", P.POSITIONAL_OR_KEYWORD, P.empty),
    ]
    # The reason ScikerasClassifier overrides it (subclassed models).
    assert "self.model_.outputs" in inspect.getsource(
        BaseWrapper._check_model_compatibility
    )


def test_fit_kwargs_are_the_model_fit_arguments():
    names = KerasClassifier()._fit_kwargs
    assert isinstance(names, set)
    assert {
        "batch_size",
        "epochs",
        "verbose",
        "validation_split",
        "shuffle",
        "validation_batch_size",
        "validation_steps",
        "validation_freq",
    } <= names
    # KerasClassifier turns its class_weight parameter into sample weights.
    assert "class_weight" not in names


def test_route_params():
    assert _parameters(route_params) == [
        ("params", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("destination", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("pass_filter", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("strict", P.POSITIONAL_OR_KEYWORD, False),
    ]
    params = {
        "batch_size": 32,
        "epochs": 3,
        "lambda_c": 0.5,
        "fit__batch_size": 8,
        "fit__shuffle": False,
        "fit__callbacks__0__patience": 2,
        "predict__batch_size": 99,
    }
    routed = route_params(
        params, destination="fit", pass_filter={"batch_size", "epochs"}, strict=True
    )
    assert routed == {"batch_size": 8, "epochs": 3, "shuffle": False}
    loose = route_params(params, destination="fit", pass_filter=set())
    assert loose == {"batch_size": 8, "shuffle": False, "callbacks__0__patience": 2}


def test_tensorflow_random_state_seeds_the_global_generators():
    assert _parameters(tensorflow_random_state) == [
        ("seed", P.POSITIONAL_OR_KEYWORD, P.empty)
    ]
    before = random.getstate()
    tf_config.disable_op_determinism()
    try:
        with tensorflow_random_state(3):
            assert random.getstate() == random.Random(3).getstate()
            np.testing.assert_array_equal(
                np.random.get_state()[1],  # noqa: NPY002
                np.random.RandomState(3).get_state()[1],
            )
            assert tf_config.is_op_determinism_enabled()
        assert random.getstate() == before
    finally:
        tf_config.disable_op_determinism()


def test_keras_draws_unseeded_initializer_seeds_from_python_random():
    # keras_seeds stands in for this module attribute of Keras.
    from keras.src.random import seed_generator

    assert "python_random.randint" in inspect.getsource(
        seed_generator.make_default_seed
    )
    with adapter.keras_seeds(5):
        drawn = [seed_generator.make_default_seed() for _ in range(3)]
    expected = random.Random(5)
    assert drawn == [expected.randint(1, int(1e9)) for _ in range(3)]
    # Outside the context (and with seed=None) Keras draws from the global.
    state = random.getstate()
    try:
        random.seed(11)
        with adapter.keras_seeds(None):
            first = seed_generator.make_default_seed()
        random.seed(11)
        assert first == seed_generator.make_default_seed()
    finally:
        random.setstate(state)


# --------------------------------------------------------------------------
# The training hook: once per fit, with the validated, encoded arrays
# --------------------------------------------------------------------------


def test_fit_reaches_the_hook_once_with_encoded_arrays(data, digits_h1, train_calls):
    X, y = data
    weights = np.r_[np.zeros(10), np.linspace(0.5, 2.0, N - 10)]
    clf = make(digits_h1)
    clf.fit(X.astype("float64"), NAMES[y], sample_weight=weights, epochs=2)

    assert len(train_calls) == 1
    call = train_calls[0]
    assert isinstance(call["X"], np.ndarray) and call["X"].shape == (N - 10, 64)
    np.testing.assert_array_equal(call["X"], X[10:])
    # The labels are scikeras' ordinal codes in Keras' float type.
    assert call["y"].dtype == np.dtype(keras.backend.floatx())
    np.testing.assert_array_equal(call["y"].ravel(), y[10:])
    np.testing.assert_allclose(call["sample_weight"], weights[10:], rtol=1e-6)
    np.testing.assert_array_equal(call["rows"], np.arange(10, N))
    assert (call["warm_start"], call["epochs"], call["initial_epoch"]) == (False, 2, 0)
    assert call["fit_kwargs"] == {}
    np.testing.assert_array_equal(clf.target_encoder_.classes_, NAMES)
    np.testing.assert_array_equal(clf.classes_, NAMES)


def test_partial_fit_reaches_the_hook_once_per_call(data, digits_h1, train_calls):
    X, y = data
    clf = make(digits_h1)
    clf.partial_fit(X[:50], y[:50], classes=np.arange(10))
    clf.partial_fit(X, y)
    assert len(train_calls) == 2
    assert [
        (c["warm_start"], c["epochs"], c["initial_epoch"]) for c in train_calls
    ] == [
        (True, 1, 0),
        (True, 1, 1),
    ]
    assert train_calls[0]["X"].shape == (50, 64)
    assert train_calls[0]["sample_weight"] is None
    assert train_calls[0]["rows"] is None
    np.testing.assert_array_equal(clf.target_encoder_.classes_, np.arange(10))
    assert len(clf.history_["loss"]) == 2


def test_dataframe_rows_follow_the_dropped_samples(data, train_calls):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    h1 = _FrameH1().fit(frame, y)
    weights = np.ones(N)
    weights[::4] = 0
    make(h1, dissonance="new_error").fit(frame, y, sample_weight=weights)
    assert len(train_calls) == 1
    kept = np.flatnonzero(weights)
    np.testing.assert_array_equal(train_calls[0]["rows"], kept)
    # h1 saw the DataFrame rows that were trained on.
    assert h1.seen_[-1] == list(kept)


class _FrameH1(ClassifierMixin, BaseEstimator):
    """A fitted scikit-learn h1 that insists on a DataFrame."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.seen_ = []
        return self

    def predict(self, X):
        assert isinstance(X, pd.DataFrame)
        self.seen_.append(list(X.index))
        return np.full(len(X), self.classes_[0])


def test_routed_fit_parameters_arrive_in_model_fit(data, digits_h1, keras_fit_calls):
    X, y = data
    clf = make(
        digits_h1,
        fit__batch_size=16,
        fit__shuffle=False,
        fit__validation_split=0.25,
        validation_batch_size=-1,
        random_state=7,
    )
    clf.fit(X, y, verbose=0, epochs=2)
    assert len(keras_fit_calls) == 1
    call = keras_fit_calls[0]
    assert call["batch_size"] == 16
    assert call["shuffle"] is False
    assert call["validation_split"] == 0.25
    assert call["validation_batch_size"] == N
    assert (call["epochs"], call["initial_epoch"], call["verbose"]) == (2, 0, 0)
    # Model.fit runs in scikeras' seeded context, with the integer seed.
    assert call["random_state"] == random.Random(7).getstate()
    np.testing.assert_array_equal(
        call["np_state"], np.random.RandomState(7).get_state()[1]
    )
    assert call["deterministic"]
    assert len(clf.history_["val_loss"]) == 2


@pytest.mark.parametrize(
    "random_state, expected",
    [
        (7, 7),
        (None, None),
        # scikeras draws randint(low=1) from a copy of a RandomState: always 0.
        (np.random.RandomState(123), 0),
    ],
    ids=["int", "None", "RandomState"],
)
def test_random_state_is_the_integer_scikeras_derives(
    random_state, expected, data, digits_h1
):
    X, y = data
    state = (
        random_state.get_state()[1].copy()
        if isinstance(random_state, np.random.RandomState)
        else None
    )
    clf = make(digits_h1, random_state=random_state).fit(X, y)
    assert clf._random_state == expected
    assert clf._seed == expected
    if state is not None:  # the user's RandomState is not advanced
        np.testing.assert_array_equal(random_state.get_state()[1], state)


# scikeras sets TF_DETERMINISTIC_OPS before asking TensorFlow whether op
# determinism is on; in a process where nobody switched it explicitly, the
# answer is then "yes", and scikeras leaves it on for good (every later
# unseeded random op fails). Only a fresh process shows it.
DETERMINISM_SCRIPT = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
from scikeras.utils.random_state import tensorflow_random_state
from tensorflow.python.framework import config
from bcsk import BCCompatibleClassifier

def build(meta):
    dense = keras.layers.Dense(2, activation="softmax")
    return keras.Sequential([keras.Input((4,)), dense])

X = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
y = np.arange(20) % 2
h1 = lambda X: np.full((len(X), 2), 0.5)
call = {call!r}
if call == "scikeras":
    with tensorflow_random_state(0):
        pass
else:
    clf = BCCompatibleClassifier(build, h1=h1, loss="sparse_categorical_crossentropy",
                                 random_state=0, run_eagerly=True)
    getattr(clf, call)(X, y)
print("DETERMINISM", config.is_op_determinism_enabled())
"""


@pytest.mark.parametrize(
    "call",
    [
        "initialize",
        # One fresh interpreter each (~12 s): the rest run with -m slow.
        pytest.param("scikeras", marks=pytest.mark.slow),
        pytest.param("fit", marks=pytest.mark.slow),
        pytest.param("partial_fit", marks=pytest.mark.slow),
    ],
)
def test_seeded_calls_leave_op_determinism_off(call, tmp_path):
    script = tmp_path / "determinism.py"
    script.write_text(DETERMINISM_SCRIPT.format(call=call))
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    # Stock scikeras leaves it on (the reason for _restore_op_determinism).
    expected = "True" if call == "scikeras" else "False"
    assert f"DETERMINISM {expected}" in completed.stdout


# --------------------------------------------------------------------------
# A fit whose training hook was skipped raises, and changes nothing
# --------------------------------------------------------------------------


def _fit_without_hook(
    self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kw
):
    """What a scikeras that stopped calling _fit_keras_model would do."""
    X, y = self._initialize(X, y)
    self._ensure_compiled_model()
    self.model_.fit(X, self.target_encoder_.transform(y), epochs=epochs, verbose=0)


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_fit_without_the_training_hook_raises(call, data, digits_h1, monkeypatch):
    X, y = data
    monkeypatch.setattr(KerasClassifier, "_fit", _fit_without_hook)
    # Stock scikeras would train a plain model without a word.
    stock = KerasClassifier(build, loss="sparse_categorical_crossentropy", verbose=0)
    getattr(stock, call)(X, y)
    assert stock.model_.built

    clf = make(digits_h1)
    before = dict(vars(clf))
    with pytest.raises(RuntimeError, match="did not call the training hook"):
        getattr(clf, call)(X, y)
    assert vars(clf) == before
    assert not hasattr(clf, "model_")


def test_skipped_hook_keeps_the_fitted_state(data, digits_h1, monkeypatch):
    X, y = data
    clf = make(digits_h1, warm_start=True).fit(X, y)
    model, history = clf.model_, {k: list(v) for k, v in clf.history_.items()}
    weights = [w.copy() for w in model.get_weights()]
    keys = set(vars(clf))

    monkeypatch.setattr(KerasClassifier, "_fit", _fit_without_hook)
    with pytest.raises(RuntimeError, match="compatibility objective"):
        clf.fit(X, y)
    assert clf.model_ is model
    assert set(vars(clf)) == keys
    assert {k: list(v) for k, v in clf.history_.items()} == history
    for before, after in zip(weights, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


class _FailAfterOneBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        raise RuntimeError("stop")


def test_failed_partial_fit_after_initialize_restores_the_weights(data, digits_h1):
    # initialize leaves the model uncompiled: the failed fit compiles it, so the
    # optimizer is new, and the model's weights must still come back.
    X, y = data
    clf = make(digits_h1, callbacks=[_FailAfterOneBatch()], batch_size=32)
    clf.initialize(X, y)
    weights = [w.copy() for w in clf.model_.get_weights()]
    with pytest.raises(RuntimeError, match="stop"):
        clf.partial_fit(X, y)
    for before, after in zip(weights, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not hasattr(clf, "history_")


def test_failure_after_training_keeps_history(data, digits_h1, monkeypatch):
    # scikeras extends history_'s lists in place on a warm start; a fit that
    # fails after that must leave the history it found.
    X, y = data
    clf = make(digits_h1).fit(X, y)
    history = list(clf.history_["loss"])
    train = BCCompatibleClassifier._train

    def train_then_fail(self, *args, **kwargs):
        train(self, *args, **kwargs)
        raise RuntimeError("after training")

    monkeypatch.setattr(BCCompatibleClassifier, "_train", train_then_fail)
    with pytest.raises(RuntimeError, match="after training"):
        clf.partial_fit(X, y)
    assert clf.history_["loss"] == history


def test_estimator_overrides_only_the_training_hook():
    # Every scikeras hook is overridden in the adapter, never in the estimator.
    hooks = {
        "_fit_keras_model",
        "_validate_data",
        "_validate_sample_weight",
        "_build_keras_model",
        "_check_model_compatibility",
        "_fit",
        "_initialize",
    }
    own = set(vars(BCCompatibleClassifier))
    assert not hooks & own
    assert "_train" in own
    assert hooks - {"_fit", "_initialize"} <= set(vars(adapter.ScikerasClassifier))
    assert issubclass(BCCompatibleClassifier, scikeras.wrappers.KerasClassifier)
