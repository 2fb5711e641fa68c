"""BTC/BEC scorers, tested through scikit-learn's model selection tools.

Every score a search or a cross-validation reports is checked against a hand
computation with :mod:`bcsk.scores` on the same predictions.
"""

import math
import pickle

import keras
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_wine
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from bcsk import BCCompatibleClassifier, metrics, scores
from bcsk.metrics import (
    CompatibilityScorer,
    MultimetricCompatibilityScorer,
    bec_scorer,
    btc_scorer,
    compatibility_scoring,
    make_bec_scorer,
    make_btc_scorer,
    neg_nfi_scorer,
    neg_nfr_scorer,
    neg_relative_nfr_scorer,
    pfr_scorer,
)
from bcsk.model_selection import best_accuracy_with_btc_at_least

# Every key of compatibility_scoring(), the metric it reports, and its sign.
KEYS = ["accuracy", "btc", "bec", "neg_nfr", "pfr", "neg_nfi", "neg_relative_nfr"]
FLIP_SCORERS = {
    "neg_nfr": (neg_nfr_scorer, metrics.negative_flip_rate, -1),
    "pfr": (pfr_scorer, metrics.positive_flip_rate, 1),
    "neg_nfi": (neg_nfi_scorer, metrics.negative_flip_impact, -1),
    "neg_relative_nfr": (
        neg_relative_nfr_scorer,
        metrics.relative_negative_flip_rate,
        -1,
    ),
}

CV = StratifiedKFold(2, shuffle=True, random_state=0)
# Three wine features (alcohol, malic acid, alcalinity of ash): no model gets
# every sample right, so BEC (which divides by h2's errors) is always defined.
FEATURES = [0, 1, 3]
MIN_BTC = 0.8


def build(meta, hidden=16):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def make(h1, **params):
    """Four full-batch eager steps on wine: right often, wrong sometimes."""
    defaults = dict(
        model=build,
        h1=h1,
        lambda_c=1.0,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.1,
        epochs=4,
        batch_size=256,
        random_state=0,
        run_eagerly=True,
    )
    return BCCompatibleClassifier(**{**defaults, **params})


def hand_btc(h1, h2, X_h1, X, y):
    return scores.trust_compatibility_score(h1.predict(X_h1), h2.predict(X), y)


def hand_bec(h1, h2, X_h1, X, y):
    return scores.error_compatibility_score(h1.predict(X_h1), h2.predict(X), y)


def hand_all(h1, h2, X_h1, X, y):
    """Every key of compatibility_scoring(), computed with the public metrics."""
    h1_pred, h2_pred = h1.predict(X_h1), h2.predict(X)
    values = {
        "accuracy": float(np.mean(h2_pred == y)),
        "btc": scores.trust_compatibility_score(h1_pred, h2_pred, y),
        "bec": scores.error_compatibility_score(h1_pred, h2_pred, y),
    }
    for key, (_, metric, sign) in FLIP_SCORERS.items():
        values[key] = sign * metric(y, h1_pred=h1_pred, h2_pred=h2_pred)
    return values


@pytest.fixture(scope="module")
def wine():
    """Raw wine features (means from 2 to 20) and the labels."""
    X, y = load_wine(return_X_y=True)
    return X[:, FEATURES].astype("float32"), y


@pytest.fixture(scope="module")
def scaled(wine):
    X, y = wine
    return StandardScaler().fit_transform(X).astype("float32"), y


@pytest.fixture(scope="module")
def h1(scaled):
    """A weak h1 on scaled wine: right on most samples, not on all."""
    X, y = scaled
    return LogisticRegression(C=0.02).fit(X[::5], y[::5])


@pytest.fixture(scope="module")
def search(scaled, h1):
    X, y = scaled
    search = GridSearchCV(
        make(h1),
        {"lambda_c": [0.0, 2.0], "model__hidden": [8, 16]},
        scoring=compatibility_scoring(),
        refit=best_accuracy_with_btc_at_least(MIN_BTC),
        cv=CV,
    )
    return search.fit(X, y)


