"""Log a compatibility report to MLflow: figures as metrics, JSON and page as files.

Run as ``python docs/recipes/mlflow_report.py TRACKING_URI`` (for example
``file:///tmp/mlruns``) or import :func:`log_report`.
"""

import sys
import tempfile
from pathlib import Path

import mlflow

from bcsk.metrics import CompatibilityReport, compatibility_report


def log_report(report: CompatibilityReport, thresholds: dict) -> list:
    """Log ``report`` to the active MLflow run; return the failed thresholds."""
    record = report.to_record(thresholds=thresholds)
    # Headline figures as metrics (None, an undefined ratio, is left out).
    mlflow.log_metrics(
        {
            f"compat_{name}": value
            for name, value in record["scores"].items()
            if value is not None
        }
    )
    for row in record["groups"]["rows"] if record["groups"] else []:
        mlflow.log_metric(f"group_new_error_rate_{row['label']}", row["new_error_rate"])
    failed = report.check(**thresholds)
    mlflow.set_tag("compatibility_gate", "fail" if failed else "pass")
    with tempfile.TemporaryDirectory() as folder:
        report.to_json(Path(folder) / "compatibility.json", thresholds=thresholds)
        report.to_html(Path(folder) / "compatibility.html", thresholds=thresholds)
        mlflow.log_artifacts(folder, artifact_path="compatibility")
    return failed


if __name__ == "__main__":
    mlflow.set_tracking_uri(sys.argv[1])
    report = compatibility_report(
        [0, 1, 1, 0, 2, 2, 1, 0],
        h1_pred=[0, 1, 0, 0, 2, 2, 1, 1],
        h2_pred=[0, 0, 1, 1, 2, 1, 1, 0],
        groups=["a", "a", "a", "b", "b", "b", "c", "c"],
        min_group_size=3,
        n_bootstraps=200,
    )
    with mlflow.start_run() as run:
        failed = log_report(report, {"max_group_new_error_rate": 0.5})
    print(run.info.run_id, len(failed))
