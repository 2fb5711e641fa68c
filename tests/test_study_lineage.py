"""benchmarks/study_lineage.py: its teachers, its choice on validation, its table.

The study itself takes ~25 minutes (``--quick``: ~2); these check the pieces
that decide its figures, on hand-made inputs, without training, and run every
chain once on a few rows of random data (the smoke test, marked slow).
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

STUDY_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "study_lineage.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("study_lineage", STUDY_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_teachers(study):
    y = np.array([0, 1, 2, 3, 4])
    v1 = np.array([0, 1, 9, 9, 9])  # right on rows 0, 1
    v2 = np.array([0, 9, 2, 9, 9])  # right on rows 0, 2
    v3 = np.array([9, 1, 9, 3, 9])  # right on rows 1, 3 (the last version)
    earlier = [v1, v2, v3]
    np.testing.assert_array_equal(study._teacher("pairwise", y, earlier), v3)
    # Union of right answers: rows 0-3 count as right, row 4 keeps v3's label.
    ever = study._teacher("ever_right", y, earlier)
    np.testing.assert_array_equal(ever == y, [True, True, True, True, False])
    # Served: right in the last version (1, 3) or in two versions (0, 1).
    served = study._teacher("served", y, earlier)
    np.testing.assert_array_equal(served == y, [True, True, False, True, False])
    with pytest.raises(ValueError):
        study._teacher("nope", y, earlier)


def run(seed, chain, lam, split, accuracy, regressions):
    return dict(
        seed=seed,
        chain=chain,
        lambda_c=lam,
        split=split,
        accuracy=accuracy,
        ever_right_regressions=regressions,
        total_new_errors=regressions + 10,
        ever_right_regressions_other_classes=regressions,
        added_class_recall=0.5,
    )


def test_choice_on_validation_and_summary(study):
    results = [
        run(0, "plain", 0.0, "validation", 0.90, 100),
        run(0, "pairwise", 0.5, "validation", 0.897, 80),
        run(0, "pairwise", 2.0, "validation", 0.890, 50),  # 1 pt: too costly
        run(0, "plain", 0.0, "test", 0.88, 100),
        run(0, "pairwise", 0.5, "test", 0.87, 70),
        run(0, "pairwise", 2.0, "test", 0.86, 40),
    ]
    assert study.recommended(results, "pairwise", [0]) == {0: 0.5}
    config = study.Config(chains=("pairwise",), lambdas=(0.5, 2.0))
    rows = study.summarize(results, config)
    assert [(r["chain"], r["lambda_c"]) for r in rows] == [
        ("plain", ""),
        ("pairwise", "0.5"),
        ("pairwise", "2"),
        ("pairwise", "chosen 0.5"),
    ]
    assert rows[1]["regressions_vs_plain"] == pytest.approx(0.7)
    assert rows[1]["accuracy_change_pt"] == pytest.approx(-1.0)
    assert rows[3]["ever_right_regressions"] == 70
    assert "0.70x" in study.rst_table(rows)


def test_proba_teachers(study):
    v1 = np.array([[0.6, 0.4, 0.0], [0.2, 0.8, 0.0]])  # lacks class 2
    v2 = np.array([[0.2, 0.2, 0.6], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(study._proba_teacher("pairwise_fd", [v1, v2]), v2)
    # The mean keeps v1's 0 for class 2 and is not renormalised: rows sum to 1.
    mean = study._proba_teacher("ensemble", [v1, v2])
    np.testing.assert_allclose(mean, [[0.4, 0.3, 0.3], [0.1, 0.9, 0.0]])
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        study._proba_teacher("pairwise", [v1, v2])


def test_aligned_proba_puts_zero_in_the_missing_class(study):
    class NineClasses:
        classes_ = np.array([0, 1, 2, 3, 4, 5, 7, 8, 9])

        def predict_proba(self, X):
            return np.full((len(X), 9), 1 / 9)

    proba = study._aligned_proba(NineClasses(), np.zeros((2, 3)))
    assert proba.shape == (2, 10)
    np.testing.assert_array_equal(proba[:, 6], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_choose_within_the_budget_else_among_all(study):
    scores = {
        1.0: dict(accuracy=0.900, ever_right_regressions=50),
        2.0: dict(accuracy=0.896, ever_right_regressions=40),
        3.0: dict(accuracy=0.880, ever_right_regressions=10),  # 2 pt: too costly
    }
    assert study._choose(scores, plain_accuracy=0.90) == 2.0
    # Nothing within 0.5 pt: every setting is a candidate.
    assert study._choose(scores, plain_accuracy=0.95) == 3.0


def test_served_falls_back_to_v1(study):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    h2 = LogisticRegression().fit(X, y)
    splits = {"validation": (X[:30], y[:30]), "test": (X[30:], y[30:])}
    v1 = {"validation": np.zeros(30, int), "test": np.zeros(30, int)}
    v2 = {"model": h2, "validation": np.ones(30, int), "test": np.ones(30, int)}
    v3 = {"model": h2}
    served = study._served([v1, v2, v3], splits, (1.0, 1e9))
    last = study._served([v1, v2, v3], splits, (1e9,), h1="last")
    for name, (X_split, _) in splits.items():
        first, cost_1, _ = served[1.0][name]
        np.testing.assert_array_equal(first, v1[name])
        # Cost 1 serves the new version's labels, a huge one h1's: v1's for
        # the fallback, the version before's for the gate against the last.
        np.testing.assert_array_equal(cost_1, h2.predict(X_split))
        np.testing.assert_array_equal(served[1e9][name][2], v1[name])
        np.testing.assert_array_equal(last[1e9][name][2], v2[name])


def test_summary_of_the_gate_says_its_costs_and_networks(study):
    results = [
        run(0, "plain", 0.0, "validation", 0.90, 100),
        run(0, "plain", 0.0, "test", 0.88, 100),
        {**run(0, "fallback", 0.5, "validation", 0.9, 60), "flip_cost": 2.0},
        {
            **run(0, "fallback", 0.5, "test", 0.87, 50),
            "flip_cost": 2.0,
            "serving_networks": 2,
        },
    ]
    config = study.Config(chains=("fallback",), lambdas=(0.5,))
    rows = study.summarize(results, config)
    assert rows[1]["lambda_c"] == "0.5, flip cost 2"
    assert rows[2]["lambda_c"] == "chosen 0.5, flip cost 2"
    assert rows[1]["serving_networks"] == 2
    assert rows[1]["regressions_vs_plain"] == pytest.approx(0.5)


@pytest.mark.slow
def test_every_chain_runs(study, monkeypatch):
    """The smoke test: every chain on a few rows of random data, one epoch."""
    root = STUDY_PATH.parents[1]
    monkeypatch.syspath_prepend(str(root))
    from benchmarks import _data

    rng = np.random.default_rng(0)

    def fake_fashion_mnist():
        X = rng.random((400, 12), dtype=np.float32)
        y = np.arange(400) % 10
        return X, y, X[:60], y[:60]

    monkeypatch.setattr(_data, "load_fashion_mnist", fake_fashion_mnist)
    config = study.Config(
        rows=(40, 60, 80, 100),
        hidden=(4, 4, 4, 4),
        epochs=1,
        lambdas=(0.0, 0.5),
        seeds=(0,),
        n_validation=50,
        chains=study.CHAINS,
    )
    results = study.run_seed(0, config, verbose=False)
    chains = {(r["chain"], r["lambda_c"]) for r in results}
    assert chains == {("plain", 0.0)} | {
        (c, lam) for c in study.CHAINS for lam in (0.0, 0.5)
    }
    for r in results:
        assert 0 <= r["ever_right_regressions"] <= 60
        if r["chain"] in study.GATES:
            assert r["flip_cost"] in study.FLIP_COSTS
            assert r["serving_networks"] == (1 if r["flip_cost"] == 1 else 2)
    # lambda_c=0 is plain training: every chain's figures are plain's.
    plain = [r for r in results if r["chain"] == "plain"]
    for r in results:
        if r["lambda_c"] == 0.0 and r["chain"] not in study.GATES:
            same = next(p for p in plain if p["split"] == r["split"])
            assert r["ever_right_regressions"] == same["ever_right_regressions"]
    rows = study.summarize(results, config)
    assert "fallback" in study.rst_table(rows)
