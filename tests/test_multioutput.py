"""Multiclass-multioutput y: one Keras output per column of y, the objective summed.

Output ``k`` of h2 is trained on column ``k`` of y against h1's output ``k``,
with its own ``c_ik``; the objective, checked against the NumPy oracle of
``_reference``, is ``sum_k v_k (task_k + lambda_c * term_k)`` with ``v_k``
the ``loss_weights`` Keras weighs the task losses by. Every kind of h1 and
h1's logged outputs give the same objective; the scorers pool (sample,
output) cells with ``average=``; layouts that do not match y are refused
before any training.
"""

import pickle

import keras
import numpy as np
import pytest
from _builders import frozen_weights
from _reference import multioutput_objective, softmax
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.multioutput import MultiOutputClassifier

from bcsk import (
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifier,
    CompatibleUpdateClassifierCV,
    btc_scorer,
    compatibility_report,
    compatibility_scoring,
    make_btc_scorer,
)
from bcsk.metrics import negative_flip_rate

DISSONANCES = [
    "new_error",
    "strict_imitation",
    "focal_distillation",
    "logit_difference",
]
SPARSE = "sparse_categorical_crossentropy"


def digit_outputs(y):
    """Three outputs of a digit: the digit, its residue mod 3, whether it is > 4."""
    return np.column_stack([y, y % 3, (y > 4).astype(int)])


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:600], digit_outputs(y[:600])


@pytest.fixture(scope="module")
def forest(data):
    """A scikit-learn multi-output h1 on 100 images (a list from predict_proba)."""
    X, Y = data
    return RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(
        X[:100], Y[:100]
    )


