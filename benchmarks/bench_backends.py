"""bcsk's costs on one Keras backend: the rows of the table in docs/performance.rst.

Every row is a paired ratio, contender / baseline, measured in one process
(``benchmarks/_paired.py``): each pair runs both, back to back, in an order
that alternates from pair to pair, after the same reset; the figure is the
median of the per-pair ratios, with its interquartile range and a bootstrap
95 % interval. The A/A row times the baseline of the first row against itself:
how far two identical fits land apart on the machine at hand.

Rows (``--rows``):

``aa``
    plain Keras fit / plain Keras fit (A/A control).
``fit``
    ``BCCompatibleClassifier(dissonance="new_error").fit`` / plain Keras
    (build, compile, fit the same network on the same data).
``weighted``
    plain Keras with the sample weights a new-error fit folds its term into,
    ``1 + lambda_c c_i`` (``c_i``: h1 right on row ``i``) / plain Keras: Keras'
    own cost of sample weights, the floor of the ``fit`` row (a new-error fit
    is h2's own ``fit`` on those weights).
``focal``
    the same with ``dissonance="focal_distillation"`` / plain Keras.
``bc_fit``
    ``method="bc_fit"`` / plain Keras (TensorFlow only: BCML's own loop).
``path``
    ``BCCompatibleClassifierCV(lambda_cs=values)`` / ``GridSearchCV`` over
    ``BCCompatibleClassifier`` with the same values and folds.
``search``
    the one-call search with its defaults (held-out 10 %, the recommended
    dissonances and ``lambda_c`` values, five flip costs) / one plain Keras
    fit.
``ensemble``
    ``n_members=5`` / five ``n_members=1`` fits.
``flip``
    the default one-call search (five flip costs) / the same with
    ``flip_costs=(1.0,)``.

Sizes (``--size``): scikit-learn's digits (1,797 x 64) and the first 50,000
Fashion-MNIST training images (784 pixels; Debian's ``dataset-fashion-mnist``).
A plain MLP (one hidden ReLU layer) throughout; h1 a logistic regression
trained on the first 500 rows.

Run (one backend per process; ``--backend`` sets ``KERAS_BACKEND``)::

    python benchmarks/bench_backends.py --backend jax --size digits --pairs 7
    python benchmarks/bench_backends.py --backend torch --quick
    python benchmarks/bench_backends.py --backend tensorflow --rows aa fit bc_fit \\
        --json benchmarks/results/backends_tensorflow.json

``--quick`` is a smoke run (digits, 3 pairs, 1 epoch, 2 folds). Pass
``--jit-compile`` to compile h2 with ``jit_compile=True`` (the GPU check,
``benchmarks/gpu_check.sh``). On JAX, ``--jax-cache DIR`` turns on JAX's
persistent compilation cache: a fit whose training step was compiled before
(by the warm-up, or an earlier pair) loads it instead of compiling it again,
which leaves the steps' own cost in the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROWS = (
    "aa",
    "fit",
    "weighted",
    "focal",
    "bc_fit",
    "path",
    "search",
    "ensemble",
    "flip",
)
LOSS = "sparse_categorical_crossentropy"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax", "torch"],
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="Keras backend of this process (default: $KERAS_BACKEND or tensorflow)",
    )
    parser.add_argument("--size", choices=["digits", "fashion", "both"])
    parser.add_argument("--rows", nargs="+", choices=ROWS, help="default: all")
    parser.add_argument("--pairs", type=int, help="pairs per row (default 7)")
    parser.add_argument(
        "--epochs", type=int, help="epochs per fit (default 5; 2 at 50,000 rows)"
    )
    parser.add_argument(
        "--batch-size", type=int, help="default 32 (256 at 50,000 rows)"
    )
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--rows-fashion", type=int, default=50_000)
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument(
        "--jax-cache",
        type=Path,
        help="JAX only: keep compiled steps in this folder (JAX's persistent "
        "compilation cache), so that every fit after the warm-up reuses them",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--json", type=Path, help="write every pair here")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = args.size or "digits"
        args.pairs = args.pairs or 3
        args.epochs = args.epochs or 1
        args.folds = 2
    args.size = args.size or "both"
    args.pairs = args.pairs or 7
    args.rows = args.rows or list(ROWS)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Keras reads the backend once, at import: set it before anything imports it.
    os.environ["KERAS_BACKEND"] = ARGS.backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if ARGS is not None and ARGS.jax_cache is not None:
    if ARGS.backend != "jax":
        sys.exit("--jax-cache is for --backend jax")
    import jax

    jax.config.update("jax_compilation_cache_dir", str(ARGS.jax_cache))
    # Cache every step, however quickly it compiled.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import _data  # noqa: E402
import _paired  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV  # noqa: E402


def build(meta, compile_kwargs, hidden=128, jit_compile=None):
    """h2 (``_data.build_mlp``), compiled here only to set ``jit_compile``."""
    model = _data.build_mlp(meta, hidden)
    if jit_compile is not None:
        model.compile(**compile_kwargs, jit_compile=jit_compile)
    return model


def load(size: str, args):
    if size == "digits":
        X, y = _data.load("digits", shuffle=True)
        epochs, batch = args.epochs or 5, args.batch_size or 32
    else:
        X, y, _, _ = _data.load_fashion_mnist()
        X, y = X[: args.rows_fashion], y[: args.rows_fashion]
        epochs, batch = args.epochs or 2, args.batch_size or 256
    h1 = LogisticRegression(max_iter=200).fit(X[:500], y[:500])
    return X, y, h1, epochs, batch


def contenders(X, y, h1, epochs, batch, args) -> dict:
    """Each row's ``(contender, baseline)`` callables."""
    n_classes = int(y.max()) + 1
    jit = True if args.jit_compile else None
    params = dict(
        loss=LOSS,
        optimizer="adam",
        epochs=epochs,
        batch_size=batch,
        verbose=0,
        model__hidden=args.hidden,
        model__jit_compile=jit,
    )
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    lambda_cs = [0.0, 0.1, 0.3, 1.0]

    def plain():
        meta = {"n_features_in_": X.shape[1], "n_classes_": n_classes}
        model = _data.build_mlp(meta, args.hidden)
        model.compile(loss=LOSS, optimizer="adam", jit_compile=jit or "auto")
        model.fit(X, y, epochs=epochs, batch_size=batch, verbose=0)

    def weighted():
        correct = (h1.predict(X) == y).astype("float32")
        meta = {"n_features_in_": X.shape[1], "n_classes_": n_classes}
        model = _data.build_mlp(meta, args.hidden)
        model.compile(loss=LOSS, optimizer="adam", jit_compile=jit or "auto")
        model.fit(
            X,
            y,
            sample_weight=1.0 + 0.5 * correct,
            epochs=epochs,
            batch_size=batch,
            verbose=0,
        )

    def bcsk(**extra):
        def run():
            BCCompatibleClassifier(
                build, h1=h1, lambda_c=0.5, **{**params, **extra}
            ).fit(X, y)

        return run

    def keras_h1():
        # bc_fit calls h1 in every step: it needs a Keras h1 (the same rows).
        meta = {"n_features_in_": X.shape[1], "n_classes_": n_classes}
        model = _data.build_mlp(meta, 32)
        model.compile(loss=LOSS, optimizer="adam")
        model.fit(X[:500], y[:500], epochs=10, batch_size=32, verbose=0)
        return model

    def bc_fit():
        BCCompatibleClassifier(
            build, h1=bc_fit_h1, lambda_c=0.5, method="bc_fit", **params
        ).fit(X, y)

    bc_fit_h1 = keras_h1() if "bc_fit" in args.rows else None

    def five_fits():
        for seed in range(5):
            bcsk(random_state=seed)()

    def one_call(flip_costs="auto"):
        # The search as a user calls it: every default (held-out 10 %, the
        # recommended dissonances and lambda_c values, five flip costs).
        def run():
            BCCompatibleClassifierCV(
                build, h1=h1, flip_costs=flip_costs, random_state=0, **params
            ).fit(X, y)

        return run

    def path():
        # The same grid as GridSearchCV below: new error alone, no gate, the
        # refit chosen by accuracy (the search's defaults search far more).
        BCCompatibleClassifierCV(
            build,
            h1=h1,
            dissonance="new_error",
            lambda_cs=lambda_cs,
            flip_costs=(1.0,),
            refit=True,
            cv=folds,
            **params,
        ).fit(X, y)

    def grid():
        GridSearchCV(
            BCCompatibleClassifier(build, h1=h1, **params),
            {"lambda_c": lambda_cs},
            cv=folds,
        ).fit(X, y)

    rows = {
        "aa": (plain, plain),
        "fit": (bcsk(dissonance="new_error"), plain),
        "weighted": (weighted, plain),
        "focal": (bcsk(dissonance="focal_distillation"), plain),
        "bc_fit": (bc_fit, plain),
        "path": (path, grid),
        "search": (one_call(), plain),
        "ensemble": (bcsk(n_members=5, random_state=0), five_fits),
        "flip": (one_call(), one_call((1.0,))),
    }
    return rows


