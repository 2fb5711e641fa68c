"""Dissonances as objects, the one rule for c_i, and the NumPy oracle itself.

* ``tests/_reference.py`` (the oracle every test compares with) against numbers
  worked out by hand;
* the dissonance objects: parameters, ``clone``, equality, hash, repr, Keras
  serialization, ``GridSearchCV`` over their parameters;
* the tie rule of ``c_i`` (argmax, ties to the lower index; one sigmoid unit
  ``p`` is class 1 only when ``p > 0.5``), the same in every path;
* bad dissonances, refused at fit with a ``ValueError`` naming the parameter.
"""

import math

import keras
import numpy as np
import pytest
from _reference import (
    DEFAULTS,
    centred_log_probabilities,
    dissonance_values,
    dissonance_weights,
    h1_correct,
    imitation,
    multilabel_objective,
    objective,
    predicted_indices,
    task_loss,
)
from keras.initializers import Constant
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC

import bcsk.objective
from bcsk import BCCompatibleClassifier, _h1
from bcsk.objective import (
    Dissonance,
    FocalDistillation,
    LogitDifference,
    NewError,
    StrictImitation,
    _outputs,
    get_dissonance,
)
from bcsk.tensorflow.loss import (
    BCCrossEntropyLoss,
    BCFocalDistillationLoss,
    BCLogitDifferenceLoss,
)
from bcsk.tensorflow.models import BCCompatibilityModel

RTOL = 1e-5
ALL = [
    NewError(),
    StrictImitation(),
    FocalDistillation(),
    FocalDistillation(alpha=0.5, beta=2.0, temperature=3.0, divergence="logits"),
    LogitDifference(),
    LogitDifference(margin=0.0, power=1),
]
ALL_IDS = ["new_error", "strict", "fd", "fd_logits", "ldi", "ldi_m0_p1"]

# --------------------------------------------------------------------------
# The oracle, against numbers worked out by hand
# --------------------------------------------------------------------------

# Two samples, two classes, both labelled 0:
#   p1 = [[0.8, 0.2], [0.4, 0.6]]  -> h1 predicts [0, 1], so c = [1, 0]
#   p2 = [[0.6, 0.4], [0.5, 0.5]]  -> l = [-log 0.6, -log 0.5]
# With two classes z - mean z = [+u/2, -u/2], u = log(p_0 / p_1):
#   z1 = +-[log(4)/2, log(2/3)/2],  z2 = +-[log(1.5)/2, 0]
#   z2 - z1 = +-[log(1.5/4)/2, log(1.5)/2] = +-[-log(8/3)/2, log(1.5)/2]
P1 = np.array([[0.8, 0.2], [0.4, 0.6]])
P2 = np.array([[0.6, 0.4], [0.5, 0.5]])
Y = np.array([0, 0])


def test_oracle_c_task_loss_and_centred_log_probabilities_by_hand():
    np.testing.assert_array_equal(h1_correct(P1, Y), [1.0, 0.0])
    np.testing.assert_allclose(task_loss("ce", Y, P2), [-np.log(0.6), -np.log(0.5)])
    half_log4 = np.log(4) / 2
    np.testing.assert_allclose(
        centred_log_probabilities(P1),
        [[half_log4, -half_log4], [np.log(2 / 3) / 2, -np.log(2 / 3) / 2]],
    )
    # One sigmoid unit p = 0.8 is [0.2, 0.8]; its logit log(4) is [0, log 4]:
    # both centre to [-log 2, log 2].
    np.testing.assert_allclose(
        centred_log_probabilities([[0.8]]), [[-np.log(2), np.log(2)]]
    )
    np.testing.assert_allclose(
        centred_log_probabilities([[np.log(4)]], from_logits=True),
        [[-np.log(2), np.log(2)]],
    )
    # A softmax's centred log-probabilities are its centred logits.
    z = np.array([[1.0, -2.0, 0.5]])
    probabilities = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(
        centred_log_probabilities(probabilities),
        centred_log_probabilities(z, from_logits=True),
    )