def heads(meta, hidden=16, sigmoid_binary=False):
    """One softmax head per output (a single sigmoid unit for a binary one)."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden_layer = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = []
    for k, n_classes in enumerate(meta["n_classes_"]):
        if sigmoid_binary and n_classes == 2:
            layer = keras.layers.Dense(1, activation="sigmoid", name=f"out{k}")
        else:
            layer = keras.layers.Dense(n_classes, activation="softmax", name=f"out{k}")
        outputs.append(layer(hidden_layer))
    return keras.Model(inputs, outputs)


def estimator(h1, model=heads, **params):
    return BCCompatibleClassifier(
        model,
        h1=h1,
        **{
            "loss": SPARSE,
            "optimizer": "adam",
            "epochs": 3,
            "random_state": 0,
            **params,
        },
    )


def outputs_of(model, X):
    return [keras.ops.convert_to_numpy(p) for p in model(X)]


# -- the objective against the oracle ----------------------------------------------


@pytest.mark.parametrize("dissonance", DISSONANCES)
def test_objective_matches_the_per_output_oracle(dissonance, data, forest):
    """With a zero learning rate the reported loss is the objective at h2's weights."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]
    weights = np.linspace(0.5, 1.5, len(Y))
    clf = estimator(
        forest, lambda_c=0.7, dissonance=dissonance, **frozen_weights(len(Y))
    ).fit(X, Y, sample_weight=weights)
    expected = multioutput_objective(
        dissonance,
        ["ce"] * 3,
        Y,
        forest.predict_proba(X),
        outputs_of(clf.model_, X),
        0.7,
        weights,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    # The compatibility term is there: at lambda_c=0 the value differs.
    task = multioutput_objective(
        dissonance, ["ce"] * 3, Y, forest.predict_proba(X), outputs_of(clf.model_, X), 0
    )
    assert abs(expected - task) > 1e-3


def test_c_is_per_output(data, forest):
    """An h1 right on output 0 and wrong on outputs 1-2 pays new error on output
    0 only: the oracle with c per sample (right on all outputs or not) differs."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]

    class RightOnTheDigitOnly:
        def predict(self, X_):
            assert len(X_) == len(Y)  # called on the training rows only
            return np.column_stack([Y[:, 0], (Y[:, 1] + 1) % 3, 1 - Y[:, 2]])

    clf = estimator(RightOnTheDigitOnly(), lambda_c=2.0, **frozen_weights(len(Y))).fit(
        X, Y
    )
    P2 = outputs_of(clf.model_, X)
    corrects = np.column_stack(
        [np.ones(len(Y)), np.zeros(len(Y)), np.zeros(len(Y))]
    ).astype(bool)
    per_output = multioutput_objective(
        "new_error", ["ce"] * 3, Y, None, P2, 2.0, corrects=corrects
    )
    per_sample = multioutput_objective(
        "new_error",
        ["ce"] * 3,
        Y,
        None,
        P2,
        2.0,
        corrects=np.zeros_like(corrects),  # no sample right on every output
    )
    assert clf.history_["loss"][0] == pytest.approx(per_output, rel=1e-4)
    assert abs(per_output - per_sample) > 1e-2


def test_loss_weights_and_a_loss_per_output_weigh_each_outputs_objective(data, forest):
    """A builder that compiles its own per-output losses (binary cross-entropy on a
    sigmoid unit for the binary output) and loss_weights: each output's
    compatibility term is weighted as its task loss."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]
    loss_weights = [1.0, 0.5, 2.0]

    def compiled(meta):
        model = heads(meta, sigmoid_binary=True)
        model.compile(
            loss=[SPARSE, SPARSE, "binary_crossentropy"],
            loss_weights=loss_weights,
            optimizer=keras.optimizers.SGD(learning_rate=0.0),
        )
        return model

    clf = BCCompatibleClassifier(
        compiled,
        h1=forest,
        lambda_c=0.8,
        dissonance="strict_imitation",
        epochs=1,
        batch_size=len(Y),
        shuffle=False,
        random_state=0,
    ).fit(X, Y)
    P2 = outputs_of(clf.model_, X)
    assert P2[2].shape == (len(Y), 1)
    expected = multioutput_objective(
        "strict_imitation",
        ["ce", "ce", "bce"],
        Y,
        forest.predict_proba(X),
        P2,
        0.8,
        loss_weights=loss_weights,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    proba = clf.predict_proba(X[:4])
    assert [p.shape for p in proba] == [(4, 10), (4, 3), (4, 2)]
    np.testing.assert_allclose(proba[2][:, 1], P2[2][:4, 0], rtol=1e-6)


@pytest.mark.parametrize("form", ["dict", "categorical"])
def test_losses_keyed_by_name_and_one_hot_targets(form, data, forest):
    """A dict of losses keyed by output name, and categorical cross-entropy (y's
    columns one-hot encoded per output), give the oracle's objective."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]
    loss = (
        {f"out{k}": SPARSE for k in (2, 0, 1)}
        if form == "dict"
        else "categorical_crossentropy"
    )
    clf = estimator(
        forest,
        loss=loss,
        lambda_c=0.6,
        dissonance="focal_distillation",
        **frozen_weights(len(Y)),
    ).fit(X, Y)
    expected = multioutput_objective(
        "focal_distillation",
        ["ce"] * 3,
        Y,
        forest.predict_proba(X),
        outputs_of(clf.model_, X),
        0.6,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    assert clf.predict(X).shape == Y.shape


def test_an_ensemble_trains_each_member_on_the_per_output_objective(data, forest):
    """n_members=2 on a multi-output y: the reported loss is the sum of the
    members' objectives, and predict_proba the mean of their outputs, output
    by output; loss_weights weigh each output's objective in every member."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]
    clf = estimator(
        forest,
        n_members=2,
        lambda_c=0.5,
        dissonance="strict_imitation",
        compile__loss_weights=[1.0, 0.5, 2.0],
        **frozen_weights(len(Y)),
    ).fit(X, Y)
    members = [outputs_of(member, X) for member in clf.members_]
    expected = sum(
        multioutput_objective(
            "strict_imitation",
            ["ce"] * 3,
            Y,
            forest.predict_proba(X),
            P2,
            0.5,
            loss_weights=[1.0, 0.5, 2.0],
        )
        for P2 in members
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    for k, proba in enumerate(clf.predict_proba(X)):
        np.testing.assert_allclose(
            proba, (members[0][k] + members[1][k]) / 2, rtol=1e-5, atol=1e-7
        )


# -- every kind of h1, and h1's logged outputs -------------------------------------


def keras_h1(data):
    X, Y = data
    model = heads({"n_features_in_": X.shape[1], "n_classes_": [10, 3, 2]})
    model.compile(loss=SPARSE, optimizer="adam")
    model.fit(X[:100], [Y[:100, k] for k in range(3)], epochs=3, verbose=0)
    return model


class Callable:
    """A callable h1 returning one array of probabilities per output."""

    def __init__(self, h1):
        self.h1 = h1

    def __call__(self, X):
        return self.h1.predict_proba(X)


class Predictor:
    """An h1 that only predicts labels, shape (n_samples, n_outputs)."""

    def __init__(self, h1):
        self.h1 = h1

    def predict(self, X):
        return self.h1.predict(X)


@pytest.mark.parametrize(
    "kind", ["keras", "one-vs-rest", "callable", "predictor", "proba", "pred"]
)
def test_every_kind_of_h1_gives_the_oracles_objective(kind, data, forest):
    """h1 as a multi-output Keras model, MultiOutputClassifier, a callable, a
    label predictor, or logged probabilities or labels."""
    X, Y = data
    X, Y = X[100:300], Y[100:300]
    fit_params, corrects = {}, None
    dissonance = "logit_difference"
    if kind == "keras":
        h1 = keras_h1(data)
        P1 = outputs_of(h1, X)
    elif kind == "one-vs-rest":
        h1 = MultiOutputClassifier(LogisticRegression(max_iter=300)).fit(*data)
        P1 = h1.predict_proba(X)
    elif kind == "callable":
        h1, P1 = Callable(forest), forest.predict_proba(X)
    elif kind == "proba":
        h1, P1 = None, forest.predict_proba(X)
        fit_params = {"h1_proba": P1}
    else:
        labels = forest.predict(X)
        h1 = Predictor(forest) if kind == "predictor" else None
        fit_params = {} if kind == "predictor" else {"h1_pred": labels}
        P1, corrects, dissonance = None, labels == Y, "new_error"
    clf = estimator(
        h1, lambda_c=0.9, dissonance=dissonance, **frozen_weights(len(Y))
    ).fit(X, Y, **fit_params)
    expected = multioutput_objective(
        dissonance,
        ["ce"] * 3,
        Y,
        P1,
        outputs_of(clf.model_, X),
        0.9,
        corrects=corrects,
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_logged_outputs_train_what_the_live_h1_trains(data, forest):
    X, Y = data
    live = estimator(forest, dissonance="strict_imitation").fit(X, Y)
    logged = estimator(None, dissonance="strict_imitation").fit(
        X, Y, h1_proba=forest.predict_proba(X)
    )
    for a, b in zip(live.predict_proba(X), logged.predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)


# -- the estimator: predict, score, fewer new errors, state ------------------------


@pytest.fixture(scope="module")
def fitted(data, forest):
    X, Y = data
    return estimator(forest, lambda_c=1.0, epochs=5).fit(X[100:], Y[100:])


def test_predict_predict_proba_classes_and_score(fitted, data):
    X, Y = data
    predicted = fitted.predict(X)
    assert predicted.shape == Y.shape and predicted.dtype == Y.dtype
    assert [c.tolist() for c in fitted.classes_] == [
        list(range(10)),
        [0, 1, 2],
        [0, 1],
    ]
    proba = fitted.predict_proba(X)
    assert [p.shape for p in proba] == [(600, 10), (600, 3), (600, 2)]
    for k, p in enumerate(proba):
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(
            fitted.classes_[k][p.argmax(axis=1)], predicted[:, k]
        )
    # score: the share of samples right on every output (subset accuracy).
    assert fitted.score(X, Y) == pytest.approx(np.mean((predicted == Y).all(axis=1)))
    weights = np.arange(600) % 2
    assert fitted.score(X, Y, sample_weight=weights) == pytest.approx(
        np.mean((predicted == Y).all(axis=1)[weights == 1])
    )


def test_string_labels_per_output(data):
    X, Y = data
    names = np.array(["zero", "one", "two"])
    Y_mixed = np.column_stack([Y[:, 0].astype(str), names[Y[:, 1]]]).astype(object)
    h1 = RandomForestClassifier(n_estimators=10, random_state=0).fit(
        X[:100], Y_mixed[:100]
    )
    clf = estimator(h1, lambda_c=1.0).fit(X, Y_mixed)
    predicted = clf.predict(X)
    assert predicted.shape == Y_mixed.shape
    assert set(predicted[:, 1]) <= set(names)
    assert clf.classes_[1].tolist() == sorted(names)
    assert btc_scorer(clf, X, Y_mixed) == pytest.approx(
        oracle_btc(Y_mixed, h1.predict(X), predicted, "micro")
    )


def test_lambda_c_cuts_new_errors(data, forest):
    X, Y = data
    X_train, Y_train = X[100:], Y[100:]
    h1_pred = forest.predict(X_train)
    nfr = {}
    for lambda_c in (0.0, 3.0):
        clf = estimator(forest, lambda_c=lambda_c, epochs=10).fit(X_train, Y_train)
        nfr[lambda_c] = negative_flip_rate(
            Y_train, h1_pred=h1_pred, h2_pred=clf.predict(X_train)
        )
    assert nfr[3.0] < nfr[0.0]


def test_seeded_fit_is_reproducible_and_pickles(data, forest):
    X, Y = data
    first = estimator(forest, dissonance="focal_distillation").fit(X, Y)
    second = estimator(forest, dissonance="focal_distillation").fit(X, Y)
    restored = pickle.loads(pickle.dumps(first))
    for a, b, c in zip(
        first.predict_proba(X),
        second.predict_proba(X),
        restored.predict_proba(X),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert clone(first).h1 is forest


def test_partial_fit_warm_start_and_validation_data(data, forest):
    X, Y = data
    clf = estimator(forest, lambda_c=0.5)
    clf.partial_fit(X[:300], Y[:300])
    weights = clf.model_.get_weights()
    clf.partial_fit(X[300:], Y[300:])
    assert len(clf.history_["loss"]) == 2
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(weights, clf.model_.get_weights(), strict=True)
    )
    validated = estimator(forest, lambda_c=0.5, epochs=2).fit(
        X[:400], Y[:400], validation_data=(X[400:], Y[400:])
    )
    assert len(validated.history_["val_loss"]) == 2


def test_validation_loss_is_the_oracles_objective_on_the_validation_rows(data, forest):
    X, Y = data
    X_val, Y_val = X[400:], Y[400:]
    clf = estimator(forest, lambda_c=0.7, **frozen_weights(400)).fit(
        X[:400], Y[:400], validation_data=(X_val, Y_val)
    )
    expected = multioutput_objective(
        "new_error",
        ["ce"] * 3,
        Y_val,
        forest.predict_proba(X_val),
        outputs_of(clf.model_, X_val),
        0.7,
    )
    assert clf.history_["val_loss"][0] == pytest.approx(expected, rel=1e-4)


# -- scorers and the report: (sample, output) cells --------------------------------


def oracle_btc(Y, P1, P2, average):
    """Share of h1's right cells that h2 keeps, pooled as ``average`` says."""
    h1_right, h2_right = P1 == Y, P2 == Y
    if average == "micro":
        return (h1_right & h2_right).sum() / h1_right.sum()
    axis = 0 if average == "macro" else 1
    kept, right = (h1_right & h2_right).sum(axis=axis), h1_right.sum(axis=axis)
    return np.mean(np.where(right > 0, kept / np.maximum(right, 1), 1.0))


@pytest.mark.parametrize("average", ["micro", "macro", "samples"])
def test_btc_scorer_pools_output_cells(average, fitted, data, forest):
    X, Y = data
    expected = oracle_btc(Y, forest.predict(X), fitted.predict(X), average)
    live = make_btc_scorer(forest, average=average)(fitted, X, Y)
    from_estimator = make_btc_scorer(None, average=average)(fitted, X, Y)
    logged = make_btc_scorer(None, average=average)(
        fitted, X, Y, h1_pred=forest.predict(X)
    )
    from_proba = make_btc_scorer(None, average=average)(
        fitted, X, Y, h1_proba=forest.predict_proba(X)
    )
    for value in (live, from_estimator, logged, from_proba):
        assert value == pytest.approx(expected)


def test_report_and_multimetric_scorer_count_cells(fitted, data, forest):
    X, Y = data
    h1_pred, h2_pred = forest.predict(X), fitted.predict(X)
    report = compatibility_report(Y, h1_pred=h1_pred, h2_pred=h2_pred)
    assert report.n_outputs == 3 and report.n_samples == 600
    new_errors = ((h1_pred == Y) & (h2_pred != Y)).sum()
    assert report.new_errors == new_errors
    scores = compatibility_scoring()(fitted, X, Y)
    assert scores["btc"] == pytest.approx(oracle_btc(Y, h1_pred, h2_pred, "micro"))
    assert scores["accuracy"] == pytest.approx(np.mean(h2_pred == Y))


def test_model_selection_over_a_multi_output_y(data, forest):
    """cross_val_score and GridSearchCV over lambda_c, scored by BTC (KFold:
    scikit-learn does not stratify a multi-output y)."""
    X, Y = data
    scores = cross_val_score(
        estimator(forest, epochs=2), X, Y, cv=KFold(2), scoring=btc_scorer
    )
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()
    search = GridSearchCV(
        estimator(forest, epochs=2), {"lambda_c": [0.0, 2.0]}, cv=2, scoring=btc_scorer
    ).fit(X, Y)
    assert search.best_estimator_.predict(X).shape == Y.shape


# -- bad input: h1 and h2 must have y's layout --------------------------------------


class OneOutput:
    def __call__(self, X):
        return np.full((len(X), 10), 0.1)


class WrongWidthOnOutput1:
    def __call__(self, X):
        return [
            np.full((len(X), 10), 0.1),
            np.full((len(X), 4), 0.25),
            np.full((len(X), 2), 0.5),
        ]


class LabelsOfOneOutput:
    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.mark.parametrize(
    "make_h1, fit_params, match",
    [
        (OneOutput, {}, r"h1 gave one array of shape \(600, 10\), but y has 3 outputs"),
        (
            WrongWidthOnOutput1,
            {},
            r"h1's outputs, output 1: h1 returns 4 probabilities .* 3 classes",
        ),
        (LabelsOfOneOutput, {}, r"h1.predict\(X\) has shape \(600,\) .* 3 outputs"),
        (
            "single-output forest",
            {},
            r"h1.predict_proba\(X\) gave one array of shape \(600, 10\)",
        ),
        (None, {"h1_proba": "two tables"}, r"h1_proba gave 2 arrays, but y has 3"),
        (None, {"h1_proba": "short output 2"}, r"h1_proba, output 2: h1_proba must"),
        (None, {"h1_pred": "1-D"}, r"h1_pred has shape \(600,\) .* 3 outputs"),
    ],
)
def test_h1_outputs_not_in_y_layout_are_refused(make_h1, fit_params, match, data):
    X, Y = data
    if make_h1 == "single-output forest":
        h1 = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y[:, 0])
    else:
        h1 = None if make_h1 is None else make_h1()
    tables = [np.full((600, n), 1.0 / n) for n in (10, 3, 2)]
    given = {
        "two tables": tables[:2],
        "short output 2": tables[:2] + [tables[2][:10]],
        "1-D": Y[:, 0],
    }
    fit_params = {key: given[value] for key, value in fit_params.items()}
    clf = estimator(h1, dissonance="new_error")
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y, **fit_params)
    assert not hasattr(clf, "model_")


def two_heads(meta):
    return heads({**meta, "n_classes_": meta["n_classes_"][:2]})


def wide_head(meta):
    return heads({**meta, "n_classes_": [10, 4, 2]})


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(model=two_heads), r"Keras model input of size 3, but .* has 2 outputs"),
        (dict(model=wide_head), r"Output 1 of h2 has 4 unit\(s\) but column 1 of y"),
        (dict(method="bc_fit"), r"method='bc_fit' .* multi-output y"),
        (dict(loss=[SPARSE, SPARSE]), r"loss is a list of 2 losses but y has 3"),
        (dict(loss={"out0": SPARSE}), r"loss dict has keys \['out0'\]"),
        (
            dict(loss={f"out{k}": "categorical_crossentropy" for k in range(3)}),
            r"give the losses as a list, in the order of y's columns",
        ),
    ],
)
def test_h2_and_parameters_that_cannot_train_it_are_refused(params, match, data):
    X, Y = data
    h1 = (
        keras_h1(data)
        if params.get("method") == "bc_fit"
        else Callable(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y))
    )
    clf = estimator(h1, **params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_a_column_of_one_class_is_refused(data, forest):
    X, Y = data
    Y = Y.copy()
    Y[:, 1] = 2
    Y[0, 0] = 7  # keep y multi-output (column 0 has several classes)
    with pytest.raises(ValueError, match=r"column 1 of y contains only \[2\]"):
        estimator(Callable(forest)).fit(X, Y)


def test_the_searches_say_multi_output_is_not_supported_yet(data, forest):
    X, Y = data
    with pytest.raises(ValueError, match=r"multi-output y .* not supported yet"):
        BCCompatibleClassifierCV(heads, h1=forest, loss=SPARSE).fit(X, Y)
    with pytest.raises(ValueError, match=r"multi-output y .* not supported yet"):
        CompatibleUpdateClassifierCV(estimator(forest), h1=forest).fit(X, Y)


def oracle_gate(h1_labels, proba, classes, cost):
    """h1's label unless h2's top class is more than ``cost`` times as probable."""
    top = proba.argmax(axis=1)
    out = []
    for i, label in enumerate(h1_labels):
        known = np.flatnonzero(classes == label)
        if known.size == 0 or proba[i, top[i]] > cost * proba[i, known[0]]:
            out.append(classes[top[i]])
        else:
            out.append(label)
    return np.array(out)


@pytest.mark.parametrize("flip_cost", [1.0, 2.0, 8.0])
def test_the_gate_decides_each_output(flip_cost, fitted, data, forest):
    """CompatibleUpdateClassifier on a multi-output h2 gates every (sample,
    output) cell as a single-label gate would, live or from logged labels;
    gate_predictions takes one array of classes and probabilities per output."""
    from sklearn.frozen import FrozenEstimator

    from bcsk.gate import gate_predictions

    X, Y = data
    gate = CompatibleUpdateClassifier(
        FrozenEstimator(fitted), h1=forest, flip_cost=flip_cost
    ).fit(X, Y)
    assert gate.multioutput_ and not gate.multilabel_
    h1_pred, proba = forest.predict(X), fitted.predict_proba(X)
    expected = np.column_stack(
        [
            oracle_gate(h1_pred[:, k], proba[k], fitted.classes_[k], flip_cost)
            for k in range(3)
        ]
    )
    np.testing.assert_array_equal(gate.predict(X), expected)
    np.testing.assert_array_equal(gate.predict(X, h1_pred=h1_pred), expected)
    np.testing.assert_array_equal(
        gate_predictions(
            h1_pred=h1_pred,
            h2_proba=proba,
            classes=fitted.classes_,
            flip_cost=flip_cost,
        ),
        expected,
    )
    if flip_cost == 8.0:  # a costly flip keeps more of h1's labels than h2 alone
        assert (expected == h1_pred).sum() > (fitted.predict(X) == h1_pred).sum()


def test_a_list_of_targets_is_refused_with_the_fix(data, forest):
    X, Y = data
    with pytest.raises(ValueError, match=r"got a list of targets.*np.column_stack"):
        estimator(forest).fit(X, [Y[:, 0], Y[:, 1]])


def test_softmax_of_the_weights_is_predict_proba(fitted, data):
    """predict_proba is the model's own output, output by output (a NumPy oracle
    of the one-hidden-layer network from its weights)."""
    X, _ = data
    W1, b1, *heads_weights = fitted.model_.get_weights()
    hidden = np.maximum(X @ W1 + b1, 0)
    for k, proba in enumerate(fitted.predict_proba(X)):
        W, b = heads_weights[2 * k], heads_weights[2 * k + 1]
        np.testing.assert_allclose(proba, softmax(hidden @ W + b), rtol=1e-4, atol=1e-6)


class SubclassedHeads(keras.Model):
    """A subclassed model with its own call (no symbolic outputs): two heads."""

    def __init__(self, n_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.heads = [keras.layers.Dense(n, activation="softmax") for n in n_classes]

    def call(self, inputs):
        hidden = self.hidden(inputs)
        return [head(hidden) for head in self.heads]


def test_a_subclassed_model_and_a_nested_list_y(data):
    """A subclassed h2 (its outputs counted from a call) and y given as a list of
    rows (Y.tolist()) train; a subclassed h2 with too few outputs is refused."""
    X, Y = data
    Y2 = Y[:, :2]
    h1 = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y2)
    clf = estimator(h1, model=lambda meta: SubclassedHeads(meta["n_classes_"]))
    assert clf.fit(X, Y2.tolist()).predict(X).shape == Y2.shape
    short = estimator(h1, model=lambda meta: SubclassedHeads(meta["n_classes_"][:1]))
    with pytest.raises(ValueError, match=r"y has 2 outputs \(columns\) but h2 gives 1"):
        short.fit(X, Y2)


def test_the_display_counts_cells(fitted, data, forest):
    """CompatibilityDisplay of a multi-output h2: the report of the (sample,
    output) cells, shares of n_samples x n_outputs, new errors by output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bcsk.metrics import CompatibilityDisplay

    X, Y = data
    display = CompatibilityDisplay.from_estimator(fitted, X, Y)
    report = compatibility_report(
        Y, h1_pred=forest.predict(X), h2_pred=fitted.predict(X)
    )
    assert list(display.reports.values()) == [report]
    regions, per_output = display.ax_
    shares = [text.get_text() for text in regions.texts]
    assert shares[1] == f"{report.new_errors}\n({report.new_errors / 1800:.1%})"
    assert regions.get_ylabel() == "(sample, output) cells"
    assert per_output.get_xlabel() == "output"
    plt.close(display.figure_)
