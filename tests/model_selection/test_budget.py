"""The search's defaults, its ``budget`` and its ``verbose`` lines."""

import re

import numpy as np
import pytest
from _builders import SMALL_PARAMS, holdout_rows, narrow_search
from _builders import build_small as build

from bcsk import (
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifier,
    lowest_update_cost,
)
from bcsk.gate import CompatibleUpdateClassifierCV
from bcsk.model_selection._search import (
    BUDGET_ORDER,
    HOLDOUT_SIZE,
    RECOMMENDED_DISSONANCES,
    RECOMMENDED_FLIP_COSTS,
    RECOMMENDED_NEW_ERROR_COST,
)
from bcsk.objective._dissonances import DISSONANCES

PARAMS = {**SMALL_PARAMS, "epochs": 1}


def test_the_defaults_are_the_recommended_search(data, h1):
    """Left at "auto", a budgeted search shows the grid, costs and rule it uses."""
    X, y = data
    search = BCCompatibleClassifierCV(build, h1=h1, budget=0.9, **PARAMS)
    assert (search.dissonance, search.flip_costs, search.refit, search.cv) == (
        "auto",
        "auto",
        "auto",
        "holdout",
    )
    search.fit(X, y)
    # One candidate, the first of BUDGET_ORDER, with every recommended cost,
    # scored by compatibility_scoring() (the rule's keys are there).
    costs = [p["flip_cost"] for p in search.cv_results_["params"]]
    assert costs == list(RECOMMENDED_FLIP_COSTS)
    dissonance, lambda_c = BUDGET_ORDER[0]
    assert {p["dissonance"] for p in search.cv_results_["params"]} == {dissonance}
    assert search.lambda_c_ == lambda_c
    rule = lowest_update_cost(RECOMMENDED_NEW_ERROR_COST)
    assert search.best_index_ == rule(search.cv_results_)
    assert "mean_test_btc" in search.cv_results_


def test_budget_order_is_the_recommended_grid_reordered():
    grid = {(RECOMMENDED_DISSONANCES[0], 0.0)}  # plain, under the first dissonance
    grid |= {
        (name, value)
        for name in RECOMMENDED_DISSONANCES
        for value in DISSONANCES[name].default_lambda_cs
    }
    assert set(BUDGET_ORDER) == grid
    assert len(BUDGET_ORDER) == len(grid)


def test_one_fit_budget_serves_the_networks_trained_on_the_kept_rows(data, h1):
    """budget=0.9: one candidate trained on 90 % of the rows, served as trained."""
    X, y = data
    search = narrow_search(
        build, h1=h1, lambda_cs=(0.3, 0.0), flip_costs=(1.0, 2.0), budget=0.9, **PARAMS
    ).fit(X, y)
    assert search.plan_ == {
        "validation": "holdout",
        "candidates": 1,
        "refit": False,
        "cost": pytest.approx(0.9),
    }
    assert search.n_splits_ == 1
    # The user's grid keeps the user's order: lambda_c=0.3 first.
    assert [p["lambda_c"] for p in search.cv_results_["params"]] == [0.3, 0.3]
    # Oracle: a separate fit on the same kept rows, with the same seed.
    kept, held_out = holdout_rows(X, y, PARAMS["random_state"])
    assert len(held_out) == round(HOLDOUT_SIZE * len(y))
    alone = BCCompatibleClassifier(
        build, h1=h1, lambda_c=0.3, dissonance="new_error", **PARAMS
    ).fit(X[kept], y[kept])
    h2 = search.best_estimator_
    if isinstance(h2, CompatibleUpdateClassifier):
        assert search.flip_cost_ == 2.0
        h2 = h2.estimator_
    np.testing.assert_allclose(
        h2.predict_proba(X), alone.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_a_budget_that_covers_the_search_runs_it_whole(data, h1):
    X, y = data
    kwargs = dict(lambda_cs=(0.0, 0.3), cv=2, **PARAMS)
    # Two candidates on 2 folds of half the rows, and the refit: 2 + 1 fits.
    whole = narrow_search(build, h1=h1, **kwargs).fit(X, y)
    assert whole.plan_ == {
        "validation": "2-fold CV",
        "candidates": 2,
        "refit": True,
        "cost": pytest.approx(3.0),
    }
    budgeted = narrow_search(build, h1=h1, budget=3.0, **kwargs).fit(X, y)
    assert budgeted.plan_ == whole.plan_
    for key in ("mean_test_score", "split1_test_score"):
        np.testing.assert_array_equal(budgeted.cv_results_[key], whole.cv_results_[key])


def test_a_budget_buys_candidates_on_the_kept_rows_and_no_refit(data, h1):
    X, y = data
    kwargs = dict(lambda_cs=(0.0, 0.3, 1.0), cv=2, **PARAMS)
    # Whole search: 3 candidates x 1 (two halves) + 1 = 4 fits. A budget of
    # 2.8 buys 3 x 0.9 = 2.7 on the kept rows; 1.9 buys two.
    fitted = narrow_search(build, h1=h1, budget=2.8, **kwargs).fit(X, y)
    assert fitted.plan_ == {
        "validation": "holdout",
        "candidates": 3,
        "refit": False,
        "cost": pytest.approx(2.7),
    }
    two = narrow_search(build, h1=h1, budget=1.9, **kwargs).fit(X, y)
    assert (two.plan_["candidates"], two.plan_["refit"]) == (2, False)
    assert [p["lambda_c"] for p in two.cv_results_["params"]] == [0.0, 0.3]
    # cv="holdout" without a budget: every candidate, on the same kept rows
    # (the first two rows equal the budgeted search's: same networks).
    holdout = narrow_search(build, h1=h1, **{**kwargs, "cv": "holdout"}).fit(X, y)
    assert holdout.plan_ == {
        "validation": "holdout",
        "candidates": 3,
        "refit": False,
        "cost": pytest.approx(2.7),
    }
    np.testing.assert_allclose(
        holdout.cv_results_["mean_test_score"][:2],
        two.cv_results_["mean_test_score"],
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (0, "budget is the search's cost in plain fits"),
        (-1.0, "budget is the search's cost in plain fits"),
        (float("nan"), "budget is the search's cost in plain fits"),
        ("1.5", "budget is the search's cost in plain fits"),
        (True, "budget is the search's cost in plain fits"),
        (0.5, r"budget=0.5 buys less than the cheapest search.*budget >= 0.9"),
    ],
)
def test_bad_budget(budget, message, data, h1):
    X, y = data
    with pytest.raises(ValueError, match=message):
        narrow_search(build, h1=h1, budget=budget, **PARAMS).fit(X, y)


