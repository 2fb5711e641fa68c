"""benchmarks/study_update.py: the study runs, and its shortcuts hold."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

STUDY_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "study_update.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("study_update", STUDY_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.slow
def test_quick_run_writes_results(study, tmp_path, capsys):
    study.main(["--quick", "--quiet", "--jobs", "1", "--out", str(tmp_path)])

    for name in (
        "study.csv",
        "study_cv.csv",
        "study_summary.csv",
        "study.json",
        "study.png",
        "study_table.rst",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    runs = pd.read_csv(tmp_path / "study.csv")
    assert list(runs["method"]) == list(study.methods(study.QUICK))
    cv = pd.read_csv(tmp_path / "study_cv.csv")
    # (plain + new error 1 + focal distillation 1) x sizes (1, 2) x costs (1, 2).
    assert len(cv) == 12
    assert set(cv["lambda_c"]) == {0.0, 1.0}
    assert set(cv["n_members"]) == {1, 2} and set(cv["flip_cost"]) == {1.0, 2.0}
    # A method's test figures are those of its row of the single-split search.
    rows = cv.loc[runs["row"]]
    assert np.allclose(rows["test_accuracy"], runs["h2_accuracy"])
    assert (rows["test_negative_flips"].to_numpy() == runs["negative_flips"]).all()
    by_method = runs.set_index("method")
    assert by_method.loc["plain", "chosen"] == "0"
    assert by_method.loc["ensemble", "chosen"] == "0 x2"
    assert by_method.loc["ensemble", "n_members"] == 2
    one_net = runs[runs["method"].str.startswith("search n=1")]
    assert (one_net["n_members"] == 1).all()
    alone = runs[runs["method"].isin(["plain", "new_error", "focal_distillation"])]
    assert (alone["flip_cost"] == 1).all() and (alone["n_members"] == 1).all()
    summary = pd.read_csv(tmp_path / "study_summary.csv")
    plain = summary[summary["method"] == "plain"].iloc[0]
    assert plain["flip_change"] == 0.0 and plain["accuracy_change_mean"] == 0.0
    # The "no refits" claim: refitting a row as a user would gives the same
    # test predictions as the single-split search.
    report = json.loads((tmp_path / "study.json").read_text())
    assert len(report["checks"]) == 2
    assert all(check["match"] for check in report["checks"]), report["checks"]
    assert report["rows_per_search"] == 12
    out = capsys.readouterr().out
    assert "| digits | plain | 0 |" in out
    assert "rows each, in" in out


def _frame(study):
    """Every row of a 2-dissonance search, scores set by hand."""
    rows = [
        (lam, d, n, c)
        for d, lam in [("plain", 0.0), ("new_error", 1.0), ("focal_distillation", 0.1)]
        for n in (1, 5)
        for c in (1.0, 2.0)
    ]
    frame = pd.DataFrame(
        rows, columns=["lambda_c", "dissonance", "n_members", "flip_cost"]
    )
    frame["cv_accuracy"] = 0.95
    frame["cv_nfr"] = 0.02
    frame["test_accuracy"] = 0.95
    frame["test_nfr"] = 0.02
    return frame


def test_methods_choose_among_their_own_rows(study):
    config = study.StudyConfig(
        updates=("digits",),
        seeds={"digits": (0,)},
        dissonances=("new_error", "focal_distillation"),
        lambdas=(1.0,),
        flip_costs=(1.0, 2.0),
    )
    frame = _frame(study)
    # The ensemble of focal distillation behind the gate has the fewest CV new
    # errors; new error alone (one network, no gate) is next; on the test split
    # the gate on plain h2 is best.
    best = frame.index[-1]
    frame.loc[best, "cv_nfr"] = 0.005
    frame.loc[2 * 2 * 1 + 0, "cv_nfr"] = 0.01  # new_error, n=1, cost 1
    frame.loc[1, "test_nfr"] = 0.001  # plain, n=1, cost 2
    chosen = {}
    oracle = {}
    for name, (rows, rule) in study.methods(config).items():
        part = frame[np.asarray(rows(frame), bool)]
        chosen[name] = study.code(frame.loc[study.choose(part, rule)])
        oracle[name] = study.code(frame.loc[study.choose(part, rule, prefix="test")])
    assert chosen["plain"] == "0"
    assert chosen["ensemble"] == "0 x5"
    assert chosen["new_error"] == "NE 1"
    assert chosen["focal_distillation"] == "0"  # all tied: the simplest
    assert chosen["gate"] == "0"
    assert chosen["search[fewest 0.5pt]"] == "FD 0.1 x5 g2"
    assert chosen["search[cost 2]"] == "FD 0.1 x5 g2"
    assert chosen["search n=1[fewest 0.5pt]"] == "NE 1"
    assert oracle["gate"] == "0 g2"
    assert oracle["search[fewest 0.5pt]"] == "0 g2"
    # Within the budget only: 1.1 pt below the best, the ensemble is out.
    frame.loc[best, "cv_accuracy"] = 0.939
    rows, rule = study.methods(config)["search[fewest 0.5pt]"]
    assert study.code(frame.loc[study.choose(frame, rule)]) == "NE 1"
    rows, rule = study.methods(config)["search[fewest 1pt]"]
    assert study.code(frame.loc[study.choose(frame, rule)]) == "NE 1"
    # lowest_update_cost(5): 0.939 - 4 * 0.005 = 0.919 > 0.95 - 4 * 0.01 = 0.91.
    rows, rule = study.methods(config)["search[cost 5]"]
    assert study.code(frame.loc[study.choose(frame, rule)]) == "FD 0.1 x5 g2"


@pytest.mark.slow
def test_search_cuts_new_errors_on_mnist(study):
    # The study's main finding, on a smaller search: on the MNIST update, the
    # search's default choice breaks fewer of h1's correct test answers than
    # plain training on the same seeds, at less than a point of accuracy.
    config = study.StudyConfig(
        updates=("mnist_mlp",),
        seeds={"mnist_mlp": (0, 1, 2)},
        dissonances=("focal_distillation",),
        lambdas=(0.03,),
        flip_costs=(1.0, 1.5),
        check=False,
    )
    runs, _, _ = study.run_study(config)
    table = runs.pivot_table(
        index="seed", columns="method", values=["negative_flips", "h2_accuracy"]
    )
    flips, accuracy = table["negative_flips"], table["h2_accuracy"]
    default = study.DEFAULT_METHOD
    assert flips[default].sum() < 0.7 * flips["plain"].sum(), flips
    assert (accuracy["plain"] - accuracy[default]).mean() < 0.01, accuracy
