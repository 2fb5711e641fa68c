"""``BCCompatibleClassifierCV``: the path equals separate fits and GridSearchCV."""

import itertools

import keras
import numpy as np
import pytest
from _builders import N_SMALL, SMALL_PARAMS, narrow_search
from _builders import build_small as build
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from bcsk import (
    BCCompatibleClassifier,
    FocalDistillation,
    compatibility_scoring,
)
from bcsk.model_selection._path import _LambdaPath

LAMBDAS = (0.0, 0.3, 2.0)


PARAMS = SMALL_PARAMS


@pytest.mark.parametrize("dissonance", ["new_error", FocalDistillation()])
def test_each_copy_trains_as_its_own_fit(dissonance, data, h1):
    X, y = data
    candidates = [(dissonance, v) for v in LAMBDAS]
    path = _LambdaPath(
        build, h1=h1, candidates=candidates, dissonance=dissonance, **PARAMS
    )
    path.fit(X, y)
    for j, lambda_c in enumerate(LAMBDAS):
        alone = BCCompatibleClassifier(
            build, h1=h1, lambda_c=lambda_c, dissonance=dissonance, **PARAMS
        ).fit(X, y)
        for a, b in zip(
            path.models_[j].get_weights(), alone.model_.get_weights(), strict=True
        ):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The copies did train apart: lambda_c changed the weights.
    assert not np.allclose(
        path.models_[0].get_weights()[0], path.models_[2].get_weights()[0]
    )


def build_regularised(meta, hidden=8):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(
                hidden, activation="relu", kernel_regularizer=keras.regularizers.L2(0.1)
            ),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def test_regularisation_losses_of_every_copy_count(data, h1):
    X, y = data
    params = {**PARAMS, "epochs": 1}
    candidates = [("new_error", 0.0), ("new_error", 1.0)]
    path = _LambdaPath(build_regularised, h1=h1, candidates=candidates, **params)
    path.fit(X, y)
    for j, lambda_c in enumerate((0.0, 1.0)):
        alone = BCCompatibleClassifier(
            build_regularised, h1=h1, lambda_c=lambda_c, **params
        ).fit(X, y)
        for a, b in zip(
            path.models_[j].get_weights(), alone.model_.get_weights(), strict=True
        ):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def folds():
    return StratifiedKFold(2, shuffle=True, random_state=0)


@pytest.mark.parametrize("scoring", [None, "compatibility"])
def test_cv_scores_equal_grid_search(scoring, data, h1):
    X, y = data
    scoring = compatibility_scoring() if scoring else None
    refit = "accuracy" if scoring else True
    path = narrow_search(
        build,
        h1=h1,
        lambda_cs=LAMBDAS,
        cv=folds(),
        scoring=scoring,
        refit=refit,
        **PARAMS,
    ).fit(X, y)
    grid = GridSearchCV(
        BCCompatibleClassifier(build, h1=h1, **PARAMS),
        {"lambda_c": list(LAMBDAS)},
        cv=folds(),
        scoring=scoring,
        refit=refit,
    ).fit(X, y)
    keys = [k for k in grid.cv_results_ if "_test_" in k]
    assert keys and set(keys) <= set(path.cv_results_)
    for key in keys:
        np.testing.assert_allclose(
            path.cv_results_[key], grid.cv_results_[key], rtol=1e-6, err_msg=key
        )
    assert list(path.cv_results_["param_lambda_c"]) == list(LAMBDAS)
    assert path.best_index_ == grid.best_index_
    assert path.lambda_c_ == grid.best_params_["lambda_c"]
    assert path.best_score_ == pytest.approx(grid.best_score_)
    # The refitted estimator is the same fit as GridSearchCV's.
    np.testing.assert_allclose(
        path.predict_proba(X), grid.best_estimator_.predict_proba(X), rtol=1e-5
    )


def test_attributes_and_prediction(data, h1):
    X, y = data
    path = narrow_search(build, h1=h1, lambda_cs=LAMBDAS, cv=2, **PARAMS)
    path.fit(X, y)
    assert path.n_splits_ == 2
    assert isinstance(path.best_estimator_, BCCompatibleClassifier)
    assert path.best_estimator_.lambda_c == path.lambda_c_ == LAMBDAS[path.best_index_]
    assert path.best_estimator_.h1 is h1
    np.testing.assert_array_equal(path.classes_, np.unique(y))
    assert path.predict(X).shape == (N_SMALL,)
    assert path.predict_proba(X).shape == (N_SMALL, 10)
    assert path.score(X, y) == pytest.approx(path.best_estimator_.score(X, y))
    for i in range(2):
        assert path.cv_results_[f"split{i}_test_score"].shape == (len(LAMBDAS),)
    ranks = path.cv_results_["rank_test_score"]
    assert ranks[path.best_index_] == 1


def test_callable_refit_and_no_refit(data, h1):
    X, y = data
    chosen = []

    def most_compatible_within_half_a_point(results):
        accuracy, btc = results["mean_test_accuracy"], results["mean_test_btc"]
        ok = np.flatnonzero(accuracy >= accuracy.max() - 0.005)
        chosen.append(int(ok[np.argmax(btc[ok])]))
        return chosen[-1]

    path = narrow_search(
        build,
        h1=h1,
        lambda_cs=LAMBDAS,
        cv=2,
        scoring=compatibility_scoring(),
        refit=most_compatible_within_half_a_point,
        **PARAMS,
    ).fit(X, y)
    assert path.best_index_ == chosen[0]
    assert not hasattr(path, "best_score_")
    unfitted = narrow_search(
        build, h1=h1, lambda_cs=(0.0, 1.0), cv=2, refit=False, **PARAMS
    ).fit(X, y)
    assert not hasattr(unfitted, "best_estimator_")
    assert "mean_test_score" in unfitted.cv_results_
    with pytest.raises(ValueError, match="must name the one that chooses"):
        narrow_search(
            build,
            h1=h1,
            lambda_cs=(0.0, 1.0),
            cv=2,
            scoring=compatibility_scoring(),
            refit=True,
            **PARAMS,
        ).fit(X, y)


