"""h1 as logged outputs: train, search and score from them, routed by scikit-learn.

Each test compares a run from h1's logged outputs with the same run against the
live h1 that produced them, and the live side's results must come back exactly.
Where h1 must not be called, it is an object that raises when it is.
"""

import copy
import pickle

import numpy as np
import pytest
import sklearn
from _builders import N_SMALL, SMALL_PARAMS, narrow_search
from _builders import build_small as build
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import _NotAnArray

from bcsk import (
    BCCompatibleClassifier,
    CompatibleUpdateClassifier,
    CompatibleUpdateClassifierCV,
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

PARAMS = dict(SMALL_PARAMS, batch_size=64)


def folds():
    return StratifiedKFold(3, shuffle=True, random_state=0)


class Unreachable:
    """An h1 that cannot run here: any call fails the test."""

    def predict(self, X):
        raise AssertionError("h1 was called although its logged outputs were given")

    def predict_proba(self, X):
        raise AssertionError("h1 was called although its logged outputs were given")


@pytest.fixture(scope="module")
def logged(data, h1):
    """h1's outputs on the data, as a log would hold them: (h1_proba, h1_pred).

    bcsk reads a live scikit-learn h1's probabilities renormalised over the
    classes of y (here all of h1's); the log holds them so, to the last bit, so
    that a live fit and a fit from the log can be compared bit for bit.
    """
    X, _ = data
    P = h1.predict_proba(X).astype(np.float64)  # float32 for float32 X
    return P / P.sum(axis=1, keepdims=True), h1.predict(X)


def assert_same_weights(a, b):
    for u, v in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def assert_same_results(live, logged, keys=("mean_test_", "split", "rank_test_")):
    compared = [k for k in live if k.startswith(keys)]
    assert compared
    for key in compared:
        np.testing.assert_array_equal(live[key], logged[key], err_msg=key)


# -- fit -----------------------------------------------------------------------


@pytest.mark.parametrize("dissonance", ["new_error", "focal_distillation"])
def test_fit_from_logged_probabilities_is_the_live_fit(dissonance, data, h1, logged):
    X, y = data
    weight = np.ones(N_SMALL)
    weight[::7] = 0.0  # scikeras drops these rows: the logged rows must follow
    live = BCCompatibleClassifier(
        build, h1=h1, lambda_c=1.0, dissonance=dissonance, **PARAMS
    ).fit(X, y, sample_weight=weight)
    from_log = BCCompatibleClassifier(
        build, lambda_c=1.0, dissonance=dissonance, **PARAMS
    ).fit(X, y, sample_weight=weight, h1_proba=logged[0])
    assert from_log.h1 is None
    assert_same_weights(live, from_log)
    plain = BCCompatibleClassifier(build, h1=h1, lambda_c=0.0, **PARAMS).fit(
        X, y, sample_weight=weight
    )
    # lambda_c did act, so equal weights mean equal objectives.
    assert not np.array_equal(
        plain.model_.get_weights()[0], live.model_.get_weights()[0]
    )


def test_fit_from_logged_labels_is_the_live_new_error_fit(data, h1, logged):
    X, y = data
    live = BCCompatibleClassifier(build, h1=h1, lambda_c=1.0, **PARAMS).fit(X, y)
    from_log = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS).fit(
        X, y, h1_pred=logged[1]
    )
    assert_same_weights(live, from_log)


def test_array_likes_known_only_by_array_interface(data, logged):
    # scikit-learn's _NotAnArray has neither shape nor len: the logged-output
    # checks count its samples through np.asarray, as fit does.
    X, y = data
    from_arrays = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS).fit(
        X, y, h1_pred=logged[1]
    )
    from_array_likes = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS).fit(
        _NotAnArray(X), _NotAnArray(y), h1_pred=logged[1]
    )
    assert_same_weights(from_arrays, from_array_likes)


