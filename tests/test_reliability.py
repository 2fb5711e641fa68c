"""Reliability: reproducible fits, untouched h1, fresh-process loads, input fuzzing.

* The same ``random_state`` gives identical predictions, for both methods.
* Every training path leaves h1 bit-identical: its weights, optimizer state and
  flags for a Keras h1, its whole pickled state for a scikit-learn h1.
* Models saved here (``.keras``; pickle and joblib for fitted estimators) give
  identical predictions when loaded in a fresh Python process.
* Property-based tests (hypothesis) of the estimator's input validation: any
  shape, dtype, label type, NaN/inf, empty or single-class input either works
  or raises ``ValueError``/``TypeError`` with a message, never a raw TensorFlow
  error.

``tests/test_models.py`` covers the model classes' ``.keras`` round trip within
one process; this file covers the estimator paths and the fresh process.
"""

import json
import pickle
import re
import textwrap

import joblib
import keras
import numpy as np
import pytest
import tensorflow as tf

# The builder of the estimators a fresh process loads (with this folder on
# PYTHONPATH there).
from _builders import build_mlp
from _subprocess import run_python
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

from bcsk import BCCompatibleClassifier
from bcsk.metrics import btc_scorer, compatibility_scoring
from bcsk.tensorflow import helpers as tf_helpers
from bcsk.tensorflow.loss import (
    BCBinaryCrossEntropyLoss,
    BCCrossEntropyLoss,
    BCKLDivLoss,
    BCNLLLoss,
    BCStrictImitationBinaryCrossEntropyLoss,
    BCStrictImitationCrossEntropyLoss,
    BCStrictImitationKLDivLoss,
    BCStrictImitationNLLLoss,
)
from bcsk.tensorflow.models import BCCompatibilityModel, BCNewErrorCompatibilityModel

SCE = "sparse_categorical_crossentropy"


def dense(n_features, n_outputs, seed, activation="softmax"):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(n_outputs, activation=activation),
        ]
    )


def estimator(h1, **params):
    defaults = dict(
        loss=SCE,
        optimizer="adam",
        epochs=1,
        batch_size=64,
        random_state=0,
        model__hidden=8,
    )
    return BCCompatibleClassifier(build_mlp, h1=h1, **{**defaults, **params})


@pytest.fixture(scope="module")
def small(digits):
    X, y = digits
    return X[:192], y[:192]


@pytest.fixture(scope="module")
def sklearn_h1(digits):
    X, y = digits
    return LogisticRegression(max_iter=300).fit(X[:300], y[:300])


