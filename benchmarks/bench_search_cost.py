"""What the one-call search costs as rows and candidates grow, against one plain fit.

On Fashion-MNIST (Debian's ``dataset-fashion-mnist``), for each number of
training rows (``--rows``, default 5,000 / 10,000 / 25,000 / 50,000) in one
process, side by side:

* one plain fit of h2 (``BCCompatibleClassifier`` with ``lambda_c=0``: plain
  training), before and after the searches of that size (the two give the A/A
  control: their ratio is what timing noise alone does);
* ``BCCompatibleClassifierCV`` as a user leaves it (held-out split, the five
  default flip costs, the default rule, no refit), over 1, 5, 9 and 13
  candidates: focal distillation at 0.03; focal distillation's ``"auto"``
  grid and plain training; the same with logit difference's; the default grid
  (new error, focal distillation, logit difference, 13 candidates);
* the same 13 candidates with 3-fold CV and a refit (``cv=3``);
* ``GridSearchCV`` over ``BCCompatibleClassifier`` with the same 13
  candidates, folds, scoring and rule (it scores no gate: the flip costs
  would cost it more again).

h2 is the 256-unit MLP of the study, Adam, batch 128, ``--epochs`` (2), h1 a
scikit-learn ``MLPClassifier`` on 5,000 other rows. Times are wall-clock on
this machine; every ratio is against the mean of the two plain fits of the
same size. ``--memory`` instead runs each contender in a fresh process and
reports its peak resident memory (``ru_maxrss``) at 50,000 rows, for the MLP
and for the convolutional h2 (:func:`_data.build_cnn`), with 1 and 13
candidates: the per-copy figure is their difference over 12. The memory runs
stop each training after ``--memory-steps`` batches: the copies' weights,
optimizer slots and a batch's activations are allocated by the first step.

Run::

    python benchmarks/bench_search_cost.py                  # the sweep, ~20 min
    python benchmarks/bench_search_cost.py --rows 5000 --no-grid-search
    python benchmarks/bench_search_cost.py --memory

Writes ``search_cost.json`` (and ``search_cost.png``, the log-log plot, with
the fitted slopes) or ``search_memory.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier  # noqa: E402

import bcsk  # noqa: E402
from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV  # noqa: E402
from bcsk.objective import get_dissonance  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
#: Candidates -> the search's grid: (dissonance, lambda_cs).
GRIDS = {
    1: ("focal_distillation", (0.03,)),
    5: (["focal_distillation"], "auto"),
    9: (["focal_distillation", "logit_difference"], "auto"),
    13: (["new_error", "focal_distillation", "logit_difference"], "auto"),
}


def load(n_rows: int, seed: int = 0):
    """``n_rows`` training rows and h1 fitted on 5,000 other rows."""
    X, y, _, _ = _data.load_fashion_mnist()
    rows, rest = train_test_split(
        np.arange(len(y)), train_size=50_000, stratify=y, random_state=seed
    )
    h1_rows = rest[:5_000]
    h1 = MLPClassifier((32,), max_iter=100, random_state=seed)
    h1.fit(X[h1_rows], y[h1_rows])
    rows = rows[:n_rows]
    return X[rows], y[rows], h1


def training(epochs: int, cnn: bool = False) -> dict:
    return {
        "model": _data.build_cnn if cnn else _data.build_mlp,
        "loss": "sparse_categorical_crossentropy",
        "optimizer": "adam",
        "epochs": epochs,
        "batch_size": 128,
        "random_state": 0,
        **({} if cnn else {"model__hidden": 256}),
    }


def folds():
    return StratifiedKFold(3, shuffle=True, random_state=0)


def make_search(h1, n_candidates: int, epochs: int, cnn: bool = False, **kwargs):
    """The default search (held-out split) over the first ``n_candidates``."""
    dissonance, lambda_cs = GRIDS[n_candidates]
    return BCCompatibleClassifierCV(
        h1=h1,
        dissonance=dissonance,
        lambda_cs=lambda_cs,
        **training(epochs, cnn),
        **kwargs,
    )


def grid_search(h1, epochs: int) -> GridSearchCV:
    """GridSearchCV over the 13 candidates of the default grid."""
    grid = [{"lambda_c": [0.0], "dissonance": ["new_error"]}]
    for name in GRIDS[13][0]:
        values = [float(v) for v in get_dissonance(name).default_lambda_cs]
        grid.append({"lambda_c": values, "dissonance": [name]})
    return GridSearchCV(
        BCCompatibleClassifier(h1=h1, **training(epochs)),
        grid,
        cv=folds(),
        scoring=bcsk.compatibility_scoring(),
        refit=bcsk.lowest_update_cost(2.0),
    )


def timed(estimator, X, y) -> float:
    """Seconds of ``estimator.fit(X, y)``, after clearing Keras' session."""
    keras.backend.clear_session()
    started = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - started


