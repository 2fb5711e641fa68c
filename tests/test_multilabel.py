"""Multilabel-indicator y: one sigmoid unit per label, each label its own problem.

The objective is checked against the NumPy oracle of ``_reference`` (per label
``c_il``, per label dissonances, the mean over labels); the estimator against
every kind of h1 and h1's logged outputs; bad layouts get clear errors before
any training.
"""

import keras
import numpy as np
import pytest
from _builders import frozen_weights, narrow_search
from _reference import multilabel_objective
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier

from bcsk import BCCompatibleClassifier
from bcsk.metrics import negative_flip_rate

DISSONANCES = [
    "new_error",
    "strict_imitation",
    "focal_distillation",
    "logit_difference",
]


def digit_tags(y):
    """Four tags of a digit (real data, several tags per image): even, > 4,
    prime, drawn with a closed loop."""
    return np.column_stack(
        [y % 2 == 0, y > 4, np.isin(y, (2, 3, 5, 7)), np.isin(y, (0, 6, 8, 9))]
    ).astype(int)


@pytest.fixture(scope="module")
def tags(digits):
    X, y = digits
    return X[:600], digit_tags(y[:600])


@pytest.fixture(scope="module")
def tags_h1(tags):
    """A scikit-learn multilabel h1 fitted on 100 images (list-valued predict_proba)."""
    X, Y = tags
    return MultiOutputClassifier(LogisticRegression(max_iter=300)).fit(X[:100], Y[:100])


def sigmoid_net(meta, hidden=16):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="sigmoid"),
        ]
    )


def estimator(h1, model=sigmoid_net, **params):
    return BCCompatibleClassifier(
        model,
        h1=h1,
        **{
            "loss": "binary_crossentropy",
            "optimizer": "adam",
            "epochs": 3,
            "random_state": 0,
            **params,
        },
    )


def h1_label_probabilities(h1, X):
    return np.column_stack([p[:, 1] for p in h1.predict_proba(X)])


