"""``BCCompatibleClassifier``: scikit-learn flows, the exact objective, h1 kinds.

Expected loss values come from the NumPy oracle ``tests/_reference.py``::

    L = mean_i[ s_i l(y_i, p2_i) ] + lambda_c * mean_i[ s_i w_i d_i ]

With a zero learning rate, one epoch and one batch holding every sample, the
``loss`` Keras reports is that objective at the initial weights, which are
also the weights ``predict_proba`` uses afterwards.
"""

import copy
import pickle
import time

import joblib
import keras
import numpy as np
import pytest
import scipy.sparse
from _reference import objective
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from bcsk import BCCompatibleClassifier, estimator
from bcsk.objective import FocalDistillation, LogitDifference

RTOL = 1e-5
N = 300
LAMBDA_C = 0.7

# Every dissonance, with parameters off their defaults where that changes the
# value (by name for BCML's two, as objects for the others).
DISSONANCES = {
    "new_error": "new_error",
    "strict_imitation": "strict_imitation",
    "fd": FocalDistillation(beta=2.0, temperature=2.0),
    "ldi": LogitDifference(margin=0.2),
}
ALL = list(DISSONANCES.values())
ALL_IDS = list(DISSONANCES)
BCML = ["new_error", "strict_imitation"]


def expected_loss(dissonance, y, p1, p2, correct, sample_weight=None, **kwargs):
    """The oracle's objective at lambda_c = LAMBDA_C, cross-entropy by default."""
    family = kwargs.pop("family", "ce")
    return objective(
        dissonance,
        family,
        y,
        p1,
        p2,
        LAMBDA_C,
        sample_weight,
        correct=correct,
        **kwargs,
    )


# --------------------------------------------------------------------------
# Data, builders, h1 models
# --------------------------------------------------------------------------


def build(meta, hidden=8):
    """A tiny MLP with one softmax unit per class."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def build_sigmoid(meta, hidden=8):
    """A tiny MLP with a single sigmoid unit (binary problems)."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def plain_ce(y_true, y_pred):
    """Sparse cross-entropy under a name bcsk does not know (a custom loss)."""
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


def make(h1, **params):
    """A cheap estimator: 1 epoch, one large batch, eager (no tracing cost)."""
    defaults = dict(
        model=build,
        h1=h1,
        lambda_c=LAMBDA_C,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=1,
        batch_size=512,
        random_state=0,
        run_eagerly=True,
    )
    return BCCompatibleClassifier(**{**defaults, **params})


def zero_lr(h1, n, **params):
    """An estimator whose single training step leaves the weights unchanged."""
    return make(
        h1,
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        batch_size=n,
        shuffle=False,
        **params,
    )


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


@pytest.fixture(scope="module")
def data(digits):
    """300 digits to train h2 on."""
    X, y = digits
    return X[:N], y[:N]


@pytest.fixture(scope="module")
def weights():
    return np.random.default_rng(0).uniform(0.5, 2.0, N)


@pytest.fixture(scope="module")
def logreg_h1(digits):
    """A weak scikit-learn h1 (~80 % right on the training digits)."""
    X, y = digits
    return LogisticRegression(max_iter=200).fit(X[300:400], y[300:400])


@pytest.fixture(scope="module")
def svc_h1(digits):
    """A scikit-learn h1 without predict_proba."""
    X, y = digits
    return LinearSVC().fit(X[300:400], y[300:400])


@pytest.fixture(scope="module")
def subset_h1(digits):
    """A scikit-learn h1 that only ever saw the digits 0-6."""
    X, y = digits
    keep = y[300:600] < 7
    return LogisticRegression(max_iter=200).fit(X[300:600][keep], y[300:600][keep])


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype("float32")
    rows = np.random.default_rng(0).permutation(len(y))[:300]
    return X[rows], y[rows]


@pytest.fixture(scope="module")
def wine_strings():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype("float32")
    names = np.array(["barbera", "barolo", "grignolino"])
    return X, names[y]


def h1_view(kind, h1, X, classes):
    """(p1 aligned with ``classes`` or None, h1's labels), computed by hand."""
    if kind == "keras":
        p1 = h1.predict(X, verbose=0).astype(np.float64)
        return p1, classes[p1.argmax(axis=1)]
    if kind == "predict_only":
        return None, h1.predict(X)
    proba = h1.predict_proba(X)
    labels = h1.classes_[proba.argmax(axis=1)]
    p1 = np.zeros((len(X), len(classes)))
    for j, label in enumerate(classes):
        if label in h1.classes_:
            p1[:, j] = proba[:, list(h1.classes_).index(label)]
    return p1 / p1.sum(axis=1, keepdims=True), labels


