"""
Reviewing and gating an update per group of users
==================================================

An old Keras model h1 reads handwritten digits; a new
``HistGradientBoostingClassifier`` h2 is more accurate on average. Before it
ships, a reviewer wants the update on one page, per class and per group of
users, and CI wants a gate that fails the release when the update breaks too
much for anyone.

Each request comes from one of three scanners, and the scanner is a feature
of the request. Part of h2's training data from scanner "C" carries wrong
labels (a client's labelling bug), so h2 is weak exactly there: a
*deliberately weak group*. We:

1. put h2 behind the update gate (:class:`bcsk.gate.CompatibleUpdateClassifier`)
   and choose its flip cost with a search that routes the scanner of each row
   to a worst-group scorer (:func:`bcsk.metrics.make_worst_group_nfr_scorer`),
   and a refit rule that bounds the worst group;
2. review the choice with :class:`bcsk.metrics.CompatibilityReport`: groups,
   thresholds, bootstrap intervals, a JSON record and a page;
3. run the same gate as CI does, with ``bcsk report`` on a file of logged
   predictions.

Set ``BCSK_EXAMPLES_QUICK=1`` to run a shortened version, as the test suite
does.
"""

# %%
# Data, groups and the two models
# -------------------------------
import csv
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from bcsk.gate import CompatibleUpdateClassifier
from bcsk.metrics import (
    CompatibilityReport,
    compatibility_report,
    make_worst_group_nfr_scorer,
    neg_nfr_scorer,
)
from bcsk.model_selection import lowest_update_cost
from bcsk.report import main as bcsk_report

QUICK = os.environ.get("BCSK_EXAMPLES_QUICK", "") not in ("", "0")
OUT = Path(tempfile.mkdtemp(prefix="bcsk_review_"))
# Digits is small: one OpenMP thread fits the trees faster than many threads
# competing for a few shared cores.
threadpool_limits(1, user_api="openmp")

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
scanner = rng.choice(np.array(["A", "B", "C"]), len(y), p=[0.45, 0.35, 0.2])
# The scanner is the last feature (0, 1, 2), as a request would carry it.
X = np.column_stack([X / 16.0, np.searchsorted(["A", "B", "C"], scanner)])
X = X.astype("float32")
old, train, valid, test = np.split(rng.permutation(len(y)), [150, 1000, 1300])

# h1: a linear Keras model trained on the 150 requests of its time.
keras.utils.set_random_seed(0)
h1 = keras.Sequential([keras.Input((65,)), keras.layers.Dense(10, "softmax")])
h1.compile(
    loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01)
)
h1.fit(X[old], y[old], epochs=15, batch_size=64, verbose=0)

# h2's training labels: 45 % of scanner C's requests are labelled one digit up.
y_train = y[train].copy()
bug = (scanner[train] == "C") & (rng.random(len(train)) < 0.45)
y_train[bug] = (y_train[bug] + 1) % 10
h2 = HistGradientBoostingClassifier(
    max_iter=40, learning_rate=0.3, max_leaf_nodes=15, random_state=0
)
h2.fit(X[train], y_train)

# %%
# The gate, chosen per group
# --------------------------
# The gate keeps h1's answer unless h2 is ``flip_cost`` times surer of its
# own. A search over ``flip_cost`` on held-out rows (h2 is frozen: each fold
# only scores) records accuracy, minus the new-error rate and minus the worst
# group's new-error rate. The scanner of each row reaches the worst-group
# scorer through scikit-learn's metadata routing, as ``user_groups``.
# ``lowest_update_cost(2.0)`` trades accuracy against new errors over all
# rows; with ``max_worst_group_nfr=0.03`` it may only choose costs that keep
# every scanner's rate within 3 %. Both rules read the same ``cv_results_``.
sklearn.set_config(enable_metadata_routing=True)
worst_group = make_worst_group_nfr_scorer(min_group_size=20).set_score_request(
    user_groups=True
)
scoring = {
    "accuracy": "accuracy",
    "neg_nfr": neg_nfr_scorer,
    "neg_worst_group_nfr": worst_group,
}
bounded = lowest_update_cost(2.0, max_worst_group_nfr=0.03)
gate = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1)
costs = [1.0, 2.0, 5.0, 30.0] if QUICK else [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0]
search = GridSearchCV(
    gate,
    {"flip_cost": costs},
    scoring=scoring,
    refit=bounded,
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
).fit(X[valid], y[valid], user_groups=scanner[valid])
sklearn.set_config(enable_metadata_routing=False)

