"""The MLflow recipe of docs/review.rst runs against MLflow's local file store."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "mlflow_report.py"


def test_recipe_is_there():
    assert "mlflow.log_artifacts" in RECIPE.read_text()


def _metric(run: Path, name: str) -> float:
    # The file store keeps one "timestamp value step" line per logged value.
    return float((run / "metrics" / name).read_text().split()[1])


def test_mlflow_recipe_logs_figures_and_page(tmp_path):
    # MLflow is not imported here: the recipe runs in a process of its own,
    # and the run is read from the file store's folders.
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip(
            "MLflow is not installed (pip install mlflow): the recipe of "
            "docs/review.rst logs to it"
        )
    store = tmp_path / "mlruns"
    completed = subprocess.run(
        [sys.executable, str(RECIPE), store.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
        # MLflow 3 refuses the file store unless asked; a server or a database
        # URI needs nothing of the sort.
        env={**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    run_id, n_failed = completed.stdout.split()[-2:]
    assert n_failed == "1"  # group b: 2/3 > 0.5
    (run,) = store.glob(f"*/{run_id}")
    assert _metric(run, "compat_negative_flip_rate") == pytest.approx(0.375)
    assert _metric(run, "compat_btc") == pytest.approx(0.5)
    assert _metric(run, "group_new_error_rate_b") == pytest.approx(2 / 3)
    assert (run / "tags" / "compatibility_gate").read_text() == "fail"
    artifacts = run / "artifacts" / "compatibility"
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "compatibility.html",
        "compatibility.json",
    ]
    assert '"schema_version": 1' in (artifacts / "compatibility.json").read_text()
