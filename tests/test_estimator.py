"""``BCCompatibleClassifier``: scikit-learn flows, the exact objective, h1 kinds.

Expected loss values come from a NumPy version of the objective written here::

    L = mean_i[ s_i l(y_i, p2_i) ] + lambda_c * mean_i[ s_i c_i d_i ]

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

EPS = 1e-7
RTOL = 1e-5
N = 300
LAMBDA_C = 0.7

# --------------------------------------------------------------------------
# NumPy reference of the objective
# --------------------------------------------------------------------------


def np_objective(dissonance, y_idx, p1, p2, correct, lambda_c, sample_weight=None):
    """The objective for a cross-entropy loss (several softmax columns or one
    sigmoid column), computed in float64 with Keras' clipping."""
    p2 = np.clip(np.asarray(p2, dtype=np.float64), EPS, 1 - EPS)
    if p2.shape[1] == 1:  # one sigmoid unit: p1 is the probability of class 1
        p = p2[:, 0]
        task = -(y_idx * np.log(p) + (1 - y_idx) * np.log(1 - p))
        imitation = None if p1 is None else -(p1 * np.log(p) + (1 - p1) * np.log(1 - p))
    else:
        task = -np.log(p2[np.arange(len(y_idx)), y_idx])
        imitation = None if p1 is None else -np.sum(p1 * np.log(p2), axis=1)
    d = task if dissonance == "new_error" else imitation
    s = np.ones(len(y_idx)) if sample_weight is None else np.asarray(sample_weight)
    return np.mean(s * task) + lambda_c * np.mean(s * correct * d)


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


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
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
    expected = np_objective(
        dissonance, y, h1.predict_proba(X)[:, 1], p2, correct, LAMBDA_C, s
    )
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


def test_class_weight_objective_and_caller_weights_untouched(data, logreg_h1, weights):
    X, y = data
    s = weights.copy()
    class_weight = {0: 3.0, 1: 0.5, 7: 2.0}
    clf = zero_lr(logreg_h1, N, class_weight=class_weight).fit(X, y, sample_weight=s)
    np.testing.assert_array_equal(s, weights)  # not multiplied in place
    effective = s * np.array([class_weight.get(label, 1.0) for label in y])
    p1, labels = h1_view("sklearn", logreg_h1, X, np.arange(10))
    expected = np_objective(
        "new_error",
        y,
        p1,
        clf.model_.predict(X, verbose=0),
        labels == y,
        LAMBDA_C,
        effective,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


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
        for dissonance in ("new_error", "strict_imitation")
        # strict imitation with a predict-only h1 is an error, tested below
        if not (kind == "predict_only" and dissonance == "strict_imitation")
    ],
)
def test_objective_is_exact_for_every_h1(kind, dissonance, data, weights, h1_of):
    X, y = data
    h1 = h1_of(kind)
    clf = zero_lr(h1, N, dissonance=dissonance).fit(X, y, sample_weight=weights)
    view_kind = "sklearn" if kind in ("callable", "subset") else kind
    p1, labels = h1_view(view_kind, getattr(h1, "__self__", h1), X, np.arange(10))
    correct = (labels == y).astype(float)
    assert 0.5 < correct.mean() < 1  # both terms matter
    p2 = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), p2, rtol=1e-6)  # lr = 0
    expected = np_objective(dissonance, y, p1, p2, correct, LAMBDA_C, weights)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
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
    expected = np_objective(
        dissonance, y, p1, clf.model_.predict(X, verbose=0), correct, LAMBDA_C
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
def test_bc_fit_reports_the_same_objective(dissonance, data, weights, digits_h1):
    X, y = data
    losses = [
        zero_lr(digits_h1, N, dissonance=dissonance, method=method)
        .fit(X, y, sample_weight=weights)
        .history_["loss"][0]
        for method in ("model", "bc_fit")
    ]
    assert losses[1] == pytest.approx(losses[0], rel=RTOL)


@pytest.mark.parametrize("method", ["model", "bc_fit"])
@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
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
    expected = np_objective(
        dissonance, y, p1, clf.model_.predict(X, verbose=0), labels == y, LAMBDA_C
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
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


def test_per_step_fallback_objective(data, weights, digits_h1):
    """A custom loss cannot become soft targets: h1 runs inside each step."""
    X, y = data
    clf = zero_lr(digits_h1, N, loss=plain_ce, dissonance="strict_imitation")
    clf.fit(X, y, sample_weight=weights)
    assert clf.model_.loss is plain_ce  # the plain h2 is given back
    p1, labels = h1_view("keras", digits_h1, X, np.arange(10))
    expected = np_objective(
        "strict_imitation",
        y,
        p1,
        clf.model_.predict(X, verbose=0),
        labels == y,
        LAMBDA_C,
        weights,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)


def test_per_step_fallback_trains(data, digits_h1):
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


@pytest.mark.parametrize("h1_kind", ["sklearn", "callable"])
def test_per_step_fallback_needs_keras_h1(h1_kind, data, logreg_h1):
    X, y = data
    h1 = logreg_h1 if h1_kind == "sklearn" else logreg_h1.predict_proba
    clf = make(h1, loss=plain_ce, dissonance="strict_imitation")
    with pytest.raises(ValueError, match="h1 must be a Keras model"):
        clf.fit(X, y)


@pytest.mark.parametrize("method", ["model", "bc_fit"])
@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
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
    expected = np_objective(
        dissonance,
        yk,
        p1,
        clf.model_.predict(Xk, verbose=0),
        labels == yk,
        LAMBDA_C,
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
    "per_step": dict(dissonance="strict_imitation", loss=plain_ce),
    "with_metrics": dict(metrics=["accuracy"]),
}


@pytest.mark.parametrize("path", TRAINING_PATHS)
def test_training_step_is_traced_once(path, data, digits_h1, train_step_calls):
    """The optimizer is built before Model.fit, so nothing makes TF trace twice."""
    X, y = data
    params = dict(run_eagerly=False, epochs=2, batch_size=100)
    make(digits_h1, **params, **TRAINING_PATHS[path]).fit(X, y)
    assert len(train_step_calls) == 1, train_step_calls


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
    "params, error, match",
    [
        (dict(lambda_c=-0.1), ValueError, "lambda_c must be a finite number >= 0"),
        (dict(lambda_c=float("nan")), ValueError, "lambda_c must be a finite number"),
        (dict(lambda_c="0.5"), ValueError, "lambda_c must be a non-negative real"),
        (dict(lambda_c=True), ValueError, "lambda_c must be a non-negative real"),
        (dict(dissonance="imitation"), ValueError, "dissonance must be one of"),
        (dict(method="fit"), ValueError, "method must be one of"),
        (dict(h1=None), ValueError, "h1 is required"),
        (dict(h1=42), TypeError, "h1 must be a Keras model, a fitted scikit-learn"),
    ],
    ids=lambda v: repr(v) if not isinstance(v, type) else v.__name__,
)
def test_bad_parameters(params, error, match, data, logreg_h1):
    X, y = data
    clf = make(logreg_h1).set_params(**params)
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    with pytest.raises(error, match=match):
        clf.partial_fit(X, y)


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
