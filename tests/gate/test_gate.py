"""The update gate: the rule against a plain-Python oracle, the estimator flows,
flip_cost by cross-validation, the display and the bad inputs.

Most h1/h2 here are scikit-learn models (fast); one test uses a Keras h1 and a
``BCCompatibleClassifier`` h2.
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from _builders import PRIOR_H1
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import bcsk
from bcsk.gate import (
    DEFAULT_FLIP_COSTS,
    CompatibleUpdateClassifier,
    CompatibleUpdateClassifierCV,
    gate_predictions,
)
from bcsk.metrics import bec_scorer, btc_scorer, compatibility_scoring

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bcsk.metrics import CompatibilityTradeoffDisplay, FlipCostDisplay  # noqa: E402

INF = float("inf")


# -- an oracle written without NumPy's vectorised rule --------------------------


def oracle(h1_pred, proba, classes, flip_cost):
    """The gate, one sample at a time, in plain Python floats."""
    classes = list(classes)
    out = []
    for y1, row in zip(h1_pred, proba, strict=True):
        row = [float(p) for p in row]
        best = 0
        for j in range(1, len(row)):  # the first of the tied maxima
            if row[j] > row[best]:
                best = j
        y2 = classes[best]
        if y1 not in classes:
            out.append(y2)
            continue
        p1 = row[classes.index(y1)]
        # inf * 0.0 is nan in Python too, and nan comparisons are False.
        out.append(y2 if row[best] > flip_cost * p1 else y1)
    return out


def scores_by_hand(y, h1_pred, pred):
    y, h1_pred, pred = map(list, (y, h1_pred, pred))
    n = len(y)
    h1_right = [a == t for a, t in zip(h1_pred, y, strict=True)]
    right = [p == t for p, t in zip(pred, y, strict=True)]
    new_errors = sum(h and not r for h, r in zip(h1_right, right, strict=True))
    kept = sum(h and r for h, r in zip(h1_right, right, strict=True))
    wrong = n - sum(right)
    shared = sum((not h) and (not r) for h, r in zip(h1_right, right, strict=True))
    return {
        "accuracy": sum(right) / n,
        "negative_flip_rate": new_errors / n,
        "btc": kept / sum(h1_right) if sum(h1_right) else 1.0,
        "bec": shared / wrong if wrong else 1.0,
    }


# -- data and models ------------------------------------------------------------


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return (X[:150], y[:150]), (X[150:1000], y[150:1000]), (X[1000:], y[1000:])


@pytest.fixture(scope="module")
def h1(split):
    (X, y), _, _ = split
    return logreg().fit(X, y)


def logreg(**kwargs):
    # A loose tolerance keeps each fit well under a second; the tests compare
    # the gate with its own h2, never with a converged optimum.
    return LogisticRegression(max_iter=300, tol=1e-3, **kwargs)


@pytest.fixture(scope="module")
def gate(split, h1):
    _, (X, y), _ = split
    return CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=2.0).fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class LabelsOnly:
    """An h1 that only predicts labels: no fit, no predict_proba, no classes_."""

    def __init__(self, model, mapping=None):
        self.model = model
        self.mapping = mapping

    def predict(self, X):
        labels = self.model.predict(X)
        if self.mapping is not None:
            labels = np.array([self.mapping.get(v, v) for v in labels.tolist()])
        return labels


# -- the rule ---------------------------------------------------------------------


def test_rule_examples_and_ties():
    classes = [0, 1, 2]
    proba = [
        [0.5, 0.5, 0.0],  # tie at the top; y2 = 0, the first of the tied
        [0.5, 0.5, 0.0],
        [0.2, 0.4, 0.4],  # 0.4 == 2 * 0.2 exactly: not > , keep h1
        [0.2, 0.41, 0.39],  # 0.41 > 2 * 0.2: flip
        [0.1, 0.1, 0.8],  # h1's label unknown to h2: h2's label
        [0.0, 1.0, 0.0],  # p2(y1) = 0: any finite cost flips, inf keeps
    ]
    h1_pred = [1, 0, 0, 0, 9, 0]
    assert gate_predictions(
        h1_pred=h1_pred, h2_proba=proba, classes=classes, flip_cost=1
    ).tolist() == [1, 0, 1, 1, 2, 1]
    assert gate_predictions(
        h1_pred=h1_pred, h2_proba=proba, classes=classes, flip_cost=2
    ).tolist() == [1, 0, 0, 1, 2, 1]
    assert gate_predictions(
        h1_pred=h1_pred, h2_proba=proba, classes=classes, flip_cost=INF
    ).tolist() == [1, 0, 0, 0, 2, 0]
    for cost in (1, 2, INF):
        assert gate_predictions(
            h1_pred=h1_pred, h2_proba=proba, classes=classes, flip_cost=cost
        ).tolist() == oracle(h1_pred, proba, classes, cost)


def test_flip_cost_1_is_h2_up_to_ties_with_h1(gate, split):
    _, _, (X, y) = split
    h2 = gate.estimator_
    proba = h2.predict_proba(X)
    # No exact ties in a logistic regression's float64 probabilities...
    top2 = np.sort(proba, axis=1)[:, -2:]
    assert (top2[:, 1] > top2[:, 0]).all()
    # ... so flip_cost=1 serves h2's own predictions.
    served = gate_predictions(
        h1_pred=gate.h1.predict(X), h2_proba=proba, classes=h2.classes_, flip_cost=1
    )
    np.testing.assert_array_equal(served, h2.predict(X))


@st.composite
def gate_inputs(draw):
    n_classes = draw(st.integers(2, 4))
    n = draw(st.integers(1, 25))
    string = draw(st.booleans())
    classes = [f"c{j}" for j in range(n_classes)] if string else list(range(n_classes))
    unknown = "zz" if string else 99
    # Small integer scores give many exact ties and exact products.
    proba = draw(
        st.lists(
            st.lists(st.integers(0, 4), min_size=n_classes, max_size=n_classes).filter(
                any
            ),
            min_size=n,
            max_size=n,
        )
    )
    h1_pred = draw(
        st.lists(st.sampled_from([*classes, unknown]), min_size=n, max_size=n)
    )
    cost = draw(st.sampled_from([1, 1.5, 2, 3, 4, INF]) | st.floats(1, 10))
    return h1_pred, proba, classes, cost


@given(gate_inputs())
def test_rule_matches_oracle(inputs):
    h1_pred, proba, classes, cost = inputs
    got = gate_predictions(
        h1_pred=h1_pred,
        h2_proba=np.asarray(proba, dtype=float),
        classes=np.asarray(classes),
        flip_cost=cost,
    )
    assert got.tolist() == oracle(h1_pred, proba, classes, cost)


@given(gate_inputs())
def test_larger_cost_keeps_more_of_h1(inputs):
    h1_pred, proba, classes, _ = inputs
    kept = [
        np.asarray(
            gate_predictions(
                h1_pred=h1_pred, h2_proba=proba, classes=classes, flip_cost=c
            )
        )
        == np.asarray(h1_pred)
        for c in (1, 1.5, 2, 4, INF)
    ]
    for smaller, larger in zip(kept, kept[1:], strict=False):
        assert (larger >= smaller).all()


def test_gate_new_errors_are_h2_new_errors(gate, split):
    _, _, (X, y) = split
    h1_right = gate.h1.predict(X) == y
    h2_new = h1_right & (gate.estimator_.predict(X) != y)
    rates = []
    for cost in (1, 1.5, 2, 3, INF):
        gated = gate_predictions(
            h1_pred=gate.h1.predict(X),
            h2_proba=gate.predict_proba(X),
            classes=gate.classes_,
            flip_cost=cost,
        )
        gate_new = h1_right & (gated != y)
        assert not (gate_new & ~h2_new).any()
        rates.append(gate_new.mean())
    assert rates == sorted(rates, reverse=True) and rates[-1] == 0
    assert rates[0] > rates[2]  # the realistic case: the gate does cut flips


def test_gate_predictions_bad_input():
    proba = [[0.3, 0.7]]
    with pytest.raises(ValueError, match="flip_cost must be a number >= 1"):
        gate_predictions(h1_pred=[0], h2_proba=proba, classes=[0, 1], flip_cost=0.5)
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\)"):
        gate_predictions(h1_pred=[0, 1], h2_proba=proba, classes=[0, 1])
    with pytest.raises(ValueError, match="NaN, infinite or negative"):
        gate_predictions(h1_pred=[0], h2_proba=[[np.nan, 1]], classes=[0, 1])
    with pytest.raises(ValueError, match="1-D"):
        gate_predictions(h1_pred=np.zeros((2, 1, 1)), h2_proba=proba, classes=[0, 1])
    # Two columns are a multilabel indicator, decided per label: shapes must agree.
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_labels\) = \(1, 2\)"):
        gate_predictions(h1_pred=[[0, 1]], h2_proba=[0.3, 0.7], classes=[0, 1])


# -- the estimator ------------------------------------------------------------------


def test_predict_matches_oracle_and_proba_is_h2s(gate, split):
    _, _, (X, y) = split
    expected = oracle(
        gate.h1.predict(X), gate.estimator_.predict_proba(X), gate.classes_, 2.0
    )
    assert gate.predict(X).tolist() == expected
    np.testing.assert_array_equal(
        gate.predict_proba(X), gate.estimator_.predict_proba(X)
    )
    assert gate.score(X, y) == np.mean(np.asarray(expected) == y)
    assert gate.n_features_in_ == X.shape[1]


def test_fit_fits_a_clone_and_keeps_h1(split, h1):
    _, (X, y), _ = split
    h2 = logreg()
    coef = h1.coef_.copy()
    gate = CompatibleUpdateClassifier(h2, h1=h1).fit(X, y)
    assert not hasattr(h2, "coef_")  # the estimator passed stays unfitted
    assert gate.estimator_ is not h2
    assert gate.h1 is h1
    np.testing.assert_array_equal(h1.coef_, coef)  # h1 untouched
    copy = clone(gate)
    assert copy.h1 is h1 and copy.estimator is not gate.estimator
    assert not hasattr(copy, "estimator_")


def test_frozen_h2_is_used_as_is(split, h1):
    _, (X, y), (X_test, _) = split
    trained = logreg().fit(X, y)
    coef = trained.coef_.copy()
    frozen = FrozenEstimator(trained)
    # Fitting on other data trains nothing.
    gate = CompatibleUpdateClassifier(frozen, h1=h1).fit(X[:300], y[:300])
    assert gate.estimator_ is frozen
    np.testing.assert_array_equal(trained.coef_, coef)
    np.testing.assert_array_equal(
        gate.predict_proba(X_test), trained.predict_proba(X_test)
    )


@pytest.mark.parametrize(
    "kind", ["sklearn", "callable", "labels_only", "no_predict_proba", "frozen"]
)
def test_every_kind_of_h1(kind, split):
    (X1, y1), (X, y), (X_test, _) = split
    fitted = logreg().fit(X1, y1)
    h1 = {
        "sklearn": fitted,
        "callable": fitted.predict_proba,
        "labels_only": LabelsOnly(fitted),
        "no_predict_proba": RidgeClassifier().fit(X1, y1),
        "frozen": FrozenEstimator(fitted),
    }[kind]
    labels = (
        RidgeClassifier().fit(X1, y1) if kind == "no_predict_proba" else fitted
    ).predict(X_test)
    gate = CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=1.5).fit(X, y)
    proba = gate.estimator_.predict_proba(X_test)
    assert gate.predict(X_test).tolist() == oracle(labels, proba, gate.classes_, 1.5)
    assert clone(gate).h1 is h1


def test_labels_only_h1_in_bcsk_h1_handling_and_scorers(split):
    from bcsk import _h1
    from bcsk.metrics import make_btc_scorer

    (X1, y1), (X, y), (X_test, y_test) = split
    fitted = logreg().fit(X1, y1)
    h1 = LabelsOnly(fitted)
    assert _h1.h1_kind(h1) == "predictor"
    assert not _h1.has_probabilities(h1)
    with pytest.raises(ValueError, match="only predicts labels"):
        _h1.h1_outputs(h1, X_test, np.arange(10), need_probabilities=True)

    class Wrong:
        def predict(self, X):
            return np.zeros((len(X), 3))

    with pytest.raises(ValueError, match="one label per sample"):
        _h1.h1_predict(Wrong(), X_test, np.arange(10))
    gate = CompatibleUpdateClassifier(logreg(), h1=h1).fit(X, y)
    # btc_scorer finds the labels-only h1 on the gate; same as the fitted model.
    assert btc_scorer(gate, X_test, y_test) == make_btc_scorer(fitted)(
        gate, X_test, y_test
    )


def test_h1_that_knows_fewer_classes_and_unknown_labels(split):
    (X1, y1), (X, y), (X_test, _) = split
    few = logreg().fit(X1[y1 < 5], y1[y1 < 5])  # knows 0..4 only
    gate = CompatibleUpdateClassifier(logreg(), h1=few).fit(X, y)
    proba = gate.estimator_.predict_proba(X_test)
    assert gate.predict(X_test).tolist() == oracle(
        few.predict(X_test), proba, gate.classes_, 2.0
    )
    # h1 labels that h2 does not know are replaced by h2's label.
    renamed = LabelsOnly(logreg().fit(X1, y1), mapping={3: 30, 4: 40})
    gate = CompatibleUpdateClassifier(logreg(), h1=renamed).fit(X, y)
    served = gate.predict(X_test)
    unknown = np.isin(renamed.predict(X_test), [30, 40])
    assert unknown.any()
    np.testing.assert_array_equal(
        served[unknown], gate.estimator_.predict(X_test)[unknown]
    )
    assert set(served.tolist()) <= set(gate.classes_.tolist())


def test_string_labels_and_dataframe(split):
    pd = pytest.importorskip("pandas")
    (X1, y1), (X, y), (X_test, _) = split
    names = np.array([f"digit {v}" for v in range(10)])
    columns = [f"px{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    h1 = logreg().fit(pd.DataFrame(X1, columns=columns), names[y1])
    gate = CompatibleUpdateClassifier(logreg(), h1=h1).fit(frame, names[y])
    test = pd.DataFrame(X_test, columns=columns)
    served = gate.predict(test)
    assert served.dtype == gate.classes_.dtype
    assert served.tolist() == oracle(
        h1.predict(test), gate.predict_proba(test), gate.classes_, 2.0
    )
    assert list(gate.feature_names_in_) == columns


def test_sample_weight_and_fit_params_reach_h2(split, h1):
    _, (X, y), _ = split
    weight = np.where(y % 2 == 0, 3.0, 1.0)
    gate = CompatibleUpdateClassifier(logreg(), h1=h1).fit(X, y, sample_weight=weight)
    direct = logreg().fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(gate.estimator_.coef_, direct.coef_)


def test_pickle_round_trip(gate, split):
    _, _, (X, _) = split
    restored = pickle.loads(pickle.dumps(gate))
    np.testing.assert_array_equal(restored.predict(X), gate.predict(X))
    assert restored.flip_cost == gate.flip_cost


def test_top_level_names():
    assert bcsk.CompatibleUpdateClassifier is CompatibleUpdateClassifier
    assert bcsk.CompatibleUpdateClassifierCV is CompatibleUpdateClassifierCV
    assert bcsk.gate_predictions is gate_predictions
    assert bcsk.FlipCostDisplay is FlipCostDisplay


def test_pipeline_gives_h1_the_transformed_X(split):
    (X1, y1), (X, y), (X_test, y_test) = split
    scaler = StandardScaler().fit(X)
    h1 = logreg().fit(scaler.transform(X1), y1)  # h1 works on scaled features
    pipe = make_pipeline(
        StandardScaler(), CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=3)
    ).fit(X, y)
    gate = pipe[-1]
    Xt = pipe[:-1].transform(X_test)
    expected = oracle(h1.predict(Xt), gate.predict_proba(Xt), gate.classes_, 3)
    assert pipe.predict(X_test).tolist() == expected
    # bcsk's scorers find h1 on the pipeline's last step.
    btc = btc_scorer(pipe, X_test, y_test)
    assert btc == pytest.approx(scores_by_hand(y_test, h1.predict(Xt), expected)["btc"])


def test_grid_search_over_flip_cost_and_h2_params(split, h1):
    _, (X, y), (X_test, y_test) = split
    search = GridSearchCV(
        CompatibleUpdateClassifier(logreg(), h1=h1),
        {"flip_cost": [1.0, 2.0, 4.0], "estimator__C": [0.1, 1.0]},
        scoring=compatibility_scoring(),
        refit="accuracy",
        cv=3,
    ).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 6
    assert search.best_estimator_.h1 is h1
    # More cost, more of h1's answers kept: mean BTC grows with flip_cost.
    for c in (0.1, 1.0):
        rows = [i for i, p in enumerate(results["params"]) if p["estimator__C"] == c]
        btc = [results["mean_test_btc"][i] for i in rows]
        assert btc == sorted(btc)
    best = search.best_estimator_
    assert best.estimator_.C == search.best_params_["estimator__C"]
    assert btc_scorer(search, X_test, y_test) == btc_scorer(best, X_test, y_test)


def test_cross_val_score_with_bcsk_scorers(split, h1):
    _, (X, y), _ = split
    cv = StratifiedKFold(3)
    gate = CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=2.0)
    got = cross_validate(
        gate, X, y, cv=cv, scoring={"btc": btc_scorer, "bec": bec_scorer}
    )
    for i, (train, test) in enumerate(cv.split(X, y)):
        h2 = logreg().fit(X[train], y[train])
        pred = oracle(h1.predict(X[test]), h2.predict_proba(X[test]), h2.classes_, 2.0)
        by_hand = scores_by_hand(y[test], h1.predict(X[test]), pred)
        assert got["test_btc"][i] == pytest.approx(by_hand["btc"])
        assert got["test_bec"][i] == pytest.approx(by_hand["bec"])
    accuracy = cross_val_score(gate, X, y, cv=cv)
    assert accuracy.shape == (3,)


def test_keras_h1_and_bc_compatible_h2(digits, digits_h1):
    keras = pytest.importorskip("keras")
    X, y = digits
    keras.utils.set_random_seed(0)

    def build(meta):
        return keras.Sequential(
            [
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Dense(meta["n_classes_"], activation="softmax"),
            ]
        )

    h2 = bcsk.BCCompatibleClassifier(
        build,
        h1=digits_h1,
        loss="sparse_categorical_crossentropy",
        epochs=2,
        batch_size=256,
        random_state=0,
    )
    gate = CompatibleUpdateClassifier(h2, h1=digits_h1, flip_cost=2.0)
    gate.fit(X[300:1200], y[300:1200])
    X_test = X[1200:1400]
    h1_labels = np.argmax(digits_h1.predict(X_test, verbose=0), axis=1)
    proba = gate.predict_proba(X_test)
    assert gate.predict(X_test).tolist() == oracle(h1_labels, proba, gate.classes_, 2.0)
    assert clone(gate).h1 is digits_h1
    assert not hasattr(h2, "model_")  # a clone was trained
    # The study's flow: an already trained BCCompatibleClassifier, frozen.
    frozen = CompatibleUpdateClassifier(
        FrozenEstimator(gate.estimator_), h1=digits_h1, flip_cost=2.0
    ).fit(X[:50], y[:50])
    np.testing.assert_array_equal(frozen.predict(X_test), gate.predict(X_test))


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0.5, 0, -1, np.nan, "2", None, [2.0]])
def test_bad_flip_cost(bad, split, h1):
    _, (X, y), _ = split
    gate = CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=bad)
    with pytest.raises(
        ValueError, match=r"'flip_cost'.*range \[1(\.0)?, inf\].*number >= 1"
    ):
        gate.fit(X, y)
    assert not hasattr(gate, "estimator_")


def test_infinite_flip_cost_keeps_every_known_h1_label(split, h1):
    _, (X, y), (X_test, _) = split
    gate = CompatibleUpdateClassifier(logreg(), h1=h1, flip_cost=np.inf).fit(X, y)
    np.testing.assert_array_equal(gate.predict(X_test), h1.predict(X_test))


def test_h1_missing_or_unusable(split):
    _, (X, y), _ = split
    with pytest.raises(ValueError, match="h1 is required"):
        CompatibleUpdateClassifier(logreg()).fit(X, y)
    with pytest.raises(TypeError, match="h1 must be a Keras model"):
        CompatibleUpdateClassifier(logreg(), h1=42).fit(X, y)
    with pytest.raises(NotFittedError, match="h1 .* is not fitted"):
        CompatibleUpdateClassifier(logreg(), h1=logreg()).fit(X, y)


@pytest.mark.parametrize("h2", [SVC(), LinearSVC(), FrozenEstimator(LinearSVC())])
def test_h2_without_predict_proba(h2, split, h1):
    _, (X, y), _ = split
    for cls in (CompatibleUpdateClassifier, CompatibleUpdateClassifierCV):
        with pytest.raises(ValueError, match="predict_proba.*CalibratedClassifierCV"):
            cls(h2, h1=h1).fit(X, y)


def test_h1_labels_share_none_with_y(split):
    (X1, y1), (X, y), _ = split
    # A scikit-learn h1 trained on other labels: bcsk's h1 check says so.
    words = logreg().fit(X1, np.array(["a", "b"])[y1 % 2])
    with pytest.raises(ValueError, match="None of the labels in y"):
        CompatibleUpdateClassifier(logreg(), h1=words).fit(X, y)
    # An h1 that only predicts: its labels on the training rows are checked.
    strings = LabelsOnly(logreg().fit(X1, y1.astype(str)))
    gate = CompatibleUpdateClassifier(logreg(), h1=strings)
    with pytest.raises(ValueError, match="h1's labels share none with the classes"):
        gate.fit(X, y)
    assert not hasattr(gate, "estimator_")


def test_bad_h2_probabilities_and_unfitted_predict(split, h1):
    _, (X, y), (X_test, _) = split

    class NaNProba(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            return np.full((len(X), len(self.classes_)), np.nan)

    gate = CompatibleUpdateClassifier(NaNProba(), h1=h1).fit(X, y)
    with pytest.raises(ValueError, match="h2's predict_proba holds NaN"):
        gate.predict(X_test)
    with pytest.raises(NotFittedError):
        CompatibleUpdateClassifier(logreg(), h1=h1).predict(X_test)


# -- flip_cost by cross-validation -----------------------------------------------------


@pytest.fixture(scope="module")
def search(split, h1):
    _, (X, y), _ = split
    return CompatibleUpdateClassifierCV(
        logreg(), h1=h1, flip_costs=[1.5, 2, 3, 6], max_accuracy_drop=0.01, cv=3
    ).fit(X, y)


def test_cv_results_layout(search):
    results = search.cv_results_
    costs = [1.0, 1.5, 2.0, 3.0, 6.0]  # 1 is always added
    assert results["param_flip_cost"].tolist() == costs
    assert results["params"] == [{"flip_cost": c} for c in costs]
    for name in ("accuracy", "neg_nfr", "btc", "bec"):
        splits = np.array([results[f"split{i}_test_{name}"] for i in range(3)])
        np.testing.assert_allclose(results[f"mean_test_{name}"], splits.mean(axis=0))
        np.testing.assert_allclose(results[f"std_test_{name}"], splits.std(axis=0))
        assert results[f"rank_test_{name}"].shape == (5,)
    # Rank 1 is the fewest flips, but the highest BTC.
    assert results["rank_test_neg_nfr"].tolist() == [5, 4, 3, 2, 1]
    assert np.all(results["mean_test_neg_nfr"] <= 0)
    assert results["rank_test_btc"].tolist() == [5, 4, 3, 2, 1]
    assert search.n_splits_ == 3


def test_cv_fold_scores_match_hand_computation(search, split, h1):
    _, (X, y), _ = split
    for i, (train, test) in enumerate(StratifiedKFold(3).split(X, y)):
        h2 = logreg().fit(X[train], y[train])
        for row, cost in enumerate(search.cv_results_["param_flip_cost"]):
            pred = oracle(
                h1.predict(X[test]), h2.predict_proba(X[test]), h2.classes_, cost
            )
            by_hand = scores_by_hand(y[test], h1.predict(X[test]), pred)
            by_hand["neg_nfr"] = -by_hand.pop("negative_flip_rate")
            for name, value in by_hand.items():
                assert search.cv_results_[f"split{i}_test_{name}"][row] == (
                    pytest.approx(value)
                )


def chosen_by_hand(results, max_drop):
    accuracy = list(results["mean_test_accuracy"])
    flips = list(-results["mean_test_neg_nfr"])
    costs = list(results["param_flip_cost"])
    eligible = [
        i for i in range(len(costs)) if accuracy[i] >= accuracy[0] - max_drop - 1e-12
    ]
    return min(eligible, key=lambda i: (flips[i], -accuracy[i], costs[i]))


@pytest.mark.parametrize("max_drop", [0.0, 0.005, 0.01, 0.03, 1.0])
def test_cv_selection_rule(max_drop, split, h1):
    _, (X, y), _ = split
    search = CompatibleUpdateClassifierCV(
        logreg(), h1=h1, max_accuracy_drop=max_drop, cv=3
    ).fit(X, y)
    results = search.cv_results_
    assert results["param_flip_cost"].tolist() == list(DEFAULT_FLIP_COSTS)
    assert search.best_index_ == chosen_by_hand(results, max_drop)
    assert search.flip_cost_ == results["param_flip_cost"][search.best_index_]
    accuracy = results["mean_test_accuracy"]
    assert accuracy[search.best_index_] >= accuracy[0] - max_drop - 1e-12
    if max_drop == 1.0:  # no accuracy budget: the fewest flips of the grid
        flips = -results["mean_test_neg_nfr"]
        assert flips[search.best_index_] == flips.min()


def test_cv_refits_once_and_serves_the_chosen_gate(search, split, h1):
    _, (X, y), (X_test, y_test) = split
    best = search.best_estimator_
    assert isinstance(best, CompatibleUpdateClassifier)
    assert best.flip_cost == search.flip_cost_ and best.h1 is h1
    assert best.estimator_ is search.estimator_
    direct = logreg().fit(X, y)
    np.testing.assert_allclose(search.estimator_.coef_, direct.coef_)
    np.testing.assert_array_equal(search.predict(X_test), best.predict(X_test))
    np.testing.assert_array_equal(
        search.predict_proba(X_test), direct.predict_proba(X_test)
    )
    # Scorers find h1 through best_estimator_; clone keeps h1 shared.
    assert btc_scorer(search, X_test, y_test) == btc_scorer(best, X_test, y_test)
    assert clone(search).h1 is h1
    assert clone(best).flip_cost == search.flip_cost_


FITS = []


class CountingLogReg(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        FITS.append(len(y))
        return super().fit(X, y, sample_weight=sample_weight)


def test_cv_fits_h2_once_per_fold_whatever_the_grid(split, h1):
    _, (X, y), _ = split
    FITS.clear()
    CompatibleUpdateClassifierCV(
        CountingLogReg(max_iter=300, tol=1e-3),
        h1=h1,
        flip_costs=np.linspace(1, 8, 30),
        cv=4,
    ).fit(X, y)
    assert len(FITS) == 4 + 1 and FITS[-1] == len(y)


def test_cv_prefit_with_frozen_h2(split, h1):
    _, (X, y), (X_val, y_val) = split
    trained = logreg().fit(X, y)
    coef = trained.coef_.copy()
    search = CompatibleUpdateClassifierCV(
        FrozenEstimator(trained), h1=h1, cv="prefit"
    ).fit(X_val, y_val)
    assert search.n_splits_ == 1
    np.testing.assert_array_equal(trained.coef_, coef)
    row = search.best_index_
    pred = oracle(
        h1.predict(X_val),
        trained.predict_proba(X_val),
        trained.classes_,
        search.flip_cost_,
    )
    assert search.cv_results_["split0_test_accuracy"][row] == pytest.approx(
        np.mean(np.asarray(pred) == y_val)
    )
    with pytest.raises(NotFittedError, match="cv='prefit'.*FrozenEstimator"):
        CompatibleUpdateClassifierCV(logreg(), h1=h1, cv="prefit").fit(X_val, y_val)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(flip_costs=[0.5, 2]), "each of flip_costs must be a number >= 1"),
        (dict(flip_costs=[np.nan]), "each of flip_costs must be a number >= 1"),
        (dict(flip_costs=["a"]), "each of flip_costs must be a number >= 1"),
        (dict(max_accuracy_drop=-0.1), "'max_accuracy_drop'.*fraction"),
        (dict(max_accuracy_drop=2), "'max_accuracy_drop'"),
        (dict(cv="folds"), "'cv'.*'prefit'"),
    ],
)
def test_cv_bad_input(params, match, split, h1):
    _, (X, y), _ = split
    with pytest.raises(ValueError, match=match):
        CompatibleUpdateClassifierCV(logreg(), h1=h1, **params).fit(X, y)
    with pytest.raises(ValueError, match="h1 is required"):
        CompatibleUpdateClassifierCV(logreg()).fit(X, y)


def test_cv_results_work_with_tradeoff_display(search):
    display = CompatibilityTradeoffDisplay.from_cv_results(
        search.cv_results_, lambda_param="flip_cost"
    )
    assert display.ax_ is not None  # from_cv_results draws
    np.testing.assert_allclose(display.btc, search.cv_results_["mean_test_btc"])
    assert len(display.scatters_) == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gate_in_a_search_of_pipelines(split, h1):
    _, (X, y), _ = split
    h2 = MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    pipe = Pipeline([("gate", CompatibleUpdateClassifier(h2, h1=h1))])
    search = GridSearchCV(
        pipe,
        {"gate__flip_cost": [1, 3]},
        scoring=compatibility_scoring(),
        refit="btc",
        cv=2,
    ).fit(X[:400], y[:400])
    assert search.best_params_ == {"gate__flip_cost": 3}
    assert search.best_estimator_[-1].h1 is h1


# -- the display ----------------------------------------------------------------


def test_display_from_estimator(gate, split):
    _, _, (X, y) = split
    display = FlipCostDisplay.from_estimator(gate, X, y)
    costs = sorted({*DEFAULT_FLIP_COSTS, gate.flip_cost})
    np.testing.assert_array_equal(display.flip_costs, costs)
    for cost, acc, nfr, btc in zip(
        display.flip_costs,
        display.accuracy,
        display.negative_flip_rate,
        display.btc,
        strict=True,
    ):
        pred = oracle(
            h1_pred := gate.h1.predict(X), gate.predict_proba(X), gate.classes_, cost
        )
        by_hand = scores_by_hand(y, h1_pred, pred)
        assert (acc, nfr, btc) == pytest.approx(
            (by_hand["accuracy"], by_hand["negative_flip_rate"], by_hand["btc"])
        )
    assert display.accuracy[costs.index(gate.flip_cost)] == gate.score(X, y)
    assert display.h1_accuracy == pytest.approx(gate.h1.score(X, y))
    # Drawn: one point per cost, the gate's own cost marked, h1's line.
    x, acc = display.line_.get_data()
    np.testing.assert_allclose(x, display.negative_flip_rate)
    assert len(display.annotations_) == len(costs)
    assert display.chosen_ is not None and display.h1_line_ is not None
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_title() == "Update gate: accuracy vs negative flips"


def test_display_from_predictions_on_given_axes(gate, split):
    _, _, (X, y) = split
    _, ax = plt.subplots()
    display = FlipCostDisplay.from_predictions(
        y,
        h1_pred=gate.h1.predict(X),
        h2_proba=gate.predict_proba(X),
        flip_costs=[1, 3],
        metric="btc",
        annotate=False,
        ax=ax,
        color="tab:green",
    )
    assert display.ax_ is ax and display.annotations_ == []
    assert display.chosen_ is None
    assert display.line_.get_color() == "tab:green"
    np.testing.assert_allclose(display.line_.get_data()[0], display.btc)
    assert "BTC" in ax.get_xlabel()


def test_display_from_pipeline_and_cv(search, split, h1):
    _, (X, y), (X_test, y_test) = split
    pipe = make_pipeline(
        StandardScaler(with_std=False),
        CompatibleUpdateClassifier(logreg(), h1=h1),
    ).fit(X, y)
    display = FlipCostDisplay.from_estimator(pipe, X_test, y_test, flip_costs=[1, 2])
    assert display.accuracy[-1] == pytest.approx(pipe.score(X_test, y_test))
    display = FlipCostDisplay.from_estimator(search, X_test, y_test)
    assert search.flip_cost_ in display.flip_costs.tolist()


def test_display_bad_input(gate, split):
    _, _, (X, y) = split
    with pytest.raises(TypeError, match="fitted CompatibleUpdateClassifier"):
        FlipCostDisplay.from_estimator(logreg().fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        FlipCostDisplay.from_estimator(
            CompatibleUpdateClassifier(logreg(), h1=gate.h1), X, y
        )
    with pytest.raises(ValueError, match="metric must be one of"):
        FlipCostDisplay([1], [0.9], [0.01], [0.99]).plot(metric="bec")
    with pytest.raises(ValueError, match="one value per cost"):
        FlipCostDisplay([1, 2], [0.9], [0.01], [0.99]).plot()
    with pytest.raises(ValueError, match="h2_proba must have shape"):
        FlipCostDisplay.from_predictions(
            y[:5], h1_pred=y[:5], h2_proba=np.ones((5, 3)) / 3
        )


def test_gate_and_display_import_no_tensorflow():
    code = (
        "import sys, matplotlib; matplotlib.use('Agg');"
        "from sklearn.datasets import load_iris;"
        "from sklearn.linear_model import LogisticRegression as LR;"
        "from bcsk.gate import CompatibleUpdateClassifier;"
        "from bcsk.metrics import FlipCostDisplay;"
        "X, y = load_iris(return_X_y=True);"
        "h1 = LR(max_iter=300).fit(X[::5], y[::5]);"
        "g = CompatibleUpdateClassifier(LR(max_iter=300), h1=h1).fit(X, y);"
        "FlipCostDisplay.from_estimator(g, X, y);"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- scikit-learn's common checks --------------------------------------------------


_GATE_NOT_ARGMAX = (
    "by design predict is the gate (h1's label unless h2 is flip_cost times "
    "surer) while predict_proba is h2's, so argmax(predict_proba) != predict "
    "where h2 hesitates; the rule is tested against an oracle above"
)
EXPECTED_FAILED_CHECKS = {
    "check_classifiers_train": _GATE_NOT_ARGMAX,
    "check_classifiers_classes": (
        "the check trains on string labels ('one', 'two', 'three') that h1 has "
        "never seen, which is a documented ValueError ('None of the labels in y "
        "... is a class h1 knows'); string labels are tested above"
    ),
}


@parametrize_with_checks(
    [
        CompatibleUpdateClassifier(LogisticRegression(), h1=PRIOR_H1),
        CompatibleUpdateClassifierCV(LogisticRegression(), h1=PRIOR_H1, cv=2),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_gate(estimator, check):
    check(estimator)
