"""Distributed hyperparameter search (dask) and distributed training (tf.distribute).

* A ``GridSearchCV`` over ``lambda_c`` run on a dask ``LocalCluster`` of two
  worker processes scores exactly as the same search with ``n_jobs=1``, and so
  does the one-call ``BCCompatibleClassifierCV`` with its folds on the cluster.
* The estimator trains under ``tf.distribute.MirroredStrategy`` (two logical
  CPUs) with the objective value of a single-device fit, on every training path.
  ``tests/test_models.py`` covers ``BCCompatibilityModel`` under the strategy;
  here are ``BCNewErrorCompatibilityModel`` and the estimator.
"""

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _subprocess import result_of, run_python
from sklearn.model_selection import GridSearchCV

from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV, lowest_update_cost
from bcsk.metrics import compatibility_scoring

TESTS_DIR = Path(__file__).resolve().parent
SCORES = ("accuracy", "btc", "bec")

# --------------------------------------------------------------------------
# GridSearchCV and BCCompatibleClassifierCV on a dask LocalCluster
# --------------------------------------------------------------------------


def _search(builder, h1):
    estimator = BCCompatibleClassifier(
        builder,
        h1=h1,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=2,
        batch_size=128,
        random_state=0,
        model__hidden=16,
        # Unseeded initializers: random_state alone makes the fit reproducible
        # on a dask worker too (bcsk._scikeras.keras_seeds).
    )
    return GridSearchCV(
        estimator,
        {"lambda_c": [0, 0.5, 1]},
        scoring=compatibility_scoring(),
        refit="accuracy",
        cv=3,
    )


@pytest.mark.slow
def test_dask_grid_search_scores_as_n_jobs_1(digits, digits_h1, monkeypatch):
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip(
        "distributed", reason="the dask search needs bcsk[dask]"
    )
    # Workers are spawned with the parent's sys.path: put the builders' folder
    # on it first, whatever pytest's import mode did.
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    builders = importlib.import_module("_builders")
    X, y = digits

    serial = _search(builders.build_mlp, digits_h1).fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            parallel = _search(builders.build_mlp, digits_h1).fit(X, y)
        # The fits ran in the worker processes (not in threads of this one).
        on_workers = client.run(lambda: "_builders" in sys.modules)
    assert len(on_workers) == 2
    assert all(on_workers.values())

    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    for score in SCORES:
        np.testing.assert_array_equal(
            parallel.cv_results_[f"mean_test_{score}"],
            serial.cv_results_[f"mean_test_{score}"],
            err_msg=f"mean_test_{score} differs between dask and n_jobs=1",
        )
        np.testing.assert_array_equal(
            parallel.cv_results_[f"split0_test_{score}"],
            serial.cv_results_[f"split0_test_{score}"],
        )
    assert parallel.best_params_ == serial.best_params_
    # The refitted model came back from the cluster usable, with h1 alongside.
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))


def _one_call_search(builder, h1, n_jobs):
    return BCCompatibleClassifierCV(
        builder,
        h1=h1,
        dissonance=["new_error", "focal_distillation"],
        lambda_cs=(0.0, 0.3),
        flip_costs=(1.0, 2.0),
        cv=2,
        scoring=compatibility_scoring(),
        refit=lowest_update_cost(2.0),
        n_jobs=n_jobs,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=2,
        batch_size=128,
        random_state=0,
        model__hidden=16,
    )


@pytest.mark.slow
def test_dask_one_call_search_equals_n_jobs_1(digits, digits_h1, monkeypatch):
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip(
        "distributed", reason="the dask search needs bcsk[dask]"
    )
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    builders = importlib.import_module("_builders")
    X, y = digits[0][:600], digits[1][:600]

    serial = _one_call_search(builders.build_mlp, digits_h1, n_jobs=1).fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            parallel = _one_call_search(builders.build_mlp, digits_h1, n_jobs=2)
            parallel.fit(X, y)
        # The folds were trained in the worker processes.
        on_workers = client.run(lambda: "_builders" in sys.modules)
    assert len(on_workers) == 2
    assert all(on_workers.values())

    # (1 + 2 x 1 candidates) x 2 flip costs, each scored on 2 folds.
    assert len(serial.cv_results_["params"]) == 6
    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    assert parallel.cv_results_.keys() == serial.cv_results_.keys()
    for key, values in serial.cv_results_.items():
        if key.startswith(("split", "mean_", "std_", "rank_")):
            np.testing.assert_array_equal(
                parallel.cv_results_[key], values, err_msg=f"{key}: dask != n_jobs=1"
            )
    assert parallel.best_params_ == serial.best_params_
    assert parallel.flip_cost_ == serial.flip_cost_
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))


# --------------------------------------------------------------------------
# tf.distribute.MirroredStrategy on two logical CPUs
# --------------------------------------------------------------------------

