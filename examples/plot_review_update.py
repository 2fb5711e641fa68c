"""
Reviewing and gating an update per group of users
==================================================

An old Keras model h1 reads handwritten digits; a new
``HistGradientBoostingClassifier`` h2 is more accurate on average. Before it
ships, a reviewer wants the update on one page, per class and per group of
users, and CI wants a gate that fails the release when the update breaks too
much for anyone.

The groups here are three kinds of scans, told apart by how much ink they
hold. One client sent the heavily inked scans of h2's training data with a
share of wrong labels, so h2 is weak exactly there: a *deliberately weak
group*. We:

1. put h2 behind the update gate (:class:`bcsk.gate.CompatibleUpdateClassifier`)
   and choose its flip cost with a search that routes the group labels to a
   worst-group scorer (:func:`bcsk.metrics.make_worst_group_nfr_scorer`) and
   bounds the worst group in the refit rule;
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

from bcsk.gate import CompatibleUpdateClassifier
from bcsk.metrics import (
    CompatibilityReport,
    compatibility_scoring,
    make_worst_group_nfr_scorer,
)
from bcsk.model_selection import fewest_new_errors_within
from bcsk.report import main as bcsk_report

QUICK = os.environ.get("BCSK_EXAMPLES_QUICK", "") not in ("", "0")
OUT = Path(tempfile.mkdtemp(prefix="bcsk_review_"))

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
ink = X.sum(axis=1)
low, high = np.quantile(ink, [0.4, 0.8])
groups = np.where(ink < low, "light", np.where(ink < high, "regular", "heavy"))

rng = np.random.default_rng(0)
order = rng.permutation(len(y))
old, train, valid, test = np.split(order, [300, 1100, 1400])

# h1: a linear Keras model trained on the 300 scans of its time.
keras.utils.set_random_seed(0)
h1 = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
h1.compile(
    loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01)
)
h1.fit(X[old], y[old], epochs=30, batch_size=64, verbose=0)

# h2's training labels: 35 % of the heavy scans carry a wrong label.
y_train = y[train].copy()
noisy = (groups[train] == "heavy") & (rng.random(len(train)) < 0.35)
y_train[noisy] = (y_train[noisy] + rng.integers(1, 10, noisy.sum())) % 10
h2 = HistGradientBoostingClassifier(max_iter=30 if QUICK else 60, random_state=0)
h2.fit(X[train], y_train)

# %%
# The gate, chosen per group
# --------------------------
# The gate keeps h1's answer unless h2 is ``flip_cost`` times surer of its
# own. A search over ``flip_cost`` on held-out rows (h2 is frozen: each fold
# only scores) records, next to :func:`~bcsk.metrics.compatibility_scoring`'s
# figures, minus the worst group's new-error rate. The group labels reach the
# scorer through scikit-learn's metadata routing as ``user_groups``.
# ``fewest_new_errors_within`` alone minimises new errors over all rows; with
# ``max_worst_group_nfr`` it may only pick costs that keep every group's rate
# within the bound.
sklearn.set_config(enable_metadata_routing=True)
worst_group = make_worst_group_nfr_scorer(min_group_size=20).set_score_request(
    user_groups=True
)
scoring = {**compatibility_scoring(), "neg_worst_group_nfr": worst_group}
gate = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1)
costs = [1.0, 2.0, 4.0] if QUICK else [1.0, 1.5, 2.0, 3.0, 5.0, 10.0]
cv = StratifiedKFold(3, shuffle=True, random_state=0)

chosen = {}
for name, rule in [
    ("fewest new errors", fewest_new_errors_within(0.02)),
    (
        "... and worst group <= 3 %",
        fewest_new_errors_within(0.02, max_worst_group_nfr=0.03),
    ),
]:
    search = GridSearchCV(
        gate, {"flip_cost": costs}, scoring=scoring, refit=rule, cv=cv
    ).fit(X[valid], y[valid], user_groups=groups[valid])
    chosen[name] = search
    worst = -search.cv_results_["mean_test_neg_worst_group_nfr"][search.best_index_]
    print(
        f"{name:28s} flip_cost={search.best_params_['flip_cost']:<5} "
        f"CV worst-group new-error rate {worst:.3f}"
    )
sklearn.set_config(enable_metadata_routing=False)

# %%
# The review
# ----------
# :meth:`~bcsk.metrics.CompatibilityReport.from_estimator` takes h1 from the
# fitted search (its best gate) and compares it with the gate on the test
# rows, per group, with seeded bootstrap intervals on the headline figures.
# The plain h2 is reviewed the same way, from its predictions.
for name, model in [("plain h2", h2), *chosen.items()]:
    if model is h2:
        h1_test = np.argmax(h1.predict(X[test], verbose=0), axis=1)
        report = CompatibilityReport.from_estimator(
            CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1, flip_cost=1.0).fit(
                X[valid], y[valid]
            ),
            X[test],
            y[test],
            groups=groups[test],
            n_bootstraps=1000,
        )
    else:
        report = CompatibilityReport.from_estimator(
            model, X[test], y[test], groups=groups[test], n_bootstraps=1000
        )
    heavy = next(row for row in report.groups if row.label == "heavy")
    low_nfr, high_nfr = report.intervals["negative_flip_rate"]
    print(
        f"{name:28s} accuracy {report.h2_accuracy:.3f} (h1 {report.h1_accuracy:.3f})"
        f"  new-error rate {report.negative_flip_rate:.3f} "
        f"[{low_nfr:.3f}, {high_nfr:.3f}]  heavy scans {heavy.new_error_rate:.3f}"
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
best = chosen["... and worst group <= 3 %"]
with open(OUT / "predictions.csv", "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow(["row", "label", "h1", "h2", "scan"])
    for row, label, old_label, new_label, scan in zip(
        test, y[test], h1_test, best.predict(X[test]), groups[test], strict=True
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