# --------------------------------------------------------------------------
# GridSearchCV
# --------------------------------------------------------------------------


def test_search_reports_btc_and_bec(search, h1):
    results = search.cv_results_
    assert [p for p in results["params"]] == [
        {"lambda_c": lam, "model__hidden": hidden}
        for lam in (0.0, 2.0)
        for hidden in (8, 16)
    ]
    for name in KEYS:
        values = results[f"mean_test_{name}"]
        assert values.shape == (4,)
        if name.startswith("neg_"):  # lower is better: negated, as neg_log_loss
            assert np.all(values <= 0)
        else:
            assert np.all((values >= 0) & (values <= 1))
        assert np.all(np.isfinite(results[f"std_test_{name}"]))
    assert search.best_estimator_.h1 is h1  # shared by every clone, never copied


def test_search_split_score_matches_hand_computation(search, scaled, h1):
    """Refit candidate 3 on split 0 by hand (seeded fits are reproducible)."""
    X, y = scaled
    train, test = next(CV.split(X, y))
    candidate = 3
    h2 = clone(search.estimator).set_params(**search.cv_results_["params"][candidate])
    h2.fit(X[train], y[train])
    results = search.cv_results_
    assert results["split0_test_btc"][candidate] == pytest.approx(
        hand_btc(h1, h2, X[test], X[test], y[test])
    )
    assert results["split0_test_bec"][candidate] == pytest.approx(
        hand_bec(h1, h2, X[test], X[test], y[test])
    )
    for key, value in hand_all(h1, h2, X[test], X[test], y[test]).items():
        assert results[f"split0_test_{key}"][candidate] == pytest.approx(value)


def test_refit_callable_picks_what_hand_computation_picks(search):
    results = search.cv_results_
    accuracy, btc = results["mean_test_accuracy"], results["mean_test_btc"]
    eligible = [i for i in range(len(btc)) if btc[i] >= MIN_BTC]
    assert eligible, "the fixture's threshold should leave some candidates"
    expected = max(eligible, key=lambda i: (accuracy[i], -i))
    assert search.best_index_ == expected
    assert search.best_params_ == results["params"][expected]


def test_scorers_on_search_and_best_estimator(search, scaled, h1):
    X, y = scaled
    best = search.best_estimator_
    for scorer, hand in ((btc_scorer, hand_btc), (bec_scorer, hand_bec)):
        expected = hand(h1, best, X, X, y)
        assert scorer(best, X, y) == pytest.approx(expected)
        assert scorer(search, X, y) == pytest.approx(expected)


# --------------------------------------------------------------------------
# Pipeline: h1 was trained on scaled features
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scaled_h1(wine):
    X, y = wine
    scaler = StandardScaler().fit(X)
    return LogisticRegression(C=0.02).fit(scaler.transform(X)[::5], y[::5])


def pipeline(h1):
    return Pipeline([("scale", StandardScaler()), ("clf", make(h1))])


def test_pipeline_scorer_transforms_X_for_h1(wine, scaled_h1):
    X, y = wine
    pipe = pipeline(scaled_h1).fit(X, y)
    X_h1 = pipe[:-1].transform(X)
    # On raw features h1 is useless: a scorer that forgot the scaler differs.
    assert (
        np.mean(scaled_h1.predict(X) == y) < 0.6 < np.mean(scaled_h1.predict(X_h1) == y)
    )
    expected_btc = hand_btc(scaled_h1, pipe, X_h1, X, y)
    assert btc_scorer(pipe, X, y) == pytest.approx(expected_btc)
    assert expected_btc != pytest.approx(hand_btc(scaled_h1, pipe, X, X, y))
    assert bec_scorer(pipe, X, y) == pytest.approx(
        hand_bec(scaled_h1, pipe, X_h1, X, y)
    )


