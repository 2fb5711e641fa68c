"""
Updating a scikit-learn model with a Keras network
==================================================

The old model h1 does not have to be a Keras model: here it is a
scikit-learn ``LogisticRegression`` trained on a small part of the data, and
the new model h2 is a Keras network wrapped in
:class:`bcsk.BCCompatibleClassifier`. We compare a plain update
(``lambda_c=0``) with a compatible one using
:func:`bcsk.metrics.compatibility_report`, inside a scikit-learn ``Pipeline``
that scales the features first.

The rule to remember: **h1 sees exactly what the estimator sees.** In a
pipeline, that is the output of the steps before the estimator, so h1 must
have been trained on features prepared the same way.

Set ``BCSK_EXAMPLES_QUICK=1`` to run a shortened version, as the test suite
does.
"""

# %%
# Data and the old model
# ----------------------
# The breast cancer data (569 tumours, 30 measurements of very different
# scales, benign or malignant) ships with scikit-learn. The old model was
# trained when only 10% of today's training data existed, on standardised
# features.
import os

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bcsk import BCCompatibleClassifier
from bcsk.metrics import compatibility_report

QUICK = os.environ.get("BCSK_EXAMPLES_QUICK", "") not in ("", "0")

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0
)
X_old, _, y_old, _ = train_test_split(
    X_train, y_train, train_size=0.1, stratify=y_train, random_state=0
)

# The features h2 will be trained on: X standardised with statistics of all the
# training data. h1 is fitted on the same transformation of its (older) data.
scaler = StandardScaler().fit(X_train)
h1 = LogisticRegression(max_iter=2000).fit(scaler.transform(X_old), y_old)
h1_test_labels = h1.predict(scaler.transform(X_test))
print(
    f"h1: {len(X_old)} training samples, test accuracy "
    f"{np.mean(h1_test_labels == y_test):.3f}"
)


# %%
# The new model in a pipeline
# ---------------------------
# ``make_pipeline(StandardScaler(), BCCompatibleClassifier(...))``: the
# pipeline's scaler is fitted on ``X_train``, as ``scaler`` was, so during
# ``fit`` h1 receives the very features it was trained on.
def build_model(meta, hidden=16):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def new_pipeline(lambda_c):
    return make_pipeline(
        StandardScaler(),
        BCCompatibleClassifier(
            build_model,
            h1=h1,
            lambda_c=lambda_c,
            loss="sparse_categorical_crossentropy",
            optimizer="adam",
            optimizer__learning_rate=0.01,
            epochs=10 if QUICK else 15,
            batch_size=64,
            random_state=0,
        ),
    )


reports = {}
for lambda_c in (0.0, 16.0):
    pipe = new_pipeline(lambda_c).fit(X_train, y_train)
    reports[lambda_c] = compatibility_report(
        y_test, h1_pred=h1_test_labels, h2_pred=pipe.predict(X_test)
    )

# %%
# Plain update versus compatible update
# -------------------------------------
# ``compatibility_report`` splits the test samples by which model gets them
# right. *New errors* are the samples h1 got right and h2 gets wrong: the
# regressions users of h1 would notice. BTC is the share of h1's correct
# answers that h2 keeps, BEC the share of h2's errors that h1 made too.
print("Plain update, lambda_c=0:\n")
print(reports[0.0])

# %%
print("Compatible update, lambda_c=16:\n")
print(reports[16.0])

# %%
# The compatible update makes fewer new errors (higher BTC) and its remaining
# errors are more often ones users already knew from h1 (higher BEC), in
# exchange for fixing fewer of h1's old errors.
for lambda_c, report in reports.items():
    print(
        f"lambda_c={lambda_c:>4g}: accuracy {report.h2_accuracy:.3f}, "
        f"BTC {report.btc:.3f}, BEC {report.bec:.3f}, "
        f"new errors {report.new_errors}, fixed errors {report.fixed_errors}"
    )

# %%
# When h1 came with its own preprocessing
# ---------------------------------------
# Often the deployed system is a whole pipeline, with a scaler fitted on the
# old data. Then reuse that fitted scaler, frozen, in front of h2: the new
# pipeline does not refit it, so h1 keeps receiving its own features.
old_system = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
old_system.fit(X_old, y_old)
old_scaler, old_h1 = old_system[0], old_system[-1]

pipe = make_pipeline(
    FrozenEstimator(old_scaler),
    BCCompatibleClassifier(
        build_model,
        h1=old_h1,
        lambda_c=16.0,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=10 if QUICK else 15,
        batch_size=64,
        random_state=0,
    ),
).fit(X_train, y_train)
report = compatibility_report(
    y_test, h1_pred=old_system.predict(X_test), h2_pred=pipe.predict(X_test)
)
print(f"frozen old scaler: BTC {report.btc:.3f}, new errors {report.new_errors}")

# %%
# The mistake to avoid: an h1 trained on *raw* features placed behind a
# scaler. bcsk checks that h1 gets the right number of features, but cannot
# tell raw from scaled ones. On scaled features this h1 answers differently
# (and badly), so the compatibility term would protect answers that the
# deployed h1 never gave.
h1_raw = LogisticRegression(max_iter=2000).fit(X_old, y_old)
print(
    f"h1 trained on raw features, given raw features:    "
    f"accuracy {h1_raw.score(X_test, y_test):.3f}"
)
print(
    f"h1 trained on raw features, given scaled features: "
    f"accuracy {h1_raw.score(scaler.transform(X_test), y_test):.3f}"
)
changed = np.mean(h1_raw.predict(X_test) != h1_raw.predict(scaler.transform(X_test)))
print(f"h1's answer changes on {changed:.0%} of the test samples")
