"""A seeded fit gives bit-identical weights wherever it runs.

Keras draws the seed of every unseeded initializer from Python's global
``random``, which scikeras seeds from ``random_state``; any other thread that
draws from it while the model is built (a dask worker's communication, a
second fit) used to change the initial weights. bcsk gives Keras a generator
of its own for the seeded build (``bcsk._scikeras.keras_seeds``), and seeded
fits in threads of one process take turns, because scikeras seeds through
process-wide state. The builders here leave every initializer unseeded, which
is where the bug lived.

The runs in other processes (a fresh interpreter, loky, dask) are slow tests:
``pytest -m slow``.
"""

import importlib
import json
import random
import threading
import time
from pathlib import Path

import joblib
import keras
import numpy as np
import pytest
from _builders import build_mlp
from _subprocess import run_python
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from bcsk import BCCompatibleClassifier
from bcsk.metrics import compatibility_scoring

TESTS_DIR = Path(__file__).resolve().parent
N = 300


def digits_data():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y


def old_model():
    """A deterministic scikit-learn h1, the same in every process."""
    X, y = digits_data()
    return LogisticRegression(max_iter=200).fit(X[N : N + 100], y[N : N + 100])


def seeded(h1, random_state=0, **params):
    defaults = dict(
        model=build_mlp,
        h1=h1,
        lambda_c=0.5,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=1,
        batch_size=64,
        model__hidden=8,
        model__seed=None,  # unseeded initializers
        run_eagerly=True,
    )
    return BCCompatibleClassifier(**{**defaults, **params}, random_state=random_state)


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def seeded_weights(random_state=0, epochs=1):
    """The weights of the reference fit; a module function, so other processes
    can run it."""
    X, y = digits_data()
    clf = seeded(old_model(), random_state, epochs=epochs).fit(X[:N], y[:N])
    return weights_of(clf.model_)