# --------------------------------------------------------------------------
# scikit-learn flows on datasets shipped with scikit-learn
# --------------------------------------------------------------------------


def test_fit_predict_flow_multiclass(data, digits_h1):
    X, y = data
    clf = BCCompatibleClassifier(
        build,
        h1=digits_h1,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.02,
        model__hidden=16,
        epochs=4,
        batch_size=100,
        random_state=0,
    )
    assert clf.fit(X, y) is clf
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert isinstance(clf.model_, keras.Model)
    assert len(clf.history_["loss"]) == 4
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    predicted = clf.predict(X)
    assert predicted.shape == (N,)
    assert set(predicted) <= set(range(10))
    proba = clf.predict_proba(X)
    assert proba.shape == (N, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) == pytest.approx(np.mean(predicted == y))
    assert clf.score(X, y) > 0.8


def test_string_labels(wine_strings):
    X, y = wine_strings
    h1 = LogisticRegression(max_iter=200).fit(X[::4], y[::4])
    clf = make(h1, dissonance="strict_imitation", epochs=5, batch_size=64)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["barbera", "barolo", "grignolino"])
    predicted = clf.predict(X)
    assert set(predicted) <= set(clf.classes_)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clf.score(X, y) > 0.6


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
@pytest.mark.parametrize(
    "builder, loss",
    [
        (build, "sparse_categorical_crossentropy"),
        (build_sigmoid, "binary_crossentropy"),
    ],
    ids=["softmax2", "sigmoid1"],
)
def test_binary_breast_cancer(breast_cancer, builder, loss, dissonance):
    X, y = breast_cancer
    h1 = LogisticRegression(C=0.01).fit(X[:50], y[:50])
    clf = make(
        h1,
        model=builder,
        loss=loss,
        dissonance=dissonance,
        epochs=4,
        batch_size=100,
        optimizer__learning_rate=0.05,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.score(X, y) > 0.85


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_binary_sigmoid_objective_is_exact(breast_cancer, dissonance):
    """One sigmoid unit with binary cross-entropy: soft 0/1 targets."""
    X, y = breast_cancer
    h1 = LogisticRegression(C=0.01).fit(X[:50], y[:50])
    s = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    clf = zero_lr(
        h1,
        len(y),
        model=build_sigmoid,
        loss="binary_crossentropy",
        dissonance=dissonance,
    ).fit(X, y, sample_weight=s)
    p2 = clf.model_.predict(X, verbose=0)
    correct = (h1.predict(X) == y).astype(float)
    assert 0 < correct.mean() < 1
    expected = expected_loss(dissonance, y, h1.predict_proba(X), p2, correct, s)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


def test_warm_start_continues_training(data, logreg_h1):
    X, y = data
    clf = make(logreg_h1, warm_start=True, epochs=2, batch_size=128).fit(X, y)
    model, before = clf.model_, weights_of(clf.model_)
    clf.fit(X, y)
    assert clf.model_ is model  # not rebuilt
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(before, weights_of(clf.model_), strict=True)
    )
    cold = make(logreg_h1, epochs=2, batch_size=128).fit(X, y)
    model = cold.model_
    assert cold.fit(X, y).model_ is not model


def test_partial_fit_with_classes(data, logreg_h1):
    X, y = data
    first = y < 5
    clf = make(logreg_h1, dissonance="strict_imitation")
    clf.partial_fit(X[first], y[first], classes=np.arange(10))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.predict_proba(X).shape == (N, 10)
    model = clf.model_
    clf.partial_fit(X, y)
    assert clf.model_ is model
    assert clf.current_epoch == 2
    assert len(clf.history_["loss"]) == 2


@pytest.mark.parametrize("warm_start", [False, True])
def test_fit_after_partial_fit(warm_start, data, logreg_h1):
    X, y = data
    clf = make(logreg_h1, warm_start=warm_start).partial_fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    assert (clf.model_ is model) == warm_start
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


