"""Ensembles of h2 (``n_members``): trained together, each member as its own fit."""

import pickle

import keras
import numpy as np
import pytest
from _builders import SMALL_PARAMS, build_mlp
from _builders import build_small as build
from _subprocess import result_of, run_python
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV

from bcsk import (
    BCCompatibleClassifier,
    CompatibleUpdateClassifier,
    MeanEnsemble,
    compatibility_scoring,
    gate_predictions,
)
from bcsk.estimator import member_seeds

PARAMS = SMALL_PARAMS


def starting_from(weights):
    """A builder whose network starts from the given weights."""

    def build_with(meta):
        model = build(meta)
        model.set_weights(weights)
        return model

    return build_with


@pytest.fixture(scope="module")
def ensemble(data, h1):
    X, y = data
    return BCCompatibleClassifier(
        build, h1=h1, lambda_c=0.5, n_members=3, **PARAMS
    ).fit(X, y)


def test_member_seeds():
    assert member_seeds(None, 3) == [None, None, None]
    seeds = member_seeds(7, 4)
    assert seeds[0] == 7 and len(set(seeds)) == 4
    assert all(0 <= s < 2**31 for s in seeds)
    assert member_seeds(7, 4) == seeds  # derived, not drawn
    assert member_seeds(8, 4)[1:] != seeds[1:]


def test_members_differ_and_the_ensemble_is_their_mean(ensemble, data):
    X, _ = data
    assert isinstance(ensemble.model_, MeanEnsemble)
    members = ensemble.members_
    assert len(members) == 3
    assert all(isinstance(m, keras.Model) for m in members)
    first = [m.get_weights()[0] for m in members]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.allclose(first[i], first[j])
    own = [m.predict(X, verbose=0) for m in members]
    np.testing.assert_allclose(
        ensemble.predict_proba(X), np.mean(own, axis=0), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_array_equal(
        ensemble.predict(X), ensemble.classes_[np.argmax(np.mean(own, axis=0), 1)]
    )


@pytest.mark.parametrize(
    "dissonance",
    [
        "new_error",
        pytest.param("focal_distillation", marks=pytest.mark.slow),
        pytest.param("logit_difference", marks=pytest.mark.slow),
    ],
)
def test_each_member_trains_as_its_own_fit(dissonance, data, h1):
    """Same initial weights, same batches: a member's weights equal a fit alone."""
    X, y = data
    params = {**PARAMS, "dissonance": dissonance, "lambda_c": 0.3}
    unfit = BCCompatibleClassifier(build, h1=h1, n_members=3, **params)
    initial = [m.get_weights() for m in unfit.initialize(X, y).members_]
    joint = clone(unfit).fit(X, y)
    for member, weights in zip(joint.members_, initial, strict=True):
        # random_state=0 keeps the batches of the joint fit.
        alone = BCCompatibleClassifier(starting_from(weights), h1=h1, **params)
        alone.fit(X, y)
        for a, b in zip(member.get_weights(), alone.model_.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_member_zero_is_the_single_network_fit(ensemble, data, h1):
    X, y = data
    one = BCCompatibleClassifier(build, h1=h1, lambda_c=0.5, **PARAMS).fit(X, y)
    assert not isinstance(one.model_, MeanEnsemble)
    assert one.members_ == [one.model_]
    for a, b in zip(
        ensemble.members_[0].get_weights(), one.model_.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_weights_and_metrics(data, h1):
    X, y = data
    weights = np.linspace(0.5, 2.0, len(y))
    kwargs = {**PARAMS, "metrics": ["accuracy"], "class_weight": "balanced"}
    joint = BCCompatibleClassifier(build, h1=h1, n_members=2, **kwargs)
    joint.fit(X, y, sample_weight=weights)
    alone = BCCompatibleClassifier(build, h1=h1, **kwargs)
    alone.fit(X, y, sample_weight=weights)
    for a, b in zip(
        joint.members_[0].get_weights(), alone.model_.get_weights(), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The compiled metric is the ensemble's; the loss is the members' sum.
    assert set(joint.history_) == {"loss", "accuracy"}
    assert len(joint.history_["accuracy"]) == PARAMS["epochs"]
    assert joint.history_["loss"][-1] > alone.history_["loss"][-1]


def test_grid_search_gate_and_scorers(data, h1):
    X, y = data
    search = GridSearchCV(
        BCCompatibleClassifier(build, h1=h1, **{**PARAMS, "epochs": 1}),
        {"n_members": [1, 2], "model__hidden": [4, 8]},
        cv=2,
        scoring=compatibility_scoring(),
        refit="accuracy",
    ).fit(X, y)
    assert sorted(search.cv_results_["param_n_members"]) == [1, 1, 2, 2]
    assert np.isfinite(search.cv_results_["mean_test_neg_nfr"]).all()
    ens = BCCompatibleClassifier(build, h1=h1, n_members=2, **PARAMS).fit(X, y)
    gate = CompatibleUpdateClassifier(FrozenEstimator(ens), h1=h1, flip_cost=1.5)
    gate.fit(X, y)
    expected = gate_predictions(
        h1_pred=h1.predict(X),
        h2_proba=ens.predict_proba(X),
        classes=ens.classes_,
        flip_cost=1.5,
    )
    np.testing.assert_array_equal(gate.predict(X), expected)


@pytest.mark.slow
def test_pickle_and_keras_file_load_in_a_fresh_process(data, h1, tmp_path):
    X, y = data
    # The fresh process finds the builder in _builders (not in this module).
    ensemble = BCCompatibleClassifier(build_mlp, h1=h1, n_members=3, **PARAMS)
    ensemble.fit(X, y)
    np.save(tmp_path / "X.npy", X[:20])
    (tmp_path / "clf.pkl").write_bytes(pickle.dumps(ensemble))
    ensemble.model_.save(tmp_path / "ensemble.keras")
    source = """
import json, pickle, sys
from pathlib import Path
import numpy as np
import bcsk  # a bare import: nothing else of bcsk
import keras
folder = Path(sys.argv[1])
X = np.load(folder / "X.npy")
clf = pickle.loads((folder / "clf.pkl").read_bytes())
model = keras.models.load_model(folder / "ensemble.keras")
print("RESULT " + json.dumps({
    "pickle": clf.predict_proba(X).tolist(),
    "keras": np.asarray(model.predict(X, verbose=0)).tolist(),
    "members": len(model.members),
    "member": type(model.members[0]).__name__,
}))
"""
    result = result_of(run_python(source, tmp_path, str(tmp_path)))
    expected = ensemble.predict_proba(X[:20])
    np.testing.assert_allclose(result["pickle"], expected, rtol=1e-6)
    np.testing.assert_allclose(result["keras"], expected, rtol=1e-6)
    assert result["members"] == 3 and result["member"] == "Sequential"


def test_a_keras_model_instance_gets_fresh_members(data, h1):
    X, y = data
    model = build({"n_features_in_": X.shape[1], "n_classes_": 10})
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    clf = BCCompatibleClassifier(model, h1=h1, n_members=2, epochs=1, random_state=0)
    clf.fit(X, y)
    a, b = clf.members_
    assert a is not b
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])


def test_seeded_ensembles_are_reproducible(data, h1):
    X, y = data
    params = {**PARAMS, "epochs": 1}
    first = BCCompatibleClassifier(build, h1=h1, n_members=2, **params).fit(X, y)
    again = BCCompatibleClassifier(build, h1=h1, n_members=2, **params).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "5", None])