def sweep(rows, candidates, epochs: int, with_grid_search: bool) -> list[dict]:
    results = []
    for n_rows in rows:
        X, y, h1 = load(n_rows)
        plain = BCCompatibleClassifier(h1=h1, lambda_c=0.0, **training(epochs))
        first = timed(plain, X, y)
        searches = {k: timed(make_search(h1, k, epochs), X, y) for k in candidates}
        cv_search = timed(make_search(h1, 13, epochs, cv=folds()), X, y)
        grid = timed(grid_search(h1, epochs), X, y) if with_grid_search else None
        second = timed(plain, X, y)
        unit = (first + second) / 2
        row = {
            "rows": n_rows,
            "plain_seconds": [first, second],
            "aa_ratio": second / first,
            "search_seconds": searches,
            "search_ratio": {k: t / unit for k, t in searches.items()},
            "cv_search_seconds": cv_search,
            "cv_search_ratio": cv_search / unit,
            "grid_search_seconds": grid,
            "grid_search_ratio": None if grid is None else grid / unit,
        }
        results.append(row)
        print(
            f"{n_rows:>6} rows: plain {first:.1f} / {second:.1f} s (A/A "
            f"{row['aa_ratio']:.2f}); search "
            + ", ".join(f"{k}: {r:.1f}x" for k, r in row["search_ratio"].items())
            + f"; 3-fold CV search 13: {row['cv_search_ratio']:.1f}x"
            + (
                ""
                if grid is None
                else f"; GridSearchCV 13: {row['grid_search_ratio']:.1f}x, search/"
                f"GridSearchCV {searches.get(13, np.nan) / grid:.2f}, CV search/"
                f"GridSearchCV {cv_search / grid:.2f}"
            ),
            flush=True,
        )
    return results


def slopes(results: list[dict]) -> dict:
    """Slope of log(seconds) against log(rows), per contender."""
    rows = np.log([r["rows"] for r in results])
    out = {
        "plain": float(
            np.polyfit(rows, np.log([np.mean(r["plain_seconds"]) for r in results]), 1)[
                0
            ]
        )
    }
    for k in results[0]["search_seconds"]:
        times = [r["search_seconds"][k] for r in results]
        out[f"search {k}"] = float(np.polyfit(rows, np.log(times), 1)[0])
    times = [r["cv_search_seconds"] for r in results]
    out["CV search 13"] = float(np.polyfit(rows, np.log(times), 1)[0])
    if results[0]["grid_search_seconds"] is not None:
        times = [r["grid_search_seconds"] for r in results]
        out["GridSearchCV 13"] = float(np.polyfit(rows, np.log(times), 1)[0])
    return out


def plot(results: list[dict], fitted: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r["rows"] for r in results]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(
        rows,
        [np.mean(r["plain_seconds"]) for r in results],
        "k-o",
        label=f"one plain fit (slope {fitted['plain']:.2f})",
    )
    for k in results[0]["search_seconds"]:
        ax.plot(
            rows,
            [r["search_seconds"][k] for r in results],
            "-o",
            label=f"search, {k} candidates (slope {fitted[f'search {k}']:.2f})",
        )
    ax.plot(
        rows,
        [r["cv_search_seconds"] for r in results],
        ":^",
        label=f"3-fold CV search, 13 (slope {fitted['CV search 13']:.2f})",
    )
    if results[0]["grid_search_seconds"] is not None:
        ax.plot(
            rows,
            [r["grid_search_seconds"] for r in results],
            "--s",
            label=f"GridSearchCV, 13 (slope {fitted['GridSearchCV 13']:.2f})",
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="training rows",
        ylabel="seconds (2 CPU cores)",
        title="The one-call search's cost on Fashion-MNIST",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# -- memory: one contender per fresh process -----------------------------------


def _stop_after(steps: int) -> keras.callbacks.Callback:
    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 >= steps:
                self.model.stop_training = True

    return Stop()


def memory_child(contender: str, steps: int) -> dict:
    """Runs in a fresh process: one contender at 50,000 rows, its peak memory."""
    X, y, h1 = load(50_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cnn = contender.startswith("cnn")
    callbacks = [_stop_after(steps)]
    if contender.endswith("plain"):
        BCCompatibleClassifier(
            h1=h1, lambda_c=0.0, callbacks=callbacks, **training(1, cnn)
        ).fit(X, y)
    else:
        k = int(contender.split("-")[-1])
        make_search(h1, k, 1, cnn, callbacks=callbacks, refit=False).fit(X, y)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"contender": contender, "before_mib": before, "peak_mib": peak}


def memory(steps: int) -> dict:
    results = {}
    for contender in (
        "mlp-plain",
        "mlp-search-1",
        "mlp-search-13",
        "cnn-plain",
        "cnn-search-1",
        "cnn-search-13",
    ):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-child",
                contender,
                "--memory-steps",
                str(steps),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results[contender] = result
        print(
            f"{contender:>14}: peak {result['peak_mib']:.0f} MiB "
            f"(before the fit {result['before_mib']:.0f} MiB)",
            flush=True,
        )
    for net in ("mlp", "cnn"):
        one, all_ = results[f"{net}-search-1"], results[f"{net}-search-13"]
        per_copy = (all_["peak_mib"] - one["peak_mib"]) / 12
        results[f"{net}_per_copy_mib"] = per_copy
        print(f"{net}: {per_copy:.1f} MiB per added copy", flush=True)
    return results


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "bcsk": bcsk.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", nargs="+", type=int, default=[5_000, 10_000, 25_000, 50_000]
    )
    parser.add_argument(
        "--candidates", nargs="+", type=int, choices=list(GRIDS), default=list(GRIDS)
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-grid-search", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-child")
    parser.add_argument("--memory-steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.memory_steps)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    if args.memory:
        result = {"memory": memory(args.memory_steps), "machine": machine()}
        (args.out / "search_memory.json").write_text(json.dumps(result, indent=1))
        return
    results = sweep(args.rows, args.candidates, args.epochs, not args.no_grid_search)
    fitted = slopes(results) if len(results) > 1 else {}
    for name, slope in fitted.items():
        print(f"slope of log(time) on log(rows), {name}: {slope:.2f}")
    payload = {
        "epochs": args.epochs,
        "results": results,
        "slopes": fitted,
        "machine": machine(),
    }
    (args.out / "search_cost.json").write_text(json.dumps(payload, indent=1))
    if fitted:
        plot(results, fitted, args.out / "search_cost.png")


if __name__ == "__main__":
    main()
