"""Write the files a release saves, and what they predicted, for the load tests.

Run it with the release whose files later versions must keep loading::

    PYTHONPATH=<checkout of 0.1.0> python tests/saved_files/make_saved_files.py \
        tests/saved_files/0.1.0

``test_saved_files.py`` loads every file in a fresh process with the current
code and compares its predictions with ``expected.npz``. The files in
``0.1.0/`` were written by bcsk 0.1.0, before the package moved to its
scikit-learn layout; they hold the old module paths (``bcsk.lambda_path``,
``bcsk.gate``, ``bcsk.scorers``, ``bcsk.ensemble``, ``bcsk.dissonances``) that
the alias modules keep importable. Keep them digits-sized.
"""

import json
import os
import pickle
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _builders import build_mlp  # noqa: E402

import bcsk  # noqa: E402
from bcsk.tensorflow.models import (  # noqa: E402
    BCCompatibilityModel,
    BCNewErrorCompatibilityModel,
)

SCE = "sparse_categorical_crossentropy"


def data():
    """Digits in [0, 1]: 300 rows to train on, 100 to predict."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    return X[:300], y[:300], X[300:400], y[300:400]


def keras_h1(X, y):
    """A linear Keras h1 on the first 150 rows (some errors left to keep)."""
    keras.utils.set_random_seed(1)
    h1 = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
    h1.compile(loss=SCE, optimizer=keras.optimizers.Adam(0.01))
    h1.fit(X[:150], y[:150], epochs=10, batch_size=64, verbose=0)
    return h1


def estimators(h1, sklearn_h1):
    """One fitted object of each kind a user pickles, by file name."""
    small = dict(loss=SCE, epochs=2, batch_size=64, random_state=0, verbose=0)
    return {
        "estimator": bcsk.BCCompatibleClassifier(
            build_mlp, h1=h1, lambda_c=0.5, dissonance="focal_distillation", **small
        ),
        "estimator_sklearn_h1": bcsk.BCCompatibleClassifier(
            build_mlp, h1=sklearn_h1, lambda_c=0.5, **small
        ),
        "ensemble": bcsk.BCCompatibleClassifier(
            build_mlp, h1=h1, lambda_c=0.5, n_members=2, **small
        ),
        "search": bcsk.BCCompatibleClassifierCV(
            build_mlp,
            h1=h1,
            dissonance=["new_error", "logit_difference"],
            lambda_cs=(0.0, 1.0),
            flip_costs=(1.0, 2.0),
            cv=2,
            scoring=bcsk.compatibility_scoring(),
            refit=bcsk.lowest_update_cost(2.0),
            **small,
        ),
        "grid_search": GridSearchCV(
            bcsk.BCCompatibleClassifier(build_mlp, h1=h1, **small),
            {"lambda_c": [0.0, 1.0]},
            cv=2,
            scoring=bcsk.compatibility_scoring(h1),
            refit=bcsk.fewest_new_errors_within(0.01),
        ),
        "grid_search_btc_rule": GridSearchCV(
            bcsk.BCCompatibleClassifier(build_mlp, h1=h1, **small),
            {"lambda_c": [0.0, 1.0]},
            cv=2,
            scoring=bcsk.compatibility_scoring(h1),
            refit=bcsk.best_accuracy_with_btc_at_least(0.5),
        ),
        "grid_search_scorers": GridSearchCV(
            bcsk.BCCompatibleClassifier(build_mlp, h1=h1, **small),
            {"lambda_c": [0.0, 1.0]},
            cv=2,
            scoring={
                "btc": bcsk.btc_scorer,
                "bec": bcsk.bec_scorer,
                "nfr": bcsk.neg_nfr_scorer,
                "btc_h1": bcsk.make_btc_scorer(h1),
            },
            refit="btc",
        ),
        "gate": bcsk.CompatibleUpdateClassifier(
            LogisticRegression(max_iter=200), h1=h1, flip_cost=2.0
        ),
        "gate_cv": bcsk.CompatibleUpdateClassifierCV(
            LogisticRegression(max_iter=200), h1=h1, flip_costs=(1.0, 2.0), cv=2
        ),
    }


def keras_models(h1):
    """The Keras models bcsk registers, unfitted wrappers and ensemble included."""
    keras.utils.set_random_seed(2)
    layers = [keras.Input((64,)), keras.layers.Dense(10, "softmax")]
    return {
        "new_error_model": BCNewErrorCompatibilityModel(layers, h1=h1, lambda_c=0.3),
        "wrapper_focal": BCCompatibilityModel(
            keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")]),
            h1=h1,
            lambda_c=0.3,
            dissonance=bcsk.FocalDistillation(temperature=2.0),
        ),
    }


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    X, y, X_test, y_test = data()
    h1 = keras_h1(X, y)
    sklearn_h1 = LogisticRegression(max_iter=50).fit(X[:150], y[:150])
    expected, manifest = {}, {}
    for name, clf in estimators(h1, sklearn_h1).items():
        clf.fit(X, y)
        with open(out / f"{name}.pkl", "wb") as f:
            pickle.dump(clf, f)
        manifest[name] = "pickle"
        expected[name + "/labels"] = clf.predict(X_test)
        expected[name + "/proba"] = clf.predict_proba(X_test)
    ensemble = estimators(h1, sklearn_h1)["ensemble"].fit(X, y).model_
    for name, model in {**keras_models(h1), "mean_ensemble": ensemble}.items():
        if name != "mean_ensemble":
            model.compile(loss=SCE, optimizer="adam")
            model.fit(X, y, epochs=1, batch_size=64, verbose=0)
        model.save(out / f"{name}.keras")
        manifest[name] = "keras"
        expected[name + "/proba"] = model.predict(X_test, verbose=0)
    np.save(out / "X.npy", X_test)
    np.savez(out / "expected.npz", **expected)
    (out / "manifest.json").write_text(
        json.dumps({"bcsk": bcsk.__version__, "files": manifest}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