def test_bad_n_members(value, data, h1):
    X, y = data
    clf = BCCompatibleClassifier(build, h1=h1, n_members=value, **PARAMS)
    with pytest.raises(ValueError, match="n_members"):
        clf.fit(X, y)


def test_bc_fit_refuses_an_ensemble(data, digits_h1):
    X, y = data
    clf = BCCompatibleClassifier(
        build, h1=digits_h1, n_members=2, method="bc_fit", **PARAMS
    )
    with pytest.raises(ValueError, match="n_members=2 needs method='model'"):
        clf.fit(X, y)


def test_logits_are_refused(data, h1):
    X, y = data

    def build_logits(meta):
        return keras.Sequential(
            [keras.Input((meta["n_features_in_"],)), keras.layers.Dense(10)]
        )

    clf = BCCompatibleClassifier(
        build_logits,
        h1=h1,
        n_members=2,
        **{
            **PARAMS,
            "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
    )
    with pytest.raises(ValueError, match="averages the members' probabilities"):
        clf.fit(X, y)


def test_members_of_different_widths_are_refused(data, h1):
    X, y = data
    widths = iter([8, 16])

    def build_varying(meta):
        return build(meta, hidden=next(widths))

    clf = BCCompatibleClassifier(build_varying, h1=h1, n_members=2, **PARAMS)
    with pytest.raises(ValueError, match="n_members=2"):
        clf.fit(X, y)


def test_build_mlp_members_on_unseeded_initializers(data, h1):
    """The shared test builder (unseeded initializers) gives distinct members."""
    X, y = data
    clf = BCCompatibleClassifier(build_mlp, h1=h1, n_members=2, **PARAMS).fit(X, y)
    a, b = clf.members_
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])


def test_pickling_keeps_the_registered_name(ensemble, data):
    """scikeras' process-wide pickling would re-register the class as '>...'."""
    import copy

    X, _ = data
    pickle.dumps(ensemble)
    assert keras.saving.get_registered_name(MeanEnsemble) == "bcsk>MeanEnsemble"
    twin = copy.deepcopy(ensemble.model_)
    assert twin is not ensemble.model_
    np.testing.assert_allclose(
        twin.predict(X, verbose=0), ensemble.model_.predict(X, verbose=0), rtol=1e-6
    )
    assert keras.saving.get_registered_name(MeanEnsemble) == "bcsk>MeanEnsemble"