def test_partial_fit_from_logged_outputs(data, h1, logged):
    X, y = data
    live = BCCompatibleClassifier(build, h1=h1, lambda_c=1.0, **PARAMS)
    from_log = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS)
    for half in (slice(0, N_SMALL // 2), slice(N_SMALL // 2, N_SMALL)):
        live.partial_fit(X[half], y[half], classes=np.arange(10))
        from_log.partial_fit(
            X[half], y[half], classes=np.arange(10), h1_proba=logged[0][half]
        )
    assert_same_weights(live, from_log)


def test_ensemble_and_validation_split_from_logged_outputs(data, h1, logged):
    X, y = data
    params = {**PARAMS, "n_members": 2, "validation_split": 0.25}
    live = BCCompatibleClassifier(build, h1=h1, **params).fit(X, y)
    from_log = BCCompatibleClassifier(build, **params).fit(X, y, h1_proba=logged[0])
    for a, b in zip(live.members_, from_log.members_, strict=True):
        for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(u, v)
    assert live.history_["val_loss"] == from_log.history_["val_loss"]


def test_pickled_model_from_logged_outputs_holds_no_h1(data, logged):
    X, y = data
    clf = BCCompatibleClassifier(build, **PARAMS).fit(X, y, h1_proba=logged[0])
    copy_ = pickle.loads(pickle.dumps(clf))
    assert copy_.h1 is None
    np.testing.assert_array_equal(copy_.predict_proba(X), clf.predict_proba(X))
    # Scoring it later needs h1's labels: the error says how to pass them.
    with pytest.raises(ValueError, match=r"h1_pred=labels"):
        btc_scorer(copy_, X, y)
    assert btc_scorer(copy_, X, y, h1_pred=logged[1]) == make_btc_scorer(None)(
        clf, X, y, h1_pred=logged[1]
    )


# -- bad input: clear errors before any training ----------------------------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "outputs, match",
    [
        (
            lambda P, L: {"h1_proba": P[:-1]},
            r"shape \(n_samples, n_classes\) = \(240, 10\)",
        ),
        (lambda P, L: {"h1_proba": P[:, :9]}, r"got \(240, 9\)"),
        (lambda P, L: {"h1_proba": np.where(np.eye(240, 10) > 0, np.nan, P)}, "NaN"),
        (lambda P, L: {"h1_proba": P - 0.01}, "negative entries or do not sum to 1"),
        (
            lambda P, L: {"h1_proba": np.log(P) + 3.0},
            r"within 0.001.*Logits are not probabilities: apply a softmax",
        ),
        (lambda P, L: {"h1_pred": L[:-3]}, r"one label per sample, shape \(240,\)"),
        (
            lambda P, L: {"h1_pred": np.where(L == 3, 11, L)},
            r"not among the classes.*\[11\]",
        ),
        (lambda P, L: {"h1_pred": L.astype(str)}, "not among the classes"),
        (lambda P, L: {"h1_proba": P, "h1_pred": L}, "got both h1_proba and h1_pred"),
    ],
)
def test_bad_logged_outputs_fail_before_training(outputs, match, data, logged):
    X, y = data
    clf = BCCompatibleClassifier(build, **PARAMS)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **outputs(*logged))
    assert not hasattr(clf, "model_")


def test_logged_outputs_that_need_probabilities_or_h1(data, h1, logged):
    X, y = data
    P, labels = logged
    assert np.allclose(_softmax(np.log(P)), P)  # the fix the message names works
    with pytest.raises(ValueError, match="needs h1.s probabilities.*Pass h1_proba"):
        BCCompatibleClassifier(build, dissonance="strict_imitation", **PARAMS).fit(
            X, y, h1_pred=labels
        )
    with pytest.raises(ValueError, match="both h1=LogisticRegression and h1_proba"):
        BCCompatibleClassifier(build, h1=h1, **PARAMS).fit(X, y, h1_proba=P)
    with pytest.raises(ValueError, match="h1=.*h1_proba=P.*h1_pred=labels"):
        BCCompatibleClassifier(build, **PARAMS).fit(X, y)
    with pytest.raises(ValueError, match="method='bc_fit'.*live Keras h1"):
        BCCompatibleClassifier(build, method="bc_fit", **PARAMS).fit(X, y, h1_proba=P)
    with pytest.raises(ValueError, match="validation_data needs h1's outputs"):
        BCCompatibleClassifier(
            build, fit__validation_data=(X[:10], y[:10]), **PARAMS
        ).fit(X, y, h1_proba=P)
    with pytest.raises(ValueError, match="both h1=LogisticRegression and h1_pred"):
        narrow_search(build, h1=h1, lambda_cs=(0,), cv=2, **PARAMS).fit(
            X, y, h1_pred=labels
        )
    with pytest.raises(ValueError, match=r"got \(240, 9\)"):
        narrow_search(build, lambda_cs=(0,), cv=2, **PARAMS).fit(
            X, y, h1_proba=P[:, :9]
        )