def assert_identical(weights, reference):
    assert len(weights) == len(reference)
    for got, expected in zip(weights, reference, strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.fixture(scope="module")
def reference():
    return seeded_weights()


# --------------------------------------------------------------------------
# In this process
# --------------------------------------------------------------------------


def test_twice_in_a_row(reference):
    first, second = seeded_weights(), seeded_weights()
    assert_identical(first, reference)
    assert_identical(second, reference)


def test_after_other_models_and_random_draws(reference, digits):
    X, y = digits
    # Unseeded Keras layers and models, draws from every global generator, a
    # global seed set by the user, an unseeded fit and a fit with another seed.
    for _ in range(3):
        keras.layers.Dense(4)
        random.random()
        np.random.random()  # noqa: NPY002
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras.utils.set_random_seed(1234)
    seeded(old_model(), random_state=None).fit(X[:N], y[:N])
    seeded(old_model(), random_state=5).fit(X[:N], y[:N])
    random.randint(1, 10)
    assert_identical(seeded_weights(), reference)


class Hammer:
    """A thread that keeps drawing from Python's global ``random``."""

    def __init__(self):
        self.draws = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            random.randint(1, 10**9)
            self.draws += 1

    def wait_for_draws(self, n=5, timeout=10.0):
        """Let the thread draw ``n`` more times (the build is short otherwise)."""
        target, deadline = self.draws + n, time.monotonic() + timeout
        while self.draws < target and time.monotonic() < deadline:
            time.sleep(0.001)
        assert self.draws >= target, "the drawing thread did not run"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def build_while_drawing(meta, hidden=8, seed=None, hammer=None):
    """``build_mlp``'s layers (unseeded), letting ``hammer`` draw before each."""
    assert seed is None
    layers = [keras.Input((meta["n_features_in_"],))]
    for units, activation in ((hidden, "relu"), (meta["n_classes_"], "softmax")):
        if hammer is not None:
            hammer.wait_for_draws()
        layers.append(keras.layers.Dense(units, activation=activation))
    return keras.Sequential(layers)


def test_a_thread_drawing_from_random_during_the_build(digits):
    # Before keras_seeds, each draw of the other thread moved the seeds Keras
    # gave the initializers (checked: with keras_seeds made a no-op, this fails).
    X, y = digits
    h1 = old_model()
    quiet = seeded(h1, model=build_while_drawing).fit(X[:N], y[:N])
    with Hammer() as hammer:
        noisy = seeded(h1, model=build_while_drawing, model__hammer=hammer)
        noisy.fit(X[:N], y[:N])
        assert hammer.draws >= 10
    assert_identical(weights_of(noisy.model_), weights_of(quiet.model_))


def test_seeded_fits_in_two_threads_at_once():
    # Different seeds and lengths, so that one fit's seeding would show in the
    # other's weights (checked: without the turn-taking, this fails).
    configs = [dict(random_state=0, epochs=3), dict(random_state=1, epochs=1)]
    expected = [seeded_weights(**config) for config in configs]
    for _ in range(2):
        results = joblib.Parallel(n_jobs=2, backend="threading")(
            joblib.delayed(seeded_weights)(**config) for config in configs
        )
        for got, reference in zip(results, expected, strict=True):
            assert_identical(got, reference)


def test_cross_validation_threads_equal_one_job():
    X, y = digits_data()
    estimator = seeded(old_model())

    def fold_weights(n_jobs, backend):
        with joblib.parallel_backend(backend, n_jobs=n_jobs):
            result = cross_validate(
                estimator, X[:N], y[:N], cv=2, return_estimator=True
            )
        return [weights_of(fitted.model_) for fitted in result["estimator"]]

    serial = fold_weights(1, "sequential")
    for got, expected in zip(fold_weights(2, "threading"), serial, strict=True):
        assert_identical(got, expected)


# --------------------------------------------------------------------------
# In other processes
# --------------------------------------------------------------------------

FRESH_PROCESS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, {tests!r})
import numpy as np
from test_reproducibility import seeded_weights
np.savez({out!r}, *seeded_weights())
"""


@pytest.mark.slow
def test_fresh_process(reference, tmp_path):
    out = tmp_path / "weights.npz"
    source = FRESH_PROCESS.format(tests=str(TESTS_DIR), out=str(out))
    run_python(source, tmp_path, name="fit.py")
    with np.load(out) as saved:
        assert_identical([saved[f"arr_{i}"] for i in range(len(saved))], reference)


@pytest.mark.slow
def test_loky_workers(reference, monkeypatch):
    # loky's workers start with the parent's sys.path: put this folder on it.
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(seeded_weights)() for _ in range(2)
    )
    for got in results:
        assert_identical(got, reference)


@pytest.mark.slow
def test_cross_validation_on_loky_equals_one_job(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    X, y = digits_data()
    estimator = seeded(old_model())
    runs = [
        cross_validate(estimator, X[:N], y[:N], cv=2, n_jobs=n, return_estimator=True)
        for n in (1, 2)
    ]
    serial, parallel = ([weights_of(e.model_) for e in r["estimator"]] for r in runs)
    for got, expected in zip(parallel, serial, strict=True):
        assert_identical(got, expected)


def _search(h1):
    estimator = BCCompatibleClassifier(
        build_mlp,
        h1=h1,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=2,
        batch_size=128,
        random_state=0,
        model__hidden=16,  # and unseeded initializers (model__seed=None)
    )
    return GridSearchCV(
        estimator,
        {"lambda_c": [0, 0.5, 1]},
        scoring=compatibility_scoring(),
        refit=False,
        cv=3,
    )


def keep_drawing_from_random():
    """Start a thread here that keeps drawing from Python's global ``random``.

    A dask worker's communication draws from it now and then (it samples data
    with ``random.randint`` to decide on compression); this draws all the time,
    so that a build exposed to other threads' draws shows in every run.
    """

    def draw():
        while True:
            random.randint(1, 10**9)
            time.sleep(0.0005)

    threading.Thread(target=draw, daemon=True).start()
    return True


def _scores(search):
    return {
        key: value.tolist()
        for key, value in search.cv_results_.items()
        if key.startswith(("split", "mean_test")) and "_test_" in key
    }


@pytest.mark.slow
def test_dask_grid_search_equals_one_job_ten_times(digits, digits_h1, monkeypatch):
    distributed = pytest.importorskip(
        "distributed", reason="the dask search needs bcsk[dask]"
    )
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    importlib.import_module("_builders")
    X, y = digits
    X, y = X[:900], y[:900]
    serial = _scores(_search(digits_h1).fit(X, y))
    assert set(serial) >= {"mean_test_accuracy", "mean_test_btc", "mean_test_bec"}

    # Two worker processes with two threads each: fits run in processes and
    # two at a time in threads of one process, beside the workers' own threads
    # and one more on each worker that keeps drawing from Python's random.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_backend("dask"),
    ):
        assert all(client.run(keep_drawing_from_random).values())
        differing = []
        for run in range(10):
            scores = _scores(_search(digits_h1).fit(X, y))
            if scores != serial:
                differing.append((run, scores))
    assert not differing, json.dumps(
        {"serial": serial, "differing": differing}, indent=1
    )[:3000]