def test_oracle_dissonances_by_hand():
    # Logit matching: 0.5 * ||z2 - z1||^2 = 0.5 * 2 * (delta/2)^2 = delta^2 / 4.
    logits = FocalDistillation(divergence="logits")
    np.testing.assert_allclose(
        dissonance_values(logits, "ce", Y, P1, P2),
        [np.log(8 / 3) ** 2 / 4, np.log(1.5) ** 2 / 4],  # [0.240507, 0.041100]
    )
    # KL at T = 1: softmax(z) is p itself, so d = KL(p1 || p2).
    np.testing.assert_allclose(
        dissonance_values("focal_distillation", "ce", Y, P1, P2),
        [
            0.8 * np.log(0.8 / 0.6) + 0.2 * np.log(0.2 / 0.4),  # 0.091516
            0.4 * np.log(0.4 / 0.5) + 0.6 * np.log(0.6 / 0.5),  # 0.020136
        ],
    )
    # KL at T = 2, first sample: softmax(z1 / 2) = [2/3, 1/3] (sigmoid(log 2)),
    # softmax(z2 / 2) = [a, 1 - a] with a = sqrt(1.5) / (1 + sqrt(1.5)).
    a = np.sqrt(1.5) / (1 + np.sqrt(1.5))
    kl = 2 / 3 * np.log(2 / 3 / a) + 1 / 3 * np.log(1 / 3 / (1 - a))
    got = dissonance_values(FocalDistillation(temperature=2.0), "ce", Y, P1, P2)
    np.testing.assert_allclose(got[0], 4 * kl)  # T^2 = 4; 0.111892
    # LDI, margin 0.25: |z2 - z1| = [log(8/3)/2, log(1.5)/2] = [0.490, 0.203].
    ldi = LogitDifference(margin=0.25)
    np.testing.assert_allclose(
        dissonance_values(ldi, "ce", Y, P1, P2), [(np.log(8 / 3) / 2 - 0.25) ** 2, 0]
    )
    # Weights: c = [1, 0].
    np.testing.assert_array_equal(dissonance_weights(logits, [1, 0]), [6.0, 1.0])
    np.testing.assert_array_equal(dissonance_weights(ldi, [1, 0]), [1.0, 1.0])
    np.testing.assert_array_equal(dissonance_weights("new_error", [1, 0]), [1, 0])
    # L = mean(l) + 0.5 * mean(w d) = 0.601986 + 0.5 * 0.742070 = 0.973021.
    expected = (
        -(np.log(0.6) + np.log(0.5)) / 2
        + 0.5 * (6 * np.log(8 / 3) ** 2 / 4 + np.log(1.5) ** 2 / 4) / 2
    )
    assert objective(logits, "ce", Y, P1, P2, 0.5) == pytest.approx(expected)
    assert expected == pytest.approx(0.9730213, rel=1e-7)
    # Sample weights s = [2, 0] keep the first sample only, doubled, over n = 2.
    weighted = objective(logits, "ce", Y, P1, P2, 0.5, sample_weight=[2.0, 0.0])
    assert weighted == pytest.approx(-np.log(0.6) + 0.5 * 6 * np.log(8 / 3) ** 2 / 4)