def test_search_over_pipeline(wine, scaled_h1):
    X, y = wine
    search = GridSearchCV(
        pipeline(scaled_h1),
        {"clf__lambda_c": [0.0, 2.0]},
        scoring=compatibility_scoring(),
        refit="btc",
        cv=CV,
    ).fit(X, y)
    assert search.best_index_ == int(np.argmax(search.cv_results_["mean_test_btc"]))
    best = search.best_estimator_
    expected = hand_btc(scaled_h1, best, best[:-1].transform(X), X, y)
    assert btc_scorer(search, X, y) == pytest.approx(expected)
    assert btc_scorer(best, X, y) == pytest.approx(expected)
    # split 0 of candidate 0, by hand
    train, test = next(CV.split(X, y))
    pipe = clone(search.estimator).set_params(clf__lambda_c=0.0).fit(X[train], y[train])
    assert search.cv_results_["split0_test_btc"][0] == pytest.approx(
        hand_btc(scaled_h1, pipe, pipe[:-1].transform(X[test]), X[test], y[test])
    )


# --------------------------------------------------------------------------
# cross_val_score and cross_validate
# --------------------------------------------------------------------------


def test_cross_val_score_and_cross_validate_agree(scaled, h1):
    X, y = scaled
    clf = make(h1)
    btc = cross_val_score(clf, X, y, cv=CV, scoring=btc_scorer)
    results = cross_validate(
        clf, X, y, cv=CV, scoring=compatibility_scoring(), return_estimator=True
    )
    np.testing.assert_allclose(results["test_btc"], btc)
    for (_, test), h2, btc_fold, bec_fold in zip(
        CV.split(X, y),
        results["estimator"],
        results["test_btc"],
        results["test_bec"],
        strict=True,
    ):
        assert h2.h1 is h1
        assert btc_fold == pytest.approx(hand_btc(h1, h2, X[test], X[test], y[test]))
        assert bec_fold == pytest.approx(hand_bec(h1, h2, X[test], X[test], y[test]))
    # The flip scorers take h1 from the estimator too; each key matches its
    # single scorer and the hand computation, fold by fold.
    neg_nfr = cross_val_score(clf, X, y, cv=CV, scoring=neg_nfr_scorer)
    np.testing.assert_allclose(results["test_neg_nfr"], neg_nfr)
    for fold, ((_, test), h2) in enumerate(
        zip(CV.split(X, y), results["estimator"], strict=True)
    ):
        for key, value in hand_all(h1, h2, X[test], X[test], y[test]).items():
            assert results[f"test_{key}"][fold] == pytest.approx(value)
        for key, (scorer, _, _) in FLIP_SCORERS.items():
            assert scorer(h2, X[test], y[test]) == results[f"test_{key}"][fold]


def test_make_scorers_with_any_classifier(scaled, h1):
    """No BCCompatibleClassifier: a random forest scored against h1."""
    X, y = scaled
    forest = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0)
    results = cross_validate(
        forest, X, y, cv=CV, scoring=compatibility_scoring(h1), return_estimator=True
    )
    btc = cross_val_score(forest, X, y, cv=CV, scoring=make_btc_scorer(h1))
    np.testing.assert_allclose(results["test_btc"], btc)
    for (_, test), h2, btc_fold, bec_fold in zip(
        CV.split(X, y),
        results["estimator"],
        results["test_btc"],
        results["test_bec"],
        strict=True,
    ):
        assert btc_fold == pytest.approx(hand_btc(h1, h2, X[test], X[test], y[test]))
        assert bec_fold == pytest.approx(hand_bec(h1, h2, X[test], X[test], y[test]))
    fitted = results["estimator"][0]
    # A callable h1 is read in the order of the scored estimator's classes_.
    assert make_btc_scorer(h1.predict_proba)(fitted, X, y) == pytest.approx(
        make_btc_scorer(h1)(fitted, X, y)
    )
    assert make_bec_scorer(h1.predict_proba)(fitted, X, y) == pytest.approx(
        make_bec_scorer(h1)(fitted, X, y)
    )


