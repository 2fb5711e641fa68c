"""The worst-group scorer through GridSearchCV, user_groups routed, and its refit bound.

A toy table counted by hand: X holds the true label, the group and a number
u in [0, 1). h1 is right except where u < 0.2. Candidate "a" breaks group 1
where 0.2 <= u < 0.6 (40 % of group 1, 40 rows of 600: fewer new errors in
all); candidate "b" breaks group 0 where 0.2 <= u < 0.3 (10 % of group 0, 50
rows). Both fix h1's errors elsewhere.
"""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from bcsk.metrics import (
    compatibility_scoring,
    make_worst_group_nfr_scorer,
    worst_group_new_error_rate,
)
from bcsk.model_selection import fewest_new_errors_within, lowest_update_cost


class Breaker(ClassifierMixin, BaseEstimator):
    """Predicts X[:, 0] (the true label) except on the rows ``mode`` breaks."""

    def __init__(self, mode="a"):
        self.mode = mode

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        X = np.asarray(X)
        y, group, u = X[:, 0].astype(int), X[:, 1], X[:, 2]
        if self.mode == "a":
            broken = (group == 1) & (0.2 <= u) & (u < 0.6)
        else:
            broken = (group == 0) & (0.2 <= u) & (u < 0.3)
        return np.where(broken, (y + 1) % 3, y)


class OldModel:
    """h1: right except where u < 0.2."""

    def predict(self, X):
        X = np.asarray(X)
        y = X[:, 0].astype(int)
        return np.where(X[:, 2] < 0.2, (y + 2) % 3, y)


def data():
    # u evenly spread within each group, so that the rates are exact.
    n0, n1 = 500, 100
    group = np.r_[np.zeros(n0), np.ones(n1)]
    u = np.r_[(np.arange(n0) + 0.5) / n0, (np.arange(n1) + 0.5) / n1]
    y = np.arange(n0 + n1) % 3
    X = np.column_stack([y, group, u])
    return X, y, group.astype(int)


def test_worst_group_new_error_rate_by_hand():
    X, y, group = data()
    h1 = OldModel().predict(X)
    for mode, worst, overall in (("a", 0.4, 40 / 600), ("b", 0.1, 50 / 600)):
        h2 = Breaker(mode).fit(X, y).predict(X)
        assert worst_group_new_error_rate(
            y, h1_pred=h1, h2_pred=h2, groups=group
        ) == pytest.approx(worst)
        # Group 1 (100 rows) below min_group_size: only group 0 counts.
        small = worst_group_new_error_rate(
            y, h1_pred=h1, h2_pred=h2, groups=group, min_group_size=101
        )
        assert small == pytest.approx({"a": 0.0, "b": 0.1}[mode])
        # No group large enough: the rate of all rows.
        assert worst_group_new_error_rate(
            y, h1_pred=h1, h2_pred=h2, groups=group, min_group_size=601
        ) == pytest.approx(overall)


def test_scorer_needs_routed_groups():
    X, y, group = data()
    scorer = make_worst_group_nfr_scorer(OldModel())
    model = Breaker("a").fit(X, y)
    with pytest.raises(ValueError, match="set_score_request\\(user_groups=True\\)"):
        scorer(model, X, y)
    assert scorer(model, X, y, user_groups=group) == pytest.approx(-0.4)
    with pytest.raises(ValueError, match="min_group_size"):
        make_worst_group_nfr_scorer(min_group_size=0)
    assert "min_group_size=1" in repr(scorer)


def test_set_score_request_needs_routing_and_knows_user_groups():
    scorer = make_worst_group_nfr_scorer(OldModel())
    with pytest.raises(RuntimeError, match="metadata routing"):
        scorer.set_score_request(user_groups=True)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="user_groups"):
            scorer.set_score_request(groups=True)
        request = scorer.set_score_request(user_groups=True).get_metadata_routing()
        assert request.score.requests["user_groups"] is True