results = search.cv_results_
unbounded = lowest_update_cost(2.0)(results)
for name, index in [
    ("lowest cost", unbounded),
    ("... worst group <= 3 %", bounded(results)),
]:
    print(
        f"{name:24s} flip_cost={costs[index]:<5} CV accuracy "
        f"{results['mean_test_accuracy'][index]:.3f}, new-error rate "
        f"{-results['mean_test_neg_nfr'][index] + 0.0:.3f}, worst scanner "
        f"{-results['mean_test_neg_worst_group_nfr'][index] + 0.0:.3f}"
    )

# %%
# The review
# ----------
# :meth:`~bcsk.metrics.CompatibilityReport.from_estimator` takes h1 from the
# fitted search (its best gate) and compares it with the gate on the test
# rows, per group, with seeded bootstrap intervals on the headline figures.
# The plain h2 is reviewed the same way, from its predictions.
h1_test = np.argmax(h1.predict(X[test], verbose=0), axis=1)
candidates = [
    ("plain h2", h2.predict(X[test])),
    (
        "lowest cost",
        gate.set_params(flip_cost=costs[unbounded])
        .fit(X[valid], y[valid])
        .predict(X[test]),
    ),
]
for name, h2_test in candidates:
    report = compatibility_report(
        y[test], h1_pred=h1_test, h2_pred=h2_test, groups=scanner[test]
    )
    print(
        f"{name:24s} {report.groups[0].label} worst: new-error rate "
        f"{report.groups[0].new_error_rate:.3f} "
        f"(all rows {report.negative_flip_rate:.3f})"
    )

report = CompatibilityReport.from_estimator(
    search, X[test], y[test], groups=scanner[test], n_bootstraps=1000
)
low_nfr, high_nfr = report.intervals["negative_flip_rate"]
print(
    f"{'... worst group <= 3 %':24s} {report.groups[0].label} worst: new-error rate "
    f"{report.groups[0].new_error_rate:.3f} (all rows {report.negative_flip_rate:.3f}, "
    f"95 % interval [{low_nfr:.3f}, {high_nfr:.3f}])"
)

# %%
# The last report is the gate the bounded rule chose. Check it against the
# release thresholds, keep its JSON record and write the page a reviewer opens
# from disk (plots embedded, nothing fetched).
thresholds = {
    "max_new_error_rate": 0.03,
    "max_accuracy_drop": 0.0,
    "max_group_new_error_rate": 0.05,
}
for failure in report.check(**thresholds):
    print("FAILED", failure.threshold, failure.group, round(failure.value, 4))
report.to_json(OUT / "review.json", thresholds=thresholds)
report.to_html(
    OUT / "review.html", title="Digits: h1 -> gated HGB", thresholds=thresholds
)
print(report)

# %%
# The same gate in CI
# -------------------
# Production logs one row per prediction: the true label when it arrives, both
# models' labels and the group. ``bcsk report`` reads that file, prints a
# summary, writes the page and the JSON, and exits 0 when every threshold
# holds, 1 when one fails, 2 on bad input: a CI step needs nothing else.
with open(OUT / "predictions.csv", "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow(["row", "label", "h1", "h2", "scan"])
    for row, label, old_label, new_label, scan in zip(
        test, y[test], h1_test, search.predict(X[test]), scanner[test], strict=True
    ):
        writer.writerow([row, label, old_label, new_label, scan])

status = bcsk_report(
    [
        str(OUT / "predictions.csv"),
        *(
            "--y",
            "label",
            "--h1",
            "h1",
            "--h2",
            "h2",
            "--groups",
            "scan",
            "--id",
            "row",
        ),
        *("--max-group-new-error-rate", "0.05", "--max-new-error-rate", "0.03"),
        *("--json", str(OUT / "ci.json"), "--html", str(OUT / "ci.html")),
    ]
)
print("exit status:", status)