def test_tradeoff_display_reads_cv_results(data, h1):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from bcsk import CompatibilityTradeoffDisplay

    X, y = data
    path = narrow_search(
        build,
        h1=h1,
        lambda_cs=LAMBDAS,
        cv=2,
        scoring=compatibility_scoring(),
        refit="accuracy",
        **PARAMS,
    ).fit(X, y)
    display = CompatibilityTradeoffDisplay.from_cv_results(path.cv_results_)
    assert display.figure_ is not None
    import matplotlib.pyplot as plt

    plt.close("all")


# Nested: 15 fits (2 outer folds x 2 widths x (2 inner folds + refit), and the
# refit); test_clone_keeps_parameters_and_shares_h1 checks the same
# parameters by clone and set_params in the default suite.
@pytest.mark.slow
def test_inside_grid_search_over_the_architecture(data, h1):
    X, y = data
    inner = narrow_search(build, h1=h1, lambda_cs=(0.0, 1.0), cv=2, **PARAMS)
    search = GridSearchCV(inner, {"model__hidden": [4, 8]}, cv=2).fit(X, y)
    assert search.best_params_["model__hidden"] in (4, 8)
    assert search.best_estimator_.lambda_c_ in (0.0, 1.0)
    hidden = search.best_estimator_.best_estimator_.model_.layers[0].units
    assert hidden == search.best_params_["model__hidden"]


def test_clone_keeps_parameters_and_shares_h1(h1):
    path = narrow_search(
        build,
        h1=h1,
        lambda_cs=(0.0, 1.0),
        dissonance=FocalDistillation(temperature=3),
        model__hidden=5,
        **PARAMS,
    )
    copy = clone(path)
    assert copy.h1 is h1
    assert copy.get_params()["model__hidden"] == 5
    assert copy.dissonance == FocalDistillation(temperature=3)
    assert copy.dissonance is not path.dissonance
    copy.set_params(dissonance__temperature=2.0, model__hidden=7, epochs=3)
    assert copy.dissonance.temperature == 2.0
    assert copy.get_params()["model__hidden"] == 7 and copy.epochs == 3
    assert path.dissonance.temperature == 3


@pytest.mark.parametrize(
    "lambda_cs, match",
    [
        ((), "empty"),
        ((0.0, -1.0), "finite numbers >= 0"),
        ((0.0, float("nan")), "finite numbers >= 0"),
        ((0.0, float("inf")), "finite numbers >= 0"),
        ((0.5, 0.5), "more than once"),
        (("a",), "finite numbers >= 0"),
        (3, "sequence of numbers"),
    ],
)
def test_bad_lambda_cs(lambda_cs, match, data, h1):
    X, y = data
    with pytest.raises(ValueError, match=match):
        narrow_search(build, h1=h1, lambda_cs=lambda_cs, **PARAMS).fit(X, y)


def test_builder_whose_copies_disagree(data, h1):
    X, y = data
    sizes = itertools.count(4)

    def drifting(meta):
        return build(meta, hidden=next(sizes))

    with pytest.raises(ValueError, match="different shapes"):
        narrow_search(drifting, h1=h1, lambda_cs=(0.0, 1.0), cv=2, **PARAMS).fit(X, y)


def test_refuses_what_would_couple_or_skip_the_path(data, h1):
    X, y = data
    params = {**PARAMS, "optimizer": keras.optimizers.Adam(global_clipnorm=1.0)}
    params.pop("optimizer__learning_rate")
    with pytest.raises(ValueError, match="global_clipnorm"):
        narrow_search(build, h1=h1, lambda_cs=(0.0, 1.0), cv=2, **params).fit(X, y)
    with pytest.raises(ValueError, match="method='model' only"):
        narrow_search(
            build, h1=h1, lambda_cs=(0.0, 1.0), method="bc_fit", **PARAMS
        ).fit(X, y)
    with pytest.raises(ValueError, match="lambda_cs"):
        narrow_search(build, h1=h1, lambda_c=0.5, **PARAMS).fit(X, y)


class _RecordsExecution(keras.callbacks.Callback):
    """Records how Keras runs each training step it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_begin(self, logs=None):
        self.seen.append(
            (type(self.model).__name__, self.model.run_eagerly, self.model.jit_compile)
        )


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_path_model_runs_as_the_user_compiled(run_eagerly, data, h1):
    # The path model trains every candidate: it must run as the user asked
    # (eagerly, or compiled with XLA off), not as Keras' defaults would.
    X, y = data
    recorder = _RecordsExecution()
    params = {**PARAMS, "epochs": 1}
    search = narrow_search(
        build,
        h1=h1,
        lambda_cs=(0.0, 1.0),
        cv=2,
        callbacks=[recorder],
        run_eagerly=run_eagerly,
        model__hidden=4,
        **params,
    ).fit(X, y)
    # The two folds' path models (the refit gets a clone of the callback).
    assert [name for name, _, _ in recorder.seen] == ["ReferenceInputPathModel"] * 2
    assert all(eager is run_eagerly for _, eager, _ in recorder.seen)
    assert all(jit is False for _, _, jit in recorder.seen)
    assert search.best_estimator_.model_.run_eagerly is run_eagerly