def test_routing_without_the_request_names_the_fix(data, logged):
    X, y = data
    search = GridSearchCV(
        BCCompatibleClassifier(build, **PARAMS), {"lambda_c": [0.0]}, cv=2
    )
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(
            UnsetMetadataPassedError, match=r"set_fit_request\(\{metadata\}=True"
        ):
            search.fit(X, y, h1_proba=logged[0])
    with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
        compatibility_scoring().set_score_request(h1_pred=True)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="h1_pred"):
            compatibility_scoring().set_score_request(sample_weight=True)


# -- routed searches and cross-validation ---------------------------------------------


GRID = {"lambda_c": [0.0, 1.0, 3.0]}


@pytest.fixture(scope="module")
def live_search(data, h1):
    """The search against the live h1 that every logged search must reproduce."""
    X, y = data
    return GridSearchCV(
        BCCompatibleClassifier(build, h1=h1, **PARAMS),
        GRID,
        cv=folds(),
        scoring=compatibility_scoring(),
        refit="neg_nfr",
    ).fit(X, y)


def assert_same_search(live, search):
    assert_same_results(live.cv_results_, search.cv_results_)
    assert search.best_index_ == live.best_index_
    assert_same_weights(live.best_estimator_, search.best_estimator_)
    assert len(set(live.cv_results_["mean_test_neg_nfr"])) > 1  # lambda_c mattered


@pytest.mark.parametrize("request_", ["h1_proba", "h1_pred"])
def test_grid_search_from_routed_outputs_is_the_live_search(
    request_, data, logged, live_search
):
    X, y = data
    P, labels = logged
    with sklearn.config_context(enable_metadata_routing=True):
        # The scorer's own h1 cannot run: the routed labels must be used.
        scoring = compatibility_scoring(Unreachable())
        estimator = BCCompatibleClassifier(build, **PARAMS)
        if request_ == "h1_proba":  # one array routed to fit and to scoring
            estimator.set_fit_request(h1_proba=True)
            scoring.set_score_request(h1_proba=True)
            metadata = {"h1_proba": P}
        else:  # P to fit, the labels to the scorers
            estimator.set_fit_request(h1_proba=True, h1_pred=False)
            scoring.set_score_request(h1_pred=True, h1_proba=False)
            metadata = {"h1_proba": P, "h1_pred": labels}
        search = GridSearchCV(
            estimator, GRID, cv=folds(), scoring=scoring, refit="neg_nfr"
        ).fit(X, y, **metadata)
    assert_same_search(live_search, search)


def test_grid_search_without_routing_passes_fit_params(data, h1, logged, live_search):
    # Without routing, a search passes fit parameters to the estimator's fit,
    # sliced per fold, as it does sample_weight; the scorer has its own h1.
    X, y = data
    search = GridSearchCV(
        BCCompatibleClassifier(build, **PARAMS),
        GRID,
        cv=folds(),
        scoring=compatibility_scoring(h1),
        refit="neg_nfr",
    ).fit(X, y, h1_proba=logged[0])
    assert_same_search(live_search, search)


