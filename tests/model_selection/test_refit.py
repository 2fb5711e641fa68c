"""The refit rules that read new errors: fewest_new_errors_within and
lowest_update_cost, on hand-made cv_results_, through GridSearchCV and through
CompatibleUpdateClassifierCV(refit=...).

scikit-learn models only, so the file runs in seconds.
"""

import math
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

import bcsk
from bcsk.gate import CompatibleUpdateClassifier, CompatibleUpdateClassifierCV
from bcsk.metrics import compatibility_scoring
from bcsk.model_selection import (
    fewest_new_errors_within,
    lowest_update_cost,
)

SLACK = 1e-12


def results(accuracy, nfr, **params):
    """cv_results_ by hand: mean accuracy, NFR (stored negated), param columns.

    A parameter value of None is a masked entry, as GridSearchCV writes for a
    candidate of a list of grids that does not set the parameter.
    """
    out = {
        "mean_test_accuracy": np.array(accuracy, dtype=float),
        "mean_test_neg_nfr": -np.array(nfr, dtype=float),
    }
    for name, values in params.items():
        out[f"param_{name}"] = np.ma.MaskedArray(
            [0 if v is None else v for v in values],
            mask=[v is None for v in values],
            dtype=object,
        )
    return out


# -- fewest_new_errors_within ------------------------------------------------------

ACCURACY = [0.950, 0.947, 0.930, 0.900]
NFR = [0.040, 0.020, 0.005, 0.000]


@pytest.mark.parametrize(
    "budget, expected",
    [(0.0, 0), (0.002, 0), (0.003, 1), (0.005, 1), (0.02, 2), (0.05, 3), (1.0, 3)],
)
def test_fewest_new_errors_within_the_budget(budget, expected):
    assert fewest_new_errors_within(budget)(results(ACCURACY, NFR)) == expected


def test_default_budget_is_half_a_point():
    assert fewest_new_errors_within()(results(ACCURACY, NFR)) == 1
    assert fewest_new_errors_within()(results([0.95, 0.944], [0.04, 0.0])) == 0


@pytest.mark.parametrize(
    "accuracy, budget, expected",
    [
        ([0.9, 0.895], 0.005, 1),  # exactly at the limit: eligible
        ([0.9, 0.8949], 0.005, 0),  # just below it
        # 0.1 + 0.2 - 0.1 > 0.2 in floats: the slack keeps 0.2 eligible.
        ([0.1 + 0.2, 0.2], 0.1, 1),
        ([0.3, 0.2 - 1e-9], 0.1, 0),
    ],
)
def test_budget_boundary_is_inclusive(accuracy, budget, expected):
    assert fewest_new_errors_within(budget)(results(accuracy, [0.05, 0.0])) == expected


def test_fewer_new_errors_beat_simplicity():
    # Candidate 1 is plain, but candidate 0 breaks fewer of h1's answers.
    cv = results([0.9, 0.9], [0.02, 0.03], lambda_c=[1.0, 0.0])
    assert fewest_new_errors_within(0.0)(cv) == 0
    assert lowest_update_cost(2.0)(cv) == 0


# -- lowest_update_cost --------------------------------------------------------------


@pytest.mark.parametrize(
    "cost, expected",
    [(1.0, 0), (1.4, 0), (2.0, 1), (2.5, 1), (4.0, 2), (10.0, 2), (100.0, 3)],
)
def test_lowest_update_cost(cost, expected):
    accuracy = np.array([0.95, 0.94, 0.92, 0.80])
    nfr = np.array([0.04, 0.02, 0.01, 0.0])
    cv = results(accuracy, nfr)
    assert lowest_update_cost(cost)(cv) == expected
    by_hand = accuracy - (cost - 1) * nfr  # one minus the expected cost
    assert expected == int(np.argmax(by_hand))


def test_lowest_update_cost_tie_on_paper():
    # At new_error_cost=3 candidates 1 and 2 both score 0.90: the earlier wins,
    # or the plain one.
    cv = results([0.95, 0.94, 0.92], [0.04, 0.02, 0.01])
    assert lowest_update_cost(3.0)(cv) == 1
    cv = results([0.95, 0.94, 0.92], [0.04, 0.02, 0.01], lambda_c=[0, 1, 0])
    assert lowest_update_cost(3.0)(cv) == 2


def test_lowest_update_cost_default_counts_a_new_error_twice():
    cv = results([0.95, 0.94, 0.90], [0.04, 0.02, 0.0])
    assert lowest_update_cost()(cv) == lowest_update_cost(2.0)(cv) == 1


