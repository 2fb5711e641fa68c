"""What bcsk's training paths cost, against a plain Keras fit of the same network.

Each contender is timed the way a user sees it: build h2, compile it, fit it
(for the estimators: ``clf.fit(X, y)``, which includes scikeras' validation,
label encoding and, for bcsk, h1's inference). Every contender is paired with a
baseline run on the same data, network, epochs and batch size; the two run
back to back, in alternating order, and the figure reported is the median of
the per-pair ratios contender / baseline, with a bootstrap 95% interval.
The baseline is plain Keras as users write it (``--baseline keras``, the
target's definition) or plain Keras with its optimizer built before ``fit``
(``--baseline keras-prebuilt``), which saves the second trace of the training
step that bcsk also saves, so that the ratio isolates bcsk's own work.
The contender ``aa`` times the baseline against itself: its ratio shows how far
two identical fits drift apart on the machine at hand (the run's noise floor).
The method is that of every benchmark (``benchmarks/_paired.py``); the
contenders and the figures are in ``benchmarks/README.md``.

Run::

    python benchmarks/bench_fit_cost.py              # both datasets, 7 pairs each
    python benchmarks/bench_fit_cost.py --quick      # smoke run (MNIST), < 2 minutes
    python benchmarks/bench_fit_cost.py --dataset mnist --repeats 11 --json out.json
    python benchmarks/bench_fit_cost.py --dataset mnist --target multilabel
    python benchmarks/bench_fit_cost.py --dataset mnist --target multioutput
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _data  # noqa: E402
import _paired  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.tensorflow.models import BCCompatibilityModel  # noqa: E402

TARGET_RATIO = 1.05
LAMBDA_C = 0.5
LOSS = "sparse_categorical_crossentropy"
OPTIMIZER = "adam"
BATCH_SIZE = 32  # Keras' default
H1_TRAIN_SIZE = 500


# -- data and models ----------------------------------------------------------


def build_mlp(
    n_features: int, n_classes, hidden: int, activation: str = "softmax"
) -> keras.Model:
    """h2: one hidden ReLU layer, softmax (sigmoid per label) output. Uncompiled.

    ``n_classes`` a list (--target multioutput): one softmax head per output.
    """
    if isinstance(n_classes, list):
        inputs = keras.Input((n_features,))
        hidden_layer = keras.layers.Dense(hidden, activation="relu")(inputs)
        outputs = [
            keras.layers.Dense(n, activation=activation)(hidden_layer)
            for n in n_classes
        ]
        return keras.Model(inputs, outputs)
    return keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_classes, activation=activation),
        ]
    )


def build_for_scikeras(meta, hidden, activation="softmax"):
    """The same network, from the metadata scikeras hands to a builder."""
    return build_mlp(meta["n_features_in_"], meta["n_classes_"], hidden, activation)


def digit_tags(y: np.ndarray) -> np.ndarray:
    """A multilabel target of the digits: even, > 4, prime, drawn with a loop."""
    return np.column_stack(
        [y % 2 == 0, y > 4, np.isin(y, (2, 3, 5, 7)), np.isin(y, (0, 6, 8, 9))]
    ).astype("int64")


def digit_outputs(y: np.ndarray) -> np.ndarray:
    """A multi-output target of the digits: the digit, mod 3, whether > 4."""
    return np.column_stack([y, y % 3, (y > 4).astype("int64")])


def keras_targets(y: np.ndarray, n_classes) -> np.ndarray | list:
    """``y`` as Keras takes it: one array per output for a multi-output y."""
    return [y[:, k] for k in range(y.shape[1])] if isinstance(n_classes, list) else y


def train_h1(
    X, y, n_classes, seed: int = 0, activation="softmax", loss=LOSS
) -> keras.Model:
    """h1: a smaller MLP trained on the first few hundred samples (not timed)."""
    keras.utils.set_random_seed(seed)
    h1 = build_mlp(X.shape[1], n_classes, 32, activation)
    h1.compile(optimizer="adam", loss=loss)
    targets = keras_targets(y[:H1_TRAIN_SIZE], n_classes)
    h1.fit(X[:H1_TRAIN_SIZE], targets, epochs=10, batch_size=32, verbose=0)
    return h1


def fresh_copy(h1: keras.Model) -> keras.Model:
    """h1 as a user has it after loading it: same weights, nothing traced yet.

    Keras caches a model's compiled ``predict`` function on the model, so reusing
    one h1 object would let every fit after the first skip tracing it. A fresh
    copy per run (made outside the timings) charges each fit what a user's
    first fit in a session pays; ``--warm-h1`` reuses one h1 instead, as a grid
    search over one h1 would.
    """
    copy = keras.models.clone_model(h1)
    copy.set_weights(h1.get_weights())
    return copy


# -- contenders ---------------------------------------------------------------


@dataclass
class Case:
    """Everything a contender needs; identical for all of them."""

    X: np.ndarray
    y: np.ndarray
    h1: keras.Model
    n_classes: int | list[int]  # a list: one entry per output (multioutput)
    hidden: int
    epochs: int
    # h1's probabilities on X, computed once outside the timings: what a log
    # of h1's outputs holds when h1 cannot run at training time.
    h1_proba: np.ndarray | None = None
    # --target multilabel: one sigmoid unit per label, binary cross-entropy.
    loss: str = LOSS
    activation: str = "softmax"


def _fit(model: keras.Model, case: Case) -> None:
    """The same ``Model.fit`` call for every contender that calls it itself."""
    model.fit(
        case.X,
        keras_targets(case.y, case.n_classes),
        epochs=case.epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
    )


def _plain_keras(case: Case, prebuild: bool) -> None:
    model = build_mlp(case.X.shape[1], case.n_classes, case.hidden, case.activation)
    model.compile(optimizer=OPTIMIZER, loss=case.loss)
    if prebuild:
        model.optimizer.build(model.trainable_variables)
    _fit(model, case)


def run_plain_keras(case: Case) -> None:
    _plain_keras(case, prebuild=False)


def run_plain_keras_prebuilt(case: Case) -> None:
    """Plain Keras with the optimizer built before ``fit``, as bcsk does.

    Keras (TensorFlow backend, no distribution strategy) creates the optimizer's
    variables while tracing the first training step, which makes TensorFlow
    trace that step twice; building them first saves one trace. Timing bcsk
    against this baseline shows what bcsk's own work costs, apart from that
    saving.
    """
    _plain_keras(case, prebuild=True)


def _estimator_kwargs(case: Case) -> dict:
    return dict(
        model=build_for_scikeras,
        model__hidden=case.hidden,
        model__activation=case.activation,
        loss=case.loss,
        optimizer=OPTIMIZER,
        epochs=case.epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
    )


def run_scikeras(case: Case) -> None:
    KerasClassifier(**_estimator_kwargs(case)).fit(case.X, case.y)


def _run_bcsk(case: Case, **params) -> None:
    BCCompatibleClassifier(
        h1=case.h1, lambda_c=LAMBDA_C, **params, **_estimator_kwargs(case)
    ).fit(case.X, case.y)


def run_bcsk_new_error(case: Case) -> None:
    _run_bcsk(case, method="model", dissonance="new_error")


def run_bcsk_strict_imitation(case: Case) -> None:
    _run_bcsk(case, method="model", dissonance="strict_imitation")


def run_bcsk_focal_distillation(case: Case) -> None:
    _run_bcsk(case, method="model", dissonance="focal_distillation")


def run_bcsk_logit_difference(case: Case) -> None:
    _run_bcsk(case, method="model", dissonance="logit_difference")


def run_per_step_model(case: Case) -> None:
    h2 = build_mlp(case.X.shape[1], case.n_classes, case.hidden)
    model = BCCompatibilityModel(
        h2, h1=case.h1, lambda_c=LAMBDA_C, dissonance="new_error"
    )
    model.compile(optimizer=OPTIMIZER, loss=LOSS)
    _fit(model, case)


def run_bcsk_logged(case: Case) -> None:
    """The estimator trained from h1's logged outputs: no pass of h1."""
    BCCompatibleClassifier(
        h1=None, lambda_c=LAMBDA_C, dissonance="new_error", **_estimator_kwargs(case)
    ).fit(case.X, case.y, h1_proba=case.h1_proba)