def test_oracle_task_losses_by_hand():
    p1 = np.array([[0.7, 0.2, 0.1]])
    p2 = np.array([[0.5, 0.3, 0.2]])
    y = np.array([0])
    np.testing.assert_allclose(task_loss("ce", y, p2), [-np.log(0.5)])
    np.testing.assert_allclose(task_loss("nll", y, p2), [-np.log(0.5)])
    bce = -(np.log(0.5) + np.log(0.7) + np.log(0.8)) / 3
    np.testing.assert_allclose(task_loss("bce", y, p2), [bce], rtol=1e-6)
    np.testing.assert_allclose(task_loss("kld", y, p2), [-np.log(0.5)], rtol=1e-5)
    soft = -(0.7 * np.log(0.5) + 0.2 * np.log(0.3) + 0.1 * np.log(0.2))
    np.testing.assert_allclose(imitation("ce", p1, p2), [soft])
    np.testing.assert_allclose(imitation("nll", p1, p2), [soft])
    np.testing.assert_allclose(imitation("kld", p1, p2), [np.sum(p1 * np.log(p1 / p2))])
    # Logits: log_softmax([log .5, log .3, log .2]) is log p2.
    np.testing.assert_allclose(
        task_loss("ce", y, np.log(p2), from_logits=True), [-np.log(0.5)]
    )
    # One sigmoid unit p = 0.8: NLL of label 0 is -log 0.2; BCE of label 1 is
    # -log 0.8, from the probability or from the logit log 4.
    np.testing.assert_allclose(task_loss("nll", [0], [[0.8]]), [-np.log(0.2)])
    np.testing.assert_allclose(task_loss("ce", [1], [[0.8]]), [-np.log(0.8)])
    np.testing.assert_allclose(
        task_loss("bce", [1], [[np.log(4)]], from_logits=True), [-np.log(0.8)]
    )
    # h1 given as two columns for a one-unit h2 is read as its class-1 column.
    np.testing.assert_allclose(
        imitation("bce", [[0.3, 0.7]], [[0.8]]),
        [-(0.7 * np.log(0.8) + 0.3 * np.log(0.2))],
    )


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_objective_in_one_loss_matches_the_oracle(dissonance, weighted):
    """``Objective``: task and term in one Keras loss, the oracle's objective.

    New error is folded (``l_i (1 + lambda_c c_i)``); the others add the
    term. Both are checked, with and without sample weights, and lambda_c=0
    is the task loss alone.
    """
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 40)
    p1 = rng.dirichlet(np.ones(4), 40)
    p2 = rng.dirichlet(np.ones(4), 40)
    weights = rng.uniform(0.2, 2.0, 40) if weighted else None
    task = _outputs.compiled_task_loss("sparse_categorical_crossentropy", 4)
    correct = h1_correct(p1, y)
    floats = [keras.ops.convert_to_tensor(a, "float32") for a in (p1, p2, correct)]
    for lambda_c in (0.0, 0.7):
        loss = bcsk.objective._dissonances.Objective(dissonance, task, lambda_c)
        value = loss(
            (keras.ops.convert_to_tensor(y), floats[0], floats[2]),
            floats[1],
            sample_weight=None if weights is None else weights.astype("float32"),
        )
        expected = objective(dissonance, "ce", y, p1, p2, lambda_c, weights)
        assert float(value) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_objective_in_one_loss_multilabel(dissonance):
    """A multilabel target: c per (sample, label), the oracle's mean over labels."""
    rng = np.random.default_rng(4)
    Y = rng.integers(0, 2, (30, 3))
    P1, P2 = rng.uniform(0.05, 0.95, (2, 30, 3))
    task = _outputs.compiled_task_loss("binary_crossentropy", 3)
    correct = (P1 > 0.5) == Y
    loss = bcsk.objective._dissonances.Objective(dissonance, task, 0.7, multilabel=True)
    value = loss(
        tuple(keras.ops.convert_to_tensor(a, "float32") for a in (Y, P1, correct)),
        keras.ops.convert_to_tensor(P2, "float32"),
    )
    expected = multilabel_objective(dissonance, Y, P1, P2, 0.7)
    assert float(value) == pytest.approx(expected, rel=RTOL)


def test_oracle_tie_rule():
    np.testing.assert_array_equal(predicted_indices([[0.5], [0.5000001]]), [0, 1])
    np.testing.assert_array_equal(
        predicted_indices([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0]]),
        [0, 2, 0],
    )


@pytest.mark.parametrize("width", [1, 2, 5])
@pytest.mark.parametrize("from_logits", [False, True])
def test_centred_log_probabilities_match_the_oracle(width, from_logits):
    rng = np.random.default_rng(width)
    logits = 3 * rng.normal(size=(40, width)).astype("float32")
    if from_logits:
        output = logits
    elif width == 1:
        output = 1 / (1 + np.exp(-logits))
    else:
        output = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = _outputs.centred_log_probabilities(output.astype("float32"), from_logits)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(got),
        centred_log_probabilities(output, from_logits),
        rtol=1e-4,
        atol=1e-5,
    )