# -- ties ------------------------------------------------------------------------------

RULES = [fewest_new_errors_within(0.005), lowest_update_cost(2.0)]


@pytest.mark.parametrize("rule", RULES, ids=repr)
@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(lambda_c=[0.5, 0.0]), 1),  # plain before trained
        (dict(lambda_c=[1.0, 0.0], n_members=[1, 3]), 1),  # ... before members
        (dict(lambda_c=[1.0, 1.0], n_members=[3, 2]), 1),  # fewer members
        (dict(lambda_c=[1.0, 2.0], n_members=[3, 2]), 1),  # ... before lambda_c
        (dict(lambda_c=[2.0, 1.0], n_members=[2, 2]), 1),  # smaller lambda_c
        (dict(lambda_c=[1.0, 2.0], flip_cost=[5.0, 1.5]), 0),  # lambda first
        (dict(flip_cost=[3.0, 2.0]), 1),  # smaller flip cost
        (dict(flip_cost=[math.inf, 10.0]), 1),
        (dict(lambda_c=[1.0, 1.0], flip_cost=[2.0, 2.0]), 0),  # the earlier
        ({}, 0),
    ],
)
def test_equal_scores_go_to_the_simpler_candidate(rule, params, expected):
    assert rule(results([0.9, 0.9], [0.02, 0.02], **params)) == expected


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_ties_among_three(rule):
    cv = results(
        [0.9, 0.9, 0.9],
        [0.02, 0.02, 0.02],
        lambda_c=[0.0, 0.0, 0.0],
        n_members=[2, 1, 1],
        flip_cost=[1.0, 3.0, 2.0],
    )
    assert rule(cv) == 2


@pytest.mark.parametrize(
    "params, expected",
    [
        # A masked lambda_c is unknown: after every known value, 0 or not.
        (dict(lambda_c=[None, 1.0]), 1),
        (dict(lambda_c=[None, 0.0]), 1),
        (dict(lambda_c=[1.0, None]), 0),
        (dict(lambda_c=[None, None], flip_cost=[2.0, 1.5]), 1),
        # A masked n_members or flip_cost counts as 1.
        (dict(n_members=[None, 2]), 0),
        (dict(n_members=[2, None]), 1),
        (dict(flip_cost=[None, 1.5]), 0),
        (dict(flip_cost=[2.0, None]), 1),
        (dict(flip_cost=[1.0, None]), 0),  # equal: the earlier
    ],
)
def test_masked_parameters(params, expected):
    cv = results([0.9, 0.9], [0.02, 0.02], **params)
    assert fewest_new_errors_within(0.0)(cv) == expected
    assert lowest_update_cost(3.0)(cv) == expected


def test_missing_lambda_column_is_equal_for_all():
    cv = results([0.9, 0.9], [0.02, 0.02], n_members=[2, 1])
    assert fewest_new_errors_within()(cv) == 1
    cv["param_other"] = np.ma.MaskedArray([0.0, 1.0])  # read only the names
    assert fewest_new_errors_within()(cv) == 1


def test_lambda_of_a_pipeline_step():
    cv = results([0.9, 0.9], [0.02, 0.02])
    cv["param_clf__lambda_c"] = np.ma.MaskedArray([1.0, 0.0])
    assert fewest_new_errors_within()(cv) == 1
    assert lowest_update_cost()(cv) == 1
    # Two steps with a lambda_c: which one counts is unknown, so neither does.
    cv["param_other__lambda_c"] = np.ma.MaskedArray([0.0, 1.0])
    assert fewest_new_errors_within()(cv) == 0
    # param_lambda_c itself wins over the steps.
    cv["param_lambda_c"] = np.ma.MaskedArray([3.0, 2.0])
    assert fewest_new_errors_within()(cv) == 1


def test_plain_numeric_columns_and_lists():
    cv = {
        "mean_test_accuracy": [0.9, 0.9, 0.8],
        "mean_test_neg_nfr": [-0.02, -0.02, 0.0],
        "param_lambda_c": [4, 0, 0],
    }
    assert fewest_new_errors_within(0.05)(cv) == 1
    assert lowest_update_cost(2.0)(cv) == 1