LABELS = {
    "aa": "A/A: plain Keras / plain Keras",
    "fit": "single fit (new error) / plain Keras",
    "weighted": "plain Keras on new error's weights / plain Keras",
    "focal": "single fit (focal distillation) / plain Keras",
    "bc_fit": "``bc_fit`` / plain Keras",
    "path": "lambda path / ``GridSearchCV``",
    "search": "one-call search / one plain fit",
    "ensemble": "5-member ensemble / 5 fits",
    "flip": "five flip costs / one",
}
TARGETS = {"fit": 1.10, "focal": 1.10, "bc_fit": 1.10, "flip": 1.05}


def bench(size: str, args) -> list[dict]:
    X, y, h1, epochs, batch = load(size, args)
    rows = [
        r for r in args.rows if not (r == "bc_fit" and args.backend != "tensorflow")
    ]
    runs = contenders(X, y, h1, epochs, batch, args)
    print(
        f"\n== {size}: {X.shape[0]} x {X.shape[1]}, {epochs} epochs, batch {batch}, "
        f"hidden {args.hidden}, {args.pairs} pairs, backend {args.backend}",
        flush=True,
    )
    results = []
    for row in rows:
        contender, baseline = runs[row]
        # Warm-up: one-off imports and caches land on neither side.
        for run in (baseline, contender):
            _paired.timed(run)
        records = _paired.run_pairs(
            {
                "baseline": lambda b=baseline: _paired.timed_record(b),
                "contender": lambda c=contender: _paired.timed_record(c),
            },
            args.pairs,
        )
        summary = _paired.pair_summary(
            records, "contender", "baseline", TARGETS.get(row)
        )
        values = summary["ratios"]
        summary.update(
            row=row,
            label=LABELS[row],
            size=size,
            n_samples=int(X.shape[0]),
            epochs=epochs,
            batch_size=batch,
            pairs=len(values),
            q1=float(np.percentile(values, 25)),
            q3=float(np.percentile(values, 75)),
            baseline_median_s=float(
                np.median([r["baseline"]["seconds"] for r in records])
            ),
            contender_median_s=float(
                np.median([r["contender"]["seconds"] for r in records])
            ),
            records=records,
        )
        print(
            f"  {LABELS[row]:48s} {summary['median']:.3f} "
            f"[{summary['low']:.3f}-{summary['high']:.3f}] IQR {summary['q1']:.3f}-"
            f"{summary['q3']:.3f} CPU {summary['cpu_median']:.3f} "
            f"({summary['contender_median_s']:.2f} s / "
            f"{summary['baseline_median_s']:.2f} s)",
            flush=True,
        )
        results.append(summary)
    return results


def rst_rows(results: list[dict], backend: str) -> str:
    """The results as rows of the list-table in docs/performance.rst."""
    lines = []
    for r in results:
        lines.append(
            f"   * - {r['label']}\n     - {backend}\n     - {r['size']}\n"
            f"     - {r['median']:.2f} [{r['low']:.2f}-{r['high']:.2f}]\n"
            f"     - {r['q1']:.2f}-{r['q3']:.2f}\n     - {r['cpu_median']:.2f}\n"
            f"     - {r['pairs']}"
        )
    return "\n".join(lines)


def main(args) -> int:
    started = time.perf_counter()
    info = _paired.machine(keras_backend_requested=args.backend)
    print(
        f"bcsk on {keras.backend.backend()}: {info['cpu_count']} cores, "
        f"load average {info['load_average_start']}",
        flush=True,
    )
    sizes = ["digits", "fashion"] if args.size == "both" else [args.size]
    results = [row for size in sizes for row in bench(size, args)]
    info["load_average_end"] = _paired.load_average()
    print("\n" + rst_rows(results, keras.backend.backend()))
    print(_paired.closing_line(info, started))
    if args.json:
        _paired.write_json(args.json, args, info, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
