"""A chain of four releases: plain replacement, pairwise bcsk and lineage-aware bcsk.

Models are updated again and again; a user who trusted v1 sees v4 get wrong an
answer v1 got right (an *ever-right regression*). This study builds the chain
a team would ship on Fashion-MNIST (official split) and asks what each way of
training the next release does to its users at the end of the chain.

Setup, fixed before any run:

* four versions, growing data and capacity: one-hidden-layer MLPs of
  16 -> 32 -> 64 -> 128 units on 2,000 -> 5,000 -> 12,000 -> 30,000 training
  rows (nested: each version's rows include the last's), ``--epochs`` (4),
  batch 128, Adam;
* one class (6, "shirt") is held back from v1 and v2 (their training rows
  hold none, their networks have 9 outputs) and added at v3;
* 10,000 training rows that no version trains on are the **validation**
  split: every choice is made there. The official 10,000-row test split only
  scores the choices;
* the seed drives the rows, the validation split and every network's start.

The chains (every one starts from the same plain v1):

* ``plain``: each version trained alone (replacement);
* ``pairwise``: each version trained with ``dissonance="new_error"`` against
  the version before it, its logged labels on the training rows (what bcsk
  does today with ``h1=v_last``);
* ``ever_right``: the new-error term against the union of the earlier
  versions' right answers: a training row counts as "h1 right" when any
  earlier version of the chain got it right. Implemented through logged
  outputs (``h1_pred=y`` on those rows, the last version's label elsewhere):
  the option the issue calls a lineage-aware teacher;
* ``served``: weighted by how long users saw an answer right: a training
  row counts as "h1 right" when the last version got it right (pairwise) or
  at least two earlier versions did (an answer served for two releases or
  more), so an answer one early release got right by luck is not defended;
* ``pairwise_fd``: ``dissonance="focal_distillation"`` against the last
  version's logged probabilities on the training rows (``h1_proba=``);
* ``ensemble``: focal distillation against the mean of every earlier
  version's probabilities (10 columns; v1 and v2 put 0 in the column of the
  class they lack, and nothing is renormalised). Compare it with
  ``pairwise_fd``, not ``pairwise``: the two differ only in the teacher;
* ``fallback``: a serving-time gate. Each version is the ``pairwise``
  chain's network; what users see from v2 on is
  :class:`bcsk.CompatibleUpdateClassifier` around it (prefit, in a
  ``FrozenEstimator``) with h1 = **v1**: v1's answer unless the new version
  is ``flip_cost`` times surer of its own. v1 is "the version whose answers
  users saw longest" by definition: it is the earliest version of the chain,
  and behind the gate its answers stay on screen through every release, so
  no later version's answers were seen for as long. Serving costs two
  networks (v1 and the latest) whatever the chain's length (one where the
  chosen cost is 1, which serves the new version's labels). ``flip_cost``
  is chosen per seed and ``lambda_c`` on the validation split among
  ``FLIP_COSTS``, by the rule below; the same cost gates every step;
* ``gate_last``: the same gate with h1 = the version before (what bcsk's
  gate does with ``h1=[v1, ..., v_last]``): the comparison that tells the
  fallback to v1 from gating as such. Two networks too.

Each chain runs at ``lambda_c`` in ``--lambdas`` (0.5, 2). Focal
distillation works on a smaller scale, so its chains are run with their own
grid (``--lambdas 0.01 0.03 0.1 0.3``). 0 is plain training and reuses the plain
chain's networks, so ``fallback`` at 0 is the gate over plain versions. The
*recommended* setting of each chain is the ``lambda_c`` with the fewest
ever-right regressions on the validation split among those whose final
accuracy is within 0.5 pt of plain's there (all of them when none is).
Serving cost is one network per request for every chain but the gates.

Outputs (``--out``, default ``benchmarks/results/lineage/``): ``lineage.json``
(every chain, seed and split, and the summary) and ``lineage_table.rst``, the
table ``docs/lineage.rst`` shows: pooled ratios over seeds
(``sum / sum(plain)``) with the per-seed range, as ``study_update.py``
reports. A run overwrites the files of its ``--out``: give each extra run
its own folder.

    python benchmarks/study_lineage.py --quick      # smoke run, about 2 minutes
    nohup python benchmarks/study_lineage.py > /tmp/lineage.log 2>&1 &
    python benchmarks/study_lineage.py --chains pairwise fallback gate_last \
        --lambdas 0 0.5 2 --out benchmarks/results/lineage/fallback
    python benchmarks/study_lineage.py --chains pairwise_fd ensemble \
        --lambdas 0.01 0.03 0.1 0.3 --out benchmarks/results/lineage/ensemble
    python benchmarks/study_lineage.py --chains pairwise_fd ensemble \
        --lambdas 0.03 0.1 --seeds 3 4 5 \
        --out benchmarks/results/lineage/ensemble_check
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DEFAULT_OUT = Path(__file__).parent / "results" / "lineage"
HELD_CLASS = 6
CHAINS = (
    "pairwise",
    "ever_right",
    "served",
    "pairwise_fd",
    "ensemble",
    "fallback",
    "gate_last",
)
# Serving-time gates over the pairwise networks, and the h1 each gates against.
GATES = {"fallback": "first", "gate_last": "last"}
# Chains trained with focal distillation against logged probabilities.
PROBA_CHAINS = ("pairwise_fd", "ensemble")
# At v2 the only earlier version is v1, so a lineage-aware teacher is its
# pairwise counterpart's: that chain's v2 network is reused.
SAME_AT_V2 = {"ever_right": "pairwise", "served": "pairwise", "ensemble": "pairwise_fd"}
# The gate's costs tried on validation; 1 serves the new version's labels.
FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0)
# The accuracy a choice may lose against plain on validation (0.5 pt).
ACCURACY_BUDGET = 0.005


@dataclass(frozen=True)
class Config:
    rows: tuple[int, ...] = (2000, 5000, 12000, 30000)
    hidden: tuple[int, ...] = (16, 32, 64, 128)
    added_at: int = 2  # index of the version that adds HELD_CLASS (v3)
    epochs: int = 4
    batch_size: int = 128
    lambdas: tuple[float, ...] = (0.5, 2.0)
    seeds: tuple[int, ...] = (0, 1, 2)
    n_validation: int = 10000
    n_test: int | None = None
    chains: tuple[str, ...] = ("pairwise", "ever_right", "served")


QUICK = Config(
    rows=(300, 600, 1000, 2000),
    epochs=2,
    lambdas=(1.0,),
    seeds=(0,),
    n_validation=1000,
    n_test=2000,
    chains=(
        "pairwise",
        "ever_right",
        "pairwise_fd",
        "ensemble",
        "fallback",
        "gate_last",
    ),
)


def _fit(X, y, hidden, seed, config, lambda_c=0.0, h1_pred=None, h1_proba=None):
    """One version: new error against ``h1_pred``, or focal distillation
    against ``h1_proba`` (10 columns, one per class) when it is given."""
    from bcsk import BCCompatibleClassifier
    from benchmarks import _data

    model = BCCompatibleClassifier(
        _data.build_mlp,
        lambda_c=lambda_c,
        dissonance="new_error" if h1_proba is None else "focal_distillation",
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=config.epochs,
        batch_size=config.batch_size,
        random_state=seed,
        verbose=0,
        model__hidden=hidden,
    )
    if h1_proba is not None:
        # h1_proba has one column per class of y: v2 (no HELD_CLASS) takes 9.
        return model.fit(X, y, h1_proba=h1_proba[:, np.unique(y)])
    # lambda_c=0 is plain training; the logged labels are then unused.
    return model.fit(X, y, h1_pred=y if h1_pred is None else h1_pred)


def _teacher(chain: str, y, earlier_preds: list[np.ndarray]) -> np.ndarray:
    """The logged labels the next version trains against, on its rows."""
    last = earlier_preds[-1]
    if chain == "pairwise":
        return last
    right = np.stack([p == y for p in earlier_preds])
    if chain == "ever_right":
        return np.where(right.any(axis=0), y, last)
    if chain == "served":
        # Right in at least two versions (served long), or in the last one.
        return np.where((right.sum(axis=0) >= 2) | right[-1], y, last)
    raise ValueError(chain)


def _proba_teacher(chain: str, earlier_probas: list[np.ndarray]) -> np.ndarray:
    """The logged probabilities the next version distils, on its rows."""
    if chain == "pairwise_fd":
        return earlier_probas[-1]
    if chain == "ensemble":
        # Each version weighs the same; a class a version lacks keeps its 0
        # there (no renormalisation: the rows still sum to 1).
        return np.mean(earlier_probas, axis=0)
    raise ValueError(chain)


def _aligned_proba(model, X) -> np.ndarray:
    """``predict_proba`` in 10 columns, 0 in those of classes the model lacks."""
    proba = np.zeros((len(X), 10), dtype="float32")
    proba[:, model.classes_] = model.predict_proba(X)
    return proba


def _served(versions: list[dict], splits: dict, flip_costs, h1="first") -> dict:
    """What users see of a chain whose later versions are served behind a gate.

    Returns ``{flip_cost: {split: [v1, gated v2, gated v3, ...]}}``: v1's
    labels, then each later version served by
    :class:`bcsk.CompatibleUpdateClassifier` around it (prefit), with h1 =
    v1 (``h1="first"``, the fallback) or the version before it (``"last"``);
    h1's labels are passed as logged (``h1_pred``).
    """
    from sklearn.frozen import FrozenEstimator

    from bcsk import CompatibleUpdateClassifier

    served = {c: {name: [versions[0][name]] for name in splits} for c in flip_costs}
    X_val, y_val = splits["validation"]
    for k in range(1, len(versions)):
        old = versions[0] if h1 == "first" else versions[k - 1]
        # FrozenEstimator: fit trains nothing, it only checks h1's labels.
        gate = CompatibleUpdateClassifier(FrozenEstimator(versions[k]["model"]))
        gate.fit(X_val, y_val, h1_pred=old["validation"])
        for cost in flip_costs:
            gate.set_params(flip_cost=cost)
            for name, (X, _) in splits.items():
                served[cost][name].append(gate.predict(X, h1_pred=old[name]))
    return served


def _choose(candidates: dict, plain_accuracy: float):
    """The key of the fewest ever-right regressions within the accuracy budget.

    ``candidates`` maps a setting to its validation scores; ties go to the
    first. When no setting is within ``ACCURACY_BUDGET`` of plain's accuracy,
    all are candidates (as the study has always chosen ``lambda_c``).
    """
    ok = {
        key: s
        for key, s in candidates.items()
        if plain_accuracy - s["accuracy"] <= ACCURACY_BUDGET
    } or candidates
    return min(ok, key=lambda key: ok[key]["ever_right_regressions"])


def _scores(y, preds, known, held) -> dict:
    from bcsk.metrics import lineage_report

    report = lineage_report(y, preds, labels=np.arange(10), version_classes=known)
    final = preds[-1]
    other = y != held
    ever = np.logical_or.accumulate(np.stack([p == y for p in preds]), axis=0)
    return {
        "accuracy": report.accuracy[-1],
        "total_new_errors": report.total_new_errors,
        "ever_right_regressions": report.final_regressions,
        "ever_right_regressions_other_classes": int(
            np.sum(ever[-2] & (final != y) & other)
        ),
        "added_class_recall": float(np.mean(final[y == held] == held)),
        "new_errors": list(report.new_errors),
        "by_last_right": report.regressions_by_last_right,
        "serving_networks": 1,
    }


def run_seed(seed: int, config: Config, verbose: bool = True) -> list[dict]:
    from benchmarks import _data

    X_train, y_train, X_test, y_test = _data.load_fashion_mnist()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_train))
    val = order[-config.n_validation :]
    pool = order[: -config.n_validation]
    if config.n_test is not None:
        keep = rng.permutation(len(y_test))[: config.n_test]
        X_test, y_test = X_test[keep], y_test[keep]
    splits = {"validation": (X_train[val], y_train[val]), "test": (X_test, y_test)}
    # Versions before added_at see no row of HELD_CLASS.
    rows = []
    for k, n in enumerate(config.rows):
        candidates = pool if k >= config.added_at else pool[y_train[pool] != HELD_CLASS]
        rows.append(candidates[:n])
    all_classes = np.arange(10)
    without = all_classes[all_classes != HELD_CLASS]
    known = [without if k < config.added_at else None for k in range(len(rows))]
    X_pool, y_pool = X_train, y_train

    def predict_all(model, proba: bool):
        return {
            "pool": model.predict(X_pool),
            # Probabilities on the pool only where a chain distils them.
            "pool_proba": _aligned_proba(model, X_pool) if proba else None,
            "model": model,  # the gates serve it
            **{name: model.predict(X) for name, (X, _) in splits.items()},
        }

    started = time.perf_counter()
    v1 = predict_all(
        _fit(X_pool[rows[0]], y_pool[rows[0]], config.hidden[0], seed, config),
        proba=any(c in PROBA_CHAINS for c in config.chains),
    )
    # A gate trains nothing of its own: it serves the pairwise networks.
    trained = [c for c in config.chains if c not in GATES]
    if set(GATES) & set(config.chains) and "pairwise" not in trained:
        trained.insert(0, "pairwise")
    # Chains whose v2 is another chain's come after that chain.
    trained.sort(key=lambda c: c in SAME_AT_V2)
    chains = {("plain", 0.0): [v1]}
    for chain in trained:
        for lam in config.lambdas:
            chains[(chain, lam)] = [v1]
    results = []
    for k in range(1, len(rows)):
        r = rows[k]
        for (chain, lam), versions in chains.items():
            same = SAME_AT_V2.get(chain)
            if k == 1 and (same, lam) in chains:
                versions.append(chains[(same, lam)][1])  # same seed, same fit
                continue
            if chain != "plain" and lam == 0:
                # lambda_c=0 is plain training: the plain chain's network (so
                # "--lambdas 0 ..." gives the gate over plain networks free).
                versions.append(chains[("plain", 0.0)][k])
                continue
            if chain == "plain":
                model = _fit(X_pool[r], y_pool[r], config.hidden[k], seed, config)
            elif chain in PROBA_CHAINS:
                earlier = [v["pool_proba"][r] for v in versions]
                teacher = _proba_teacher(chain, earlier)
                model = _fit(
                    X_pool[r],
                    y_pool[r],
                    config.hidden[k],
                    seed,
                    config,
                    lam,
                    h1_proba=teacher,
                )
            else:
                earlier = [v["pool"][r] for v in versions]
                teacher = _teacher(chain, y_pool[r], earlier)
                model = _fit(
                    X_pool[r], y_pool[r], config.hidden[k], seed, config, lam, teacher
                )
            versions.append(predict_all(model, proba=chain in PROBA_CHAINS))
            if verbose:
                print(
                    f"seed {seed} v{k + 1} {chain} lambda={lam}: "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )

    def record(chain, lam, preds: dict, **extra):
        for name, (_, y) in splits.items():
            scores = _scores(y, preds[name], known, HELD_CLASS)
            results.append(
                {
                    "seed": seed,
                    "chain": chain,
                    "lambda_c": lam,
                    "split": name,
                    **scores,
                    **extra,
                }
            )

    for (chain, lam), versions in chains.items():
        record(chain, lam, {name: [v[name] for v in versions] for name in splits})
    y_val = splits["validation"][1]
    plain_val = _scores(
        y_val, [v["validation"] for v in chains[("plain", 0.0)]], known, HELD_CLASS
    )
    for chain in (c for c in config.chains if c in GATES):
        for lam in config.lambdas:
            served = _served(
                chains[("pairwise", lam)], splits, FLIP_COSTS, GATES[chain]
            )
            on_val = {
                c: _scores(y_val, s["validation"], known, HELD_CLASS)
                for c, s in served.items()
            }
            cost = _choose(on_val, plain_val["accuracy"])
            record(
                chain,
                lam,
                served[cost],
                flip_cost=cost,
                serving_networks=1 if cost == 1 else 2,
            )
            if verbose:
                print(f"seed {seed} {chain} lambda={lam}: flip_cost {cost:g}")
    return results


def recommended(results: list[dict], chain: str, seeds) -> dict[int, float]:
    """Per seed, the chain's lambda_c chosen on the validation split."""
    chosen = {}
    for seed in seeds:
        val = [r for r in results if r["seed"] == seed and r["split"] == "validation"]
        plain = next(r for r in val if r["chain"] == "plain")
        rows = {r["lambda_c"]: r for r in val if r["chain"] == chain}
        chosen[seed] = _choose(rows, plain["accuracy"])
    return chosen


