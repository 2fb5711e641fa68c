"""The one-call search at realistic size: Fashion-MNIST updates of 50,000 rows.

The updates (:data:`UPDATES`), each with Fashion-MNIST's official 10,000 test
images held out and every setting chosen on training rows only:

* ``fashion_mlp``: h1 a scikit-learn ``MLPClassifier`` with 32 hidden units on
  5,000 training images; h2 a Keras MLP with 256 hidden units on 50,000;
* ``fashion_logreg``: the same with a ``LogisticRegression`` h1 (``C=1``);
* ``fashion_cnn``: the MLP h1, h2 a small convolutional network
  (:func:`_data.build_cnn`) on 50,000 images.

The seed drives the 50,000 training rows (out of the official 60,000), h1's
5,000 among them, the folds and h2's ``random_state``.

Per (update, seed) the study runs, as :mod:`study_update` does, two fits of
the default search (``BCCompatibleClassifierCV`` with nothing but ``model``,
``h1`` and the training parameters; ``refit=False``): (a) its 3-fold CV on the
training rows, whose ``cv_results_`` make every choice, and (b) the same
candidates trained once on all the training rows and scored on the test split,
which gives the test figures of any row without refits. Every refit rule and
every smaller grid is then a choice among the rows of (a), scored by the same
row of (b) (``--phase search``). ``--phase budget`` fits
``BCCompatibleClassifierCV(..., budget=b)`` as a user would, end to end, for
each budget of ``--budgets``, and scores the fitted search on the test split.
Both phases time one plain fit of h2 (``lambda_c=0``) in the same process,
the unit of every cost.

Run::

    python benchmarks/study_fashion.py --phase search --updates fashion_mlp
    python benchmarks/study_fashion.py --phase budget --updates fashion_mlp
    python benchmarks/study_fashion.py --summary       # tables from the results
    python benchmarks/study_fashion.py --quick         # smoke run, ~1 minute

Each (update, seed, phase) writes one JSON file to ``--out``
(``benchmarks/results/fashion``), so runs can be split and resumed;
``--summary`` reads them all and writes ``fashion_table.rst`` and
``fashion_summary.csv``. Needs Debian's ``dataset-fashion-mnist``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import study_update  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    StratifiedKFold,
    StratifiedShuffleSplit,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier  # noqa: E402

import bcsk  # noqa: E402
from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV  # noqa: E402
from bcsk.model_selection._search import HOLDOUT_SIZE  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "fashion"
LOSS = "sparse_categorical_crossentropy"
#: The grid studied: the README's recommended search of bcsk 0.1 (three
#: dissonances with their own ``lambda_c`` grids, five gate costs), 13
#: candidates x 5 costs = 65 rows. Smaller grids are subsets of its rows.
GRID = {
    "dissonance": ["new_error", "focal_distillation", "logit_difference"],
    "lambda_cs": "auto",
    "flip_costs": (1.0, 1.25, 1.5, 2.0, 3.0),
}


@dataclasses.dataclass(frozen=True)
class Update:
    """One update: h1's model and slice, h2's network and rows."""

    h1_model: str  # "mlp" (32 hidden units) or "logreg"
    h2_model: str  # "mlp" (256 hidden units) or "cnn"
    n_h1: int = 5_000
    n_train: int = 50_000
    epochs: int = 5
    batch_size: int = 128


UPDATES = {
    "fashion_mlp": Update("mlp", "mlp"),
    "fashion_logreg": Update("logreg", "mlp"),
    "fashion_cnn": Update("mlp", "cnn", epochs=3),
}
QUICK = Update("mlp", "mlp", n_h1=500, n_train=3_000, epochs=1)


def data(update: Update, seed: int):
    """``X_train, y_train, X_test, y_test, h1_rows`` for one seed."""
    X, y, X_test, y_test = _data.load_fashion_mnist()
    if update.n_train < len(y):
        X, _, y, _ = train_test_split(
            X, y, train_size=update.n_train, stratify=y, random_state=seed
        )
    h1_rows, _ = train_test_split(
        np.arange(len(y)), train_size=update.n_h1, stratify=y, random_state=seed
    )
    return X, y, X_test, y_test, np.sort(h1_rows)


def train_h1(update: Update, X, y, seed: int):
    """The old model, fitted on its slice."""
    if update.h1_model == "mlp":
        model = MLPClassifier((32,), max_iter=200, random_state=seed)
    else:
        model = LogisticRegression(C=1.0, max_iter=1000)
    return model.fit(X, y)


def training(update: Update, seed: int) -> dict:
    """h2's network and training parameters, the same for every fit."""
    build = _data.build_mlp if update.h2_model == "mlp" else _data.build_cnn
    params = {"model__hidden": 256} if update.h2_model == "mlp" else {}
    return {
        "model": build,
        "loss": LOSS,
        "optimizer": "adam",
        "epochs": update.epochs,
        "batch_size": update.batch_size,
        "random_state": seed,
        **params,
    }


