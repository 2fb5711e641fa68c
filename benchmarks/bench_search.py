"""What the one-call search costs: flip costs for free, and one call against two.

Two questions (issue 18, item 7), on scikit-learn's digits:

(a) Does scoring the gate's flip costs cost anything? The same
    ``BCCompatibleClassifierCV`` search with ``flip_costs=(1, 1.25, 1.5, 2, 3)``
    against ``flip_costs=(1.0,)``. Target: ratio at most 1.05.
(b) What does the one call save over the two steps a user would run without
    it? The whole one-call search (one dissonance and its ``lambda_cs="auto"``
    grid, five flip costs, a refit rule) against ``GridSearchCV`` over
    ``BCCompatibleClassifier`` with the same ``lambda_c`` values, folds,
    scoring and rule, followed by ``CompatibleUpdateClassifierCV`` around the
    refitted best h2 with the same flip costs, folds and rule. Target: ratio
    at most 0.5.

Every contender runs once per pair, in the same process, in an order that
alternates from pair to pair, after the same reset before each run; the
figure is the median of the per-pair ratios with a bootstrap 95 % interval,
beside an A/A control: the ``flip_costs=(1.0,)`` search timed against itself
(and, with ``--aa-two-step``, the two-step search against itself). The method
is that of every benchmark: ``benchmarks/_paired.py``.

Run::

    python benchmarks/bench_search.py           # 5 pairs (12 min at load 4-7)
    python benchmarks/bench_search.py --quick   # smoke run, about a minute
    python benchmarks/bench_search.py --pairs 15 --aa-two-step
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _data  # noqa: E402
import _paired  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from bcsk import (  # noqa: E402
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifierCV,
)
from bcsk.metrics import compatibility_scoring  # noqa: E402
from bcsk.model_selection import fewest_new_errors_within  # noqa: E402
from bcsk.objective import get_dissonance  # noqa: E402

HERE = Path(__file__).resolve().parent
FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0)

# What each contender runs, printed and stored with the results.
DESCRIPTIONS = {
    "one_cost": (
        "BCCompatibleClassifierCV(build, h1=h1, dissonance=D, lambda_cs='auto', "
        "flip_costs=(1.0,), cv=folds, scoring=compatibility_scoring(), "
        "refit=rule).fit(X, y): one path model per fold (every lambda_c at once), "
        "then one refit"
    ),
    "one_cost_again": "the same as one_cost (A/A control)",
    "five_costs": (
        "the same with flip_costs=(1, 1.25, 1.5, 2, 3): each cost scored on the "
        "same held-out predictions; the chosen row refitted, behind the gate "
        "when its cost is above 1"
    ),
    "two_step": (
        "GridSearchCV(BCCompatibleClassifier(build, h1=h1, dissonance=D), "
        "{'lambda_c': [0, *D.default_lambda_cs]}, cv=folds, "
        "scoring=compatibility_scoring(), refit=rule).fit(X, y) (one fit per "
        "candidate and fold, then one refit), then CompatibleUpdateClassifierCV("
        "grid.best_estimator_, h1=h1, flip_costs=(1, 1.25, 1.5, 2, 3), cv=folds, "
        "refit=rule).fit(X, y) (one fit of h2 per fold, then one refit)"
    ),
    "two_step_again": "the same as two_step (A/A control of (b))",
}
RATIOS = {
    "(a) five costs / one cost": ("five_costs", "one_cost"),
    "A/A: one cost / one cost": ("one_cost_again", "one_cost"),
    "(b) one call / two steps": ("five_costs", "two_step"),
    "A/A: two steps / two steps": ("two_step_again", "two_step"),
}
TARGETS = {"(a) five costs / one cost": 1.05, "(b) one call / two steps": 0.5}


def load(args):
    # --samples: that many rows, drawn at random (seed 0) from all classes.
    X, y = _data.load("digits", shuffle=bool(args.samples))
    if args.samples:
        X, y = X[: args.samples], y[: args.samples]
    h1 = LogisticRegression(max_iter=1000).fit(X[:300], y[:300])
    return X, y, h1


def contenders(args, X, y, h1, epochs=None, n_folds=None):
    """The timed callables; each returns what it chose (for the record)."""
    folds = StratifiedKFold(n_folds or args.folds, shuffle=True, random_state=0)
    rule = fewest_new_errors_within(args.accuracy_budget)
    params = dict(
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs or args.epochs,
        batch_size=64,
        random_state=0,
        model__hidden=args.hidden,
    )
    lambda_cs = [0.0, *get_dissonance(args.dissonance).default_lambda_cs]

    def one_call(flip_costs):
        def run():
            search = BCCompatibleClassifierCV(
                _data.build_mlp,
                h1=h1,
                dissonance=args.dissonance,
                lambda_cs="auto",
                flip_costs=flip_costs,
                cv=folds,
                scoring=compatibility_scoring(),
                refit=rule,
                **params,
            ).fit(X, y)
            return {
                "rows": len(search.cv_results_["params"]),
                "lambda_c": search.lambda_c_,
                "flip_cost": search.flip_cost_,
            }

        return run

    def two_step():
        start = time.perf_counter()
        grid = GridSearchCV(
            BCCompatibleClassifier(
                _data.build_mlp, h1=h1, dissonance=args.dissonance, **params
            ),
            {"lambda_c": lambda_cs},
            cv=folds,
            scoring=compatibility_scoring(),
            refit=rule,
        ).fit(X, y)
        middle = time.perf_counter()
        gate = CompatibleUpdateClassifierCV(
            grid.best_estimator_, h1=h1, flip_costs=FLIP_COSTS, cv=folds, refit=rule
        ).fit(X, y)
        return {
            "rows": len(grid.cv_results_["params"]) * len(gate.cv_results_["params"]),
            "lambda_c": grid.best_params_["lambda_c"],
            "flip_cost": gate.flip_cost_,
            "grid_seconds": middle - start,
            "gate_seconds": time.perf_counter() - middle,
        }

    runs = {
        "one_cost": one_call((1.0,)),
        "one_cost_again": one_call((1.0,)),
        "five_costs": one_call(FLIP_COSTS),
        "two_step": two_step,
    }
    if args.aa_two_step:
        runs["two_step_again"] = two_step
    return runs, lambda_cs


# Calls of ``keras.Model.predict`` and seconds in them. Every h2 a search
# scores is a new Keras model, and each ``Model.predict`` call has a fixed cost
# (building its data iterator; the first call on a model also traces the
# predict function): this says how much of a search that is.
PREDICT_CLOCK = _paired.MethodClock("predict")


def timed(run) -> dict:
    """Seconds, CPU seconds, ``run()``'s record and its ``Model.predict`` clock."""
    record = _paired.timed_record(run, clocks=[PREDICT_CLOCK])
    record["predict_calls"] = PREDICT_CLOCK.calls
    record["predict_seconds"] = PREDICT_CLOCK.seconds
    return record


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--pairs", type=int, default=5, help="pairs (default 5)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--samples", type=int, help="first N shuffled rows (all)")
    parser.add_argument("--dissonance", default="focal_distillation")
    parser.add_argument(
        "--accuracy-budget",
        type=float,
        default=0.005,
        help="refit rule of every search: fewest_new_errors_within(budget)",
    )
    parser.add_argument(
        "--aa-two-step",
        action="store_true",
        help="also time the two-step search against itself (adds ~40 %% time)",
    )
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=HERE / "results" / "search_digits.json"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.epochs, args.folds, args.samples = 1, 1, 2, 400
        args.no_warm_up = True
        if args.out == HERE / "results" / "search_digits.json":
            args.out = HERE / "results" / "search_quick.json"
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    PREDICT_CLOCK.install()
    X, y, h1 = load(args)
    runs, lambda_cs = contenders(args, X, y, h1)
    info = _paired.machine()
    print(
        f"machine: {info['platform']}, {info['cpu_count']} CPUs, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}, scikit-learn "
        f"{info['scikit-learn']}, GPUs {info['gpus'] or 'none'}; load average "
        f"{info['load_average_start']}",
        flush=True,
    )
    print(
        f"digits {len(y)} x {X.shape[1]}, h1 LogisticRegression on 300 rows; h2 "
        f"{X.shape[1]}-{args.hidden}-10, Adam, {args.epochs} epochs, batch 64; "
        f"{args.folds} stratified folds; dissonance {args.dissonance}, lambda_c "
        f"{lambda_cs}; refit fewest_new_errors_within({args.accuracy_budget}); "
        f"{args.pairs} pairs",
        flush=True,
    )
    for key, text in DESCRIPTIONS.items():
        if key in runs:
            print(f"  {key}: {text}")
    started = time.perf_counter()
    if not args.no_warm_up:
        # Every contender once on 400 rows, 1 epoch, 2 folds: the one-off costs
        # of a process (lazy imports, TensorFlow's kernel caches) are paid here.
        small, _ = contenders(args, X[:400], y[:400], h1, epochs=1, n_folds=2)
        for key, run in small.items():
            wall = timed(run)["seconds"]
            print(f"  warm-up {key} (400 rows, 1 epoch, 2 folds): {wall:.1f} s")
    keys = list(runs)

    def on_pair(record):
        if args.verbose:
            print(f"  pair {record['pair']}: {record}", flush=True)
        else:
            _paired.print_pair(record, keys)

    records = _paired.run_pairs(
        {key: lambda run=run: timed(run) for key, run in runs.items()},
        args.pairs,
        on_pair=on_pair,
    )
    summary = {
        name: {
            "numerator": top,
            "denominator": bottom,
            **_paired.pair_summary(records, top, bottom, TARGETS.get(name)),
        }
        for name, (top, bottom) in RATIOS.items()
        if top in runs
    }
    seconds = {k: float(np.median([r[k]["seconds"] for r in records])) for k in keys}
    predict_seconds = {
        k: float(np.median([r[k]["predict_seconds"] for r in records])) for k in keys
    }
    info["load_average_end"] = _paired.load_average()

    print()
    print("| contender | median s | Model.predict calls, median s in them |")
    print("|---|---:|---:|")
    for key in keys:
        calls = records[-1][key]["predict_calls"]
        in_predict = np.median([r[key]["predict_seconds"] for r in records])
        print(f"| {key} | {seconds[key]:.1f} | {calls}, {in_predict:.1f} |")
    grid = np.median([r["two_step"]["grid_seconds"] for r in records])
    gate = np.median([r["two_step"]["gate_seconds"] for r in records])
    print(f"| two_step: GridSearchCV part | {grid:.1f} | |")
    print(f"| two_step: CompatibleUpdateClassifierCV part | {gate:.1f} | |")
    print()
    print(f"| ratio | median [95 % CI], {args.pairs} pairs | CPU median | target |")
    print("|---|---:|---:|---|")
    for name, s in summary.items():
        target = "" if s["target"] is None else f"<= {s['target']}: "
        target += "" if s["met"] is None else ("met" if s["met"] else "**missed**")
        print(
            f"| {name} | {s['median']:.3f} [{s['low']:.3f}-{s['high']:.3f}] | "
            f"{s['cpu_median']:.3f} | {target} |"
        )
    chosen = {
        k: (records[-1][k]["lambda_c"], records[-1][k]["flip_cost"]) for k in keys
    }
    print(f"\nchosen (lambda_c, flip_cost), last pair: {chosen}")
    print(_paired.closing_line(info, started))
    return _paired.write_json(
        args.out,
        args,
        info,
        lambda_cs=lambda_cs,
        flip_costs=FLIP_COSTS,
        descriptions={k: v for k, v in DESCRIPTIONS.items() if k in runs},
        median_seconds=seconds,
        median_predict_seconds=predict_seconds,
        two_step_parts_median_seconds={"grid": float(grid), "gate": float(gate)},
        summary=summary,
        pairs=records,
    )


if __name__ == "__main__":
    main()