def summarize(results: list[dict], config: Config) -> list[dict]:
    """Test-split rows: plain, each (chain, lambda_c), and each chain's choice."""
    test = [r for r in results if r["split"] == "test"]
    seeds = sorted({r["seed"] for r in test})

    def of(chain, lam_by_seed):
        return [
            next(
                r
                for r in test
                if r["seed"] == s and r["chain"] == chain and r["lambda_c"] == lam
            )
            for s, lam in lam_by_seed.items()
        ]

    plain = of("plain", {s: 0.0 for s in seeds})
    entries = [("plain", "", plain)]
    for chain in config.chains:
        for lam in config.lambdas:
            entries.append((chain, f"{lam:g}", of(chain, {s: lam for s in seeds})))
        choice = recommended(results, chain, seeds)
        entries.append(
            (
                chain,
                "chosen " + "/".join(f"{choice[s]:g}" for s in seeds),
                of(chain, choice),
            )
        )
    base_reg = np.array([r["ever_right_regressions"] for r in plain], float)
    base_flips = np.array([r["total_new_errors"] for r in plain], float)
    base_acc = np.array([r["accuracy"] for r in plain])
    base_recall = np.array([r["added_class_recall"] for r in plain])
    rows = []
    for chain, lam, rs in entries:
        costs = [r["flip_cost"] for r in rs if "flip_cost" in r]
        if costs:
            lam += ", flip cost " + "/".join(f"{c:g}" for c in costs)
        reg = np.array([r["ever_right_regressions"] for r in rs], float)
        flips = np.array([r["total_new_errors"] for r in rs], float)
        acc = np.array([r["accuracy"] for r in rs])
        ratio = reg / np.maximum(base_reg, 1)
        rows.append(
            {
                "chain": chain,
                "lambda_c": lam,
                "total_new_errors": float(flips.mean()),
                "flips_vs_plain": float(flips.sum() / base_flips.sum()),
                "ever_right_regressions": float(reg.mean()),
                "regressions_vs_plain": float(reg.sum() / base_reg.sum()),
                "regressions_ratio_min": float(ratio.min()),
                "regressions_ratio_max": float(ratio.max()),
                "other_class_regressions": float(
                    np.mean([r["ever_right_regressions_other_classes"] for r in rs])
                ),
                "final_accuracy": float(acc.mean()),
                "accuracy_change_pt": float(100 * (acc - base_acc).mean()),
                "added_class_recall": float(
                    np.mean([r["added_class_recall"] for r in rs])
                ),
                "recall_change_pt": float(
                    100
                    * (
                        np.array([r["added_class_recall"] for r in rs]) - base_recall
                    ).mean()
                ),
                "serving_networks": max(r.get("serving_networks", 1) for r in rs),
            }
        )
    return rows