# Logical devices must be configured before TensorFlow initialises, so this
# runs in a fresh interpreter. Learning rate 0, one epoch, one batch holding the
# whole data: the reported loss is the objective at the initial weights.
MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np
    from bcsk import BCCompatibleClassifier
    from bcsk.tensorflow.models import BCNewErrorCompatibilityModel

    N, D, K = 64, 6, 3
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype("float32")
    y = rng.integers(0, K, size=N)
    MIRRORED = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def dense(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [keras.Input((D,)), keras.layers.Dense(K, activation="softmax")]
        )

    H1 = dense(1)

    def new_error_model(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(2)
            model = BCNewErrorCompatibilityModel(
                [keras.Input((D,)), keras.layers.Dense(K, activation="softmax")],
                h1=H1,
                lambda_c=0.9,
            )
            model.compile(
                loss="sparse_categorical_crossentropy",
                optimizer=keras.optimizers.SGD(0.0),
            )
        history = model.fit(X, y, batch_size=N, epochs=1, verbose=0, shuffle=False)
        return history.history["loss"][0], model.distribute_strategy

    def build(meta, compile_kwargs, mirrored=False):
        # The documented recipe: create h2 and its optimizer inside
        # strategy.scope(). scikeras made compile_kwargs["optimizer"] outside any
        # scope (Adam's variables would then belong to the default strategy), so
        # rebuild it from its config there.
        strategy = MIRRORED if mirrored else tf.distribute.get_strategy()
        with strategy.scope():
            model = dense(2)
            optimizer = compile_kwargs["optimizer"]
            model.compile(
                loss=compile_kwargs["loss"],
                optimizer=type(optimizer).from_config(optimizer.get_config()),
            )
        return model

    def estimator(strategy, dissonance, loss, method):
        clf = BCCompatibleClassifier(
            build,
            h1=H1,
            lambda_c=0.9,
            dissonance=dissonance,
            method=method,
            loss=loss,
            optimizer=keras.optimizers.Adam,
            optimizer__learning_rate=0.0,
            epochs=1,
            batch_size=N,
            shuffle=False,
            model__mirrored=strategy is MIRRORED,
        )
        clf.fit(X, y)
        return clf.history_["loss"][0], clf.model_.distribute_strategy

    CASES = {
        "new_error_model": new_error_model,
        # The estimator's path: h1's outputs travel with the batches.
        "estimator-new_error": lambda s: estimator(
            s, "new_error", "sparse_categorical_crossentropy", "model"
        ),
        "estimator-strict_imitation": lambda s: estimator(
            s, "strict_imitation", "sparse_categorical_crossentropy", "model"
        ),
        "estimator-kld-strict_imitation": lambda s: estimator(
            s, "strict_imitation", "kl_divergence", "model"
        ),
        "estimator-focal_distillation": lambda s: estimator(
            s, "focal_distillation", "sparse_categorical_crossentropy", "model"
        ),
        "estimator-logit_difference": lambda s: estimator(
            s, "logit_difference", "sparse_categorical_crossentropy", "model"
        ),
        # bc_fit's own training loop.
        "estimator-bc_fit-new_error": lambda s: estimator(
            s, "new_error", "sparse_categorical_crossentropy", "bc_fit"
        ),
    }
    result = {}
    for name, case in CASES.items():
        result[name] = {}
        for label, strategy in (
            ("single", tf.distribute.get_strategy()),
            ("mirrored", MIRRORED),
        ):
            try:
                loss, used = case(strategy)
            except Exception as error:
                result[name][label + "_error"] = f"{type(error).__name__}: {error}"
            else:
                result[name][label] = loss
                result[name][label + "_replicas"] = used.num_replicas_in_sync
    print("RESULT " + json.dumps(result))
    """
)


@pytest.fixture(scope="module")
def mirrored_losses(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mirrored")
    return result_of(run_python(MIRRORED_SCRIPT, folder, name="mirrored.py"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "new_error_model",
        "estimator-new_error",
        "estimator-strict_imitation",
        "estimator-kld-strict_imitation",
        "estimator-focal_distillation",
        "estimator-logit_difference",
        "estimator-bc_fit-new_error",
    ],
)
def test_mirrored_strategy_gives_single_device_objective(case, mirrored_losses):
    result = mirrored_losses[case]
    for label in ("single", "mirrored"):
        assert label + "_error" not in result, result[label + "_error"][-2000:]
    assert (result["single_replicas"], result["mirrored_replicas"]) == (1, 2)
    assert np.isfinite(result["single"])
    np.testing.assert_allclose(result["mirrored"], result["single"], rtol=1e-5)


@pytest.mark.slow
def test_new_error_paths_report_one_objective(mirrored_losses):
    # Same h1, same initial h2, same data, on one device: the Keras model, the
    # estimator's fast path and bc_fit report one objective value.
    reference = mirrored_losses["new_error_model"]["single"]
    for case in ("estimator-new_error", "estimator-bc_fit-new_error"):
        np.testing.assert_allclose(
            mirrored_losses[case]["single"], reference, rtol=1e-5
        )