@pytest.mark.parametrize("method", ["model", "bc_fit"])
@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_class_weight_objective_and_caller_weights_untouched(
    dissonance, method, data, digits_h1, weights
):
    X, y = data
    s = weights.copy()
    class_weight = {0: 3.0, 1: 0.5, 7: 2.0}
    clf = zero_lr(
        digits_h1, N, class_weight=class_weight, dissonance=dissonance, method=method
    )
    clf.fit(X, y, sample_weight=s)
    np.testing.assert_array_equal(s, weights)  # not multiplied in place
    effective = s * np.array([class_weight.get(label, 1.0) for label in y])
    p1, labels = h1_view("keras", digits_h1, X, np.arange(10))
    p2 = clf.model_.predict(X, verbose=0)
    expected = expected_loss(dissonance, y, p1, p2, labels == y, effective)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)
    unweighted = expected_loss(dissonance, y, p1, p2, labels == y, s)
    assert expected != pytest.approx(unweighted, rel=1e-3)


# --------------------------------------------------------------------------
# The objective is exact
# --------------------------------------------------------------------------

H1_KINDS = ["keras", "sklearn", "callable", "predict_only", "subset"]


@pytest.fixture
def h1_of(digits_h1, logreg_h1, svc_h1, subset_h1):
    def pick(kind):
        return {
            "keras": digits_h1,
            "sklearn": logreg_h1,
            "callable": logreg_h1.predict_proba,
            "predict_only": svc_h1,
            "subset": subset_h1,
        }[kind]

    return pick


@pytest.mark.parametrize(
    "kind, dissonance",
    [
        (kind, dissonance)
        for kind in H1_KINDS
        for dissonance in ALL_IDS
        # the others need probabilities: an error (test_dissonances.py)
        if not (kind == "predict_only" and dissonance != "new_error")
    ],
)
def test_objective_is_exact_for_every_h1(kind, dissonance, data, weights, h1_of):
    X, y = data
    h1 = h1_of(kind)
    dissonance = DISSONANCES[dissonance]
    clf = zero_lr(h1, N, dissonance=dissonance).fit(X, y, sample_weight=weights)
    view_kind = "sklearn" if kind in ("callable", "subset") else kind
    p1, labels = h1_view(view_kind, getattr(h1, "__self__", h1), X, np.arange(10))
    correct = (labels == y).astype(float)
    assert 0.5 < correct.mean() < 1  # both terms matter
    p2 = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), p2, rtol=1e-6)  # lr = 0
    expected = expected_loss(dissonance, y, p1, p2, correct, weights)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_sklearn_h1_knowing_more_classes(dissonance, data, logreg_h1):
    """y holds digits 0-4 only; h1's mass on 5-9 is dropped, its errors kept."""
    X, y = data
    keep = y < 5
    X, y = X[keep], y[keep]
    clf = zero_lr(logreg_h1, len(y), dissonance=dissonance).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(5))
    proba = logreg_h1.predict_proba(X)
    p1 = proba[:, :5] / proba[:, :5].sum(axis=1, keepdims=True)
    correct = (logreg_h1.predict(X) == y).astype(float)
    expected = expected_loss(
        dissonance, y, p1, clf.model_.predict(X, verbose=0), correct
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_bc_fit_reports_the_same_objective(dissonance, data, weights, digits_h1):
    X, y = data
    fitted = [
        zero_lr(digits_h1, N, dissonance=dissonance, method=method).fit(
            X, y, sample_weight=weights
        )
        for method in ("model", "bc_fit")
    ]
    p1, labels = h1_view("keras", digits_h1, X, np.arange(10))
    p2 = fitted[1].model_.predict(X, verbose=0)
    expected = expected_loss(dissonance, y, p1, p2, labels == y, weights)
    for clf in fitted:
        assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


def sigmoid_h1():
    """An untrained Keras h1 with one sigmoid unit (right on about half)."""
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, "sigmoid")])


@pytest.mark.parametrize("dissonance", BCML)
def test_single_sigmoid_unit_methods_agree(dissonance, breast_cancer):
    """The docstring's promise: method='model' and method='bc_fit' minimise the
    same objective, on one sigmoid unit too."""
    X, y = breast_cancer
    h1 = sigmoid_h1()
    losses = [
        zero_lr(
            h1,
            len(y),
            model=build_sigmoid,
            loss="binary_crossentropy",
            dissonance=dissonance,
            method=method,
        )
        .fit(X, y)
        .history_["loss"][0]
        for method in ("model", "bc_fit")
    ]
    assert losses[0] == pytest.approx(losses[1], rel=RTOL)


@pytest.mark.parametrize("method", ["model", "bc_fit"])
def test_kl_divergence_on_one_sigmoid_unit_is_refused(method, breast_cancer):
    # Keras' KL reads one column as a distribution; bcsk reads [1 - p, p]: the
    # two would disagree, so the combination is refused before training.
    X, y = breast_cancer
    clf = zero_lr(
        sigmoid_h1(), len(y), model=build_sigmoid, loss="kl_divergence", method=method
    )
    with pytest.raises(ValueError, match="single sigmoid output unit"):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize("method", ["model", "bc_fit"])