def test_bad_verbose(data, h1):
    X, y = data
    with pytest.raises(ValueError, match="verbose must be an int"):
        narrow_search(build, h1=h1, verbose="yes", **PARAMS).fit(X, y)


FOLD_LINE = re.compile(
    r"^\[(\w+)\] fold (\d)/(\d) done \((.*)\): [\d.]+ s elapsed, about \d+ s left"
)


def test_verbose_prints_a_line_per_fold_and_silent_by_default(data, h1, capsys):
    X, y = data
    kwargs = dict(lambda_cs=(0.0, 0.3), flip_costs=(1.0, 2.0), cv=2, **PARAMS)
    narrow_search(build, h1=h1, **kwargs).fit(X, y)
    assert capsys.readouterr().out == ""
    narrow_search(build, h1=h1, verbose=1, **kwargs).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3, lines
    for i, line in enumerate(lines[:2], start=1):
        match = FOLD_LINE.match(line)
        assert match, line
        assert match.groups() == (
            "BCCompatibleClassifierCV",
            str(i),
            "2",
            "2 candidates x 2 flip costs",
        )
    assert lines[1].endswith(", refit next")
    assert re.match(
        r"^\[BCCompatibleClassifierCV\] refit done: [\d.]+ s in all$", lines[2]
    )


def test_the_gate_search_prints_its_folds(data, h1, capsys):
    X, y = data
    h2 = BCCompatibleClassifier(build, h1=h1, lambda_c=0.0, **PARAMS)
    CompatibleUpdateClassifierCV(h2, h1=h1, cv=2, flip_costs=(2.0,)).fit(X, y)
    assert capsys.readouterr().out == ""
    CompatibleUpdateClassifierCV(h2, h1=h1, cv=2, flip_costs=(2.0,), verbose=1).fit(
        X, y
    )
    lines = capsys.readouterr().out.splitlines()
    assert [FOLD_LINE.match(line).groups()[:3] for line in lines[:2]] == [
        ("CompatibleUpdateClassifierCV", "1", "2"),
        ("CompatibleUpdateClassifierCV", "2", "2"),
    ]
    assert "h2 trained, 2 flip costs scored" in lines[0]
    assert lines[2].startswith("[CompatibleUpdateClassifierCV] refit done")


@pytest.mark.parametrize("n_members", [1, 2])
def test_a_served_network_reports_its_own_history(n_members, data, h1):
    """history_ of a network served as trained: its own loss and metrics.

    Not the path's sum over every candidate trained beside it: the oracle is
    a separate fit of the chosen candidate on the kept rows.
    """
    X, y = data
    params = {**PARAMS, "epochs": 2, "metrics": ["accuracy"]}
    search = BCCompatibleClassifierCV(
        build,
        h1=h1,
        dissonance="new_error",
        lambda_cs=(0.0, 0.5),
        flip_costs=(1.0,),
        n_members=n_members,
        refit="accuracy",
        fit__validation_split=0.25,
        **params,
    ).fit(X, y)
    assert search.plan_["validation"] == "holdout"
    kept, _ = holdout_rows(X, y, PARAMS["random_state"])
    alone = BCCompatibleClassifier(
        build,
        h1=h1,
        lambda_c=search.lambda_c_,
        n_members=n_members,
        fit__validation_split=0.25,
        **params,
    ).fit(X[kept], y[kept])
    served = search.best_estimator_.history_
    assert (
        set(served)
        == set(alone.history_)
        == {
            "loss",
            "accuracy",
            "val_loss",
            "val_accuracy",
        }
    )
    for key, values in alone.history_.items():
        np.testing.assert_allclose(served[key], values, rtol=1e-4, err_msg=key)