def run_bcsk_bc_fit(case: Case) -> None:
    _run_bcsk(case, method="bc_fit", dissonance="new_error")


BASELINES = {
    # What the target is defined against: plain Keras as users write it.
    "keras": ("plain Keras", run_plain_keras),
    # The same, with the one-trace saving bcsk applies (see run_plain_keras_prebuilt).
    "keras-prebuilt": ("plain Keras, optimizer built first", run_plain_keras_prebuilt),
}
CONTENDERS = {
    # The baseline timed against itself: what the harness reports for two
    # identical fits. Its ratio and interval are the noise floor of the run.
    "aa": ("baseline again (A/A control)", None),
    "prebuilt": ("plain Keras, optimizer built first", run_plain_keras_prebuilt),
    "scikeras": ("scikeras KerasClassifier", run_scikeras),
    "model": ('BCCompatibleClassifier method="model" new_error', run_bcsk_new_error),
    "strict": (
        'BCCompatibleClassifier method="model" strict_imitation',
        run_bcsk_strict_imitation,
    ),
    "focal": (
        'BCCompatibleClassifier method="model" focal_distillation',
        run_bcsk_focal_distillation,
    ),
    "ldi": (
        'BCCompatibleClassifier method="model" logit_difference',
        run_bcsk_logit_difference,
    ),
    "logged": (
        "BCCompatibleClassifier from logged h1_proba (new_error)",
        run_bcsk_logged,
    ),
    "per_step": ("BCCompatibilityModel per step (new_error)", run_per_step_model),
    "bc_fit": ('BCCompatibleClassifier method="bc_fit" new_error', run_bcsk_bc_fit),
}
DEFAULT_PATH = "model"