def test_btc_scorer_needs_an_h1(scaled):
    X, y = scaled
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    pipe = Pipeline([("scale", StandardScaler()), ("rf", forest)]).fit(X, y)
    for estimator in (forest, pipe):
        with pytest.raises(
            ValueError, match="Cannot find h1 on RandomForestClassifier"
        ):
            btc_scorer(estimator, X, y)
        with pytest.raises(ValueError, match="make_bec_scorer"):
            bec_scorer(estimator, X, y)
    # make_btc_scorer(None) takes h1 from the estimator, or from routed labels.
    with pytest.raises(ValueError, match="Cannot find h1 on RandomForestClassifier"):
        make_btc_scorer(None)(forest, X, y)
    with pytest.raises(TypeError, match="h1 must be a Keras model"):
        make_bec_scorer(42)


# --------------------------------------------------------------------------
# Flip-rate scorers, and one prediction per fold
# --------------------------------------------------------------------------


def test_flip_scorers_through_cross_val_score_with_given_h1(scaled, h1):
    X, y = scaled
    forest = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0)
    scoring = compatibility_scoring(h1)
    results = cross_validate(
        forest, X, y, cv=CV, scoring=scoring, return_estimator=True
    )
    for key, (_, metric, sign) in FLIP_SCORERS.items():
        # The mapping gives each key's single scorer, against the same h1.
        single = cross_val_score(forest, X, y, cv=CV, scoring=scoring[key])
        np.testing.assert_allclose(results[f"test_{key}"], single)
        by_hand = CompatibilityScorer(metric, h1=h1, greater_is_better=sign > 0)
        assert cross_val_score(forest, X, y, cv=CV, scoring=by_hand) == pytest.approx(
            single
        )
    for (_, test), h2, fold in zip(
        CV.split(X, y), results["estimator"], range(2), strict=True
    ):
        for key, value in hand_all(h1, h2, X[test], X[test], y[test]).items():
            assert results[f"test_{key}"][fold] == pytest.approx(value)
    # Lower NFR is better: its scorer is minus the metric.
    assert np.all(results["test_neg_nfr"] < 0)


def test_refit_on_negated_metric_picks_the_fewest_flips(scaled, h1):
    X, y = scaled
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [1, 2, 3, None]},
        scoring=compatibility_scoring(h1),
        refit="neg_nfr",
        cv=CV,
    ).fit(X, y)
    nfr = -search.cv_results_["mean_test_neg_nfr"]
    assert search.best_index_ == int(np.argmin(nfr))
    assert search.cv_results_["rank_test_neg_nfr"][search.best_index_] == 1
    assert search.best_score_ == pytest.approx(-nfr.min())


def test_multimetric_scorer_equals_the_single_scorers(scaled, h1):
    X, y = scaled
    forest = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0)
    forest.fit(X[::2], y[::2])
    scoring = compatibility_scoring(h1)
    assert isinstance(scoring, MultimetricCompatibilityScorer)
    assert list(scoring) == KEYS and len(scoring) == len(KEYS)
    values = scoring(forest, X, y)
    assert list(values) == KEYS
    for key in KEYS:
        assert values[key] == get_scorer(scoring[key])(forest, X, y)
    assert values == hand_all(h1, forest, X, X, y)
    with pytest.raises(KeyError):
        scoring["f1"]
    assert "MultimetricCompatibilityScorer" in repr(scoring)
    assert repr(neg_nfr_scorer) == (
        "CompatibilityScorer(negative_flip_rate, h1=estimator.h1, "
        "greater_is_better=False)"
    )


CALLS = {"h1": 0, "h2": 0}


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """A depth-limited tree that counts its predictions, with an ``h1`` param."""

    def __init__(self, h1=None, max_depth=1):
        self.h1 = h1
        self.max_depth = max_depth

    def fit(self, X, y):
        self.tree_ = DecisionTreeClassifier(max_depth=self.max_depth, random_state=0)
        self.tree_.fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X):
        CALLS["h2"] += 1
        return self.tree_.predict(X)


