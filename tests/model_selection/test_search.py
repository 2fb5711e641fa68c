"""The one-call search: dissonances, lambda_c, flip costs and ensemble sizes at once."""

import pickle

import numpy as np
import pytest
from _builders import SMALL_PARAMS, build_mlp
from _builders import build_small as build
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bcsk import (
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifier,
    CompatibleUpdateClassifierCV,
    Dissonance,
    FocalDistillation,
    compatibility_scoring,
    fewest_new_errors_within,
    gate_predictions,
    lowest_update_cost,
    neg_nfr_scorer,
)
from bcsk.model_selection._path import _LambdaPath
from bcsk.objective._dissonances import DISSONANCES

COSTS = (1.0, 1.5, 3.0)
PARAMS = SMALL_PARAMS


def folds():
    return StratifiedKFold(2, shuffle=True, random_state=0)


def search(h1, **kwargs):
    settings = dict(
        h1=h1,
        lambda_cs=(0.0, 0.3),
        dissonance="new_error",
        flip_costs=(1.0,),
        cv=folds(),
        scoring=compatibility_scoring(),
        refit="accuracy",
        **PARAMS,
    )
    return BCCompatibleClassifierCV(build, **{**settings, **kwargs})


@pytest.fixture(scope="module")
def one_call(data, h1):
    """Two dissonances, three flip costs, ensembles of 1 and 2: 3 x 2 x 3 rows."""
    X, y = data
    return search(
        h1,
        dissonance=["new_error", FocalDistillation()],
        flip_costs=COSTS,
        n_members=(1, 2),
        refit=lowest_update_cost(3.0),
    ).fit(X, y)


def test_rows_and_params(one_call):
    results = one_call.cv_results_
    params = results["params"]
    assert len(params) == 3 * 2 * 3
    # lambda_c = 0 is one candidate, listed under the first dissonance.
    candidates = list(dict.fromkeys((p["dissonance"], p["lambda_c"]) for p in params))
    assert candidates == [
        ("new_error", 0.0),
        ("new_error", 0.3),
        (FocalDistillation(), 0.3),
    ]
    assert [p["n_members"] for p in params[:6]] == [1, 1, 1, 2, 2, 2]
    assert [p["flip_cost"] for p in params[:3]] == list(COSTS)
    for name in ("lambda_c", "dissonance", "n_members", "flip_cost"):
        assert list(results[f"param_{name}"]) == [p[name] for p in params]
    for key in ("accuracy", "neg_nfr", "btc", "bec"):
        assert results[f"mean_test_{key}"].shape == (18,)
        assert results[f"rank_test_{key}"].min() == 1


def test_pair_scores_equal_the_gate_cv_on_the_same_fold_models(one_call, data, h1):
    """Every (candidate, size, cost) row is CompatibleUpdateClassifierCV's score."""
    X, y = data
    results = one_call.cv_results_
    candidates = [("new_error", 0.0), ("new_error", 0.3), (FocalDistillation(), 0.3)]
    params = {**PARAMS, "h1": h1, "dissonance": FocalDistillation()}
    for i, (train, test) in enumerate(folds().split(X, y)):
        path = _LambdaPath(build, candidates=candidates, n_members=2, **params)
        path.fit(X[train], y[train])
        row = 0
        for j in range(len(candidates)):
            for size in (1, 2):
                h2 = path.estimator_for(j, size)
                gate = CompatibleUpdateClassifierCV(
                    FrozenEstimator(h2), h1=h1, flip_costs=COSTS, cv="prefit"
                ).fit(X[test], y[test])
                for key in ("accuracy", "neg_nfr", "btc", "bec"):
                    np.testing.assert_allclose(
                        results[f"split{i}_test_{key}"][row : row + 3],
                        gate.cv_results_[f"split0_test_{key}"],
                        rtol=1e-12,
                        err_msg=f"fold {i}, candidate {j}, size {size}, {key}",
                    )
                row += 3