# -- timing -------------------------------------------------------------------


# Seconds inside ``keras.Model.fit`` (the training loop) during a run. Every
# contender but ``bc_fit`` ends in ``Model.fit`` with the same network, data,
# epochs and batch size, so the time *outside* it (building, compiling,
# scikeras' validation, h1's inference) is what a wrapper adds. That part is
# small and stable, whereas the training loop's own time varies by 5-10 %
# between identical runs: reporting both separates bcsk's cost from noise.
FIT_CLOCK = _paired.MethodClock("fit")


def timed(
    run, case: Case, seed: int, warm_h1: bool = False, freeze_gc: bool = True
) -> tuple[float, ...]:
    """Wall, CPU and ``Model.fit`` seconds of one end-to-end run.

    After the reset of every run (:func:`_paired.timed`), with a fresh copy of
    h1 unless ``warm_h1`` (:func:`fresh_copy` says why).
    """

    def setup() -> Case:
        return case if warm_h1 else replace(case, h1=fresh_copy(case.h1))

    timing = _paired.timed(
        run, seed, setup=setup, freeze_gc=freeze_gc, clocks=[FIT_CLOCK]
    )
    return timing.seconds, timing.cpu_seconds, FIT_CLOCK.seconds


@dataclass
class Result:
    """Paired timings of one contender against the baseline."""

    key: str
    label: str
    seconds: list = field(default_factory=list)
    baseline_seconds: list = field(default_factory=list)
    cpu_seconds: list = field(default_factory=list)
    baseline_cpu_seconds: list = field(default_factory=list)
    fit_seconds: list = field(default_factory=list)
    baseline_fit_seconds: list = field(default_factory=list)

    @property
    def ratios(self) -> np.ndarray:
        return np.asarray(self.seconds) / np.asarray(self.baseline_seconds)

    @property
    def cpu_ratios(self) -> np.ndarray:
        return np.asarray(self.cpu_seconds) / np.asarray(self.baseline_cpu_seconds)

    @staticmethod
    def _outside_fit(seconds, fit_seconds) -> float | None:
        """Median seconds outside ``Model.fit``; None if it was never called."""
        if not all(fit_seconds):
            return None
        return float(np.median(np.subtract(seconds, fit_seconds)))

    def summary(self) -> dict:
        ratios = self.ratios
        q1, q3 = np.percentile(ratios, [25, 75])
        low, high = _paired.median_interval(ratios)
        return {
            "key": self.key,
            "label": self.label,
            "pairs": len(ratios),
            "median_s": float(np.median(self.seconds)),
            "baseline_median_s": float(np.median(self.baseline_seconds)),
            "median_ratio": float(np.median(ratios)),
            "ratio_q1": float(q1),
            "ratio_q3": float(q3),
            "median_ratio_ci95": [low, high],
            "median_cpu_s": float(np.median(self.cpu_seconds)),
            "median_cpu_ratio": float(np.median(self.cpu_ratios)),
            "median_outside_fit_s": self._outside_fit(self.seconds, self.fit_seconds),
            "baseline_median_outside_fit_s": self._outside_fit(
                self.baseline_seconds, self.baseline_fit_seconds
            ),
            "seconds": [float(s) for s in self.seconds],
            "baseline_seconds": [float(s) for s in self.baseline_seconds],
            "cpu_seconds": [float(s) for s in self.cpu_seconds],
            "baseline_cpu_seconds": [float(s) for s in self.baseline_cpu_seconds],
            "fit_seconds": [float(s) for s in self.fit_seconds],
            "baseline_fit_seconds": [float(s) for s in self.baseline_fit_seconds],
        }


