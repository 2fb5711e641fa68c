"""benchmarks/study_lineage.py: its teachers, its choice on validation, its table.

The study itself takes ~25 minutes (``--quick``: ~2); these check the pieces
that decide its figures, on hand-made inputs, without training.
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