def plain_fit(update: Update, h1, X, y, seed: int) -> tuple[float, object]:
    """Seconds of one plain fit of h2 (``lambda_c=0``) and the fitted h2."""
    h2 = BCCompatibleClassifier(h1=h1, lambda_c=0.0, **training(update, seed))
    started = time.perf_counter()
    h2.fit(X, y)
    return time.perf_counter() - started, h2


def run_search(name: str, update: Update, seed: int, out: Path) -> dict:
    """Fits (a) and (b) of the default search; every row's CV and test scores."""
    keras.backend.clear_session()
    X, y, X_test, y_test, h1_rows = data(update, seed)
    h1 = train_h1(update, X[h1_rows], y[h1_rows], seed)
    plain_seconds, _ = plain_fit(update, h1, X, y, seed)
    search = BCCompatibleClassifierCV(
        h1=h1,
        **GRID,
        scoring=bcsk.compatibility_scoring(),
        refit=False,
        cv=StratifiedKFold(3, shuffle=True, random_state=seed),
        **training(update, seed),
    )
    started = time.perf_counter()
    search.fit(X, y)  # (a)
    search_seconds = time.perf_counter() - started
    n_train, n_all = len(y), len(y) + len(y_test)
    test_search = clone(search).set_params(
        cv=[(np.arange(n_train), np.arange(n_train, n_all))]
    )
    started = time.perf_counter()
    test_search.fit(np.concatenate([X, X_test]), np.concatenate([y, y_test]))  # (b)
    test_seconds = time.perf_counter() - started
    frame = study_update.search_rows(search, test_search, len(y_test))
    result = {
        "update": name,
        "seed": seed,
        "phase": "search",
        "h1_test_accuracy": float(np.mean(h1.predict(X_test) == y_test)),
        "plain_seconds": plain_seconds,
        "search_seconds": search_seconds,
        "test_fit_seconds": test_seconds,
        "rows": frame.to_dict("records"),
    }
    return _save(result, out)


def run_holdout(name: str, update: Update, seed: int, out: Path) -> dict:
    """The default grid on the 90 % kept rows: holdout and test scores of each row.

    (a') scores every row on the 10 % held out, (b') the very same networks
    (same rows, same seed) on the test split: the data of every choice a
    budgeted search (``validation="holdout"``, no refit) can make.
    """
    keras.backend.clear_session()
    X, y, X_test, y_test, h1_rows = data(update, seed)
    h1 = train_h1(update, X[h1_rows], y[h1_rows], seed)
    plain_seconds, plain = plain_fit(update, h1, X, y, seed)
    h1_test = h1.predict(X_test)
    plain_test = study_update.flip_counts(y_test, h1_test, plain.predict(X_test))
    kept, held_out = next(
        StratifiedShuffleSplit(
            n_splits=1, test_size=HOLDOUT_SIZE, random_state=seed
        ).split(X, y)
    )
    search = BCCompatibleClassifierCV(
        h1=h1,
        **GRID,
        scoring=bcsk.compatibility_scoring(),
        refit=False,
        cv=[(kept, held_out)],
        **training(update, seed),
    )
    started = time.perf_counter()
    search.fit(X, y)  # (a')
    holdout_seconds = time.perf_counter() - started
    n_all = len(y) + len(y_test)
    test_search = clone(search).set_params(cv=[(kept, np.arange(len(y), n_all))])
    test_search.fit(np.concatenate([X, X_test]), np.concatenate([y, y_test]))  # (b')
    frame = study_update.search_rows(search, test_search, len(y_test))
    result = {
        "update": name,
        "seed": seed,
        "phase": "holdout",
        "h1_test_accuracy": float(np.mean(h1_test == y_test)),
        "plain_all_rows": plain_test,  # the user's alternative: plain on all rows
        "n_held_out": len(held_out),
        "plain_seconds": plain_seconds,
        "search_seconds": holdout_seconds,
        "rows": frame.to_dict("records"),
    }
    return _save(result, out)


