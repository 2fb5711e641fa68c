"""A GridSearchCV over lambda_c: n_jobs=1 against a dask LocalCluster.

The search of ``tests/test_distributed.py`` (digits, ``lambda_c`` in
{0, 0.5, 1}, 3-fold CV, the compatibility scorers, refit on accuracy) is run
once in this process with ``n_jobs=1`` and once under
``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of worker processes.
The cluster's start (spawning workers, importing TensorFlow there) is timed
apart from the search; ``--loky`` adds joblib's own process pool for reference.

Run::

    python benchmarks/bench_dask.py                 # 2 workers, 5 epochs
    python benchmarks/bench_dask.py --epochs 20 --workers 2 --loky
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _data  # noqa: E402
import joblib  # noqa: E402
import keras  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from bcsk import BCCompatibleClassifier  # noqa: E402
from bcsk.metrics import compatibility_scoring  # noqa: E402


def build_mlp(meta, hidden=32, seed=0):
    """h2. Module level, so the workers can unpickle the estimator.

    Run as a script, this module is ``__main__``: dask then pickles the builder
    by value (cloudpickle). In a package, workers import it by name. The
    initializers are seeded: see docs/distributed.rst on reproducibility.
    """
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(
                hidden,
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            ),
            keras.layers.Dense(
                meta["n_classes_"],
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
            ),
        ]
    )


def _import_bcsk():
    """Import bcsk's estimator (and TensorFlow) on a worker."""
    import bcsk.estimator  # noqa: F401


def data_and_h1():
    X, y = _data.load("digits")
    keras.utils.set_random_seed(1)
    h1 = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")]
    )
    h1.compile(
        loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01)
    )
    h1.fit(X[:300], y[:300], epochs=20, batch_size=64, verbose=0)
    return X, y, h1


def search(h1, epochs):
    estimator = BCCompatibleClassifier(
        build_mlp,
        h1=h1,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=epochs,
        batch_size=128,
        random_state=0,
    )
    return GridSearchCV(
        estimator,
        {"lambda_c": [0, 0.5, 1]},
        scoring=compatibility_scoring(),
        refit="accuracy",
        cv=3,
    )


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def scores(fitted):
    return {
        name: fitted.cv_results_[f"mean_test_{name}"].round(4).tolist()
        for name in ("accuracy", "btc", "bec")
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--loky", action="store_true", help="also time joblib's loky backend"
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    X, y, h1 = data_and_h1()
    n_fits = 3 * 3 + 1
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs; digits {X.shape}, "
        f"{n_fits} fits of {args.epochs} epochs"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    serial, serial_s = timed(lambda: search(h1, args.epochs).fit(X, y))
    print(f"n_jobs=1                       : {serial_s:7.1f} s")

    def start_cluster():
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
        client.run(_import_bcsk)
        return cluster, client

    (cluster, client), start_s = timed(start_cluster)
    try:
        with joblib.parallel_backend("dask"):
            parallel, dask_s = timed(lambda: search(h1, args.epochs).fit(X, y))
    finally:
        client.close()
        cluster.close()
    print(f"dask, {args.workers} workers: cluster start : {start_s:7.1f} s")
    print(f"dask, {args.workers} workers: search        : {dask_s:7.1f} s")
    print(f"ratio n_jobs=1 / dask search   : {serial_s / dask_s:7.2f}x")
    print(f"ratio incl. cluster start      : {serial_s / (dask_s + start_s):7.2f}x")
    same = scores(serial) == scores(parallel)
    print(f"same cv_results_ scores        : {same}")

    if args.loky:
        loky, loky_s = timed(
            lambda: search(h1, args.epochs).set_params(n_jobs=args.workers).fit(X, y)
        )
        print(f"loky, n_jobs={args.workers}                : {loky_s:7.1f} s")
        print(f"same scores as n_jobs=1        : {scores(loky) == scores(serial)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("mean test scores (n_jobs=1):", scores(serial))


if __name__ == "__main__":
    main()