def bench_dataset(name: str, args, keys: list[str]) -> dict:
    # Shuffled once: any prefix (h1's training rows, --max-samples) holds
    # every class.
    X, y = _data.load(name, shuffle=True)
    if args.max_samples is not None:
        X, y = X[: args.max_samples], y[: args.max_samples]
    if args.target == "multilabel":
        y = digit_tags(y)
        n_classes = y.shape[1]
        shape = dict(activation="sigmoid", loss="binary_crossentropy")
        h1 = train_h1(X, y, n_classes, **shape)
        h1_accuracy = float(np.mean((h1.predict(X, verbose=0) > 0.5) == y))
    elif args.target == "multioutput":
        y = digit_outputs(y)
        n_classes = [int(y[:, k].max()) + 1 for k in range(y.shape[1])]
        shape = {}
        h1 = train_h1(X, y, n_classes)
        predicted = np.column_stack(
            [np.argmax(p, axis=1) for p in h1.predict(X, verbose=0)]
        )
        h1_accuracy = float(np.mean(predicted == y))
    else:
        n_classes = int(y.max()) + 1
        shape = {}
        h1 = train_h1(X, y, n_classes)
        h1_accuracy = float(np.mean(np.argmax(h1.predict(X, verbose=0), axis=1) == y))
    h1_proba = keras.tree.map_structure(
        lambda p: np.asarray(p, dtype=np.float64), h1.predict(X, verbose=0)
    )
    case = Case(X, y, h1, n_classes, args.hidden, args.epochs, h1_proba, **shape)
    print(
        f"\n== {name} ({args.target}): {X.shape[0]} x {X.shape[1]}, "
        f"{n_classes} {'labels' if args.target == 'multilabel' else 'classes'}, "
        f"h2 {X.shape[1]}-{args.hidden}-{n_classes}, {args.epochs} epochs, "
        f"batch {BATCH_SIZE}; h1 accuracy on X {h1_accuracy:.3f}",
        flush=True,
    )

    run_options = (args.warm_h1, args.freeze_gc)
    baseline = BASELINES[args.baseline][1]
    runs = {key: CONTENDERS[key][1] or baseline for key in keys}
    # Warm up: the first graph build in a process and the first use of each
    # code path (lazy imports, TensorFlow's kernel caches) are one-off costs.
    for run in [baseline, *runs.values()]:
        timed(run, case, 0, *run_options)

    load_before = _paired.load_average()
    results = {key: Result(key, CONTENDERS[key][0]) for key in keys}
    for r in range(args.repeats):
        for i, key in enumerate(keys):
            contender = runs[key]
            seed = 1 + r
            sides = {"baseline": baseline, "contender": contender}
            times = {
                side: timed(sides[side], case, seed, *run_options)
                for side in _paired.in_turn(list(sides), r + i)
            }
            base, cont = times["baseline"], times["contender"]
            result = results[key]
            result.seconds.append(cont[0])
            result.baseline_seconds.append(base[0])
            result.cpu_seconds.append(cont[1])
            result.baseline_cpu_seconds.append(base[1])
            result.fit_seconds.append(cont[2])
            result.baseline_fit_seconds.append(base[2])
            if args.verbose:
                print(
                    f"  pair {r + 1}/{args.repeats} {key:>9}: {cont[0]:7.3f} s vs "
                    f"{base[0]:7.3f} s  ratio {cont[0] / base[0]:.3f}  (CPU ratio "
                    f"{cont[1] / base[1]:.3f})",
                    flush=True,
                )
        print(f"  repeat {r + 1}/{args.repeats} done", flush=True)
    summaries = [results[key].summary() for key in keys]
    all_base = np.concatenate([results[k].baseline_seconds for k in keys])
    all_base_outside = np.subtract(
        all_base, np.concatenate([results[k].baseline_fit_seconds for k in keys])
    )
    report = {
        "dataset": name,
        "target": args.target,
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": n_classes,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "warm_h1": args.warm_h1,
        "freeze_gc": args.freeze_gc,
        "baseline": args.baseline,
        "h1_train_accuracy": h1_accuracy,
        "baseline_median_s": float(np.median(all_base)),
        "baseline_q1_s": float(np.percentile(all_base, 25)),
        "baseline_q3_s": float(np.percentile(all_base, 75)),
        "baseline_median_outside_fit_s": float(np.median(all_base_outside)),
        "load_average_before": load_before,
        "load_average_after": _paired.load_average(),
        "contenders": summaries,
    }
    print_table(report)
    return report