def test_cross_validate_with_every_compatibility_scorer(data, h1, logged):
    X, y = data
    single = {
        "btc": btc_scorer,
        "bec": bec_scorer,
        "neg_nfr": neg_nfr_scorer,
        "pfr": pfr_scorer,
        "neg_nfi": neg_nfi_scorer,
        "neg_relative_nfr": neg_relative_nfr_scorer,
        "btc_made": make_btc_scorer(None),
        "bec_made": make_bec_scorer(None),
    }
    params = {**PARAMS, "epochs": 1}
    live = BCCompatibleClassifier(build, h1=h1, lambda_c=1.0, **params)
    live_single = cross_validate(live, X, y, cv=folds(), scoring=single)
    live_multi = cross_validate(live, X, y, cv=folds(), scoring=compatibility_scoring())
    with sklearn.config_context(enable_metadata_routing=True):
        # btc_scorer & co. are shared objects: request on copies of them.
        routed = {
            name: copy.copy(scorer).set_score_request(h1_pred=True)
            for name, scorer in single.items()
        }
        assert btc_scorer.get_metadata_routing().score.requests["h1_pred"] is None
        estimator = BCCompatibleClassifier(build, lambda_c=1.0, **params)
        estimator.set_fit_request(h1_pred=True)
        metadata = {"h1_pred": logged[1]}
        got_single = cross_validate(
            estimator, X, y, cv=folds(), scoring=routed, params=metadata
        )
        got_multi = cross_validate(
            estimator,
            X,
            y,
            cv=folds(),
            scoring=compatibility_scoring().set_score_request(h1_pred=True),
            params=metadata,
        )
    assert_same_results(live_single, got_single, keys=("test_",))
    assert_same_results(live_multi, got_multi, keys=("test_",))
    assert set(got_multi) >= {f"test_{key}" for key in compatibility_scoring()}


def test_pipeline_with_routing(data, h1, logged, digits):
    X, y = data
    sqrt = FunctionTransformer(np.sqrt)
    h1_sqrt = LogisticRegression(max_iter=300).fit(
        np.sqrt(digits[0][:150]), digits[1][:150]
    )
    P = h1_sqrt.predict_proba(np.sqrt(X))
    grid = {"clf__lambda_c": [0.0, 2.0]}
    live = GridSearchCV(
        Pipeline(
            [
                ("sqrt", sqrt),
                ("clf", BCCompatibleClassifier(build, h1=h1_sqrt, **PARAMS)),
            ]
        ),
        grid,
        cv=folds(),
        scoring=compatibility_scoring(),
        refit="btc",
    ).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = BCCompatibleClassifier(build, **PARAMS).set_fit_request(h1_proba=True)
        search = GridSearchCV(
            Pipeline([("sqrt", sqrt), ("clf", clf)]),
            grid,
            cv=folds(),
            scoring=compatibility_scoring().set_score_request(h1_proba=True),
            refit="btc",
        ).fit(X, y, h1_proba=P)
        # A Pipeline fitted directly routes too.
        pipe = Pipeline([("sqrt", sqrt), ("clf", clf)]).fit(X, y, h1_proba=P)
    assert_same_results(live.cv_results_, search.cv_results_)
    assert search.best_index_ == live.best_index_
    live_pipe = Pipeline(
        [("sqrt", sqrt), ("clf", BCCompatibleClassifier(build, h1=h1_sqrt, **PARAMS))]
    ).fit(X, y)
    np.testing.assert_array_equal(pipe.predict_proba(X), live_pipe.predict_proba(X))


# -- bcsk's own CV estimators ---------------------------------------------------------


@pytest.mark.parametrize(
    "search, outputs",
    [
        (dict(lambda_cs=(0.0, 0.5, 2.0)), "h1_pred"),
        (
            dict(
                dissonance=["new_error", "focal_distillation"],
                lambda_cs=(0.0, 1.0),
                flip_costs=(1.0, 2.0),
                # Ensembles from logged outputs: test_ensemble_and_validation_
                # split_from_logged_outputs (one member here keeps it short).
                refit="neg_nfr",
            ),
            "h1_proba",
        ),
    ],
)
def test_lambda_path_and_one_call_search(search, outputs, data, h1, logged):
    X, y = data
    P, labels = logged
    kwargs = dict(cv=folds(), scoring=compatibility_scoring(), **search, **PARAMS)
    kwargs.setdefault("refit", "btc")
    live = narrow_search(build, h1=h1, **kwargs).fit(X, y)
    given = {"h1_proba": P} if outputs == "h1_proba" else {"h1_pred": labels}
    from_log = narrow_search(build, **kwargs).fit(X, y, **given)
    assert_same_results(live.cv_results_, from_log.cv_results_)
    assert from_log.best_index_ == live.best_index_
    np.testing.assert_array_equal(from_log.predict_proba(X), live.predict_proba(X))