def test_cross_val_score_routes_each_fold_its_groups():
    X, y, group = data()
    cv = KFold(5, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_worst_group_nfr_scorer(OldModel()).set_score_request(
            user_groups=True
        )
        scores = cross_val_score(
            Breaker("a"),
            X,
            y,
            cv=cv,
            scoring=scorer,
            params={"user_groups": group},
        )
    expected = []
    for _, test in cv.split(X):
        h1 = OldModel().predict(X[test])
        h2 = Breaker("a").predict(X[test])
        expected.append(
            -worst_group_new_error_rate(
                y[test], h1_pred=h1, h2_pred=h2, groups=group[test]
            )
        )
    np.testing.assert_allclose(scores, expected)


def search(refit):
    X, y, group = data()
    with sklearn.config_context(enable_metadata_routing=True):
        worst = make_worst_group_nfr_scorer(OldModel()).set_score_request(
            user_groups=True
        )
        scoring = {**compatibility_scoring(OldModel()), "neg_worst_group_nfr": worst}
        grid = GridSearchCV(
            Breaker(),
            {"mode": ["a", "b"]},
            scoring=scoring,
            refit=refit,
            cv=KFold(4, shuffle=True, random_state=0),
        )
        return grid.fit(X, y, user_groups=group)


def test_grid_search_records_the_worst_group():
    grid = search(fewest_new_errors_within(0.05))
    worst = -grid.cv_results_["mean_test_neg_worst_group_nfr"]
    nfr = -grid.cv_results_["mean_test_neg_nfr"]
    # a: fewer new errors overall, but 40 % of group 1; b: 10 % of group 0.
    assert worst[0] == pytest.approx(0.4, abs=0.08)
    assert worst[1] == pytest.approx(0.1, abs=0.03)
    assert nfr[0] < nfr[1]
    # Without a bound, the rule takes a: it breaks the fewest rows in all.
    assert grid.best_params_ == {"mode": "a"}


@pytest.mark.parametrize(
    "rule",
    [
        fewest_new_errors_within(0.05, max_worst_group_nfr=0.2),
        lowest_update_cost(2.0, max_worst_group_nfr=0.2),
    ],
    ids=repr,
)
def test_refit_rule_bounds_the_worst_group(rule):
    grid = search(rule)
    assert grid.best_params_ == {"mode": "b"}
    # The shipped model lowers group 1's new-error rate from 40 % to 0.
    X, y, group = data()
    h1 = OldModel().predict(X)
    h2 = grid.predict(X)
    in_group_1 = group == 1
    assert np.mean((h1 == y) & (h2 != y) & in_group_1) == 0
    assert pickle.loads(pickle.dumps(grid)).best_index_ == grid.best_index_


def test_bound_nobody_meets_warns_and_takes_the_lowest():
    rule = fewest_new_errors_within(1.0, max_worst_group_nfr=0.01)
    assert "max_worst_group_nfr=0.01" in repr(rule)
    results = {
        "mean_test_accuracy": [0.9, 0.8, 0.85],
        "mean_test_neg_nfr": [-0.05, -0.04, -0.03],
        "mean_test_neg_worst_group_nfr": [-0.3, -0.1, -0.2],
    }
    with pytest.warns(UserWarning, match="lowest mean is 0.1000"):
        assert rule(results) == 1
    # Within the bound, the rule's own choice among those that meet it.
    rule = fewest_new_errors_within(1.0, max_worst_group_nfr=0.25)
    assert rule(results) == 2


def test_bound_needs_the_key_and_a_valid_value():
    rule = lowest_update_cost(max_worst_group_nfr=0.1)
    with pytest.raises(KeyError, match="make_worst_group_nfr_scorer"):
        rule({"mean_test_accuracy": [0.9], "mean_test_neg_nfr": [-0.1]})
    for bad in (-0.1, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match="max_worst_group_nfr must be"):
            fewest_new_errors_within(max_worst_group_nfr=bad)
