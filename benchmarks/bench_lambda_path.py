"""What the lambda_c path saves: ``BCCompatibleClassifierCV`` against ``GridSearchCV``.

Both choose ``lambda_c`` among the same candidates, on the same stratified
folds, with the same estimator parameters, and refit the best on all the data
(``GridSearchCV(BCCompatibleClassifier(...), {"lambda_c": values}, cv=folds)``
against ``BCCompatibleClassifierCV(..., lambda_cs=values, cv=folds)``). The two
run back to back in alternating order; the figure is the median of the
per-pair ratios path / grid search, with a bootstrap 95 % interval, beside an
A/A control (the grid search timed against itself): the method of every
benchmark, in ``benchmarks/_paired.py``. Each timed search runs in a fresh
subprocess, which also gives its peak resident memory.

Run::

    python benchmarks/bench_lambda_path.py                 # k = 1, 3, 5, 9 and sizes
    python benchmarks/bench_lambda_path.py --quick         # smoke run, ~1 minute
    python benchmarks/bench_lambda_path.py --ks 5 --hidden 128 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import _paired
import numpy as np

HERE = Path(__file__).resolve()

# One search, run in a child process: prints its wall seconds and peak RSS.
# The child imports the shared data and network from this folder (argv[7]).
CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, sys.argv[7])
from _data import build_mlp as build, load
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV

kind, k, hidden, n, epochs, folds = sys.argv[1], *map(int, sys.argv[2:7])
X, y = load("mnist", shuffle=True)
X, y = X[:n], y[:n]
h1 = LogisticRegression(max_iter=300).fit(X[:400], y[:400])

values = [0.0, 0.1, 0.3, 1.0, 3.0, 0.03, 0.5, 2.0, 10.0][:k]
params = dict(loss="sparse_categorical_crossentropy", optimizer="adam",
              epochs=epochs, batch_size=64, random_state=0, model__hidden=hidden)
cv = StratifiedKFold(folds, shuffle=True, random_state=0)
start = time.perf_counter()
if kind == "path":
    search = BCCompatibleClassifierCV(build, h1=h1, lambda_cs=values, cv=cv, **params)
else:
    search = GridSearchCV(BCCompatibleClassifier(build, h1=h1, **params),
                          {"lambda_c": values}, cv=cv)
search.fit(X, y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak}))
"""


def run_child(kind: str, k: int, hidden: int, args) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            kind,
            str(k),
            str(hidden),
            str(args.samples),
            str(args.epochs),
            str(args.folds),
            str(HERE.parent),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(k: int, hidden: int, args) -> dict:
    """Paired, alternating runs of the path and the grid search, plus A/A."""
    kinds = ["grid", "path", "aa"]  # aa: the grid search again (A/A control)

    def on_pair(record):
        if args.verbose:
            got = {kind: record[kind] for kind in record["order"]}
            print(f"  k={k} hidden={hidden} repeat {record['pair']}: {got}", flush=True)

    records = _paired.run_pairs(
        {
            kind: lambda kind=kind: run_child(
                "grid" if kind == "aa" else kind, k, hidden, args
            )
            for kind in kinds
        },
        args.repeats,
        on_pair=on_pair,
    )

    def column(kind, field="seconds"):
        return [r[kind][field] for r in records]

    report = {"k": k, "hidden": hidden}
    for key in ("path", "aa"):
        summary = _paired.ratio_summary(column(key), column("grid"))
        report[key] = {name: summary[name] for name in ("median", "low", "high")}
    report["grid_seconds"] = float(np.median(column("grid")))
    report["path_seconds"] = float(np.median(column("path")))
    report["grid_peak_mib"] = float(np.median(column("grid", "peak_mib")))
    report["path_peak_mib"] = float(np.median(column("path", "peak_mib")))
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ks", nargs="+", type=int, default=[1, 3, 5, 9])
    parser.add_argument("--hidden", nargs="+", type=int, default=[128])
    parser.add_argument(
        "--sizes-at-k",
        type=int,
        default=5,
        help="k at which --size-hidden are measured",
    )
    parser.add_argument("--size-hidden", nargs="*", type=int, default=[32, 512])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.ks, args.hidden, args.size_hidden = [3], [32], []
        args.samples, args.epochs, args.folds, args.repeats = 600, 1, 2, 1
    configs = [(k, h) for h in args.hidden for k in args.ks]
    configs += [(args.sizes_at_k, h) for h in args.size_hidden]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; MNIST {args.samples} samples, {args.folds} "
        f"folds, {args.epochs} epochs, batch 64, Adam, {args.repeats} pairs each",
        flush=True,
    )
    started = time.perf_counter()
    reports = [bench(k, h, args) for k, h in configs]
    print()
    print(
        "| k | hidden | grid search s | path s | path / grid [95 % CI] | A/A "
        "[95 % CI] | peak MiB grid / path |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in reports:
        print(
            f"| {r['k']} | {r['hidden']} | {r['grid_seconds']:.1f} | "
            f"{r['path_seconds']:.1f} | {r['path']['median']:.2f} "
            f"[{r['path']['low']:.2f}-{r['path']['high']:.2f}] | "
            f"{r['aa']['median']:.2f} [{r['aa']['low']:.2f}-{r['aa']['high']:.2f}] | "
            f"{r['grid_peak_mib']:.0f} / {r['path_peak_mib']:.0f} |"
        )
    print(f"\n{len(configs)} configurations in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "reports": reports},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
