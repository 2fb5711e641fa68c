"""
Choosing ``lambda_c`` and the architecture with ``GridSearchCV``
================================================================

:class:`bcsk.BCCompatibleClassifier` is a scikit-learn classifier, so the
usual model-selection tools work on it. bcsk adds what they need to judge an
*update*:

* ``btc_scorer`` and ``bec_scorer``, scorers that compare the estimator with
  its own old model h1 (``compatibility_scoring()`` bundles them with
  accuracy);
* ``best_accuracy_with_btc_at_least(min_btc)``, a ``refit`` rule: the most
  accurate candidate among those that keep at least ``min_btc`` of h1's
  correct answers;
* two plots of the results.

BTC (backward trust compatibility): of the samples h1 gets right, the share
h2 still gets right. BEC (backward error compatibility): of h2's errors, the
share h1 made too.

Set ``BCSK_EXAMPLES_QUICK=1`` to run a shortened version, as the test suite
does.
"""

# %%
# The old model and the data
# --------------------------
# The digits data (8x8 images) ships with scikit-learn. The old model h1 is a
# logistic regression trained on 10% of the training data.
import os

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)

from bcsk import BCCompatibleClassifier
from bcsk.metrics import (
    CompatibilityDisplay,
    CompatibilityTradeoffDisplay,
    btc_scorer,
    compatibility_scoring,
)
from bcsk.model_selection import best_accuracy_with_btc_at_least

QUICK = os.environ.get("BCSK_EXAMPLES_QUICK", "") not in ("", "0")

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0
)
X_old, _, y_old, _ = train_test_split(
    X_train, y_train, train_size=0.1, stratify=y_train, random_state=0
)
h1 = LogisticRegression(max_iter=2000).fit(X_old, y_old)
print(
    f"h1 trained on {len(X_old)} samples; test accuracy {h1.score(X_test, y_test):.3f}"
)


# %%
# The candidate new models
# ------------------------
# A model-building function in scikeras' style: ``meta`` gives the number of
# features and classes, and ``hidden`` is set through the routed parameter
# ``model__hidden``.
def build_model(meta, hidden=32):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


epochs = 10 if QUICK else 15
clf = BCCompatibleClassifier(
    build_model,
    h1=h1,
    lambda_c=1.0,
    loss="sparse_categorical_crossentropy",
    optimizer="adam",
    optimizer__learning_rate=0.01,
    epochs=epochs,
    batch_size=64,
    random_state=0,
)

# %%
# One candidate, cross-validated
# ------------------------------
# ``btc_scorer`` finds h1 on the estimator, so it plugs into any
# scikit-learn tool that takes ``scoring``. The same folds serve every
# candidate below.
cv = StratifiedKFold(n_splits=2 if QUICK else 3, shuffle=True, random_state=0)
btc = cross_val_score(clf, X_train, y_train, cv=cv, scoring=btc_scorer)
print(f"lambda_c=1: BTC per fold {np.round(btc, 3)}, mean {btc.mean():.3f}")

# %%
# The grid search
# ---------------
# Every candidate is scored on accuracy, BTC and BEC. The refit rule ships the
# most accurate candidate whose mean BTC is at least ``min_btc``; if none
# reaches it, it warns and refits the most compatible one.
if QUICK:
    grid = {"lambda_c": [0.0, 16.0], "model__hidden": [16]}
else:
    grid = {"lambda_c": [0.0, 1.0, 4.0, 16.0], "model__hidden": [16, 64]}
min_btc = 0.99
search = GridSearchCV(
    clf,
    grid,
    scoring=compatibility_scoring(),
    refit=best_accuracy_with_btc_at_least(min_btc),
    cv=cv,
)
search.fit(X_train, y_train)

results = search.cv_results_
print(f"{'lambda_c':>8}  {'hidden':>6}  {'accuracy':>8}  {'BTC':>6}  {'BEC':>6}")
for i, params in enumerate(results["params"]):
    print(
        f"{params['lambda_c']:>8g}  {params['model__hidden']:>6}  "
        f"{results['mean_test_accuracy'][i]:>8.3f}  "
        f"{results['mean_test_btc'][i]:>6.4f}  {results['mean_test_bec'][i]:>6.3f}"
    )
print("refitted:", search.best_params_)

# %%
# The trade-off plot
# ------------------
# One point per candidate: accuracy against BTC (left) and BEC (right), with
# h1's accuracy on the same folds as a reference line. Larger ``lambda_c``
# moves the points right (more compatible), usually at some cost in accuracy.
h1_cv_accuracy = np.mean(
    [h1.score(X_train[test], y_train[test]) for _, test in cv.split(X_train, y_train)]
)
# The refitted candidate is circled.
tradeoff = CompatibilityTradeoffDisplay.from_search(
    search,
    group_param="model__hidden",
    group_name="hidden units",
    h1_accuracy=h1_cv_accuracy,
)

# %%
# The refitted model against h1 on the test set
# ---------------------------------------------
# The search refitted the chosen candidate on all the training data. On the
# held-out test set, beside the plain update (``lambda_c=0``, same network):
# how many samples both models get right, how many h2 breaks (new errors), how
# many it fixes, and on which digits the new errors fall. h1 is the one each
# estimator was trained against.
chosen = search.best_estimator_
candidates = {f"chosen (λ={chosen.lambda_c:g})": chosen}
if chosen.lambda_c != 0:
    plain = clone(chosen).set_params(lambda_c=0.0).fit(X_train, y_train)
    candidates = {"plain update (λ=0)": plain, **candidates}
errors = CompatibilityDisplay.from_estimator(candidates, X_test, y_test)
plt.show()