def test_the_chosen_row_is_refitted_behind_the_gate(one_call, data, h1):
    X, y = data
    results = one_call.cv_results_
    index = lowest_update_cost(3.0)(results)
    assert one_call.best_index_ == index
    chosen = results["params"][index]
    assert one_call.best_params_ == chosen
    assert one_call.lambda_c_ == chosen["lambda_c"]
    assert one_call.dissonance_ == chosen["dissonance"]
    assert one_call.n_members_ == chosen["n_members"]
    assert one_call.flip_cost_ == chosen["flip_cost"]
    final = one_call.best_estimator_
    if one_call.flip_cost_ > 1:
        assert isinstance(final, CompatibleUpdateClassifier)
        assert final.flip_cost == one_call.flip_cost_
        h2 = final.estimator_.estimator
    else:
        h2 = final
    assert isinstance(h2, BCCompatibleClassifier)
    assert len(h2.members_) == one_call.n_members_
    expected = gate_predictions(
        h1_pred=h1.predict(X),
        h2_proba=h2.predict_proba(X),
        classes=h2.classes_,
        flip_cost=one_call.flip_cost_,
    )
    if one_call.flip_cost_ == 1:
        expected = h2.predict(X)
    np.testing.assert_array_equal(one_call.predict(X), expected)
    np.testing.assert_array_equal(one_call.predict_proba(X), h2.predict_proba(X))
    assert one_call.score(X, y) == pytest.approx(np.mean(expected == y))
    # bcsk's scorers find h1 through the search object.
    new_errors = np.mean((h1.predict(X) == y) & (expected != y))
    assert neg_nfr_scorer(one_call, X, y) == pytest.approx(-new_errors)


def test_a_gate_cost_is_refitted_as_the_gate(data, h1):
    X, y = data
    fitted = search(h1, flip_costs=(1.0, 2.0), refit=lambda r: 1).fit(X, y)
    assert fitted.flip_cost_ == 2.0 and fitted.lambda_c_ == 0.0
    assert isinstance(fitted.best_estimator_, CompatibleUpdateClassifier)
    h2 = fitted.best_estimator_.estimator_.estimator
    alone = BCCompatibleClassifier(build, h1=h1, lambda_c=0.0, **PARAMS).fit(X, y)
    np.testing.assert_allclose(h2.predict_proba(X), alone.predict_proba(X), rtol=1e-6)


def test_one_flip_cost_keeps_the_search_as_it_was(one_call, data, h1):
    """flip_costs=(1.0,): no flip-cost column; the cost-1 rows are the same scores."""
    X, y = data
    plain = search(h1, dissonance=["new_error", FocalDistillation()], n_members=(1, 2))
    plain.fit(X, y)
    assert "param_flip_cost" not in plain.cv_results_
    assert all("flip_cost" not in p for p in plain.cv_results_["params"])
    assert plain.flip_cost_ == 1.0
    at_one = np.flatnonzero(one_call.cv_results_["param_flip_cost"] == 1.0)
    for key in ("split0_test_accuracy", "split1_test_neg_nfr", "mean_test_btc"):
        np.testing.assert_array_equal(
            plain.cv_results_[key], one_call.cv_results_[key][at_one]
        )


def test_rows_equal_separate_searches(one_call, data, h1):
    """Candidates and sizes trained together score as in their own searches."""
    X, y = data
    alone = search(h1, dissonance=FocalDistillation(), lambda_cs=(0.3,)).fit(X, y)
    rows = [
        i
        for i, p in enumerate(one_call.cv_results_["params"])
        if p["dissonance"] == FocalDistillation()
        and p["n_members"] == 1
        and p["flip_cost"] == 1.0
    ]
    assert len(rows) == 1
    for key in ("split0_test_accuracy", "split1_test_neg_nfr"):
        np.testing.assert_allclose(
            one_call.cv_results_[key][rows], alone.cv_results_[key], rtol=1e-6
        )


@pytest.mark.slow
def test_auto_grids(data, h1):
    X, y = data
    fitted = search(
        h1,
        lambda_cs="auto",
        dissonance=["new_error", "logit_difference"],
        cv=2,
        epochs=1,
        refit=fewest_new_errors_within(0.01),
    ).fit(X, y)
    lambdas = [(p["dissonance"], p["lambda_c"]) for p in fitted.cv_results_["params"]]
    expected = [("new_error", 0.0)]
    expected += [("new_error", v) for v in DISSONANCES["new_error"].default_lambda_cs]
    expected += [
        ("logit_difference", v)
        for v in DISSONANCES["logit_difference"].default_lambda_cs
    ]
    assert lambdas == expected
    assert fitted.best_index_ == fewest_new_errors_within(0.01)(fitted.cv_results_)


def test_every_dissonance_has_a_grid():
    for cls in DISSONANCES.values():
        grid = cls.default_lambda_cs
        assert len(grid) >= 3 and all(v > 0 for v in grid)
        assert list(grid) == sorted(grid)


