"""benchmarks/study_update.py: the study runs, and its main finding holds."""

import importlib.util
import sys
from pathlib import Path

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


def test_quick_run_writes_results(study, tmp_path, capsys):
    study.main(["--quick", "--quiet", "--jobs", "1", "--out", str(tmp_path)])

    for name in (
        "study.csv",
        "study_summary.csv",
        "study.json",
        "study.png",
        "study_table.rst",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    runs = pd.read_csv(tmp_path / "study.csv")
    assert len(runs) == 2  # lambda_c = 0 and 1, one seed, one dataset
    assert {
        "dataset",
        "seed",
        "dissonance",
        "lambda_c",
        "h1_accuracy",
        "h2_accuracy",
        "btc",
        "bec",
        "new_errors",
        "new_error_rate",
    } <= set(runs.columns)
    summary = pd.read_csv(tmp_path / "study_summary.csv")
    assert {
        "h2_accuracy_mean",
        "btc_mean",
        "bec_mean",
        "new_errors_mean",
        "new_errors_std",
        "new_errors_saved_mean",
        "accuracy_change_mean",
    } <= set(summary.columns)
    assert sorted(summary["lambda_c"]) == [0.0, 1.0]
    out = capsys.readouterr().out
    assert "| wine | (plain) | 0 |" in out
    assert "fits in" in out


@pytest.mark.slow
def test_new_error_loss_cuts_new_errors_on_mnist(study):
    # The study's robust finding, on a smaller config (10 epochs instead of
    # 30): on MNIST, h2 trained with the new-error dissonance at a large
    # lambda_c breaks fewer of h1's correct test answers than plain training
    # on the same seeds. On digits, breast cancer and wine the study finds no
    # effect beyond seed noise, so the test cannot use them.
    config = study.StudyConfig(
        datasets=("mnist",),
        seeds=(0, 1, 2, 3, 4),
        lambdas=(0.0, 4.0),
        dissonances=("new_error",),
        epochs=10,
    )
    runs = study.run_study(config)
    new_errors = runs.pivot_table(index="seed", columns="lambda_c", values="new_errors")
    assert new_errors[4.0].mean() < new_errors[0.0].mean(), new_errors