# --------------------------------------------------------------------------
# The tie rule, the same everywhere
# --------------------------------------------------------------------------

TIES = {
    "sigmoid": np.array([[0.5], [0.5], [0.5000001], [0.4999999]]),
    "two": np.array([[0.5, 0.5], [0.5, 0.5], [0.3, 0.7], [0.7, 0.3]]),
    "three": np.array([[0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [0.3, 0.3, 0.4], [1, 0, 0]]),
}


@pytest.mark.parametrize("case", list(TIES))
def test_predicted_indices_and_h1_agree_on_ties(case):
    p = TIES[case]
    expected = predicted_indices(p)
    got = _outputs.predicted_indices(p.astype("float32"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), expected)
    classes = np.arange(max(p.shape[1], 2))
    outputs = _h1.h1_outputs(lambda X: p, np.zeros((4, 1)), classes, **NEED)
    np.testing.assert_array_equal(outputs.labels, classes[expected])
    y = np.zeros(4, dtype=int)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(_outputs.h1_correct(p.astype("float32"), y)),
        h1_correct(p, y),
    )


NEED = dict(need_probabilities=True)


def constant_h1(width):
    """A Keras h1 whose output is exactly 0.5 (one sigmoid unit) or [0.5, 0.5]."""
    if width == 1:
        layer = keras.layers.Dense(1, "sigmoid", kernel_initializer="zeros")
    else:
        # Not a softmax of zeros: some CPU kernels of TensorFlow's softmax give
        # 0.49999997 for it. A constant output of 0.5 is exact everywhere.
        layer = keras.layers.Dense(
            width, kernel_initializer="zeros", bias_initializer=Constant(0.5)
        )
    return keras.Sequential([keras.Input((64,)), layer])


def binary_builder(width):
    def build(meta):
        keras.utils.set_random_seed(3)
        activation = "sigmoid" if width == 1 else "softmax"
        return keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(width, activation=activation)]
        )

    return build


@pytest.mark.parametrize("width", [1, 2], ids=["sigmoid", "softmax2"])
@pytest.mark.parametrize("dissonance", ["new_error", FocalDistillation(beta=3.0)])
def test_estimator_and_model_agree_at_p_one_half(width, dissonance, digits):
    """h1 says exactly 0.5 everywhere: class 0 on every path, so c_i = [y_i == 0]."""
    X, y = digits
    X, y = X[:120], (y[:120] % 2)
    h1 = constant_h1(width)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(h1(X)), 0.5)
    loss = "binary_crossentropy" if width == 1 else "sparse_categorical_crossentropy"
    clf = BCCompatibleClassifier(
        binary_builder(width),
        h1=h1,
        lambda_c=0.9,
        dissonance=dissonance,
        loss=loss,
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        epochs=1,
        batch_size=len(y),
        shuffle=False,
        run_eagerly=True,
    ).fit(X, y)
    p1 = np.full((len(y), width), 0.5)
    np.testing.assert_array_equal(h1_correct(p1, y), y == 0)
    p2 = keras.ops.convert_to_numpy(clf.model_(X))
    expected = objective(dissonance, "ce", y, p1, p2, 0.9)
    assert expected != pytest.approx(objective(dissonance, "ce", y, p1, p2, 0.0))
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=RTOL)
    model = BCCompatibilityModel(clf.model_, h1=h1, lambda_c=0.9, dissonance=dissonance)
    model.compile(loss=loss)
    y_fit = y.astype("float32") if width == 1 else y
    got = model.evaluate(X, y_fit, batch_size=len(y), verbose=0)
    assert got == pytest.approx(expected, rel=RTOL)


# --------------------------------------------------------------------------
# Dissonances as objects
# --------------------------------------------------------------------------