def test_scores_equal_up_to_float_rounding_are_tied():
    # 0.1 + 0.2 and 0.3 differ in the last bit; on paper they are equal.
    cv = results([0.9, 0.9], [0.3, 0.1 + 0.2], lambda_c=[1.0, 0.0])
    assert fewest_new_errors_within()(cv) == 1
    cv = results([0.1 + 0.2, 0.3], [0.0, 0.0], lambda_c=[1.0, 0.0])
    assert lowest_update_cost(2.0)(cv) == 1
    # A real difference is not a tie.
    cv = results([0.9, 0.9], [0.3, 0.3 + 1e-9], lambda_c=[1.0, 0.0])
    assert fewest_new_errors_within()(cv) == 0


# -- NaN scores ------------------------------------------------------------------------


def test_nan_accuracy_is_never_chosen_nor_the_reference():
    cv = results([np.nan, 0.9, 0.899], [0.0, 0.05, 0.01])
    assert fewest_new_errors_within(0.005)(cv) == 2
    assert fewest_new_errors_within(0.0)(cv) == 1
    assert lowest_update_cost(2.0)(cv) == 2


def test_nan_nfr_is_never_chosen():
    cv = results([0.95, 0.9, 0.9], [np.nan, 0.05, 0.04])
    assert fewest_new_errors_within(0.005)(cv) == 2  # 0.95 is not the best
    assert fewest_new_errors_within(1.0)(cv) == 2
    assert lowest_update_cost(2.0)(cv) == 2


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_all_nan_is_an_error(rule):
    with pytest.raises(ValueError, match="NaN for all 2 candidates.*error_score"):
        rule(results([np.nan, 0.9], [0.02, np.nan]))
    with pytest.raises(ValueError, match="NaN for all 0 candidates"):
        rule(results([], []))


# -- bad inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, True, "0.01", None, [0.01]])
def test_bad_accuracy_budget(bad):
    with pytest.raises(
        ValueError, match=r"accuracy_budget must be a number in \[0, 1\].*got"
    ):
        fewest_new_errors_within(bad)


@pytest.mark.parametrize("bad", [0.5, 0, -2.0, np.nan, np.inf, True, "2", None])
def test_bad_new_error_cost(bad):
    with pytest.raises(ValueError, match="new_error_cost must be a finite number >= 1"):
        lowest_update_cost(bad)


def test_numpy_numbers_are_accepted():
    assert fewest_new_errors_within(np.float32(0.5)).accuracy_budget == 0.5
    assert lowest_update_cost(np.int64(3)).new_error_cost == 3.0
    assert fewest_new_errors_within(0).accuracy_budget == 0.0


@pytest.mark.parametrize("rule", RULES, ids=repr)
@pytest.mark.parametrize("missing", ["mean_test_accuracy", "mean_test_neg_nfr"])
def test_missing_key_says_how_to_score(rule, missing):
    cv = results([0.9], [0.02])
    del cv[missing]
    with pytest.raises(
        KeyError,
        match=f"no '{missing}'.*compatibility_scoring.*accuracy_key/nfr_key",
    ):
        rule(cv)


def test_custom_keys():
    cv = {"mean_test_acc": [0.95, 0.947], "mean_test_nf": [-0.04, -0.02]}
    assert (
        fewest_new_errors_within(
            0.005, accuracy_key="mean_test_acc", nfr_key="mean_test_nf"
        )(cv)
        == 1
    )
    assert (
        lowest_update_cost(1.0, accuracy_key="mean_test_acc", nfr_key="mean_test_nf")(
            cv
        )
        == 0
    )