def test_one_call_search_refits_a_gate_without_h1(data, h1, logged):
    X, y = data
    P, labels = logged
    kwargs = dict(lambda_cs=(0.0, 1.0), flip_costs=(2.0,), cv=folds(), **PARAMS)
    live = narrow_search(build, h1=h1, **kwargs).fit(X, y)
    from_log = narrow_search(build, **kwargs).fit(X, y, h1_proba=P)
    assert_same_results(live.cv_results_, from_log.cv_results_)
    gate = from_log.best_estimator_
    assert isinstance(gate, CompatibleUpdateClassifier) and gate.h1 is None
    with pytest.raises(ValueError, match=r"predict\(X, h1_pred=labels\)"):
        from_log.predict(X)
    np.testing.assert_array_equal(from_log.predict(X, h1_pred=labels), live.predict(X))
    restored = pickle.loads(pickle.dumps(from_log))
    np.testing.assert_array_equal(restored.predict(X, h1_pred=labels), live.predict(X))


def test_routing_into_bcsk_cv_estimator(data, h1, logged):
    X, y = data
    kwargs = dict(
        lambda_cs=(0.0, 1.0),
        cv=2,
        scoring=compatibility_scoring(),
        refit="btc",
        **PARAMS,
    )
    outer = StratifiedKFold(2, shuffle=True, random_state=0)
    live = cross_validate(
        narrow_search(build, h1=h1, **kwargs),
        X,
        y,
        cv=outer,
        scoring=compatibility_scoring(),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = narrow_search(build, **kwargs).set_fit_request(h1_proba=True)
        got = cross_validate(
            search,
            X,
            y,
            cv=outer,
            scoring=compatibility_scoring().set_score_request(h1_proba=True),
            params={"h1_proba": logged[0]},
        )
    assert_same_results(live, got, keys=("test_",))


# -- the gate ---------------------------------------------------------------------


def test_gate_cv_from_logged_labels(data, h1, logged):
    X, y = data
    labels = logged[1]
    live = CompatibleUpdateClassifierCV(
        LogisticRegression(max_iter=200), h1=h1, cv=folds()
    ).fit(X, y)
    from_log = CompatibleUpdateClassifierCV(
        LogisticRegression(max_iter=200), cv=folds()
    ).fit(X, y, h1_pred=labels)
    assert_same_results(live.cv_results_, from_log.cv_results_)
    assert from_log.flip_cost_ == live.flip_cost_
    assert from_log.best_index_ == live.best_index_
    np.testing.assert_array_equal(from_log.predict(X, h1_pred=labels), live.predict(X))
    with pytest.raises(ValueError, match=r"holds no h1.*predict\(X, h1_pred=labels\)"):
        from_log.predict(X)
    with pytest.raises(ValueError, match="both h1=LogisticRegression and h1_pred"):
        CompatibleUpdateClassifierCV(LogisticRegression(), h1=h1).fit(
            X, y, h1_pred=labels
        )
    with pytest.raises(ValueError, match=r"one label per sample"):
        CompatibleUpdateClassifierCV(LogisticRegression(), cv=2).fit(
            X, y, h1_pred=labels[:-1]
        )
    restored = pickle.loads(pickle.dumps(from_log))
    np.testing.assert_array_equal(restored.predict(X, h1_pred=labels), live.predict(X))


def test_gate_scored_with_routed_labels(data, h1, logged):
    X, y = data
    labels = logged[1]
    live = cross_validate(
        CompatibleUpdateClassifier(LogisticRegression(max_iter=200), h1=h1),
        X,
        y,
        cv=folds(),
        scoring=compatibility_scoring(),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        gate = CompatibleUpdateClassifier(LogisticRegression(max_iter=200))
        gate.set_fit_request(h1_pred=True)
        got = cross_validate(
            gate,
            X,
            y,
            cv=folds(),
            scoring=compatibility_scoring().set_score_request(h1_pred=True),
            params={"h1_pred": labels},
        )
    assert_same_results(live, got, keys=("test_",))


def test_gate_around_h2_from_logged_labels(data, h1, logged):
    """The gate's h1_pred also trains an h2 that has no h1 of its own."""
    X, y = data
    labels = logged[1]
    live = CompatibleUpdateClassifier(
        BCCompatibleClassifier(build, h1=h1, **PARAMS), h1=h1, flip_cost=2.0
    ).fit(X, y)
    got = CompatibleUpdateClassifier(
        BCCompatibleClassifier(build, **PARAMS), flip_cost=2.0
    ).fit(X, y, h1_pred=labels)
    assert_same_weights(got.estimator_, live.estimator_)
    np.testing.assert_array_equal(got.predict(X, h1_pred=labels), live.predict(X))
    live_cv = CompatibleUpdateClassifierCV(
        BCCompatibleClassifier(build, h1=h1, **PARAMS), h1=h1, cv=folds()
    ).fit(X, y)
    got_cv = CompatibleUpdateClassifierCV(
        BCCompatibleClassifier(build, **PARAMS), cv=folds()
    ).fit(X, y, h1_pred=labels)
    assert_same_results(live_cv.cv_results_, got_cv.cv_results_)
    # A dissonance that needs h1's probabilities says what to pass.
    with pytest.raises(ValueError, match="h1_proba"):
        CompatibleUpdateClassifier(
            BCCompatibleClassifier(build, dissonance="focal_distillation", **PARAMS)
        ).fit(X, y, h1_pred=labels)


def test_pipeline_predict_routes_logged_labels_to_the_gate(data, logged):
    X, y = data
    labels = logged[1]
    with sklearn.config_context(enable_metadata_routing=True):
        gate = (
            CompatibleUpdateClassifier(LogisticRegression(max_iter=200))
            .set_fit_request(h1_pred=True)
            .set_predict_request(h1_pred=True)
        )
        pipe = Pipeline([("sqrt", FunctionTransformer(np.sqrt)), ("gate", gate)])
        got = pipe.fit(X, y, h1_pred=labels).predict(X, h1_pred=labels)
        with pytest.raises(ValueError, match=r"predict\(X, h1_pred=labels\)"):
            pipe.predict(X)
    expected = CompatibleUpdateClassifier(LogisticRegression(max_iter=200)).fit(
        np.sqrt(X), y, h1_pred=labels
    )
    np.testing.assert_array_equal(got, expected.predict(np.sqrt(X), h1_pred=labels))


# -- reports and displays ---------------------------------------------------------


def test_displays_from_estimator_with_logged_labels(data, h1, logged):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bcsk.metrics import CompatibilityDisplay, FlipCostDisplay

    X, y = data
    labels = logged[1]
    h2 = LogisticRegression(max_iter=200).fit(X, y)
    live = CompatibilityDisplay.from_estimator(h2, X, y, h1=h1)
    got = CompatibilityDisplay.from_estimator(
        h2, X, y, h1=Unreachable(), h1_pred=labels
    )
    assert [r.to_dict() for r in got.reports.values()] == [
        r.to_dict() for r in live.reports.values()
    ]
    live_gate = CompatibleUpdateClassifier(LogisticRegression(max_iter=200), h1=h1).fit(
        X, y
    )
    gate = CompatibleUpdateClassifier(LogisticRegression(max_iter=200)).fit(
        X, y, h1_pred=labels
    )
    live_curve = FlipCostDisplay.from_estimator(live_gate, X, y)
    curve = FlipCostDisplay.from_estimator(gate, X, y, h1_pred=labels)
    for name in ("flip_costs", "accuracy", "negative_flip_rate", "btc"):
        np.testing.assert_array_equal(getattr(curve, name), getattr(live_curve, name))
    assert curve.h1_accuracy == live_curve.h1_accuracy
    with pytest.raises(ValueError, match="h1_pred"):
        FlipCostDisplay.from_estimator(gate, X, y)
    plt.close("all")