def test_names_select_the_classes_with_the_defaults():
    for name, params in DEFAULTS.items():
        dissonance = get_dissonance(name)
        assert dissonance.name == name
        assert dissonance.get_params() == params
        assert get_dissonance(name) is not dissonance  # a new object each time
    assert {type(get_dissonance(name)) for name in DEFAULTS} == {
        NewError,
        StrictImitation,
        FocalDistillation,
        LogitDifference,
    }
    assert NewError.needs_probabilities is False
    assert all(
        cls.needs_probabilities
        for cls in (StrictImitation, FocalDistillation, LogitDifference)
    )


def test_exported_from_bcsk():
    import bcsk

    for name in ("NewError", "StrictImitation", "FocalDistillation", "LogitDifference"):
        assert getattr(bcsk, name) is getattr(bcsk.objective, name), name
        assert name in bcsk.__all__


@pytest.mark.parametrize("dissonance", ALL, ids=ALL_IDS)
def test_params_clone_equality_hash_repr(dissonance):
    params = dissonance.get_params()
    assert set(params) == set(type(dissonance)().get_params())
    assert dissonance.get_params(deep=False) == params
    copy = clone(dissonance)
    assert copy is not dissonance
    assert type(copy) is type(dissonance) and copy.get_params() == params
    assert copy == dissonance and hash(copy) == hash(dissonance)
    assert len({dissonance, copy}) == 1
    rebuilt = eval(repr(dissonance), vars(bcsk.objective))
    assert rebuilt == dissonance
    assert repr(dissonance).startswith(type(dissonance).__name__ + "(")
    assert get_dissonance(dissonance) is dissonance  # an object comes back as is
    assert dissonance.get_params() == params  # ...unchanged
    serialized = keras.saving.serialize_keras_object(dissonance)
    assert keras.saving.deserialize_keras_object(serialized) == dissonance


def test_inequality():
    assert NewError() != StrictImitation()
    assert NewError() != "new_error"
    assert FocalDistillation() != FocalDistillation(temperature=2.0)
    assert FocalDistillation(temperature=2) == FocalDistillation(temperature=2.0)
    assert LogitDifference() != LogitDifference(power=1)
    assert len(set(ALL)) == len(ALL)


def test_set_params():
    fd = FocalDistillation()
    assert fd.set_params(temperature=4.0, divergence="logits") is fd
    assert fd == FocalDistillation(temperature=4.0, divergence="logits")
    with pytest.raises(ValueError, match="Invalid parameter 'temprature'.*temperature"):
        fd.set_params(temprature=2.0)
    with pytest.raises(ValueError, match="Invalid parameter 'margin'"):
        NewError().set_params(margin=1.0)
    assert NewError().set_params() == NewError()


def test_estimator_params_reach_the_dissonance():
    fd = FocalDistillation(temperature=2.0)
    clf = BCCompatibleClassifier(h1=LogisticRegression(), dissonance=fd)
    params = clf.get_params()
    assert params["dissonance__temperature"] == 2.0
    assert params["dissonance__divergence"] == "kl"
    cloned = clone(clf)
    assert cloned.dissonance == fd and cloned.dissonance is not fd
    cloned.set_params(dissonance__temperature=5.0)
    assert cloned.dissonance.temperature == 5.0
    assert fd.temperature == 2.0  # the user's object is not the clone's


# --------------------------------------------------------------------------
# GridSearchCV over dissonances and their parameters
# --------------------------------------------------------------------------


def tiny(meta):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def search_data(digits):
    """200 digits, and a scikit-learn h1 fitted on 100 others."""
    X, y = digits
    h1 = LogisticRegression(max_iter=200).fit(X[300:400], y[300:400])
    return X[:200], y[:200], h1


def zero_lr_estimator(h1, dissonance, n):
    return BCCompatibleClassifier(
        tiny,
        h1=h1,
        lambda_c=0.8,
        dissonance=dissonance,
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        epochs=1,
        batch_size=n,
        shuffle=False,
        random_state=0,
        run_eagerly=True,
    )


def training_loss(estimator, X, y):
    """A scorer that reads the training objective (zero learning rate)."""
    return estimator.history_["loss"][0]