@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_one_hot_loss_objective(method, dissonance, data, digits_h1):
    """categorical_crossentropy: scikeras one-hot encodes y."""
    X, y = data
    clf = zero_lr(
        digits_h1,
        N,
        loss="categorical_crossentropy",
        dissonance=dissonance,
        method=method,
    ).fit(X, y)
    p1, labels = h1_view("keras", digits_h1, X, np.arange(10))
    expected = expected_loss(
        dissonance, y, p1, clf.model_.predict(X, verbose=0), labels == y
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_model_and_bc_fit_train_the_same_weights(dissonance, data, weights, digits_h1):
    X, y = data
    fitted = [
        make(
            digits_h1,
            dissonance=dissonance,
            method=method,
            epochs=2,
            batch_size=100,
            shuffle=False,
            run_eagerly=False,
        ).fit(X, y, sample_weight=weights)
        for method in ("model", "bc_fit")
    ]
    for a, b in zip(*(weights_of(clf.model_) for clf in fitted), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(
        fitted[0].predict_proba(X), fitted[1].predict_proba(X), atol=1e-4
    )
    np.testing.assert_allclose(
        fitted[0].history_["loss"], fitted[1].history_["loss"], rtol=1e-4
    )
    # Training happened: the weights moved away from the initial ones.
    initial = weights_of(make(digits_h1, epochs=1).initialize(X, y).model_)
    assert not np.allclose(initial[0], weights_of(fitted[0].model_)[0])


@pytest.mark.parametrize("dissonance", BCML[1:] + ALL[2:], ids=ALL_IDS[1:])
@pytest.mark.parametrize("h1_kind", ["keras", "sklearn", "callable"])
def test_custom_loss_objective_for_every_h1(h1_kind, dissonance, data, weights, h1_of):
    """A loss bcsk does not know: strict imitation imitates h1 with a soft
    cross-entropy; h1's outputs still travel with X, whatever the h1."""
    X, y = data
    h1 = h1_of(h1_kind)
    clf = zero_lr(h1, N, loss=plain_ce, dissonance=dissonance)
    clf.fit(X, y, sample_weight=weights)
    assert clf.model_.loss is plain_ce  # the plain h2 is given back
    view_kind = "keras" if h1_kind == "keras" else "sklearn"
    p1, labels = h1_view(view_kind, getattr(h1, "__self__", h1), X, np.arange(10))
    p2 = clf.model_.predict(X, verbose=0)
    expected = expected_loss(dissonance, y, p1, p2, labels == y, weights)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


def test_custom_loss_trains(data, digits_h1):
    X, y = data
    clf = make(
        digits_h1,
        loss=plain_ce,
        dissonance="strict_imitation",
        epochs=3,
        batch_size=100,
    ).fit(X, y)
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    assert clf.predict_proba(X).shape == (N, 10)


def build_logits(meta, hidden=8):
    """A tiny MLP with linear outputs, for a from_logits=True loss."""
    width = meta["n_classes_"] if meta["n_classes_"] > 2 else 1
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(width),
        ]
    )


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_from_logits_loss_objective(dissonance, data, weights, logreg_h1):
    """z2 are the centred raw outputs; c_i and p1 as for probabilities."""
    X, y = data
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    clf = zero_lr(logreg_h1, N, model=build_logits, loss=loss, dissonance=dissonance)
    clf.fit(X, y, sample_weight=weights)
    p1, labels = h1_view("sklearn", logreg_h1, X, np.arange(10))
    z2 = keras.ops.convert_to_numpy(clf.model_(X))
    expected = expected_loss(
        dissonance, y, p1, z2, labels == y, weights, from_logits=True
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ALL[1:], ids=ALL_IDS[1:])
def test_single_logit_unit_objective(dissonance, breast_cancer):
    """One linear unit with BinaryCrossentropy(from_logits=True): z2 = [0, x]."""
    X, y = breast_cancer
    h1 = LogisticRegression(C=0.01).fit(X[:50], y[:50])
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    clf = zero_lr(h1, len(y), model=build_logits, loss=loss, dissonance=dissonance)
    clf.fit(X, y)
    x = keras.ops.convert_to_numpy(clf.model_(X))
    assert x.shape == (len(y), 1)
    correct = h1.predict(X) == y
    expected = expected_loss(
        dissonance,
        y,
        h1.predict_proba(X),
        x,
        correct,
        family="bce",
        from_logits=True,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_validation_loss_is_the_objective(dissonance, data, logreg_h1):
    """validation_data gets h1's outputs too: val_loss is the objective there."""
    X, y = data
    X_val, y_val = X[:150], y[:150]
    clf = zero_lr(logreg_h1, N, dissonance=dissonance)
    clf.fit(X, y, validation_data=(X_val, y_val))
    p1, labels = h1_view("sklearn", logreg_h1, X_val, np.arange(10))
    p2 = clf.model_.predict(X_val, verbose=0)
    expected = expected_loss(dissonance, y_val, p1, p2, labels == y_val)
    assert clf.history_["val_loss"][0] == pytest.approx(expected, rel=RTOL)


class Lookup:
    """A callable h1 that returns stored probabilities, row by row."""

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def __call__(self, X):
        assert len(X) == len(self.probabilities)
        return self.probabilities


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_all_wrong_h1_gives_a_finite_exact_loss(dissonance, data, weights):
    """h1 is confidently wrong on every sample: c_i = 0 everywhere, no NaN."""
    X, y = data
    p1 = np.eye(10)[(y + 3) % 10]  # exact zeros on the true classes
    clf = zero_lr(Lookup(p1), N, dissonance=dissonance).fit(X, y, sample_weight=weights)
    loss = clf.history_["loss"][0]
    assert np.isfinite(loss)
    p2 = clf.model_.predict(X, verbose=0)
    assert loss == pytest.approx(
        expected_loss(dissonance, y, p1, p2, np.zeros(N), weights), rel=RTOL
    )
    plain = objective(dissonance, "ce", y, p1, p2, 0.0, weights)
    if dissonance in BCML:
        assert loss == pytest.approx(plain, rel=RTOL)
    else:
        assert loss > plain + 1e-3


@pytest.mark.parametrize("method", ["model", "bc_fit"])
@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_zero_weight_samples_keep_h1_aligned(method, dissonance, data, digits_h1):
    """scikeras drops zero-weight rows before h1 runs; the objective is the one
    on the kept rows. The dropped rows are a prefix, so any misalignment shifts
    every c_i and p1_i."""
    X, y = data
    s = np.random.default_rng(2).uniform(0.5, 2.0, N)
    s[:100] = 0.0
    s[150:160] = 0.0
    kept = s > 0
    clf = zero_lr(digits_h1, N, dissonance=dissonance, method=method)
    clf.fit(X, y, sample_weight=s)
    Xk, yk = X[kept], y[kept]
    p1, labels = h1_view("keras", digits_h1, Xk, np.arange(10))
    expected = expected_loss(
        dissonance,
        yk,
        p1,
        clf.model_.predict(Xk, verbose=0),
        labels == yk,
        s[kept],
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


def test_bc_fit_runs_or_refuses_callbacks(data, digits_h1):
    """method='bc_fit' must not silently drop the user's callbacks."""

    class CountEpochs(keras.callbacks.Callback):
        n_epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.n_epochs += 1

    X, y = data
    counter = CountEpochs()
    clf = make(digits_h1, method="bc_fit", epochs=2, callbacks=[counter])
    try:
        clf.fit(X, y)
    except ValueError as error:
        assert "callbacks" in str(error)
    else:
        assert counter.n_epochs == 2


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
def test_sparse_X_is_refused_with_a_clear_error(dissonance, data, logreg_h1):
    """TensorFlow cannot train on scikeras' sparse input: fit says so up front."""
    X, y = data
    clf = zero_lr(logreg_h1, N, dissonance=dissonance)
    with pytest.raises(TypeError, match=r"sparse X .*X\.toarray\(\)"):
        clf.fit(scipy.sparse.csr_matrix(X), y)
    assert not hasattr(clf, "model_")


def test_dataframe_X_reaches_h1_as_a_dataframe(wine_strings):
    """h1 receives the same X as the estimator: an h1 pipeline that selects
    columns by name must work on a DataFrame."""
    pd = pytest.importorskip("pandas")
    X, y = wine_strings
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    h1 = make_pipeline(
        ColumnTransformer([("first", "passthrough", ["f0", "f1", "f2"])]),
        LogisticRegression(),
    ).fit(frame, y)
    clf = make(h1).fit(frame, y)
    assert clf.predict(frame).shape == (len(y),)


# --------------------------------------------------------------------------
# h1 is never touched, copied or cloned
# --------------------------------------------------------------------------


def test_keras_h1_untouched_by_every_path(data, digits_h1):
    X, y = data
    before = weights_of(digits_h1)
    trainable, loss = digits_h1.trainable, digits_h1.loss
    configs = [
        dict(dissonance="new_error"),
        dict(dissonance="strict_imitation"),
        dict(dissonance="new_error", method="bc_fit"),
        dict(dissonance="strict_imitation", method="bc_fit"),
        dict(dissonance="strict_imitation", loss=plain_ce),
        dict(dissonance=FocalDistillation()),
        dict(dissonance=LogitDifference(), method="bc_fit"),
    ]
    for config in configs:
        make(digits_h1, optimizer__learning_rate=0.1, batch_size=150, **config).fit(
            X, y
        )
    for a, b in zip(before, weights_of(digits_h1), strict=True):
        np.testing.assert_array_equal(a, b)
    assert digits_h1.trainable == trainable
    assert digits_h1.loss == loss


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
def test_sklearn_h1_untouched(dissonance, data, logreg_h1):
    X, y = data
    state, coef = pickle.dumps(logreg_h1), logreg_h1.coef_.copy()
    make(logreg_h1, dissonance=dissonance).fit(X, y)
    assert pickle.dumps(logreg_h1) == state
    np.testing.assert_array_equal(logreg_h1.coef_, coef)


class NoCopyLogisticRegression(LogisticRegression):
    """An h1 that fails loudly if anything deep-copies it."""

    def __deepcopy__(self, memo):
        raise AssertionError("h1 was deep-copied")


def test_clone_shares_h1(data, digits_h1):
    X, y = data
    h1 = NoCopyLogisticRegression(max_iter=200).fit(X[:100], y[:100])
    clf = make(h1, model__hidden=4)
    cloned = clone(clf)
    assert cloned.h1 is h1
    assert cloned.get_params()["model__hidden"] == 4
    fitted_clone = clone(clf.fit(X, y))
    assert fitted_clone.h1 is h1
    assert not hasattr(fitted_clone, "model_")
    with pytest.raises(AssertionError, match="deep-copied"):
        copy.deepcopy(h1)  # the guard works

    keras_clf = make(digits_h1)
    start = time.perf_counter()
    assert clone(keras_clf).h1 is digits_h1
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------
# Persistence, scikit-learn protocol, reproducibility
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(digits, digits_h1):
    X, y = digits
    return make(digits_h1, dissonance="strict_imitation", epochs=2).fit(X[:N], y[:N])


def test_pickle_round_trip(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    for a, b in zip(weights_of(restored.h1), weights_of(fitted.h1), strict=True):
        np.testing.assert_array_equal(a, b)


def test_joblib_round_trip(fitted, data, tmp_path):
    X, _ = data
    path = tmp_path / "clf.joblib"
    joblib.dump(fitted, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)


def test_is_a_classifier_and_cv_stratifies(wine_strings):
    X, y = wine_strings
    clf = make(LogisticRegression(max_iter=200).fit(X, y))
    assert is_classifier(clf)
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)
    # Sorted labels: unstratified 3-fold CV would hold out one class per fold.
    order = np.argsort(y, kind="stable")
    result = cross_validate(clf, X[order], y[order], cv=3, return_indices=True)
    for test in result["indices"]["test"]:
        assert set(y[order][test]) == set(y)


def test_seeded_fits_are_reproducible(data, logreg_h1):
    X, y = data
    runs = [
        make(logreg_h1, random_state=seed, epochs=2, batch_size=150).fit(X, y)
        for seed in (0, 0, 1)
    ]
    first, again, other = (clf.predict_proba(X) for clf in runs)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


TRAINING_PATHS = {
    "new_error": dict(),
    "strict_imitation": dict(dissonance="strict_imitation"),
    "custom_loss": dict(dissonance="strict_imitation", loss=plain_ce),
    "with_metrics": dict(metrics=["accuracy"]),
}
TRACED_PATHS = {
    **TRAINING_PATHS,
    "focal_distillation": dict(dissonance=FocalDistillation()),
    "logit_difference": dict(dissonance=LogitDifference()),
}


class RecordCalls(keras.layers.Layer):
    """Identity layer that counts its calls, eager or traced."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def call(self, inputs):
        self.calls.append(type(inputs).__name__)
        return inputs


@pytest.mark.parametrize("path", TRACED_PATHS)
def test_training_step_is_traced_once(path, data, digits_h1, train_step_calls):
    """The optimizer is built before Model.fit, so nothing makes TF trace twice;
    and no training step calls h1 (its outputs were computed before Model.fit),
    whatever the dissonance or the compiled loss."""
    X, y = data
    recorder = RecordCalls()
    h1 = keras.Sequential([keras.Input((64,)), recorder, digits_h1])
    recorder.calls.clear()  # building h1 called it on a symbolic input
    params = dict(run_eagerly=False, epochs=2, batch_size=100)
    make(h1, **params, **TRACED_PATHS[path]).fit(X, y)
    assert len(train_step_calls) == 1, train_step_calls
    assert recorder.calls == ["EagerTensor"]  # once, on all of X


# Which model's training step runs: h2's own when new error folds into the
# sample weights; the model around h2 otherwise.
TRAINED_MODELS = {
    "new_error": (dict(), "Sequential"),
    "weighted_metrics": (
        dict(compile__weighted_metrics=["accuracy"]),
        "ReferenceInputModel",
    ),
    "loss_weights": (dict(compile__loss_weights=[2.0]), "ReferenceInputModel"),
    "sum_loss": (
        dict(loss=keras.losses.SparseCategoricalCrossentropy(reduction="sum")),
        "ReferenceInputModel",
    ),
    "focal_distillation": (
        dict(dissonance="focal_distillation"),
        "ReferenceInputModel",
    ),
    # Keras' Model.fit takes class_weight or sample weights, not both.
    "keras_class_weight": (
        dict(fit__class_weight={k: 1.0 + k for k in range(10)}),
        "ReferenceInputModel",
    ),
}


@pytest.mark.parametrize("case", TRAINED_MODELS)
def test_new_error_trains_h2_itself(case, data, h1, train_step_calls):
    X, y = data
    params, trained = TRAINED_MODELS[case]
    make(h1, run_eagerly=False, **params).fit(X, y)
    assert train_step_calls == [trained]


def test_new_error_fit_is_a_keras_fit_on_reweighted_samples(data, h1):
    """h2's fit equals plain Keras' with ``s_i (1 + lambda_c c_i)`` as weights,
    ``c_i`` computed here from h1's predictions."""
    X, y = data
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    start = build({"n_features_in_": X.shape[1], "n_classes_": 10})
    weights = start.get_weights()

    def same_start(meta):
        model = keras.models.clone_model(start)
        model.set_weights(weights)
        return model

    params = dict(epochs=2, batch_size=64, shuffle=False)
    fitted = make(
        h1, model=same_start, optimizer="sgd", run_eagerly=False, **params
    ).fit(X, y, sample_weight=sample_weight)

    correct = (h1.predict(X) == y).astype(float)
    plain = same_start(None)
    plain.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(learning_rate=0.01),
    )
    history = plain.fit(
        X,
        y,
        sample_weight=sample_weight * (1 + LAMBDA_C * correct),
        verbose=0,
        **params,
    )
    assert 0 < correct.mean() < 1  # both kinds of sample are in the fit
    for ours, oracle in zip(
        weights_of(fitted.model_), plain.get_weights(), strict=True
    ):
        np.testing.assert_allclose(ours, oracle, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        fitted.history_["loss"], history.history["loss"], rtol=1e-5
    )


@pytest.mark.parametrize("path", TRAINING_PATHS)
def test_building_state_before_fit_leaves_training_unchanged(
    path, data, digits_h1, monkeypatch
):
    X, y = data
    params = dict(run_eagerly=False, epochs=2, batch_size=100, **TRAINING_PATHS[path])
    prebuilt = make(digits_h1, **params).fit(X, y)
    monkeypatch.setattr(estimator, "build_training_state", lambda *args: None)
    lazy = make(digits_h1, **params).fit(X, y)
    for ours, keras_own in zip(
        weights_of(prebuilt.model_), weights_of(lazy.model_), strict=True
    ):
        np.testing.assert_array_equal(ours, keras_own)
    assert prebuilt.history_["loss"] == lazy.history_["loss"]


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def nan_h1(X):
    return np.full((len(X), 10), np.nan)


def unnormalised_h1(X):
    return np.ones((len(X), 10))


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(lambda_c=-0.1), ValueError),
        (dict(lambda_c=float("nan")), ValueError),
        (dict(lambda_c=float("inf")), ValueError),
        (dict(lambda_c="0.5"), ValueError),
        (dict(lambda_c=True), ValueError),
        (dict(dissonance="imitation"), ValueError),
        (dict(method="fit"), ValueError),
        (dict(h1=None), ValueError),
        (dict(h1=42), TypeError),
    ],
    ids=lambda v: repr(v) if not isinstance(v, type) else v.__name__,
)
def test_bad_parameters(params, error, data, logreg_h1):
    """Refused by fit and partial_fit; the message names the parameter and the
    value given."""
    X, y = data
    ((name, value),) = params.items()
    clf = make(logreg_h1).set_params(**params)
    for fit in (clf.fit, clf.partial_fit):
        with pytest.raises(error) as excinfo:
            fit(X, y)
        message = str(excinfo.value)
        assert name in message and repr(value) in message, message
    assert not hasattr(clf, "model_")