def rst_table(rows: list[dict]) -> str:
    header = [
        "chain",
        "lambda_c",
        "ever-right regressions (x plain)",
        "total new errors (x plain)",
        "final accuracy (change)",
        "added-class recall (change)",
        "networks served",
    ]
    body = [
        [
            r["chain"],
            r["lambda_c"] or "-",
            f"{r['ever_right_regressions']:.0f} ({r['regressions_vs_plain']:.2f}x, "
            f"{r['regressions_ratio_min']:.2f}-{r['regressions_ratio_max']:.2f})",
            f"{r['total_new_errors']:.0f} ({r['flips_vs_plain']:.2f}x)",
            f"{100 * r['final_accuracy']:.2f} % ({r['accuracy_change_pt']:+.2f} pt)",
            f"{100 * r['added_class_recall']:.1f} % ({r['recall_change_pt']:+.1f} pt)",
            str(r["serving_networks"]),
        ]
        for r in rows
    ]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (a minute)")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lambdas", nargs="+", type=float)
    parser.add_argument("--chains", nargs="+", choices=CHAINS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    if args.seeds:
        config = replace(config, seeds=tuple(args.seeds))
    if args.lambdas:
        config = replace(config, lambdas=tuple(args.lambdas))
    if args.chains:
        config = replace(config, chains=tuple(args.chains))
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    started = time.perf_counter()
    results = []
    for seed in config.seeds:
        results.extend(run_seed(seed, config))
    rows = summarize(results, config)
    seconds = time.perf_counter() - started
    out = args.out if not args.quick else args.out / "quick"
    out.mkdir(parents=True, exist_ok=True)
    (out / "lineage.json").write_text(
        json.dumps(
            {
                "config": asdict(config),
                "held_class": HELD_CLASS,
                "seconds": seconds,
                "summary": rows,
                "runs": results,
            },
            indent=1,
        )
    )
    (out / "lineage_table.rst").write_text(rst_table(rows) + "\n")
    print(rst_table(rows))
    print(f"{len(config.seeds)} seeds in {seconds:.0f} s")


if __name__ == "__main__":
    main()
