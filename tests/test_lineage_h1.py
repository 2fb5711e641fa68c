"""h1 as a chain of versions (``h1=[v1, v2, ...]``) and h1 knowing fewer classes.

A chain trains and scores against its last version (``reference="last"``):
every path must give exactly what ``h1=v_last`` gives. A wrapped h1
(:func:`bcsk.with_classes`) must give what its probabilities placed in the
columns of its classes give as logged outputs (the NumPy oracle).
"""

import numpy as np
import pytest
from _builders import SMALL_PARAMS, holdout_rows
from _builders import build_small as build
from conftest import dense_softmax
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bcsk import (
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifier,
    _h1,
    compatibility_report,
    compatibility_scoring,
    make_btc_scorer,
    neg_nfr_scorer,
    with_classes,
)

PARAMS = dict(SMALL_PARAMS, batch_size=64)


@pytest.fixture(scope="module")
def versions(digits):
    """Two earlier versions: logistic regressions on 60 and 150 digits."""
    X, y = digits
    return [
        LogisticRegression(max_iter=200).fit(X[:60], y[:60]),
        LogisticRegression(max_iter=300).fit(X[:150], y[:150]),
    ]


def same_weights(a, b):
    for u, v in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


# -- a chain is its last version ---------------------------------------------------


def test_estimator_with_a_chain_is_the_last_version(data, versions):
    X, y = data
    chain = BCCompatibleClassifier(build, h1=versions, lambda_c=1.0, **PARAMS).fit(X, y)
    last = BCCompatibleClassifier(build, h1=versions[-1], lambda_c=1.0, **PARAMS).fit(
        X, y
    )
    same_weights(chain, last)
    plain = BCCompatibleClassifier(build, h1=versions[0], lambda_c=1.0, **PARAMS)
    plain.fit(X, y)
    # The first version gives other weights: the chain did not read it.
    assert any(
        not np.array_equal(u, v)
        for u, v in zip(
            plain.model_.get_weights(), chain.model_.get_weights(), strict=True
        )
    )


def test_logged_chain_is_the_last_version(data, versions):
    X, y = data
    weight = np.ones(len(y))
    weight[::5] = 0  # scikeras drops these rows: every version's rows follow
    probas = [v.predict_proba(X) for v in versions]
    preds = [v.predict(X) for v in versions]
    last = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS).fit(
        X, y, sample_weight=weight, h1_pred=preds[-1]
    )
    chain = BCCompatibleClassifier(build, lambda_c=1.0, **PARAMS).fit(
        X, y, sample_weight=weight, h1_pred=preds
    )
    same_weights(chain, last)
    distil = dict(PARAMS, dissonance="focal_distillation")
    last = BCCompatibleClassifier(build, lambda_c=0.1, **distil).fit(
        X, y, h1_proba=probas[-1]
    )
    chain = BCCompatibleClassifier(build, lambda_c=0.1, **distil).fit(
        X, y, h1_proba=tuple(probas)
    )
    same_weights(chain, last)


def test_search_gate_and_scorers_with_a_chain(data, versions):
    X, y = data
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    grid = dict(lambda_cs=[1.0], flip_costs=(1, 2), cv=cv, refit=False, **PARAMS)
    chain = BCCompatibleClassifierCV(build, h1=versions, **grid).fit(X, y)
    last = BCCompatibleClassifierCV(build, h1=versions[-1], **grid).fit(X, y)
    for key in chain.cv_results_:
        if key.startswith(("mean_test_", "split")):
            np.testing.assert_array_equal(
                chain.cv_results_[key], last.cv_results_[key], err_msg=key
            )

    h2 = LogisticRegression(max_iter=300).fit(X, y)
    gated = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=versions, flip_cost=3)
    gated_last = CompatibleUpdateClassifier(
        FrozenEstimator(h2), h1=versions[-1], flip_cost=3
    )
    np.testing.assert_array_equal(
        gated.fit(X, y).predict(X), gated_last.fit(X, y).predict(X)
    )
    # The gate serves at most two networks whatever the chain's length.
    assert gated.predict(X).shape == (len(y),)

    for scorer in (make_btc_scorer(h1=versions),):
        assert scorer(h2, X, y) == make_btc_scorer(h1=versions[-1])(h2, X, y)
    scores = compatibility_scoring(h1=versions)(h2, X, y)
    assert scores == compatibility_scoring(h1=versions[-1])(h2, X, y)
    preds = [v.predict(X) for v in versions]
    assert neg_nfr_scorer(h2, X, y, h1_pred=preds) == neg_nfr_scorer(
        h2, X, y, h1_pred=preds[-1]
    )