class Custom(Dissonance):
    name = "custom_test"
    needs_probabilities = False

    def values(self, y, h1_output, y_pred, task):
        return task.per_sample(y, y_pred)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flip_costs": ()}, "flip_costs is empty"),
        ({"flip_costs": (0.5,)}, "each of flip_costs must be a number >= 1"),
        (
            {"flip_costs": (1.0, float("nan"))},
            "each of flip_costs must be a number >= 1",
        ),
        ({"flip_costs": ("2",)}, "each of flip_costs must be a number >= 1"),
        ({"flip_costs": (True,)}, "each of flip_costs must be a number >= 1"),
        ({"flip_costs": 2.0}, "flip_costs must be a sequence"),
        ({"flip_costs": (1.0, 2.0, 2.0)}, r"flip_costs holds \[2.0\] more than once"),
        ({"dissonance": []}, "dissonance is an empty list"),
        ({"dissonance": ["new_error", "new_error"]}, "more than once"),
        (
            {"dissonance": [FocalDistillation(), "focal_distillation"]},
            "more than once",
        ),
        ({"dissonance": ["no_such"]}, "no_such"),
        ({"dissonance": [3]}, "dissonance must be a name"),
        ({"lambda_cs": "auto", "dissonance": Custom()}, "pass the candidates"),
        ({"lambda_cs": "grid"}, "lambda_cs must be 'auto'"),
        ({"lambda_cs": (0.0, -1.0)}, "lambda_cs must hold finite numbers"),
        ({"lambda_cs": ()}, "lambda_cs is empty"),
        ({"n_members": 0}, "n_members must be an int >= 1"),
        ({"n_members": (1, 1.5)}, "n_members must be an int >= 1"),
        ({"n_members": True}, "n_members must be an int >= 1"),
        ({"n_members": (2, 2)}, "more than once"),
        ({"n_jobs": 1.5}, "n_jobs must be an int or None"),
        ({"refit": lambda r: 99}, "refit returned 99"),
        ({"lambda_c": 0.5}, "lambda_c is chosen by"),
    ],
)
def test_bad_input(kwargs, message, data, h1):
    X, y = data
    with pytest.raises(ValueError, match=message):
        search(h1, epochs=1, **kwargs).fit(X, y)


def test_the_refit_rules_need_the_compatibility_keys(data, h1):
    X, y = data
    with pytest.raises(KeyError, match="compatibility_scoring"):
        search(h1, scoring="accuracy", refit=lowest_update_cost(), epochs=1).fit(X, y)


@pytest.mark.slow
def test_pipeline_grid_search_clone_and_pickle(data, h1, digits):
    X, y = data
    # h1 sees the scaled features, as the search does inside the pipeline.
    X_all, y_all = digits
    scaler = StandardScaler().fit(X)
    h1_scaled = LogisticRegression(max_iter=300).fit(
        scaler.transform(X_all[:150]), y_all[:150]
    )
    inner = search(h1_scaled, flip_costs=(1.0, 2.0), epochs=1, cv=2)
    outer = GridSearchCV(
        make_pipeline(StandardScaler(), inner),
        {"bccompatibleclassifiercv__model__hidden": [4, 8]},
        cv=2,
        scoring=compatibility_scoring(),
        refit="accuracy",
    ).fit(X, y)
    assert np.isfinite(outer.cv_results_["mean_test_neg_nfr"]).all()
    twin = clone(inner)
    assert twin.h1 is h1_scaled and twin.flip_costs == (1.0, 2.0)
    fitted = outer.best_estimator_
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.predict(X), fitted.predict(X))


@pytest.mark.slow
def test_parallel_folds_equal_one_job(data, h1):
    X, y = data
    kwargs = dict(flip_costs=(1.0, 2.0), epochs=1, refit=False)
    # build_mlp lives where the joblib workers can import it.
    one = search(h1, n_jobs=1, **kwargs).set_params(model=build_mlp).fit(X, y)
    two = search(h1, n_jobs=2, **kwargs).set_params(model=build_mlp).fit(X, y)
    for key, values in one.cv_results_.items():
        if key.startswith(("split", "mean_", "std_")):
            np.testing.assert_array_equal(values, two.cv_results_[key], err_msg=key)
    assert not hasattr(one, "best_estimator_")