@pytest.fixture
def counting(scaled, h1):
    """h1 as a callable that counts its calls (clone keeps a function as is)."""

    def counted_h1(X):
        CALLS["h1"] += 1
        return h1.predict_proba(X)

    CALLS.update(h1=0, h2=0)
    return CountingClassifier(h1=counted_h1)


def test_compatibility_scoring_predicts_once_per_fold(scaled, counting):
    X, y = scaled
    n_candidates, n_folds = 2, CV.get_n_splits()
    search = GridSearchCV(
        counting,
        {"max_depth": [1, 2]},
        scoring=compatibility_scoring(),
        refit=False,
        cv=CV,
    ).fit(X, y)
    assert CALLS == {"h1": n_candidates * n_folds, "h2": n_candidates * n_folds}
    assert len([k for k in search.cv_results_ if k.startswith("mean_test_")]) == 7

    # The same metrics as a plain dict: every scorer predicts on its own.
    CALLS.update(h1=0, h2=0)
    cross_validate(counting, X, y, cv=CV, scoring=dict(compatibility_scoring()))
    assert CALLS == {"h1": 6 * n_folds, "h2": 7 * n_folds}

    # bcsk 0.1's dict of three scorers: three predictions of h2, two of h1.
    CALLS.update(h1=0, h2=0)
    old = {"accuracy": "accuracy", "btc": btc_scorer, "bec": bec_scorer}
    cross_validate(counting, X, y, cv=CV, scoring=old)
    assert CALLS == {"h1": 2 * n_folds, "h2": 3 * n_folds}


def test_undefined_ratios_score_their_best_value():
    # h2 is perfect: BEC, NFI and the relative NFR are 0/0. Their scorers give
    # the best value (1 for BEC, 0 for the negated ones, never -0.0), silently.
    X = np.zeros((4, 1))
    y = np.array([0, 1, 0, 1])
    h2 = CountingClassifier().fit(np.array([[0], [1], [0], [1]]), y)
    perfect = CountingClassifier().fit(X, y)
    perfect.predict = lambda X: y
    h1 = DummyClassifier(strategy="most_frequent").fit(X, y)
    values = compatibility_scoring(h1)(perfect, X, y)
    assert values["bec"] == 1.0
    assert values["neg_nfi"] == 0.0 and math.copysign(1, values["neg_nfi"]) == 1
    assert values["neg_relative_nfr"] == 0.0
    for key in ("bec", "neg_nfi", "neg_relative_nfr"):
        assert compatibility_scoring(h1)[key](perfect, X, y) == values[key]
    # zero_division given to a single scorer is passed to the metric.
    scorer = CompatibilityScorer(
        metrics.negative_flip_impact, h1=h1, zero_division=1.0, greater_is_better=False
    )
    assert scorer(perfect, X, y) == -1.0
    # NFR takes no zero_division: it is defined for any sample.
    assert CompatibilityScorer(metrics.negative_flip_rate, h1=h1)(h2, X, y) == 0.0


def test_scorer_refuses_functions_in_bcml_order():
    # bcsk.scores' (h1, h2, expected) would be called with the wrong arguments.
    with pytest.raises(TypeError, match=r"score_func\(y_true, \*, h1_pred, h2_pred\)"):
        CompatibilityScorer(scores.trust_compatibility_score)
    with pytest.raises(TypeError, match="make_btc_scorer"):
        CompatibilityScorer(lambda a, b, c: 0.0)
    # Any function with the keywords (or **kwargs) is accepted.
    CompatibilityScorer(lambda y_true, **kwargs: 0.0)


# --------------------------------------------------------------------------
# best_accuracy_with_btc_at_least on hand-made cv_results_
# --------------------------------------------------------------------------


def results(accuracy, btc):
    return {"mean_test_accuracy": np.array(accuracy), "mean_test_btc": np.array(btc)}


