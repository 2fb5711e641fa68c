"""Shared fixtures: small datasets and h1 models fitted once per session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402
from _builders import N_SMALL  # noqa: E402
from hypothesis import settings  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

# CI must not turn red at random: by default the property tests draw the same
# examples on every run. HYPOTHESIS_PROFILE=explore draws fresh random examples
# (run it a few times when changing validation code).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _restore_keras_floatx():
    """Some checks change keras' float type; never let it leak between tests."""
    floatx = keras.backend.floatx()
    yield
    keras.backend.set_floatx(floatx)


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1] as float32: (X, y) with 1,797 samples, 10 classes."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y.astype("int64")


def dense_softmax(n_features, n_classes, hidden=None, seed=0):
    """A small Keras classifier with softmax outputs."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((n_features,))]
    if hidden:
        layers.append(keras.layers.Dense(hidden, activation="relu"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


@pytest.fixture(scope="session")
def digits_h1(digits):
    """A linear Keras h1 trained on 300 digits: ~85-90 % accurate, so some errors."""
    X, y = digits
    h1 = dense_softmax(64, 10, seed=1)
    h1.compile(
        loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01)
    )
    h1.fit(X[:300], y[:300], epochs=20, batch_size=64, verbose=0)
    return h1


# The small problem most search, path, ensemble and logged tests share. A test
# module that needs another ``data`` or ``h1`` defines its own fixture of that
# name, which pytest uses instead of these.
@pytest.fixture(scope="session")
def data(digits):
    """240 digits the h1 below never saw: (X, y)."""
    X, y = digits
    return X[300 : 300 + N_SMALL], y[300 : 300 + N_SMALL]


@pytest.fixture(scope="session")
def h1(digits):
    """A scikit-learn h1: logistic regression on the first 150 digits."""
    X, y = digits
    return LogisticRegression(max_iter=300).fit(X[:150], y[:150])


@pytest.fixture
def train_step_calls(monkeypatch):
    """The class names of the models whose ``train_step`` ran, in order.

    Outside eager mode Keras runs ``train_step`` only while TensorFlow traces
    it, so the list counts the traces of the training step.
    """
    calls = []
    train_step = keras.Model.train_step

    def counted_train_step(model, batch):
        calls.append(type(model).__name__)
        return train_step(model, batch)

    monkeypatch.setattr(keras.Model, "train_step", counted_train_step)
    return calls