# --------------------------------------------------------------------------
# Seeded fits are reproducible
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        # test_estimator.py covers method="model" with a scikit-learn h1.
        dict(method="bc_fit", dissonance="new_error"),
        dict(method="bc_fit", dissonance="strict_imitation"),
        # The per-step path: a Keras h1 runs inside every training step.
        pytest.param(
            dict(method="model", dissonance="strict_imitation", loss="kl_divergence"),
            marks=pytest.mark.slow,
        ),
    ],
    ids=["bc_fit-new_error", "bc_fit-strict_imitation", "model-per_step"],
)
def test_seeded_fit_is_reproducible(params, small, digits_h1):
    X, y = small
    X, y = X[:128], y[:128]
    params = dict(epochs=1, batch_size=32, **params)
    first = estimator(digits_h1, **params).fit(X, y).predict_proba(X)
    again = estimator(digits_h1, **params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(again, first)
    if params["method"] == "bc_fit" and params["dissonance"] == "new_error":
        # The seed matters (the equality above is not trivially true).
        other = estimator(digits_h1, random_state=1, **params).fit(X, y)
        assert not np.allclose(other.predict_proba(X), first)


# --------------------------------------------------------------------------
# Every path leaves h1 untouched
# --------------------------------------------------------------------------


def keras_state(model):
    """Everything a fit could change on a Keras h1, as plain values."""
    state = {
        "weights": [np.array(w) for w in model.weights],
        "trainable": [model.trainable] + [layer.trainable for layer in model.layers],
        "n_trainable": len(model.trainable_weights),
        "loss": repr(getattr(model, "loss", None)),
    }
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        state["optimizer"] = [np.array(v) for v in optimizer.variables]
    return state


def assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            assert len(value) == len(after[key]), key
            for a, b in zip(value, after[key], strict=True):
                np.testing.assert_array_equal(b, a, err_msg=key)
        else:
            assert after[key] == value, key


@pytest.fixture(scope="module")
def binary_h1():
    """An untrained sigmoid h1: about half right on digits 0-vs-rest, enough here."""
    return dense(64, 1, seed=5, activation="sigmoid")


def _fit_estimator(h1, X, y, **params):
    clf = estimator(h1, **params).fit(X, y)
    assert clf.h1 is h1


def _fit_new_error_model(h1, X, y):
    model = BCNewErrorCompatibilityModel(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")],
        h1=h1,
        lambda_c=1.0,
    )
    model.compile(loss=SCE, optimizer=keras.optimizers.Adam(0.05))
    model.fit(X, y, epochs=1, batch_size=64, verbose=0)


def _fit_wrapper(h1, X, y, dissonance):
    model = BCCompatibilityModel(
        dense(64, 10, seed=6), h1=h1, lambda_c=1.0, dissonance=dissonance
    )
    model.compile(loss=SCE, optimizer=keras.optimizers.Adam(0.05))
    model.fit(X, y, epochs=1, batch_size=64, verbose=0)


def _bc_fit(h1, X, y, loss_class):
    binary = int(h1.output_shape[-1]) == 1
    h2 = dense(64, 1, seed=7, activation="sigmoid") if binary else dense(64, 10, seed=7)
    y = (y == 0).astype("float32") if binary else y
    batches = [(X[i : i + 64], y[i : i + 64]) for i in range(0, len(X), 64)]
    tf_helpers.bc_fit(
        h2,
        training_set=batches,
        epochs=1,
        bc_loss=loss_class(h1, h2, 1.0),
        optimizer=keras.optimizers.Adam(0.05),
        verbose=0,
    )


def _bc_fit_path(loss):
    return lambda h1, X, y: _bc_fit(h1, X, y, loss)


# One path per mechanism runs by default; the rest of the matrix is `slow`.
# (test_estimator.py and test_models.py check h1's weights on the common paths.)
PATHS = {
    # Reweighted task loss: h1 runs once, before training.
    "estimator-model-new_error": lambda h1, X, y: _fit_estimator(h1, X, y),
    # KL divergence takes the per-step path: h1 runs inside every training step.
    "estimator-model-kld-strict_imitation": lambda h1, X, y: _fit_estimator(
        h1, X, y, dissonance="strict_imitation", loss="kl_divergence"
    ),
    "estimator-bc_fit-strict_imitation": lambda h1, X, y: _fit_estimator(
        h1, X, y, method="bc_fit", dissonance="strict_imitation"
    ),
    "BCNewErrorCompatibilityModel.fit": _fit_new_error_model,
    "BCCompatibilityModel.fit-strict_imitation": lambda h1, X, y: _fit_wrapper(
        h1, X, y, "strict_imitation"
    ),
    "bc_fit-BCStrictImitationKLDivLoss": _bc_fit_path(BCStrictImitationKLDivLoss),
    "bc_fit-BCStrictImitationBinaryCrossEntropyLoss": _bc_fit_path(
        BCStrictImitationBinaryCrossEntropyLoss
    ),
}
SLOW_PATHS = {
    "estimator-model-strict_imitation": lambda h1, X, y: _fit_estimator(
        h1, X, y, dissonance="strict_imitation"
    ),
    "estimator-bc_fit-new_error": lambda h1, X, y: _fit_estimator(
        h1, X, y, method="bc_fit"
    ),
    "BCCompatibilityModel.fit-new_error": lambda h1, X, y: _fit_wrapper(
        h1, X, y, "new_error"
    ),
    **{
        f"bc_fit-{loss.__name__}": _bc_fit_path(loss)
        for loss in (
            BCCrossEntropyLoss,
            BCNLLLoss,
            BCKLDivLoss,
            BCBinaryCrossEntropyLoss,
            BCStrictImitationCrossEntropyLoss,
            BCStrictImitationNLLLoss,
        )
    },
}
BINARY = ("BCBinaryCrossEntropyLoss", "BCStrictImitationBinaryCrossEntropyLoss")


@pytest.mark.parametrize(
    "path",
    [*PATHS, *(pytest.param(path, marks=pytest.mark.slow) for path in SLOW_PATHS)],
)
def test_every_path_leaves_keras_h1_untouched(path, small, digits_h1, binary_h1):
    X, y = small
    X, y = X[:128], y[:128]
    h1 = binary_h1 if path.endswith(BINARY) else digits_h1
    before = keras_state(h1)
    {**PATHS, **SLOW_PATHS}[path](h1, X, y)
    assert_same_state(before, keras_state(h1))


def test_sklearn_h1_state_unchanged_by_scored_cross_validation(small, sklearn_h1):
    # test_estimator.py checks a plain fit; here the cross-validation path too:
    # clones, fits and the compatibility scorers, which all call h1.
    X, y = small
    before = pickle.dumps(sklearn_h1)
    scores = cross_validate(
        estimator(sklearn_h1, dissonance="strict_imitation"),
        X,
        y,
        scoring=compatibility_scoring(),
        cv=2,
        return_estimator=True,
    )
    assert all(clf.h1 is sklearn_h1 for clf in scores["estimator"])
    assert np.isfinite(scores["test_btc"]).all()
    assert pickle.dumps(sklearn_h1) == before


# --------------------------------------------------------------------------
# Save here, load and predict in a fresh process
# --------------------------------------------------------------------------

LOAD_SCRIPT = textwrap.dedent(
    """
    import json, os, pickle, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import joblib
    import keras
    import numpy as np
    import bcsk.tensorflow  # registers bcsk's Keras classes for load_model
    from bcsk.metrics import btc_scorer, compatibility_scoring

    folder = sys.argv[1]
    X = np.load(os.path.join(folder, "X.npy"))
    y = np.load(os.path.join(folder, "y.npy"))
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    out = {}
    for name, (kind, file) in manifest.items():
        path = os.path.join(folder, file)
        if kind == "keras":
            model = keras.models.load_model(path)
            out[name + "/proba"] = model.predict(X, verbose=0)
            out[name + "/h1"] = model.h1.predict(X, verbose=0)
            continue
        if kind == "pickle":
            with open(path, "rb") as f:
                clf = pickle.load(f)
        else:
            clf = joblib.load(path)
        out[name + "/proba"] = clf.predict_proba(X)
        out[name + "/labels"] = clf.predict(X)
        out[name + "/btc"] = np.array(btc_scorer(clf, X, y))
    np.savez(os.path.join(folder, "loaded.npz"), **out)
    """
)


# joblib pickles too: one joblib file is enough next to the pickles.
JOBLIB_ESTIMATOR = "keras_h1-model"


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, digits, digits_h1, sklearn_h1):
    X, y = digits
    X_train, y_train, X_test, y_test = X[:256], y[:256], X[256:512], y[256:512]
    folder = tmp_path_factory.mktemp("round_trip")
    np.save(folder / "X.npy", X_test)
    np.save(folder / "y.npy", y_test)
    manifest, expected = {}, {}

    new_error = BCNewErrorCompatibilityModel(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        h1=digits_h1,
        lambda_c=0.3,
    )
    wrapper = BCCompatibilityModel(
        dense(64, 10, seed=8), h1=digits_h1, lambda_c=0.3, dissonance="strict_imitation"
    )
    for name, model in (("new_error_model", new_error), ("wrapper", wrapper)):
        model.compile(loss=SCE, optimizer="adam")
        model.fit(X_train, y_train, epochs=1, batch_size=64, verbose=0)
        model.save(folder / f"{name}.keras")
        manifest[name] = ("keras", f"{name}.keras")
        expected[name + "/proba"] = model.predict(X_test, verbose=0)
        expected[name + "/h1"] = digits_h1.predict(X_test, verbose=0)

    estimators = {
        "keras_h1-model": estimator(digits_h1, dissonance="strict_imitation"),
        "sklearn_h1-model": estimator(sklearn_h1),
    }
    for name, clf in estimators.items():
        clf.fit(X_train, y_train)
        expected[name + "/proba"] = clf.predict_proba(X_test)
        expected[name + "/labels"] = clf.predict(X_test)
        expected[name + "/btc"] = np.array(btc_scorer(clf, X_test, y_test))
        with open(folder / f"{name}.pkl", "wb") as f:
            pickle.dump(clf, f)
        manifest[f"{name}-pickle"] = ("pickle", f"{name}.pkl")
        if name == JOBLIB_ESTIMATOR:
            joblib.dump(clf, folder / f"{name}.joblib")
            manifest[f"{name}-joblib"] = ("joblib", f"{name}.joblib")
        for suffix in ("/proba", "/labels", "/btc"):
            if name == JOBLIB_ESTIMATOR:
                expected[f"{name}-joblib{suffix}"] = expected[name + suffix]
            expected[f"{name}-pickle{suffix}"] = expected.pop(name + suffix)

    (folder / "manifest.json").write_text(json.dumps(manifest))
    run_python(LOAD_SCRIPT, folder, str(folder), name="load.py")
    with np.load(folder / "loaded.npz", allow_pickle=False) as loaded:
        return expected, dict(loaded)