def test_mismatched_columns():
    cv = {"mean_test_accuracy": [0.9, 0.8], "mean_test_neg_nfr": [-0.1]}
    with pytest.raises(ValueError, match="one value per candidate"):
        fewest_new_errors_within()(cv)
    cv = results([0.9, 0.9], [0.1, 0.1])
    cv["param_lambda_c"] = np.ma.MaskedArray([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="param_lambda_c.*3 entries.*2 candidates"):
        lowest_update_cost()(cv)


# -- names, copies, exports --------------------------------------------------------


def test_names_repr_and_pickle():
    rule = fewest_new_errors_within(0.01)
    assert rule.__name__ == "fewest_new_errors_within_0.01"
    assert repr(rule) == "fewest_new_errors_within(accuracy_budget=0.01)"
    other = lowest_update_cost(3, nfr_key="mean_test_x")
    assert other.__name__ == "lowest_update_cost_3.0"
    assert (
        repr(other) == "lowest_update_cost(new_error_cost=3.0, nfr_key='mean_test_x')"
    )
    assert "math::" in rule.__doc__ and "math::" in other.__doc__
    cv = results(ACCURACY, NFR, lambda_c=[0.0, 1.0, 2.0, 4.0])
    for r, expected in [(rule, 1), (lowest_update_cost(4.0), 2)]:
        copy = pickle.loads(pickle.dumps(r))
        assert copy(cv) == r(cv) == expected


def test_exported_from_bcsk():
    assert bcsk.fewest_new_errors_within is fewest_new_errors_within
    assert bcsk.lowest_update_cost is lowest_update_cost
    assert {"fewest_new_errors_within", "lowest_update_cost"} <= set(bcsk.__all__)
    assert {"fewest_new_errors_within", "lowest_update_cost"} <= set(
        bcsk.model_selection.__all__
    )


# -- the rules, computed by hand -----------------------------------------------------


def means_by_hand(cv, name):
    n_splits = sum(
        1 for key in cv if key.startswith("split") and key.endswith(f"_test_{name}")
    )
    return np.mean([cv[f"split{i}_test_{name}"] for i in range(n_splits)], axis=0)


def flip_costs_by_hand(cv):
    """param_flip_cost with a masked entry counted as 1."""
    column = cv["param_flip_cost"]
    return [
        1.0 if masked else float(value)
        for masked, value in zip(
            np.ma.getmaskarray(column), np.ma.getdata(column), strict=True
        )
    ]


def chosen_by_hand(cv, kind, value):
    """The rule in plain Python, ties by flip cost then index (no lambda_c here)."""
    accuracy = means_by_hand(cv, "accuracy")
    nfr = -means_by_hand(cv, "neg_nfr")
    costs = flip_costs_by_hand(cv)
    n = len(accuracy)
    if kind == "fewest":
        best = max(accuracy)
        candidates = [i for i in range(n) if accuracy[i] >= best - value - SLACK]
        score = [-nfr[i] for i in range(n)]
        slack = SLACK
    else:
        candidates = list(range(n))
        score = [accuracy[i] - (value - 1) * nfr[i] for i in range(n)]
        slack = SLACK * value
    top = max(score[i] for i in candidates)
    tied = [i for i in candidates if score[i] >= top - slack]
    return min(tied, key=lambda i: (costs[i], i))


def make_rule(kind, value):
    return (
        fewest_new_errors_within(value)
        if kind == "fewest"
        else (lowest_update_cost(value))
    )


RULE_PARAMS = [
    ("fewest", 0.0),
    ("fewest", 0.005),
    ("fewest", 0.03),
    ("fewest", 1.0),
    ("cost", 1.0),
    ("cost", 2.0),
    ("cost", 10.0),
]


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return (X[:60], y[:60]), (X[60:660], y[60:660])


@pytest.fixture(scope="module")
def h1(data):
    (X, y), _ = data
    return logreg().fit(X, y)


def logreg(**kwargs):
    return LogisticRegression(max_iter=300, tol=1e-3, **kwargs)


@pytest.fixture(scope="module")
def gate_grid():
    # A list of grids: the last candidate does not set flip_cost (masked).
    return [
        {"flip_cost": [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, math.inf]},
        {"estimator__C": [0.1]},
    ]


@pytest.mark.parametrize("kind, value", RULE_PARAMS)
def test_rules_through_grid_search(kind, value, data, h1, gate_grid):
    _, (X, y) = data
    rule = make_rule(kind, value)
    search = GridSearchCV(
        CompatibleUpdateClassifier(logreg(), h1=h1),
        gate_grid,
        scoring=compatibility_scoring(h1),
        refit=rule,
        cv=3,
    ).fit(X, y)
    cv = search.cv_results_
    assert np.ma.getmaskarray(cv["param_flip_cost"]).tolist() == [False] * 7 + [True]
    assert search.best_index_ == chosen_by_hand(cv, kind, value)
    assert search.best_params_ == cv["params"][search.best_index_]
    assert pickle.loads(pickle.dumps(search)).best_index_ == search.best_index_


def test_grid_search_choices_differ_from_the_most_accurate(data, h1, gate_grid):
    # On these data the costs trade accuracy for new errors, so a budget or a
    # price on new errors moves the choice away from the most accurate cost.
    _, (X, y) = data
    chosen = {}
    for kind, value in [("fewest", 0.0), ("fewest", 0.03), ("cost", 10.0)]:
        search = GridSearchCV(
            CompatibleUpdateClassifier(logreg(), h1=h1),
            gate_grid[:1],
            scoring=compatibility_scoring(h1),
            refit=make_rule(kind, value),
            cv=3,
        ).fit(X, y)
        chosen[kind, value] = search.best_params_["flip_cost"]
    assert chosen["fewest", 0.0] < chosen["fewest", 0.03] < chosen["cost", 10.0]


def test_rule_through_grid_search_over_plain_classifiers(data, h1):
    _, (X, y) = data
    rule = fewest_new_errors_within(0.01)
    search = GridSearchCV(
        logreg(),
        {"C": [0.01, 0.1, 1.0, 10.0]},
        scoring=compatibility_scoring(h1),
        refit=rule,
        cv=3,
    ).fit(X, y)
    accuracy = means_by_hand(search.cv_results_, "accuracy")
    nfr = -means_by_hand(search.cv_results_, "neg_nfr")
    eligible = np.flatnonzero(accuracy >= accuracy.max() - 0.01 - SLACK)
    assert search.best_index_ == eligible[np.argmin(nfr[eligible])]


# -- CompatibleUpdateClassifierCV(refit=...) ---------------------------------------


@pytest.fixture(scope="module")
def default_gate_cv(data, h1):
    _, (X, y) = data
    return CompatibleUpdateClassifierCV(logreg(), h1=h1, cv=3).fit(X, y)


@pytest.mark.parametrize("kind, value", RULE_PARAMS)
def test_rules_through_compatible_update_classifier_cv(kind, value, data, h1):
    _, (X, y) = data
    rule = make_rule(kind, value)
    search = CompatibleUpdateClassifierCV(logreg(), h1=h1, refit=rule, cv=3).fit(X, y)
    cv = search.cv_results_
    index = chosen_by_hand(cv, kind, value)
    assert search.best_index_ == index == rule(cv)
    assert search.flip_cost_ == cv["param_flip_cost"][index]
    assert search.best_estimator_.flip_cost == search.flip_cost_


def old_rule_by_hand(cv, max_drop):
    accuracy = list(cv["mean_test_accuracy"])
    flips = list(-cv["mean_test_neg_nfr"])
    costs = list(cv["param_flip_cost"])
    eligible = [
        i for i in range(len(costs)) if accuracy[i] >= accuracy[0] - max_drop - SLACK
    ]
    return min(eligible, key=lambda i: (flips[i], -accuracy[i], costs[i]))


def test_refit_none_keeps_the_max_accuracy_drop_rule(data, h1, default_gate_cv):
    _, (X, y) = data
    assert default_gate_cv.refit is None
    search = CompatibleUpdateClassifierCV(logreg(), h1=h1, cv=3, refit=None).fit(X, y)
    assert search.flip_cost_ == default_gate_cv.flip_cost_
    assert search.best_index_ == default_gate_cv.best_index_
    assert search.best_index_ == old_rule_by_hand(search.cv_results_, 0.005)
    for key, value in default_gate_cv.cv_results_.items():
        if key != "params":
            np.testing.assert_array_equal(search.cv_results_[key], value)


def test_refit_overrides_max_accuracy_drop(data, h1):
    _, (X, y) = data
    # max_accuracy_drop=1 alone would take the fewest flips of the grid.
    search = CompatibleUpdateClassifierCV(
        logreg(), h1=h1, cv=3, max_accuracy_drop=1.0, refit=lowest_update_cost(1.0)
    ).fit(X, y)
    accuracy = search.cv_results_["mean_test_accuracy"]
    assert search.best_index_ == int(np.argmax(accuracy))


@pytest.mark.parametrize(
    "refit",
    [lambda cv: 99, lambda cv: -1, lambda cv: 1.0, lambda cv: True, lambda cv: "1"],
)
def test_refit_must_return_an_index(refit, data, h1):
    _, (X, y) = data
    with pytest.raises(ValueError, match=r"refit returned .*int in \[0, 7\)"):
        CompatibleUpdateClassifierCV(logreg(), h1=h1, cv=2, refit=refit).fit(X, y)


def test_refit_must_be_callable(data, h1):
    _, (X, y) = data
    with pytest.raises(ValueError, match="'refit' parameter.*fewest_new_errors_within"):
        CompatibleUpdateClassifierCV(logreg(), h1=h1, refit="accuracy").fit(X, y)


def test_numpy_index_is_accepted(data, h1):
    _, (X, y) = data
    search = CompatibleUpdateClassifierCV(
        logreg(), h1=h1, cv=2, refit=lambda cv: np.int64(3)
    ).fit(X, y)
    assert search.best_index_ == 3 and type(search.best_index_) is int
    assert search.flip_cost_ == 2.0