def run_budget(name: str, update: Update, seed: int, budgets, out: Path) -> dict:
    """``budget=b`` end to end, for each ``b``; test figures and time."""
    keras.backend.clear_session()
    X, y, X_test, y_test, h1_rows = data(update, seed)
    h1 = train_h1(update, X[h1_rows], y[h1_rows], seed)
    h1_test = h1.predict(X_test)
    plain_seconds, plain = plain_fit(update, h1, X, y, seed)
    runs = [
        {
            "budget": 1.0,
            "method": "plain",
            "seconds": plain_seconds,
            **outcomes(y_test, h1_test, plain.predict(X_test)),
        }
    ]
    for budget in budgets:
        search = BCCompatibleClassifierCV(
            h1=h1, budget=budget, **training(update, seed)
        )
        started = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - started
        counts = outcomes(y_test, h1_test, search.predict(X_test))
        runs.append(
            {
                "budget": budget,
                "method": f"budget {budget:g}",
                "seconds": seconds,
                "plan": str(search.plan_),
                "chosen": str(search.best_params_),
                **counts,
            }
        )
        print(
            f"{name} seed {seed} budget {budget:g}: {seconds:.0f} s, "
            f"{counts['negative_flips']} new errors (plain "
            f"{runs[0]['negative_flips']}), accuracy {counts['h2_accuracy']:.4f} "
            f"(plain {runs[0]['h2_accuracy']:.4f}), {search.plan_}",
            flush=True,
        )
    result = {
        "update": name,
        "seed": seed,
        "phase": "budget",
        "plain_seconds": plain_seconds,
        "runs": runs,
    }
    return _save(result, out)


def outcomes(y, h1_pred, h2_pred) -> dict:
    """Flip counts and, per test image, whether h2 is right and a new error."""
    right = h2_pred == y
    return {
        **study_update.flip_counts(y, h1_pred, h2_pred),
        "right": right.astype(int).tolist(),
        "new_errors": ((h1_pred == y) & ~right).astype(int).tolist(),
    }