@pytest.mark.slow
@pytest.mark.parametrize(
    "artifact",
    [
        "new_error_model",
        "wrapper",
        "keras_h1-model-pickle",
        "sklearn_h1-model-pickle",
        "keras_h1-model-joblib",
    ],
)
def test_fresh_process_predicts_the_same(artifact, round_trip):
    expected, loaded = round_trip
    keys = [key for key in expected if key.split("/")[0] == artifact]
    assert keys
    for key in keys:
        np.testing.assert_array_equal(loaded[key], expected[key], err_msg=key)


# --------------------------------------------------------------------------
# Input validation, property-based
# --------------------------------------------------------------------------


class FixedH1(ClassifierMixin, BaseEstimator):
    """A fitted h1 for any width: always the same probabilities over its labels."""

    def fit(self, X, y):
        self.classes_ = np.asarray(y)
        prior = np.arange(len(self.classes_), 0, -1, dtype=float)
        self.prior_ = prior / prior.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


LABELS = {
    "int": np.array([3, 7, 11]),
    "float": np.array([0.0, 1.0, 2.0]),
    "str-object": np.array(["cat", "dog", "emu"], dtype=object),
    "str-unicode": np.array(["cat", "dog", "emu"]),
}
FLOAT_DTYPES = ("float16", "float32", "float64", "object")
X_DTYPES = ("bool", "int8", "int64", *FLOAT_DTYPES)
# The documented errors, by what is wrong with the input.
ERRORS = {
    "empty": r"0 sample",
    "non-finite": r"NaN|infinity",
    "one class": r"at least 2 classes",
    "bad weights": r"[Ss]ample.weight",
}
_KERAS_H1S = {}


