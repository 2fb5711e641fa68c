"""What one prediction per fold saves: ``compatibility_scoring()`` in a search.

A small ``GridSearchCV`` over ``lambda_c`` (digits, a 16-unit network, 3-fold
CV) is run with four ``scoring`` arguments that report the same numbers:

``new``
    ``compatibility_scoring()``: accuracy and the six compatibility metrics
    from one prediction of h2 and one of h1 per fold.
``old3``
    bcsk 0.1's ``compatibility_scoring()``, a dict of three scorers
    (``"accuracy"``, ``btc_scorer``, ``bec_scorer``): three predictions of h2
    and two of h1 per fold, for three metrics only.
``dict7``
    ``dict(compatibility_scoring())``: the same seven metrics as a plain dict,
    so scikit-learn calls each scorer, and each predicts, on its own.
``new (A/A)``
    ``new`` again: the control. Its ratio to ``new`` shows the noise.

Each repeat runs the four searches in a shuffled order (seeded; see
``benchmarks/_paired.py``), and the ratios are paired within a repeat: the
run of one variant against the run of ``new`` next to it. Two times per
search: the scoring time (the sum over folds and candidates of
``cv_results_["mean_score_time"]``, what the change touches) and the wall
time of the whole ``search.fit`` (what a user waits for, mostly training).
A first search, not timed, warms TensorFlow up.

Run::

    python benchmarks/bench_scoring.py                # 4 repeats, 1-2 minutes idle
    python benchmarks/bench_scoring.py --repeats 9 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _data  # noqa: E402
import _paired  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.metrics import bec_scorer, btc_scorer, compatibility_scoring  # noqa: E402

VARIANTS = ("new", "old3", "dict7", "new (A/A)")


def scoring(variant: str):
    if variant in ("new", "new (A/A)"):
        return compatibility_scoring()
    if variant == "old3":
        return {"accuracy": "accuracy", "btc": btc_scorer, "bec": bec_scorer}
    return dict(compatibility_scoring())


def run_search(variant, X, y, h1, args):
    clf = BCCompatibleClassifier(
        _data.build_mlp,
        h1=h1,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=args.epochs,
        batch_size=64,
        random_state=0,
        model__hidden=16,
    )
    search = GridSearchCV(
        clf,
        {"lambda_c": [0.0, 1.0]},
        scoring=scoring(variant),
        refit=False,
        cv=StratifiedKFold(args.folds, shuffle=True, random_state=0),
    )
    start = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - start
    results = search.cv_results_
    score = float(np.sum(results["mean_score_time"]) * args.folds)
    btc = results["mean_test_btc"].tolist()
    return {"wall": wall, "score": score, "btc": btc}


def summary(ratios):
    return (
        f"{statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}, n={len(ratios)})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)

    X, y = _data.load("digits")
    h1 = LogisticRegression(max_iter=2000).fit(X[:180], y[:180])

    print(
        f"machine: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}, Keras {keras.__version__}"
    )
    print(
        f"search: digits ({len(X)} samples), lambda_c in {{0, 1}}, "
        f"{args.folds}-fold CV, {args.epochs} epochs; {args.repeats} repeats"
    )
    run_search("new", X, y, h1, args)  # warm-up, not timed

    def on_pair(record):
        print(
            f"  repeat {record['pair'] + 1}: "
            + ", ".join(
                f"{v} score {record[v]['score']:.2f} s / wall {record[v]['wall']:.1f} s"
                for v in VARIANTS
            ),
            flush=True,
        )

    records = _paired.run_pairs(
        {v: lambda v=v: run_search(v, X, y, h1, args) for v in VARIANTS},
        args.repeats,
        shuffle_seed=0,
        on_pair=on_pair,
    )
    runs = {variant: [r[variant] for r in records] for variant in VARIANTS}
    # The variants report the same BTC: only the number of predictions differs.
    for variant in VARIANTS:
        assert np.allclose(runs[variant][0]["btc"], runs["new"][0]["btc"])

    print("\nratio to `new`, paired by repeat: median (range)")
    print(f"{'variant':<12} {'scoring time':<34} {'whole search':<34}")
    table = {}
    for variant in VARIANTS[1:]:
        score, wall = (
            _paired.ratios(
                [r[field] for r in runs[variant]], [r[field] for r in runs["new"]]
            )
            for field in ("score", "wall")
        )
        table[variant] = {"score": score, "wall": wall}
        print(f"{variant:<12} {summary(score):<34} {summary(wall):<34}")
    mean_score = {v: statistics.median(r["score"] for r in runs[v]) for v in VARIANTS}
    print(
        "\nmedian scoring time per search (s): "
        + ", ".join(f"{v} {t:.2f}" for v, t in mean_score.items())
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": runs, "ratios": table}, f, indent=1)


if __name__ == "__main__":
    main()