@pytest.mark.parametrize(
    ("h1", "error", "match"),
    [
        ([], ValueError, "empty list"),
        ([[LogisticRegression()]], TypeError, "one flat list"),
        ([None], ValueError, r"h1\[0\] is None"),
        ([object()], TypeError, "h1 must be a Keras model"),
    ],
)
def test_bad_chains(h1, error, match, data):
    X, y = data
    with pytest.raises(error, match=match):
        BCCompatibleClassifier(build, h1=h1, **PARAMS).fit(X, y)


# -- h1 that knows fewer classes than y ---------------------------------------------


@pytest.fixture(scope="module")
def nine_class_h1(digits):
    """A Keras h1 that never saw digit 4: 9 softmax columns, classes 0-3, 5-9."""
    X, y = digits
    known = np.array([0, 1, 2, 3, 5, 6, 7, 8, 9])
    rows = np.flatnonzero(y[:400] != 4)
    model = dense_softmax(64, 9, seed=2)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(X[rows], np.searchsorted(known, y[rows]), epochs=10, verbose=0)
    return model, known


def oracle_proba(model, X, known, classes):
    """The model's columns placed in ``classes``' columns, 0 elsewhere (NumPy)."""
    P = np.asarray(model.predict(X, verbose=0), dtype=np.float64)
    aligned = np.zeros((len(X), len(classes)))
    for j, label in enumerate(known):
        aligned[:, list(classes).index(label)] = P[:, j]
    return aligned