def refit_objective(search, h1, X, y):
    best = search.best_estimator_
    p1 = h1.predict_proba(X)
    p2 = keras.ops.convert_to_numpy(best.model_(X))
    correct = h1.predict(X) == y
    return objective(best.dissonance, "ce", y, p1, p2, 0.8, correct=correct)


def test_grid_search_over_temperature(search_data):
    X, y, logreg_h1 = search_data
    fd = FocalDistillation(beta=2.0)
    search = GridSearchCV(
        zero_lr_estimator(logreg_h1, fd, len(y)),
        {"dissonance__temperature": [1.0, 4.0]},
        scoring=training_loss,
        cv=2,
    ).fit(X, y)
    assert search.cv_results_["param_dissonance__temperature"].tolist() == [1.0, 4.0]
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores[0] != pytest.approx(scores[1])
    best = search.best_estimator_
    assert best.dissonance == FocalDistillation(
        beta=2.0, temperature=[1.0, 4.0][int(np.argmax(scores))]
    )
    assert best.history_["loss"][0] == pytest.approx(
        refit_objective(search, logreg_h1, X, y), rel=RTOL
    )
    assert fd == FocalDistillation(beta=2.0)  # never mutated


def test_grid_search_over_dissonance_objects(search_data):
    X, y, logreg_h1 = search_data
    candidates = [
        NewError(),
        FocalDistillation(temperature=2.0),
        LogitDifference(margin=0.1),
    ]
    before = [repr(c) for c in candidates]
    search = GridSearchCV(
        zero_lr_estimator(logreg_h1, "new_error", len(y)),
        {"dissonance": candidates},
        scoring=training_loss,
        cv=2,
    ).fit(X, y)
    assert list(search.cv_results_["param_dissonance"]) == candidates
    scores = search.cv_results_["mean_test_score"]
    assert len(set(np.round(scores, 6))) == 3  # each candidate reached the fit
    assert search.best_estimator_.dissonance == candidates[int(np.argmax(scores))]
    assert search.best_estimator_.history_["loss"][0] == pytest.approx(
        refit_objective(search, logreg_h1, X, y), rel=RTOL
    )
    assert [repr(c) for c in candidates] == before


def test_fit_never_mutates_the_dissonance(search_data):
    X, y, logreg_h1 = search_data
    ldi = LogitDifference(margin=0.2, power=1.5)
    clf = zero_lr_estimator(logreg_h1, ldi, len(y)).fit(X, y)
    assert clf.dissonance is ldi
    assert ldi.get_params() == {"margin": 0.2, "power": 1.5}
    assert clone(clf).dissonance == ldi


# --------------------------------------------------------------------------
# Bad dissonances
# --------------------------------------------------------------------------

BAD = [
    (FocalDistillation(temperature=-1.0), "temperature must be a finite number > 0"),
    (FocalDistillation(temperature=0), "temperature must be a finite number > 0"),
    (FocalDistillation(temperature=math.nan), "temperature must be a finite number"),
    (FocalDistillation(temperature=math.inf), "temperature must be a finite number"),
    (FocalDistillation(temperature="2"), "temperature must be a real number"),
    (FocalDistillation(alpha=-0.5), "alpha must be a finite number >= 0"),
    (FocalDistillation(alpha=math.nan), "alpha must be a finite number"),
    (FocalDistillation(beta=-1), "beta must be a finite number >= 0"),
    (FocalDistillation(beta=math.inf), "beta must be a finite number"),
    (FocalDistillation(divergence="js"), r"divergence must be one of \('kl', "),
    (LogitDifference(margin=-0.1), "margin must be a finite number >= 0"),
    (LogitDifference(margin=math.inf), "margin must be a finite number"),
    (LogitDifference(power=0.5), "power must be a finite number >= 1"),
    (LogitDifference(power=math.nan), "power must be a finite number"),
    (LogitDifference(power=True), "power must be a real number"),
]
BAD_IDS = [repr(bad) for bad, _ in BAD]
TEN = {"n_features_in_": 64, "n_classes_": 10}