def print_table(report: dict) -> None:
    """The results of one dataset as a Markdown table (pasted into the README)."""
    pairs = report["contenders"][0]["pairs"]
    baseline = BASELINES[report["baseline"]][0]
    print()
    print(
        f"| contender | median s | median ratio vs {baseline} | 95% CI of median | "
        "ratio IQR | median CPU ratio | median s outside Model.fit |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {baseline} (baseline) | {report['baseline_median_s']:.2f} | 1 | | "
        f"(s: {report['baseline_q1_s']:.2f}-{report['baseline_q3_s']:.2f}) | 1 | "
        f"{report['baseline_median_outside_fit_s']:.3f} |"
    )
    for row in report["contenders"]:
        flag = ""
        if row["key"] == DEFAULT_PATH and report["baseline"] == "keras":
            met = row["median_ratio"] <= TARGET_RATIO
            flag = f" ({'meets' if met else 'OVER'} {TARGET_RATIO}x)"
        outside = row["median_outside_fit_s"]
        outside = "- (own loop)" if outside is None else f"{outside:.3f}"
        print(
            f"| {row['label']} | {row['median_s']:.2f} | "
            f"**{row['median_ratio']:.3f}**{flag} | "
            f"{row['median_ratio_ci95'][0]:.3f}-{row['median_ratio_ci95'][1]:.3f} | "
            f"{row['ratio_q1']:.3f}-{row['ratio_q3']:.3f} | "
            f"{row['median_cpu_ratio']:.3f} | {outside} |"
        )
    print(
        f"\n{report['dataset']}: median of {pairs} paired ratios; load average "
        f"(1, 5, 15 min) before {report['load_average_before']}, after "
        f"{report['load_average_after']}"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        choices=["mnist", "digits", "both"],
        help="default: both (mnist with --quick)",
    )
    parser.add_argument(
        "--target",
        choices=["multiclass", "multilabel", "multioutput"],
        default="multiclass",
        help="the digit (default), or four tags per digit (even, > 4, prime, "
        "loop) learned with one sigmoid unit per label",
    )
    parser.add_argument("--repeats", type=int, help="pairs per contender (default 7)")
    parser.add_argument("--epochs", type=int, help="epochs per fit (default 5)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units of h2")
    parser.add_argument(
        "--max-samples", type=int, help="use only the first N samples of each dataset"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(CONTENDERS),
        help="time only these contenders (each still paired with the baseline)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: mnist only, 3 pairs, 2 epochs, at most 1,000 samples",
    )
    parser.add_argument(
        "--baseline",
        choices=sorted(BASELINES),
        default="keras",
        help="what every contender is paired with: plain Keras as users write it "
        "(default; the target's definition), or plain Keras with the optimizer "
        "built before fit, as bcsk does (isolates bcsk's own cost)",
    )
    parser.add_argument(
        "--warm-h1",
        action="store_true",
        help="reuse one h1 object (its predict function traced once) instead of "
        "a fresh copy per run",
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="freeze_gc",
        action="store_false",
        help="let each run's garbage collections scan every object the benchmark "
        "process holds (how the runs saved before this option existed were timed)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each pair")
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset = args.dataset or "mnist"
        args.repeats = args.repeats or 3
        args.epochs = args.epochs or 2
        args.max_samples = args.max_samples or 1000
    args.dataset = args.dataset or "both"
    args.repeats = args.repeats or 7
    args.epochs = args.epochs or 5
    if args.repeats < 1 or args.epochs < 1:
        parser.error("--repeats and --epochs must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    FIT_CLOCK.install()
    keys = args.only or list(CONTENDERS)
    if args.target in ("multilabel", "multioutput"):
        # BCML's paths (its loss classes and BCCompatibilityModel) train one
        # label per sample; the estimator trains a multilabel y per label and
        # a multi-output y per output (which stock scikeras cannot encode).
        single_label_only = {"per_step", "bc_fit"}
        if args.target == "multioutput":
            single_label_only.add("scikeras")
        if args.only and single_label_only & set(args.only):
            raise SystemExit(
                f"--target {args.target}: {', '.join(sorted(single_label_only))} "
                "cannot train this target"
            )
        keys = [key for key in keys if key not in single_label_only]
    info = _paired.machine()
    print(
        f"bcsk fit-cost benchmark, {info['date']}\n"
        f"machine: {info['cpu_count']} CPU cores, {info['processor']}, "
        f"{info['platform']}, GPUs {info['gpus'] or 'none'}\n"
        f"python {info['python']}, TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']} ({info['keras_backend']}), scikit-learn "
        f"{info['scikit-learn']}, scikeras {info['scikeras']}\n"
        f"{args.repeats} pairs per contender, lambda_c={LAMBDA_C}, loss={LOSS} "
        "(binary_crossentropy with --target multilabel; one per output with "
        "--target multioutput), "
        f"optimizer={OPTIMIZER}; load average now {_paired.load_average()}",
        flush=True,
    )
    datasets = ["mnist", "digits"] if args.dataset == "both" else [args.dataset]
    start = time.perf_counter()
    reports = [bench_dataset(name, args, keys) for name in datasets]
    total = time.perf_counter() - start
    print(f"\ntotal {total:.0f} s")
    verdicts = []
    for report in reports:
        for row in report["contenders"]:
            if row["key"] == DEFAULT_PATH and args.baseline == "keras":
                ok = row["median_ratio"] <= TARGET_RATIO
                verdicts.append(ok)
                low, high = row["median_ratio_ci95"]
                baseline = BASELINES[args.baseline][0]
                print(
                    f"{report['dataset']}: default path (method='model') "
                    f"{row['median_ratio']:.3f}x {baseline} (95% CI {low:.3f}-"
                    f"{high:.3f}), target <= {TARGET_RATIO}x: "
                    f"{'met' if ok else 'NOT met'}"
                )
    if args.json:
        payload = {
            "machine": info,
            "args": vars(args),
            "target_ratio": TARGET_RATIO,
            "total_s": total,
            "results": reports,
        }
        with open(args.json, "w") as handle:
            json.dump(payload, handle, indent=2)
        print(f"wrote {args.json}")
    # Timings are information, not a test: exit 0 whatever the ratios.
    return 0


if __name__ == "__main__":
    sys.exit(main())