@pytest.mark.parametrize("dissonance", DISSONANCES)
def test_objective_matches_the_per_label_oracle(dissonance, tags, tags_h1):
    """With a zero learning rate the reported loss is the objective at h2's weights."""
    X, Y = tags
    X, Y = X[100:200], Y[100:200]
    weights = np.linspace(0.5, 1.5, len(Y))
    clf = estimator(
        tags_h1,
        lambda_c=0.7,
        dissonance=dissonance,
        **frozen_weights(len(Y)),
    ).fit(X, Y, sample_weight=weights)
    P2 = keras.ops.convert_to_numpy(clf.model_(X))
    expected = multilabel_objective(
        dissonance, Y, h1_label_probabilities(tags_h1, X), P2, 0.7, weights
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_compatibility_term_is_per_label_not_per_row(tags, tags_h1):
    """A sample with some labels right and some wrong pays only on the right ones:
    the oracle with c per row (all labels right or none) gives another value."""
    X, Y = tags
    X, Y = X[100:200], Y[100:200]
    P1 = h1_label_probabilities(tags_h1, X)
    partly = ((P1 > 0.5) == Y).any(axis=1) & ~((P1 > 0.5) == Y).all(axis=1)
    assert partly.sum() > 5  # the data has such rows, so the check can fail
    clf = estimator(
        tags_h1,
        lambda_c=2.0,
        **frozen_weights(len(Y)),
    ).fit(X, Y)
    P2 = keras.ops.convert_to_numpy(clf.model_(X))
    per_label = multilabel_objective("new_error", Y, P1, P2, 2.0)
    task = multilabel_objective("new_error", Y, P1, P2, 0.0)
    assert clf.history_["loss"][0] == pytest.approx(per_label, rel=1e-4)
    assert abs(per_label - task) > 1e-3


def test_fit_predict_shapes_and_fewer_new_errors(tags, tags_h1):
    X, Y = tags
    X_train, Y_train = X[100:], Y[100:]
    h1_pred = tags_h1.predict(X_train)
    nfr = {}
    for lambda_c in (0.0, 3.0):
        clf = estimator(tags_h1, lambda_c=lambda_c, epochs=15).fit(X_train, Y_train)
        predicted = clf.predict(X_train)
        assert predicted.shape == Y_train.shape
        assert set(np.unique(predicted)) <= {0, 1}
        proba = clf.predict_proba(X_train[:5])
        assert proba.shape == (5, 4) and ((proba >= 0) & (proba <= 1)).all()
        nfr[lambda_c] = negative_flip_rate(Y_train, h1_pred=h1_pred, h2_pred=predicted)
    assert nfr[3.0] < nfr[0.0]


def test_seeded_fit_is_reproducible(tags, tags_h1):
    X, Y = tags
    first = estimator(tags_h1, dissonance="focal_distillation").fit(X, Y)
    second = estimator(tags_h1, dissonance="focal_distillation").fit(X, Y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


class SigmoidCallable:
    """A callable h1 returning label probabilities (a model behind an API)."""

    def __init__(self, h1):
        self.h1 = h1

    def __call__(self, X):
        return h1_label_probabilities(self.h1, X)


class IndicatorPredictor:
    """An h1 that only predicts the 0/1 indicator."""

    def __init__(self, h1):
        self.h1 = h1

    def predict(self, X):
        return self.h1.predict(X)


def keras_h1(tags):
    X, Y = tags
    model = sigmoid_net({"n_features_in_": X.shape[1], "n_classes_": Y.shape[1]})
    model.compile(loss="binary_crossentropy", optimizer="adam")
    model.fit(X[:100], Y[:100], epochs=3, verbose=0)
    return model


@pytest.mark.parametrize("kind", ["keras", "callable", "knn", "predictor", "logged"])
def test_every_kind_of_h1_gives_the_same_objective(kind, tags, tags_h1):
    """h1 as a Keras model, a callable, a k-NN (its own predict_proba layout), a
    label predictor or logged outputs: the first epoch's loss is the oracle's."""
    X, Y = tags
    X, Y = X[100:200], Y[100:200]
    fit_params = {}
    dissonance = "focal_distillation"
    if kind == "keras":
        h1 = keras_h1(tags)
        P1 = keras.ops.convert_to_numpy(h1(X))
    elif kind == "callable":
        h1 = SigmoidCallable(tags_h1)
        P1 = h1(X)
    elif kind == "knn":
        h1 = KNeighborsClassifier(5).fit(*tags)
        P1 = np.column_stack([p[:, 1] for p in h1.predict_proba(X)])
    elif kind == "predictor":
        h1 = IndicatorPredictor(tags_h1)
        P1 = tags_h1.predict(X).astype(float)
        dissonance = "new_error"
    else:
        P1 = h1_label_probabilities(tags_h1, X)
        h1, fit_params = None, {"h1_proba": P1}
    clf = estimator(
        h1,
        lambda_c=0.9,
        dissonance=dissonance,
        **frozen_weights(len(Y)),
    ).fit(X, Y, **fit_params)
    P2 = keras.ops.convert_to_numpy(clf.model_(X))
    expected = multilabel_objective(dissonance, Y, P1, P2, 0.9)
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_logged_labels_train_new_error(tags, tags_h1):
    X, Y = tags
    live = estimator(tags_h1, dissonance="new_error").fit(X, Y)
    logged = estimator(None, dissonance="new_error").fit(
        X, Y, h1_pred=tags_h1.predict(X)
    )
    np.testing.assert_allclose(
        live.predict_proba(X), logged.predict_proba(X), rtol=1e-5
    )


def test_ensemble_and_lambda_path_train_multilabel(tags, tags_h1):

    X, Y = tags
    ensemble = estimator(tags_h1, n_members=2).fit(X, Y)
    assert ensemble.predict(X).shape == Y.shape
    search = narrow_search(
        sigmoid_net,
        h1=tags_h1,
        lambda_cs=[0.0, 1.0],
        cv=2,
        loss="binary_crossentropy",
        optimizer="adam",
        epochs=3,
        random_state=0,
    ).fit(X, Y)
    assert search.predict(X).shape == Y.shape
    assert len(search.cv_results_["params"]) == 2


# -- bad input: the layout of h1 and h2 must be y's ---------------------------------


class WrongWidth:
    def __call__(self, X):
        return np.full((len(X), 3), 0.5)


class NotProbabilities:
    def __call__(self, X):
        return np.full((len(X), 4), 2.0)


class OneLabelPerSample:
    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.mark.parametrize(
    "h1, fit_params, match",
    [
        (WrongWidth(), {}, r"h1's output has shape \(600, 3\) .* of 4 labels"),
        (NotProbabilities(), {}, r"not a table of label probabilities.*sigmoid"),
        (OneLabelPerSample(), {}, r"h1.predict\(X\) has shape \(600,\)"),
        (None, {"h1_proba": np.full((600, 2), 0.5)}, r"h1_proba has shape \(600, 2\)"),
        (None, {"h1_pred": np.full((600, 4), 2)}, r"indicator of 0 and 1"),
    ],
)
def test_h1_outputs_not_in_y_layout_are_refused(h1, fit_params, match, tags):
    X, Y = tags
    dissonance = "new_error"
    with pytest.raises(ValueError, match=match):
        estimator(h1, dissonance=dissonance).fit(X, Y, **fit_params)


def test_h2_width_loss_and_bc_fit_are_checked(tags, tags_h1):
    X, Y = tags

    def three_units(meta):
        return sigmoid_net({**meta, "n_classes_": 3})

    with pytest.raises(ValueError, match=r"4 labels, but h2 outputs 3 column"):
        estimator(tags_h1, model=three_units).fit(X, Y)
    with pytest.raises(ValueError, match=r"loss='binary_crossentropy'"):
        estimator(tags_h1, loss="categorical_crossentropy").fit(X, Y)
    with pytest.raises(ValueError, match=r"method='bc_fit'.*multilabel"):
        estimator(keras_h1(tags), method="bc_fit").fit(X, Y)


# -- scorers: per (sample, label) cell, average= as in bcsk.metrics -----------------


@pytest.fixture(scope="module")
def fitted(tags, tags_h1):
    X, Y = tags
    return estimator(tags_h1, epochs=5).fit(X[100:], Y[100:])


def oracle_btc(Y, P1, P2, average):
    """Share of h1's right cells that h2 keeps, pooled as ``average`` says."""
    h1_right, h2_right = P1 == Y, P2 == Y
    if average == "micro":
        return (h1_right & h2_right).sum() / h1_right.sum()
    axis = 0 if average == "macro" else 1
    kept, right = (h1_right & h2_right).sum(axis=axis), h1_right.sum(axis=axis)
    return np.mean(np.where(right > 0, kept / np.maximum(right, 1), 1.0))


@pytest.mark.parametrize("average", ["micro", "macro", "samples"])
def test_btc_scorer_pools_label_cells(average, fitted, tags, tags_h1):
    from bcsk import make_btc_scorer

    X, Y = tags
    expected = oracle_btc(Y, tags_h1.predict(X), fitted.predict(X), average)
    live = make_btc_scorer(tags_h1, average=average)(fitted, X, Y)
    logged = make_btc_scorer(None, average=average)(
        fitted, X, Y, h1_pred=tags_h1.predict(X)
    )
    assert live == pytest.approx(expected) and logged == pytest.approx(expected)


def test_scorers_take_h1_from_the_estimator_and_score_all_at_once(fitted, tags):
    from bcsk import btc_scorer, compatibility_scoring, neg_nfr_scorer

    X, Y = tags
    P1, P2 = fitted.h1.predict(X), fitted.predict(X)
    new_errors = ((P1 == Y) & (P2 != Y)).sum()
    assert neg_nfr_scorer(fitted, X, Y) == pytest.approx(-new_errors / Y.size)
    assert btc_scorer(fitted, X, Y) == pytest.approx(oracle_btc(Y, P1, P2, "micro"))
    results = compatibility_scoring()(fitted, X, Y)
    assert results["accuracy"] == pytest.approx((P2 == Y).mean())
    assert results["btc"] == pytest.approx(oracle_btc(Y, P1, P2, "micro"))


def test_scorer_refuses_average_none():
    from bcsk import make_btc_scorer

    with pytest.raises(ValueError, match=r"a scorer returns one number"):
        make_btc_scorer(None, average=None)


# -- the gate, per label ------------------------------------------------------------


def oracle_gate(bits, proba, cost):
    """Per cell: h2's bit where its probability of it beats cost x h1's bit's."""
    own = (proba > 0.5).astype(int)
    p_own = np.where(own == 1, proba, 1 - proba)
    p_h1 = np.where(bits == 1, proba, 1 - proba)
    return np.where(p_own > cost * p_h1, own, bits)


def test_gate_predictions_per_label_match_the_oracle():
    from bcsk import gate_predictions

    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(50, 3))
    proba = rng.uniform(size=(50, 3))
    for cost in (1.0, 1.5, 3.0, np.inf):
        got = gate_predictions(
            h1_pred=bits, h2_proba=proba, classes=[0, 1, 2], flip_cost=cost
        )
        np.testing.assert_array_equal(got, oracle_gate(bits, proba, cost))
    # By hand: h1 says 0, h2 gives 0.8: kept at cost 5 (0.8 < 5 x 0.2), flipped at 2.
    assert gate_predictions(
        h1_pred=[[0, 1]], h2_proba=[[0.8, 0.6]], classes=[0, 1], flip_cost=2.0
    ).tolist() == [[1, 1]]
    assert gate_predictions(
        h1_pred=[[0, 1]], h2_proba=[[0.8, 0.6]], classes=[0, 1], flip_cost=5.0
    ).tolist() == [[0, 1]]


def test_gate_classifier_decides_each_label(fitted, tags, tags_h1):
    from sklearn.frozen import FrozenEstimator

    from bcsk import CompatibleUpdateClassifier

    X, Y = tags
    gate = CompatibleUpdateClassifier(
        FrozenEstimator(fitted), h1=tags_h1, flip_cost=2.0
    ).fit(X, Y)
    expected = oracle_gate(tags_h1.predict(X), fitted.predict_proba(X), 2.0)
    np.testing.assert_array_equal(gate.predict(X), expected)
    np.testing.assert_array_equal(gate.predict(X, h1_pred=tags_h1.predict(X)), expected)
    bad = CompatibleUpdateClassifier(FrozenEstimator(fitted), h1=WrongWidth())
    with pytest.raises(ValueError, match=r"of 4 labels"):
        bad.fit(X, Y)


def test_gate_cv_refuses_multilabel(fitted, tags, tags_h1):
    from bcsk import CompatibleUpdateClassifierCV

    X, Y = tags
    with pytest.raises(ValueError, match=r"for a multilabel y use Compatible"):
        CompatibleUpdateClassifierCV(fitted, h1=tags_h1, cv="prefit").fit(X, Y)