def test_with_classes_outputs_match_the_oracle(data, nine_class_h1):
    X, y = data
    model, known = nine_class_h1
    classes = np.arange(10)
    outputs = _h1.h1_outputs(
        with_classes(model, known), X, classes, need_probabilities=True
    )
    expected = oracle_proba(model, X, known, classes)
    np.testing.assert_allclose(outputs.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert outputs.probabilities[:, 4].max() == 0
    np.testing.assert_array_equal(outputs.labels, np.argmax(expected, axis=1))
    # A callable says its classes the same way.
    fn = with_classes(lambda Z: model.predict(Z, verbose=0), known)
    np.testing.assert_allclose(
        _h1.h1_outputs(fn, X, classes, need_probabilities=True).probabilities,
        expected,
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
def test_fit_with_classes_is_the_fit_from_the_oracle(dissonance, data, nine_class_h1):
    X, y = data
    model, known = nine_class_h1
    params = dict(PARAMS, dissonance=dissonance, lambda_c=1.0)
    wrapped = BCCompatibleClassifier(build, h1=with_classes(model, known), **params)
    wrapped.fit(X, y)
    proba = oracle_proba(model, X, known, np.arange(10))
    # Logged outputs from the model's own float32 outputs, as the live path.
    live = _h1.h1_outputs(
        with_classes(model, known), X, np.arange(10), need_probabilities=True
    )
    np.testing.assert_allclose(live.probabilities, proba, rtol=1e-5, atol=1e-6)
    from_log = BCCompatibleClassifier(build, **params).fit(
        X, y, h1_proba=live.probabilities
    )
    same_weights(wrapped, from_log)
    # Unwrapped, the 9 columns are refused with the fix named.
    with pytest.raises(ValueError, match="9 probabilities per sample"):
        BCCompatibleClassifier(build, h1=model, **params).fit(X, y)


def test_chain_of_versions_with_different_classes(data, nine_class_h1, versions):
    X, y = data
    model, known = nine_class_h1
    chain = [with_classes(model, known), versions[-1]]
    fitted = BCCompatibleClassifier(build, h1=chain, lambda_c=1.0, **PARAMS).fit(X, y)
    last = BCCompatibleClassifier(build, h1=versions[-1], lambda_c=1.0, **PARAMS)
    same_weights(fitted, last.fit(X, y))
    swapped = with_classes(model, known[::-1])
    with pytest.raises(ValueError, match="different orders"):
        BCCompatibleClassifier(
            build, h1=[with_classes(model, known), swapped], **PARAMS
        ).fit(X, y)


def test_with_classes_bad_input(data, nine_class_h1, versions):
    X, y = data
    model, known = nine_class_h1
    with pytest.raises(ValueError, match=r"not among the classes of y"):
        BCCompatibleClassifier(
            build, h1=with_classes(model, [*known[:-1], 42]), **PARAMS
        ).fit(X, y)
    with pytest.raises(ValueError, match="exactly once"):
        with_classes(model, [0, 0, 1])
    with pytest.raises(ValueError, match="1-D sequence"):
        with_classes(model, "0123")
    with pytest.raises(ValueError, match="says its classes itself"):
        with_classes(versions[0], [0, 1])
    with pytest.raises(TypeError, match="wrap each version"):
        with_classes(versions, [0, 1])
    with pytest.raises(ValueError, match="one column per class listed there"):
        _h1.h1_outputs(
            with_classes(model, known[:5]), X, np.arange(10), need_probabilities=True
        )


def test_report_leaves_out_classes_h1_does_not_know():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    h1 = np.array([0, 1, 0, 1, 1, 1, 1])  # knows 0 and 1 only
    h2 = np.array([0, 0, 2, 2, 1, 0, 1])
    report = compatibility_report(y, h1_pred=h1, h2_pred=h2, h1_classes=[0, 1])
    # Rows 0, 1, 4, 5 (true class 0 or 1); by hand: h1 right on 0, 1, 4;
    # h2 right on 0, 4, 5: new errors 1 (row 1), fixed 1 (row 5).
    assert report.n_samples == 4
    assert report.n_left_out == 3
    assert (report.new_errors, report.fixed_errors, report.both_right) == (1, 1, 2)
    assert report.negative_flip_rate == 1 / 4
    assert "3 more samples left out" in str(report)
    full = compatibility_report(y, h1_pred=h1, h2_pred=h2)
    assert full.n_left_out == 0 and full.negative_flip_rate == 1 / 7
    assert full.btc == report.btc  # h1 is never right on the others
    with pytest.raises(ValueError, match="not among the classes of y"):
        compatibility_report(y, h1_pred=h1, h2_pred=h2, h1_classes=[0, 7])


def test_gate_and_report_from_estimator_with_classes(data, nine_class_h1):
    from bcsk.metrics import CompatibilityReport

    X, y = data
    model, known = nine_class_h1
    h2 = LogisticRegression(max_iter=300).fit(X, y)
    gate = CompatibleUpdateClassifier(
        FrozenEstimator(h2), h1=[with_classes(model, known)], flip_cost=3
    ).fit(X, y)
    # h1 (the chain's last version) never saw digit 4: its rows are left out.
    report = CompatibilityReport.from_estimator(gate, X, y)
    assert report.n_left_out == int(np.sum(y == 4)) > 0
    assert report.n_samples == int(np.sum(y != 4))
    h1_labels = _h1.h1_predict(with_classes(model, known), X, np.arange(10))
    expected = compatibility_report(
        y[y != 4], h1_pred=h1_labels[y != 4], h2_pred=gate.predict(X)[y != 4]
    )
    assert report.new_errors == expected.new_errors
    assert report.btc == expected.btc


def test_scorers_leave_out_classes_h1_does_not_know(data, nine_class_h1):
    from bcsk import bec_scorer, pfr_scorer

    X, y = data
    model, known = nine_class_h1
    h1 = with_classes(model, known)
    h2 = LogisticRegression(max_iter=300).fit(X[::3], y[::3])  # errs elsewhere
    gate = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1, flip_cost=1).fit(X, y)
    h1_labels = _h1.h1_predict(h1, X, np.arange(10))
    h2_labels = gate.predict(X)

    def oracle(rows, h2_pred):
        # NumPy: the rates on the given rows only.
        h1_right, h2_right = h1_labels[rows] == y[rows], h2_pred[rows] == y[rows]
        return {
            "nfr": np.mean(h1_right & ~h2_right),
            "pfr": np.mean(~h1_right & h2_right),
            "bec": np.sum(~h1_right & ~h2_right) / np.sum(~h2_right),
        }

    kept = y != 4  # h1 never saw digit 4: its rows are left out
    expected, every_row = oracle(kept, h2_labels), oracle(slice(None), h2_labels)
    assert 0 < np.sum(~kept) and np.any(h2_labels[~kept] == 4)
    # Counting every row gives other rates: the test tells them apart.
    assert expected["pfr"] != every_row["pfr"]
    assert neg_nfr_scorer(gate, X, y) == -expected["nfr"]
    assert pfr_scorer(gate, X, y) == expected["pfr"]
    assert bec_scorer(gate, X, y) == expected["bec"]
    # BTC counts only h1's right answers, which never lie in digit 4's rows:
    # an explicit h1 gives the BTC of the rows h1 knows.
    h1_right = (h1_labels == y) & kept
    assert make_btc_scorer(h1)(h2, X, y) == np.mean(
        h2.predict(X)[h1_right] == y[h1_right]
    )
    scores = compatibility_scoring(h1)(h2, X, y)
    h2_alone = oracle(kept, h2.predict(X))["nfr"]
    assert h2_alone != oracle(slice(None), h2.predict(X))["nfr"]
    assert scores["neg_nfr"] == -h2_alone
    # "accuracy" stays h2's accuracy over every row, digit 4 included.
    assert scores["accuracy"] == np.mean(h2.predict(X) == y)
    with pytest.raises(ValueError, match="nothing to compare"):
        neg_nfr_scorer(gate, X[y == 4], y[y == 4])


def test_search_scores_gates_without_classes_h1_does_not_know(data, nine_class_h1):
    """Every row of cv_results_, gated or not, leaves out digit 4's rows."""
    X, y = data
    model, known = nine_class_h1
    h1 = with_classes(model, known)
    search = BCCompatibleClassifierCV(
        build,
        h1=h1,
        dissonance="new_error",
        lambda_cs=(0.0,),
        flip_costs=(1.0, 2.0),
        scoring=compatibility_scoring(),
        refit="accuracy",
        **PARAMS,
    ).fit(X, y)
    _, held_out = holdout_rows(X, y, PARAMS["random_state"])
    # One candidate: the served network is the one every row scored.
    h2 = search.best_estimator_
    if isinstance(h2, CompatibleUpdateClassifier):
        h2 = h2.estimator_
    gated = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1, flip_cost=2.0)
    gated.fit(X, y)
    X_out, y_out = X[held_out], y[held_out]
    scores = compatibility_scoring()
    expected = {1.0: scores(h2, X_out, y_out), 2.0: scores(gated, X_out, y_out)}
    results = search.cv_results_
    for i, cost in enumerate(results["param_flip_cost"]):
        for key in ("pfr", "bec", "neg_nfr"):
            assert results[f"split0_test_{key}"][i] == pytest.approx(
                expected[cost][key]
            ), (cost, key)