def keras_h1(n_features, n_classes):
    key = (n_features, n_classes)
    if key not in _KERAS_H1S:
        _KERAS_H1S[key] = dense(n_features, n_classes, seed=9)
    return _KERAS_H1S[key]


@st.composite
def fit_inputs(draw):
    n_samples = draw(st.integers(0, 12))
    n_features = draw(st.integers(1, 4))
    x_dtype = draw(st.sampled_from(X_DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.normal(scale=3.0, size=(n_samples, n_features))
    special = None
    if x_dtype in FLOAT_DTYPES and n_samples:
        special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
        if special is not None:
            X[
                draw(st.integers(0, n_samples - 1)),
                draw(st.integers(0, n_features - 1)),
            ] = special
    X = X > 0 if x_dtype == "bool" else X.astype(x_dtype)
    label_kind = draw(st.sampled_from(sorted(LABELS)))
    index = draw(st.lists(st.integers(0, 2), min_size=n_samples, max_size=n_samples))
    y = LABELS[label_kind][np.array(index, dtype=int)]
    h1_kind = draw(st.sampled_from(["sklearn", "keras"]))
    method = (
        draw(st.sampled_from(["model", "bc_fit"])) if h1_kind == "keras" else "model"
    )
    dissonance = draw(st.sampled_from(["new_error", "strict_imitation"]))
    problems = set()
    if n_samples == 0:
        problems.add("empty")
    if special is not None:
        problems.add("non-finite")
    if len(set(index)) < 2:
        problems.add("one class")
    return X, y, h1_kind, method, dissonance, problems


def make_h1(kind, X, y):
    if kind == "sklearn":
        return FixedH1().fit(
            None, np.sort(np.unique(y)) if len(y) else np.array([0, 1])
        )
    return keras_h1(X.shape[1], max(2, len(np.unique(y))))


def assert_documented_error(error, problems):
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert not isinstance(error, tf.errors.OpError), repr(error)
    assert str(error).strip(), "the error has no message"
    pattern = "|".join(ERRORS[problem] for problem in problems)
    assert re.search(pattern, str(error)), (problems, str(error))


def assert_works(clf, X, y):
    labels = clf.predict(X)
    assert labels.shape == (len(X),)
    assert set(labels.tolist()) <= set(np.unique(y).tolist())
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


FUZZ = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(fit_inputs())
def test_fit_works_or_raises_documented_error(inputs):
    X, y, h1_kind, method, dissonance, problems = inputs
    clf = BCCompatibleClassifier(
        build_mlp,
        h1=make_h1(h1_kind, X, y),
        method=method,
        dissonance=dissonance,
        loss=SCE,
        epochs=1,
        batch_size=16,
        random_state=0,
        model__hidden=4,
    )
    try:
        clf.fit(X, y)
    except Exception as error:  # noqa: BLE001 - the type is what is checked
        assert problems, f"valid input rejected: {error!r}"
        assert_documented_error(error, problems)
        return
    assert not problems, f"fit accepted invalid input ({problems})"
    assert_works(clf, X, y)


@st.composite
def weight_inputs(draw):
    n = 10
    shape = draw(st.sampled_from(["ok", "short", "2d"]))
    values = draw(
        st.lists(
            st.one_of(
                st.floats(0.0, 5.0),
                st.sampled_from([0.0, np.nan, np.inf]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    weights = np.array(values)
    problems = set()
    if shape == "short":
        weights = weights[:-1]
        problems.add("bad weights")
    elif shape == "2d":
        weights = weights[:, None]
        problems.add("bad weights")
    if not np.isfinite(weights).all():
        problems.add("non-finite")
    if not np.any(weights):
        problems.add("bad weights")
    return weights, problems


@FUZZ
@given(weight_inputs(), st.sampled_from(["model", "bc_fit"]))
def test_sample_weight_works_or_raises_documented_error(inputs, method):
    weights, problems = inputs
    X = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    y = np.arange(10) % 2
    clf = BCCompatibleClassifier(
        build_mlp,
        h1=keras_h1(3, 2),
        method=method,
        loss=SCE,
        epochs=1,
        batch_size=16,
        random_state=0,
        model__hidden=4,
    )
    try:
        clf.fit(X, y, sample_weight=weights)
    except Exception as error:  # noqa: BLE001 - the type is what is checked
        assert problems, f"valid weights rejected: {error!r}"
        assert_documented_error(error, problems)
        return
    assert not problems, f"fit accepted invalid weights ({problems})"
    assert_works(clf, X, y)


@pytest.fixture(scope="module")
def fitted_small():
    X = np.random.default_rng(1).normal(size=(20, 3)).astype("float32")
    y = np.array(["a", "b"] * 10, dtype=object)
    h1 = FixedH1().fit(None, np.array(["a", "b"], dtype=object))
    return estimator(h1, batch_size=16, model__hidden=4).fit(X, y)


@settings(max_examples=15, deadline=None, database=None)
@given(
    n_samples=st.integers(0, 6),
    n_features=st.integers(1, 5),
    x_dtype=st.sampled_from(X_DTYPES),
    special=st.sampled_from([None, np.nan, np.inf]),
)
# Found by CI: valid int64/float64 X must be accepted (predict casts it).
@example(n_samples=1, n_features=3, x_dtype="int64", special=None)
@example(n_samples=2, n_features=3, x_dtype="float64", special=None)
def test_predict_works_or_raises_documented_error(
    fitted_small, n_samples, n_features, x_dtype, special
):
    X = np.ones((n_samples, n_features))
    problems = set()
    if n_samples == 0:
        problems.add("empty")
    if special is not None and x_dtype in FLOAT_DTYPES and n_samples:
        X[0, 0] = special
        problems.add("non-finite")
    if n_features != 3:
        problems.add("width")
    # Every numeric dtype is accepted: predict casts X to the dtype seen in fit
    # (see test_predict_accepts_other_numeric_dtypes), so dtype is no problem.
    X = X > 0 if x_dtype == "bool" else X.astype(x_dtype)
    errors = {**ERRORS, "width": r"features|shape"}
    try:
        proba = fitted_small.predict_proba(X)
        labels = fitted_small.predict(X)
        score = btc_scorer(fitted_small, X, np.array(["a"] * n_samples, dtype=object))
    except Exception as error:  # noqa: BLE001 - the type is what is checked
        assert problems, f"valid input rejected: {error!r}"
        assert isinstance(error, (ValueError, TypeError)), repr(error)
        assert not isinstance(error, tf.errors.OpError), repr(error)
        assert re.search("|".join(errors[p] for p in problems), str(error)), str(error)
        return
    assert not problems, f"predict accepted invalid input ({problems})"
    # np.atleast_2d: see test_predict_proba_of_one_sample_is_2d.
    assert np.atleast_2d(proba).shape == (n_samples, 2)
    assert labels.shape == (n_samples,)
    assert set(labels.tolist()) <= {"a", "b"}
    assert 0.0 <= score <= 1.0


def test_predict_proba_of_one_sample_is_2d(fitted_small):
    X = np.ones((1, 3), dtype="float32")
    assert fitted_small.predict_proba(X).shape == (1, 2)


@pytest.mark.parametrize("x_dtype", ["float64", "int64"])
def test_predict_accepts_other_numeric_dtypes(fitted_small, x_dtype):
    X = np.ones((4, 3), dtype=x_dtype)
    expected = fitted_small.predict_proba(X.astype("float32"))
    np.testing.assert_allclose(fitted_small.predict_proba(X), expected, rtol=1e-6)