@pytest.mark.parametrize("bad, match", BAD, ids=BAD_IDS)
def test_bad_dissonance_refused_at_fit(bad, match, search_data):
    X, y, logreg_h1 = search_data
    before = bad.get_params()
    clf = zero_lr_estimator(logreg_h1, bad, len(y))  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")
    with pytest.raises(ValueError, match=match):
        BCCompatibilityModel(tiny(TEN), h1=tiny(TEN), dissonance=bad)
    loss_class = {
        "focal_distillation": BCFocalDistillationLoss,
        "logit_difference": BCLogitDifferenceLoss,
    }[bad.name]
    with pytest.raises(ValueError, match=match):
        loss_class(tiny(TEN), tiny(TEN), 0.5, **before)
    assert bad.get_params() == before


@pytest.mark.parametrize("bad", ["focal", "Focal_Distillation", 42, None])
def test_unknown_dissonance_name(bad, search_data):
    """The message names the parameter, what was given and what is allowed."""
    X, y, logreg_h1 = search_data
    clf = zero_lr_estimator(logreg_h1, bad, len(y))
    with pytest.raises(ValueError, match="dissonance") as fit_error:
        clf.fit(X, y)
    assert not hasattr(clf, "model_")
    with pytest.raises(ValueError, match="dissonance") as model_error:
        BCCompatibilityModel(tiny(TEN), h1=tiny(TEN), dissonance=bad)
    for error in (fit_error, model_error):
        message = str(error.value)
        assert repr(bad) in message
        assert all(name in message for name in DEFAULTS), message


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (
            BCFocalDistillationLoss,
            dict(temprature=2.0),
            r"\['temprature'\].*temperature",
        ),
        (BCLogitDifferenceLoss, dict(temperature=2.0), r"\['temperature'\].*margin"),
        (BCCrossEntropyLoss, dict(margin=0.1), r"\['margin'\].*none"),
    ],
)
def test_unknown_parameter_of_a_loss_class(cls, params, match):
    h1 = tiny(TEN)
    with pytest.raises(ValueError, match=match):
        cls(h1, h1, 0.5, **params)


class LabelsOnly:
    """An h1 that only predicts labels (a served model, a lookup)."""

    def __init__(self, model):
        self.model = model

    def predict(self, X):
        return self.model.predict(X)


@pytest.mark.parametrize(
    "dissonance", ["strict_imitation", "focal_distillation", LogitDifference()]
)
@pytest.mark.parametrize("h1_kind", ["linear_svc", "labels_only"])
def test_dissonance_needs_probabilities(dissonance, h1_kind, search_data):
    X, y, logreg_h1 = search_data
    svc = LinearSVC().fit(X, y)
    h1 = svc if h1_kind == "linear_svc" else LabelsOnly(logreg_h1)
    name = dissonance if isinstance(dissonance, str) else dissonance.name
    clf = zero_lr_estimator(h1, dissonance, len(y))
    with pytest.raises(ValueError, match=f"dissonance='{name}' needs h1's prob"):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")
    # New error needs only the labels.
    clf.set_params(dissonance="new_error").fit(X, y)
    assert np.isfinite(clf.history_["loss"][0])


@pytest.mark.parametrize(
    "dissonance", [FocalDistillation(), LogitDifference()], ids=["fd", "ldi"]
)
@pytest.mark.parametrize("loss", ["binary_crossentropy", "kl_divergence", "logits"])
def test_bc_fit_refuses_distillation_without_cross_entropy(
    dissonance, loss, search_data, digits_h1
):
    X, y, _ = search_data
    if loss == "logits":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    clf = zero_lr_estimator(digits_h1, dissonance, len(y)).set_params(
        method="bc_fit", loss=loss
    )
    with pytest.raises(ValueError, match="method='bc_fit' has no loss class"):
        clf.fit(X, y)


def test_dissonance_base_class_is_abstract():
    class Half(Dissonance):
        name = "half"

    with pytest.raises(NotImplementedError):
        Half().values(None, None, None, None)
    assert Half().get_params() == {}