def test_strict_imitation_needs_probabilities(data, svc_h1):
    X, y = data
    with pytest.raises(ValueError, match="needs h1's probabilities.*LinearSVC"):
        make(svc_h1, dissonance="strict_imitation").fit(X, y)


def test_bc_fit_needs_keras_h1(data, logreg_h1):
    X, y = data
    for h1 in (logreg_h1, logreg_h1.predict_proba):
        with pytest.raises(ValueError, match="method='bc_fit'.*must be a Keras model"):
            make(h1, method="bc_fit").fit(X, y)


def test_bad_data(data, logreg_h1):
    X, y = data
    clf = make(logreg_h1)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    bad = X.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(bad, y)
    bad[3, 5] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="0 sample"):
        clf.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X[y == 3], y[y == 3])
    with pytest.raises(ValueError, match="at least one non-zero"):
        clf.fit(X, y, sample_weight=np.zeros(N))


def test_bad_h1(data, digits_h1, logreg_h1):
    X, y = data
    with pytest.raises(ValueError, match="None of the labels in y"):
        make(logreg_h1).fit(X, np.array(list("abcdefghij"))[y])
    with pytest.raises(NotFittedError, match="h1 .LogisticRegression. is not fitted"):
        make(LogisticRegression()).fit(X, y)
    three = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3, "softmax")])
    with pytest.raises(ValueError, match="h1 returns 3 probabilities per sample but"):
        make(three).fit(X, y)
    with pytest.raises(ValueError, match="no weights yet"):
        make(keras.Sequential([keras.layers.Dense(10, "softmax")])).fit(X, y)
    with pytest.raises(ValueError, match=r"h1 expects inputs of shape \(64,\)"):
        make(digits_h1).fit(X[:, :30], y)
    with pytest.raises(ValueError, match="h1 expects inputs of shape 64"):
        make(logreg_h1).fit(X[:, :30], y)
    with pytest.raises(ValueError, match="h1 returned NaN or infinite values"):
        make(nan_h1).fit(X, y)
    with pytest.raises(ValueError, match="h1's outputs are not probabilities"):
        make(unnormalised_h1).fit(X, y)
    with pytest.raises(ValueError, match="one row of probabilities per sample"):
        make(lambda X: np.ones((len(X), 10, 1)) / 10).fit(X, y)