def test_refit_picks_most_accurate_compatible_candidate():
    refit = best_accuracy_with_btc_at_least(0.9)
    best = refit(results([0.95, 0.93, 0.90, 0.94], [0.85, 0.92, 0.97, 0.91]))
    assert best == 3
    assert isinstance(best, int)
    # the threshold is inclusive
    assert best_accuracy_with_btc_at_least(0.85)(results([0.95, 0.9], [0.85, 1])) == 0


def test_refit_ties_go_to_the_first_candidate():
    refit = best_accuracy_with_btc_at_least(0.9)
    assert refit(results([0.99, 0.93, 0.93, 0.93], [0.5, 0.95, 0.99, 0.91])) == 1


def test_refit_ignores_nan_btc():
    refit = best_accuracy_with_btc_at_least(0.9)
    assert refit(results([0.99, 0.93], [np.nan, 0.95])) == 1


def test_refit_none_eligible_warns_and_takes_highest_btc():
    refit = best_accuracy_with_btc_at_least(0.99)
    with pytest.warns(UserWarning, match=r"No candidate reaches BTC >= 0.99.*0\.9700"):
        best = refit(results([0.95, 0.93, 0.90], [0.85, 0.92, 0.97]))
    assert best == 2
    with pytest.warns(UserWarning, match="No candidate reaches"):
        assert refit(results([0.95, 0.93], [np.nan, 0.5])) == 1


def test_fitted_search_with_the_rule_pickles(search, scaled):
    # The rule is the search's refit: a fitted search pickles only if it does.
    X, _ = scaled
    copy = pickle.loads(pickle.dumps(search))
    assert copy.best_index_ == search.best_index_
    np.testing.assert_array_equal(copy.predict(X), search.predict(X))
    rule = copy.refit
    assert repr(rule) == f"best_accuracy_with_btc_at_least({MIN_BTC!r})"
    assert rule(search.cv_results_) == search.best_index_


def test_refit_custom_and_missing_keys():
    refit = best_accuracy_with_btc_at_least(
        0.5, accuracy_key="mean_test_acc", btc_key="mean_test_trust"
    )
    assert refit({"mean_test_acc": [0.7, 0.8], "mean_test_trust": [0.6, 0.4]}) == 0
    with pytest.raises(KeyError, match="cv_results_ has no 'mean_test_btc'"):
        best_accuracy_with_btc_at_least(0.5)({"mean_test_accuracy": [0.9]})
    with pytest.raises(KeyError, match="mean_test_accuracy"):
        best_accuracy_with_btc_at_least(0.5)({"mean_test_btc": [0.9]})


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.9", True, None])
def test_refit_bad_threshold(bad):
    with pytest.raises(ValueError, match="min_btc must be a number in"):
        best_accuracy_with_btc_at_least(bad)


# --------------------------------------------------------------------------
# Parallel search
# --------------------------------------------------------------------------


# Two loky worker processes, each importing TensorFlow (~20 s): a
# multi-process run, so slow; the seeds it relies on are checked in process by
# tests/test_reproducibility.py.
@pytest.mark.slow
def test_parallel_search_matches_serial(search, scaled, h1):
    """n_jobs=2 trains in other processes: same seeds, same scores."""
    X, y = scaled
    parallel = GridSearchCV(
        make(h1),
        {"lambda_c": [0.0, 2.0], "model__hidden": [16]},
        scoring=compatibility_scoring(),
        refit=False,
        cv=CV,
        n_jobs=2,
    ).fit(X, y)
    serial = search.cv_results_
    same = [1, 3]  # the fixture's candidates with model__hidden=16
    assert [serial["params"][i] for i in same] == parallel.cv_results_["params"]
    for name in ("accuracy", "btc", "bec"):
        np.testing.assert_allclose(
            parallel.cv_results_[f"mean_test_{name}"],
            serial[f"mean_test_{name}"][same],
            rtol=1e-12,
        )
