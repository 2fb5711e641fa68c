"""Model builders for estimators that are fitted or loaded in another process.

A dask worker or a fresh interpreter unpickles the estimator and finds its
builder by module and name, so the builder must live at module level in a
module that process can import. The tests put this folder on ``sys.path``
(dask's spawned workers inherit the parent's ``sys.path``; a subprocess gets
``PYTHONPATH``). ``PRIOR_H1`` is the fitted h1 of scikit-learn's common checks,
shared by the estimators' check suites.
"""

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


def build_mlp(meta, hidden=16, seed=None):
    """One hidden ReLU layer and a softmax output, sized from scikeras' ``meta``.

    With ``seed=None`` the initializers are unseeded, and ``random_state``
    alone decides the initial weights, on a dask worker too: bcsk makes Keras'
    seed draws during a seeded build private to the building thread
    (``bcsk._scikeras.keras_seeds``).
    """
    initializers = [
        keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)
        for i in range(2)
    ]
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(
                hidden, activation="relu", kernel_initializer=initializers[0]
            ),
            keras.layers.Dense(
                meta["n_classes_"],
                activation="softmax",
                kernel_initializer=initializers[1],
            ),
        ]
    )


class PriorH1(ClassifierMixin, BaseEstimator):
    """A fitted h1 for any width: a fixed prior over the labels 0, 1 and 2."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.prior_ = np.full(len(self.classes_), 1.0 / len(self.classes_))
        self.prior_[0] += 0.1
        self.prior_ /= self.prior_.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (np.shape(X)[0], 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


PRIOR_H1 = PriorH1().fit(None, np.array([0, 1, 2]))


def frozen_weights(n_samples):
    """Estimator parameters for one full-batch epoch at learning rate 0.

    ``history_["loss"][0]`` is then the objective at the initial weights,
    which ``model_`` still holds: what the oracle tests compare.
    """
    return dict(
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        epochs=1,
        batch_size=n_samples,
        shuffle=False,
    )


# The small problem of the search, path, ensemble and logged tests (the
# ``data`` and ``h1`` fixtures of conftest.py): digits 300..539, 8 hidden units.
N_SMALL = 240


# Training parameters of those tests: 2 epochs, seeded.
SMALL_PARAMS = dict(
    loss="sparse_categorical_crossentropy",
    optimizer="adam",
    optimizer__learning_rate=0.01,
    epochs=2,
    batch_size=32,
    random_state=0,
)


def build_small(meta, hidden=8):
    """:func:`build_mlp` with 8 hidden units and unseeded initializers."""
    return build_mlp(meta, hidden=hidden)


#: The search as bcsk 0.1 ran it by default: one dissonance, no gate, 5-fold
#: CV and, for a single metric, the most accurate candidate refitted. The
#: tests of the search's mechanics use it (cheap, one row per lambda_c); the
#: recommended defaults have their own tests (model_selection/test_budget.py).
NARROW_SEARCH = {
    "dissonance": "new_error",
    "flip_costs": (1.0,),
    "refit": True,
    "cv": 5,
}


def narrow_search(*args, **kwargs):
    """``BCCompatibleClassifierCV`` with :data:`NARROW_SEARCH` under ``kwargs``."""
    from bcsk import BCCompatibleClassifierCV

    return BCCompatibleClassifierCV(*args, **{**NARROW_SEARCH, **kwargs})


def holdout_rows(X, y, random_state):
    """``(kept, held_out)``: the rows the default search trains and scores on.

    The search's own split (``cv="holdout"``), drawn again here so that a
    test can fit its oracle on the very rows the search trained on.
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    from bcsk.model_selection._search import HOLDOUT_SIZE

    split = StratifiedShuffleSplit(
        n_splits=1, test_size=HOLDOUT_SIZE, random_state=random_state
    )
    return next(split.split(X, y))