def _save(result: dict, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "bcsk": bcsk.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    path = out / f"{result['update']}_{result['phase']}_seed{result['seed']}.json"
    path.write_text(json.dumps(result, indent=1, default=float))
    return result


# -- the summary: every choice from (a), scored by (b) ----------------------------

#: The rules compared: name -> how a row's CV score is read (greater is better).
#: ``cost c``: accuracy - (c - 1) x NFR (``lowest_update_cost(c)``).
RULE_COSTS = {"cost 1.5": 1.5, "cost 2": 2.0, "cost 3": 3.0}
#: Smaller grids, as (dissonances kept, lambda_c values kept or None for all,
#: flip costs kept).
ALL_COSTS = GRID["flip_costs"]
GRIDS = {
    "default (13 x 5)": (GRID["dissonance"], None, ALL_COSTS),
    "FD + LD (9 x 5)": (["focal_distillation", "logit_difference"], None, ALL_COSTS),
    "NE + FD (9 x 5)": (["new_error", "focal_distillation"], None, ALL_COSTS),
    "FD (5 x 5)": (["focal_distillation"], None, ALL_COSTS),
    "LD (5 x 5)": (["logit_difference"], None, ALL_COSTS),
    "NE (5 x 5)": (["new_error"], None, ALL_COSTS),
    "3 x 2 values (7 x 5)": (
        GRID["dissonance"],
        {
            "new_error": (1.0, 3.0),
            "focal_distillation": (0.01, 0.03),
            "logit_difference": (0.03, 0.1),
        },
        ALL_COSTS,
    ),
    "default, no gate (13 x 1)": (GRID["dissonance"], None, (1.0,)),
    "gate only (1 x 5)": ([], None, ALL_COSTS),
}


def grid_rows(frame: pd.DataFrame, dissonances, values, costs) -> np.ndarray:
    """The rows of ``frame`` in a smaller grid (plain training is always in)."""
    plain = frame["lambda_c"].to_numpy() == 0
    keep = plain | frame["dissonance"].isin(dissonances).to_numpy()
    if values is not None:
        listed = np.array(
            [
                row.lambda_c in values.get(row.dissonance, ())
                for row in frame.itertuples()
            ]
        )
        keep &= plain | listed
    return keep & frame["flip_cost"].isin(costs).to_numpy()


def fold_scores(frame: pd.DataFrame, cost: float, splits) -> np.ndarray:
    """Per row and fold, accuracy - (cost - 1) x NFR: rows x folds."""
    return np.stack(
        [
            frame[f"split{i}_accuracy"] - (cost - 1) * frame[f"split{i}_nfr"]
            for i in splits
        ],
        axis=1,
    )


def choose_row(frame: pd.DataFrame, cost: float, splits, variant: str) -> int:
    """The position (in ``frame``) of the row a rule variant chooses.

    * ``mean``: the highest mean score over ``splits`` (``lowest_update_cost``);
    * ``1-SE``: among rows whose mean is within one standard error (of the
      best row's fold scores) of the best, the most accurate in CV;
    * ``paired``: the best row only if it beats plain training (its fold
      differences against the plain row) by more than one standard error of
      those differences; plain training otherwise.
    """
    scores = fold_scores(frame, cost, splits)
    mean = scores.mean(axis=1)
    best = int(np.argmax(mean))
    if variant == "mean":
        return best
    n = scores.shape[1]
    if variant == "1-SE":
        se = scores[best].std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
        near = np.flatnonzero(mean >= mean[best] - se)
        accuracy = frame[[f"split{i}_accuracy" for i in splits]].to_numpy().mean(1)
        return int(near[np.argmax(accuracy[near])])
    if variant == "paired":
        plain = int(
            np.flatnonzero(
                (frame["lambda_c"].to_numpy() == 0)
                & (frame["flip_cost"].to_numpy() == 1)
            )[0]
        )
        differences = scores[best] - scores[plain]
        se = differences.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
        return best if differences.mean() > se else plain
    raise ValueError(variant)


def methods() -> dict:
    """name -> (grid name, cost, splits, variant)."""
    out = {}
    for grid in GRIDS:
        out[f"{grid}: cost 2"] = (grid, 2.0, (0, 1, 2), "mean")
    for rule, cost in RULE_COSTS.items():
        for variant in ("mean", "1-SE", "paired"):
            out[f"default: {rule} {variant}"] = (
                "default (13 x 5)",
                cost,
                (0, 1, 2),
                variant,
            )
    out["default: cost 2, 2 folds' scores"] = ("default (13 x 5)", 2.0, (0, 1), "mean")
    out["default: cost 2, 1 fold's scores"] = ("default (13 x 5)", 2.0, (0,), "mean")
    out["FD + LD: cost 2 1-SE"] = ("FD + LD (9 x 5)", 2.0, (0, 1, 2), "1-SE")
    return out


def pick(part: pd.DataFrame, rule: str) -> int:
    """The position in ``part`` of the row a rule picks from the ``cv_`` columns.

    ``cost c``: ``lowest_update_cost(c)``; ``within``: bcsk's
    ``fewest_new_errors_within(0.005)`` (half a point below the most accurate
    row); ``within plain``: the fewest new errors among rows at most half a
    point below plain training without the gate, on the same rows (paired).
    """
    accuracy = part["cv_accuracy"].to_numpy()
    nfr = part["cv_nfr"].to_numpy()
    if rule.startswith("cost "):
        cost = float(rule.split()[1])
        return int(np.argmax(accuracy - (cost - 1) * nfr))
    if rule == "within":
        reference = accuracy.max()
    elif rule == "within plain":
        plain = (part["lambda_c"].to_numpy() == 0) & (part["flip_cost"].to_numpy() == 1)
        reference = accuracy[plain][0] if plain.any() else accuracy.max()
    else:
        raise ValueError(rule)
    eligible = np.flatnonzero(accuracy >= reference - 0.005 - 1e-12)
    order = np.lexsort((-accuracy[eligible], nfr[eligible]))
    return int(eligible[order[0]])


HOLDOUT_RULES = ("cost 1.5", "cost 2", "cost 3", "within", "within plain")


def holdout_choices(results: list[dict]) -> pd.DataFrame:
    """Every rule on the holdout rows of every single candidate and of the
    first k of ``BUDGET_ORDER``; scored on the test split against plain
    training on all the rows."""
    from bcsk.model_selection._search import BUDGET_ORDER

    records = []
    for result in results:
        frame = pd.DataFrame(result["rows"])
        frame["key"] = [
            ("new_error", 0.0) if row.lambda_c == 0 else (row.dissonance, row.lambda_c)
            for row in frame.itertuples()
        ]
        base = result["plain_all_rows"]
        subsets = {f"first {k} of BUDGET_ORDER": BUDGET_ORDER[:k] for k in (1, 4, 13)}
        subsets["LD 0.03 alone"] = (("logit_difference", 0.03),)
        subsets["FD 0.1 alone"] = (("focal_distillation", 0.1),)
        subsets["plain + gate"] = (("new_error", 0.0),)
        for subset, keys in subsets.items():
            part = frame[frame["key"].isin(keys)].reset_index(drop=True)
            for rule in HOLDOUT_RULES:
                chosen = part.iloc[pick(part, rule)]
                records.append(
                    {
                        "update": result["update"],
                        "seed": result["seed"],
                        "method": f"holdout, {subset}: {rule}",
                        "chosen": study_update.code(chosen),
                        "accuracy": chosen["test_accuracy"],
                        "negative_flips": int(chosen["test_negative_flips"]),
                        "plain_accuracy": base["h2_accuracy"],
                        "plain_negative_flips": base["negative_flips"],
                    }
                )
    return pd.DataFrame(records)


def load_results(out: Path, phase: str) -> list[dict]:
    return [
        json.loads(p.read_text()) for p in sorted(out.glob(f"*_{phase}_seed*.json"))
    ]


def choices(results: list[dict]) -> pd.DataFrame:
    """One row per (update, seed, method): the chosen row's test figures."""
    records = []
    for result in results:
        frame = pd.DataFrame(result["rows"])
        plain = frame[(frame["lambda_c"] == 0) & (frame["flip_cost"] == 1)].iloc[0]
        for method, (grid, cost, splits, variant) in methods().items():
            part = frame[grid_rows(frame, *GRIDS[grid])].reset_index(drop=True)
            chosen = part.iloc[choose_row(part, cost, splits, variant)]
            records.append(
                {
                    "update": result["update"],
                    "seed": result["seed"],
                    "method": method,
                    "chosen": study_update.code(chosen),
                    "accuracy": chosen["test_accuracy"],
                    "negative_flips": int(chosen["test_negative_flips"]),
                    "plain_accuracy": plain["test_accuracy"],
                    "plain_negative_flips": int(plain["test_negative_flips"]),
                    "n_rows": len(part),
                    "search_ratio": result["search_seconds"] / result["plain_seconds"],
                }
            )
        for rule in HOLDOUT_RULES:
            chosen = frame.iloc[pick(frame, rule)]
            records.append(
                {
                    "update": result["update"],
                    "seed": result["seed"],
                    "method": f"default: {rule} (mean CV)",
                    "chosen": study_update.code(chosen),
                    "accuracy": chosen["test_accuracy"],
                    "negative_flips": int(chosen["test_negative_flips"]),
                    "plain_accuracy": plain["test_accuracy"],
                    "plain_negative_flips": int(plain["test_negative_flips"]),
                    "n_rows": len(frame),
                    "search_ratio": result["search_seconds"] / result["plain_seconds"],
                }
            )
    return pd.DataFrame(records)


def t_interval(values: np.ndarray) -> tuple[float, float]:
    """95 % t interval of the mean over seeds (NaN with one seed)."""
    from scipy import stats

    if len(values) < 2:
        return (np.nan, np.nan)
    half = (
        stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    )
    return (values.mean() - half, values.mean() + half)


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (update, method): flips and accuracy against plain, over seeds."""
    rows = []
    for (update, method), group in frame.groupby(["update", "method"], sort=False):
        flips = (
            group["negative_flips"].to_numpy()
            / group["plain_negative_flips"].to_numpy()
            - 1
        )
        accuracy = (group["accuracy"] - group["plain_accuracy"]).to_numpy()
        rows.append(
            {
                "update": update,
                "method": method,
                "seeds": len(group),
                "chosen": ", ".join(group["chosen"]),
                "flip_change": flips.mean(),
                "flip_change_ci": t_interval(flips),
                "accuracy_change": accuracy.mean(),
                "accuracy_change_ci": t_interval(accuracy),
                "plain_negative_flips": group["plain_negative_flips"].mean(),
            }
        )
    return pd.DataFrame(rows)


def budget_table(results: list[dict], n_boot: int = 2000) -> pd.DataFrame:
    """Per (update, budget): test figures, time, and bootstrap intervals.

    The intervals resample the test images (pooled over seeds, the paired
    per-image outcomes of each seed kept together) 2,000 times.
    """
    rows = []
    by_update: dict = {}
    for result in results:
        by_update.setdefault(result["update"], []).append(result)
    rng = np.random.default_rng(0)
    for update, seeds in by_update.items():
        methods_ = [run["method"] for run in seeds[0]["runs"]]
        for method in methods_:
            runs = [next(r for r in s["runs"] if r["method"] == method) for s in seeds]
            plains = [s["runs"][0] for s in seeds]
            new = np.concatenate([np.asarray(r["new_errors"], bool) for r in runs])
            base = np.concatenate([np.asarray(p["new_errors"], bool) for p in plains])
            right = np.concatenate([np.asarray(r["right"], bool) for r in runs])
            base_right = np.concatenate([np.asarray(p["right"], bool) for p in plains])
            index = rng.integers(0, len(new), (n_boot, len(new)))
            flips = new[index].sum(1) / np.maximum(base[index].sum(1), 1) - 1
            accuracy = right[index].mean(1) - base_right[index].mean(1)
            rows.append(
                {
                    "update": update,
                    "method": method,
                    "seeds": len(seeds),
                    "plan": "; ".join(str(r.get("plan", "")) for r in runs),
                    "chosen": "; ".join(str(r.get("chosen", "")) for r in runs),
                    "flip_change": new.sum() / max(base.sum(), 1) - 1,
                    "flip_change_ci": tuple(np.percentile(flips, [2.5, 97.5])),
                    "accuracy_change": right.mean() - base_right.mean(),
                    "accuracy_change_ci": tuple(np.percentile(accuracy, [2.5, 97.5])),
                    "time_ratio": np.mean(
                        [
                            r["seconds"] / s["plain_seconds"]
                            for r, s in zip(runs, seeds, strict=True)
                        ]
                    ),
                }
            )
    return pd.DataFrame(rows)


def _fmt(value, interval, scale, digits, sign=True) -> str:
    low, high = interval
    plus = "+" if sign else ""
    text = f"{scale * value:{plus}.{digits}f}"
    if not np.isnan(low):
        text += f" [{scale * low:{plus}.{digits}f}, {scale * high:{plus}.{digits}f}]"
    return text


def _choices_table(table: pd.DataFrame) -> str:
    """A :func:`summarize` table, printed as markdown and returned as rst."""
    header = (
        "update",
        "method",
        "chosen (per seed)",
        "new errors vs plain, % [95 % t]",
        "accuracy vs plain, pt [95 % t]",
    )
    cells = [
        [
            r.update,
            r.method,
            r.chosen,
            _fmt(r.flip_change, r.flip_change_ci, 100, 0),
            _fmt(r.accuracy_change, r.accuracy_change_ci, 100, 2),
        ]
        for r in table.itertuples()
    ]
    print(study_update.markdown_table(cells, header))
    return study_update.rst_table(cells, header)


def summary(out: Path) -> None:
    """Tables from every result in ``out``: printed, and written as rst/csv."""
    lines = []
    searches = load_results(out, "search")
    if searches:
        table = summarize(choices(searches))
        table.to_csv(out / "fashion_summary.csv", index=False)
        lines.append(_choices_table(table))
        ratios = {
            r["update"]: [
                x["search_seconds"] / x["plain_seconds"]
                for x in searches
                if x["update"] == r["update"]
            ]
            for r in searches
        }
        for update, values in ratios.items():
            print(
                f"{update}: search (a) / plain fit {np.mean(values):.1f}x "
                f"(seeds: {', '.join(f'{v:.1f}' for v in values)})"
            )
    holdouts = load_results(out, "holdout")
    if holdouts:
        table = summarize(holdout_choices(holdouts))
        table.to_csv(out / "fashion_holdout.csv", index=False)
        lines.append(_choices_table(table))
        for r in holdouts:
            print(
                f"{r['update']} seed {r['seed']}: holdout search / plain fit "
                f"{r['search_seconds'] / r['plain_seconds']:.1f}x"
            )
    budgets = load_results(out, "budget")
    if budgets:
        table = budget_table(budgets)
        table.to_csv(out / "fashion_budget.csv", index=False)
        header = (
            "update",
            "method",
            "new errors vs plain, % [95 % bootstrap]",
            "accuracy vs plain, pt [95 % bootstrap]",
            "time / plain fit",
        )
        cells = [
            [
                r.update,
                r.method,
                _fmt(r.flip_change, r.flip_change_ci, 100, 0),
                _fmt(r.accuracy_change, r.accuracy_change_ci, 100, 2),
                f"{r.time_ratio:.2f}",
            ]
            for r in table.itertuples()
        ]
        lines.append(study_update.rst_table(cells, header))
        print(study_update.markdown_table(cells, header))
        for r in table.itertuples():
            print(f"{r.update} {r.method}: plan {r.plan} chosen {r.chosen}")
    (out / "fashion_table.rst").write_text("\n\n".join(lines))


#: The rows of the docs' table: (phase, method in the summaries, label).
DOCS_ROWS = (
    (
        "holdout",
        "holdout, first 13 of BUDGET_ORDER: cost 2",
        "**default**: held-out 10 %, no refit, 13 x 5, cost 2",
    ),
    ("holdout", "holdout, first 13 of BUDGET_ORDER: cost 1.5", "held-out, cost 1.5"),
    ("holdout", "holdout, first 13 of BUDGET_ORDER: cost 3", "held-out, cost 3"),
    (
        "holdout",
        "holdout, first 13 of BUDGET_ORDER: within",
        "held-out, fewest within 0.5 pt",
    ),
    (
        "holdout",
        "holdout, first 4 of BUDGET_ORDER: cost 2",
        "``budget=4`` (4 candidates)",
    ),
    (
        "holdout",
        "holdout, first 1 of BUDGET_ORDER: cost 2",
        "``budget=1.5`` (FD 0.03 and the gate)",
    ),
    ("holdout", "holdout, plain + gate: cost 2", "the gate alone (plain h2)"),
    (
        "search",
        "default: cost 2 (mean CV)",
        "3-fold CV + refit, cost 2 (0.1's recommended)",
    ),
    ("search", "default: within (mean CV)", "3-fold CV + refit, fewest within 0.5 pt"),
    ("search", "default: cost 2 1-SE", "3-fold CV + refit, cost 2, one-SE rule"),
    ("search", "default: cost 2 paired", "3-fold CV + refit, cost 2, paired folds"),
    ("search", "default: cost 2, 1 fold's scores", "1 fold's scores + refit, cost 2"),
    ("search", "FD + LD (9 x 5): cost 2", "3-fold CV + refit, FD and LD only"),
    ("search", "default, no gate (13 x 1): cost 2", "3-fold CV + refit, no gate"),
)


def _short(params: str) -> str:
    """``best_params_`` as the study's row code (``FD 0.03 g2``)."""
    import ast

    values = ast.literal_eval(params)
    row = {
        "lambda_c": values["lambda_c"],
        "dissonance": values.get("dissonance", "new_error"),
        "n_members": values.get("n_members", 1),
        "flip_cost": values.get("flip_cost", 1.0),
    }
    return study_update.code(row)


def docs_table(out: Path) -> str:
    """The table of docs/study.rst, from the summaries ``summary`` wrote."""
    tables = {}
    if load_results(out, "search"):
        tables["search"] = summarize(choices(load_results(out, "search")))
    if load_results(out, "holdout"):
        tables["holdout"] = summarize(holdout_choices(load_results(out, "holdout")))
    times = {}
    for phase in ("search", "holdout"):
        for r in load_results(out, phase):
            times.setdefault((phase, r["update"]), []).append(
                r["search_seconds"] / r["plain_seconds"]
            )
    header = (
        "update",
        "method",
        "seeds",
        "chosen (per seed)",
        "new errors vs plain, % [95 % t]",
        "accuracy vs plain, pt [95 % t]",
        "time / plain fit",
    )
    cells = []
    for update in UPDATES:
        for phase, method, label in DOCS_ROWS:
            if phase not in tables:
                continue
            table = tables[phase]
            row = table[(table["update"] == update) & (table["method"] == method)]
            if row.empty:
                continue
            r = row.iloc[0]
            flips, accuracy = r["flip_change_ci"], r["accuracy_change_ci"]
            ratio = times.get((phase, update), [])
            if "budget" in label or "alone" in label:
                ratio_text = "see :doc:`performance`"
            else:
                # The CV search's refit is one more plain fit.
                refit = 1.0 if phase == "search" else 0.0
                ratio_text = f"{np.mean(ratio) + refit:.1f}" if ratio else ""
            cells.append(
                [
                    update,
                    label,
                    str(int(r["seeds"])),
                    r["chosen"],
                    _fmt(r["flip_change"], flips, 100, 0),
                    _fmt(r["accuracy_change"], accuracy, 100, 2),
                    ratio_text,
                ]
            )
    budgets = load_results(out, "budget")
    if budgets:
        table = budget_table(budgets)
        for r in table[table["method"] != "plain"].itertuples():
            cells.append(
                [
                    r.update,
                    f"``{r.method.replace(' ', '=')}`` end to end (95 % bootstrap)",
                    str(int(r.seeds)),
                    ", ".join(_short(chosen) for chosen in r.chosen.split("; ")),
                    _fmt(r.flip_change, r.flip_change_ci, 100, 0),
                    _fmt(r.accuracy_change, r.accuracy_change_ci, 100, 2),
                    f"{r.time_ratio:.2f}",
                ]
            )
    text = study_update.rst_table(cells, header)
    (out / "fashion_docs_table.rst").write_text(text)
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--phase", choices=("search", "holdout", "budget"), default="search"
    )
    parser.add_argument("--updates", nargs="+", choices=list(UPDATES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budgets", nargs="+", type=float, default=[1.5, 4.0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.summary:
        summary(args.out)
        print(docs_table(args.out))
        return
    if args.quick:
        updates = {"quick": QUICK}
        seeds = args.seeds[:1]
    else:
        updates = {name: UPDATES[name] for name in args.updates or ["fashion_mlp"]}
        seeds = args.seeds
    for name, update in updates.items():
        for seed in seeds:
            started = time.perf_counter()
            if args.phase == "search":
                result = run_search(name, update, seed, args.out)
                rows = pd.DataFrame(result["rows"])
                print(
                    f"{name} seed {seed}: plain {result['plain_seconds']:.1f} s, "
                    f"search {result['search_seconds']:.1f} s "
                    f"({result['search_seconds'] / result['plain_seconds']:.1f}x), "
                    f"{len(rows)} rows",
                    flush=True,
                )
            elif args.phase == "holdout":
                result = run_holdout(name, update, seed, args.out)
                print(
                    f"{name} seed {seed}: plain {result['plain_seconds']:.1f} s, "
                    f"holdout search {result['search_seconds']:.1f} s",
                    flush=True,
                )
            else:
                run_budget(name, update, seed, args.budgets, args.out)
            print(f"{name} seed {seed}: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