@pytest.mark.parametrize(
    "change",
    [
        dict(h1=nan_h1),  # fails after the new h2 was built
        dict(lambda_c=-1.0),  # fails before anything happens
        dict(loss=plain_ce, h1=LogisticRegression()),
    ],
    ids=["h1-nan", "bad-lambda", "unfitted-h1"],
)
def test_failed_fit_keeps_previous_model(change, fitted, data):
    X, y = data
    clf = clone(fitted).set_params(random_state=1)
    clf.fit(X, y)
    model, proba, history = clf.model_, clf.predict_proba(X), dict(clf.history_)
    clf.set_params(**change)
    with pytest.raises((ValueError, NotFittedError)):
        clf.fit(X, y)
    assert clf.model_ is model
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert dict(clf.history_) == history
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


class FailAfterOneBatch(keras.callbacks.Callback):
    """Raises part-way through training, once armed."""

    armed = False

    def on_train_batch_end(self, batch, logs=None):
        if self.armed and batch == 1:
            raise RuntimeError("interrupted")


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
def test_failed_partial_fit_leaves_nothing_half_trained(dissonance, data, logreg_h1):
    X, y = data
    interrupt = FailAfterOneBatch()
    clf = make(logreg_h1, dissonance=dissonance, batch_size=100, callbacks=[interrupt])
    clf.partial_fit(X, y)
    epoch, proba = clf.current_epoch, clf.predict_proba(X)
    interrupt.armed = True
    with pytest.raises(RuntimeError, match="interrupted"):
        clf.partial_fit(X, y)
    assert clf.current_epoch == epoch
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
