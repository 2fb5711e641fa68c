"""What the demo prints and draws: the tables, the summary and the two plots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Result"]

# A searched row without a dissonance used the estimator's default.
_DEFAULT_DISSONANCE = "new_error"
TRADEOFF_PNG = "tradeoff.png"
ERRORS_PNG = "errors_vs_h1.png"


@dataclass
class Result:
    """One model's numbers on the test set."""

    name: str
    accuracy: float
    btc: float
    bec: float
    errors: int
    new_errors: int

    def cost(self, new_error_cost: float) -> float:
        """Errors, with each new error counted ``new_error_cost`` times."""
        return self.errors + (new_error_cost - 1) * self.new_errors


def _times(cost: float) -> str:
    if cost == 1:
        return "a new error counts as any other error"
    if cost == 2:
        return "a new error counts twice"
    return f"a new error counts {cost:g} times"


def _describe(params: dict) -> str:
    """A searched row in words."""
    lambda_c = float(params["lambda_c"])
    dissonance = params.get("dissonance", _DEFAULT_DISSONANCE)
    text = "plain training (lambda_c=0)"
    if lambda_c != 0:
        text = f"{dissonance}, lambda_c={lambda_c:g}"
    members = params.get("n_members", 1)
    if members > 1:
        text += f", an ensemble of {members} networks"
    flip_cost = float(params.get("flip_cost", 1.0))
    if flip_cost > 1:
        text += (
            f", behind the update gate at flip_cost={flip_cost:g} (h1's answer is "
            f"kept unless h2 finds its own label more than {flip_cost:g} times as "
            "probable)"
        )
    else:
        text += ", served alone (no gate)"
    return text


def _short_name(params: dict) -> str:
    """A row in the plot's key: "logit_difference 0.1 + gate 1.5"."""
    lambda_c = float(params["lambda_c"])
    text = "plain" if lambda_c == 0 else f"{params['dissonance']} {lambda_c:g}"
    if params.get("n_members", 1) > 1:
        text = f"{params['n_members']}x {text}"
    if params.get("flip_cost", 1.0) > 1:
        text += f" + gate {params['flip_cost']:g}"
    return text


def pareto_front(accuracy, negative_flip_rate) -> np.ndarray:
    """Rows no other row beats: as accurate and as few new errors, one strictly."""
    accuracy = np.asarray(accuracy, dtype=float)
    nfr = np.asarray(negative_flip_rate, dtype=float)
    at_least = (accuracy[None, :] >= accuracy[:, None]) & (nfr[None, :] <= nfr[:, None])
    better = (accuracy[None, :] > accuracy[:, None]) | (nfr[None, :] < nfr[:, None])
    return ~np.any(at_least & better, axis=1)


def update_cost(accuracy, negative_flip_rate, new_error_cost: float) -> np.ndarray:
    """Expected cost per sample: error rate + (cost - 1) x new-error rate."""
    accuracy = np.asarray(accuracy, dtype=float)
    return (1 - accuracy) + (new_error_cost - 1) * np.asarray(negative_flip_rate)


def front_rows(accuracy, negative_flip_rate, best: int) -> list[int]:
    """The front's rows and the shipped one, from the fewest new errors up."""
    front = pareto_front(accuracy, negative_flip_rate)
    front[best] = True  # shown even if off the front (a tie, for example)
    return sorted(
        (int(i) for i in np.flatnonzero(front)),
        key=lambda i: (negative_flip_rate[i], -accuracy[i]),
    )


def _front_table(params, accuracy, nfr, best, new_error_cost, settings) -> str:
    costs = update_cost(accuracy, nfr, new_error_cost)
    order = front_rows(accuracy, nfr, best)
    several = len(settings.n_members) > 1
    header = (
        f"{'#':>2}  {'dissonance':<18}  {'lambda_c':>8}  "
        + (f"{'networks':>8}  " if several else "")
        + f"{'flip_cost':>9}  {'CV acc':>6}  {'CV NFR':>6}  {'CV cost':>7}  note"
    )
    lines = [
        f"The cross-validated front: {len(order)} of {len(accuracy)} rows, those no "
        "other row beats on both accuracy and new errors "
        f"({settings.n_splits}-fold CV on the training set)",
        header,
        "-" * len(header),
    ]
    for number, i in enumerate(order, start=1):
        p = params[i]
        lambda_c = float(p["lambda_c"])
        name = "plain" if lambda_c == 0 else p.get("dissonance", _DEFAULT_DISSONANCE)
        flip_cost = float(p.get("flip_cost", 1.0))
        gate = f"{flip_cost:g}" if flip_cost > 1 else "no gate"
        note = "<- ship" if i == best else ""
        lines.append(
            (
                f"{number:>2}  {name:<18}  {lambda_c:>8g}  "
                + (f"{p.get('n_members', 1):>8}  " if several else "")
                + f"{gate:>9}  {accuracy[i]:>6.3f}  {nfr[i]:>6.4f}  "
                f"{costs[i]:>7.4f}  {note}"
            ).rstrip()
        )
    lines.append(
        "# = the point's number on the plot; NFR = negative flip rate, new errors "
        f"per sample; CV cost = error rate + {new_error_cost - 1:g} x NFR, the "
        "rule's score (lower is better)."
    )
    return "\n".join(lines)


def _test_table(rows: list[Result], new_error_cost: float, n_test: int) -> str:
    def ratio(value: float) -> str:
        return "-" if np.isnan(value) else f"{value:.3f}"

    header = (
        f"  {'':<30}{'accuracy':>9}{'BTC':>8}{'BEC':>8}{'errors':>8}"
        f"{'new errors':>12}{'cost':>8}"
    )
    lines = [f"On the {n_test} held-out test samples:", header]
    for r in rows:
        lines.append(
            f"  {r.name:<30}{r.accuracy:>9.3f}{ratio(r.btc):>8}{ratio(r.bec):>8}"
            f"{r.errors:>8}{r.new_errors:>12}{r.cost(new_error_cost):>8g}"
        )
    lines.append(
        f"  cost = errors + {new_error_cost - 1:g} x new errors (keeping h1 costs its "
        "errors; lower is better)."
    )
    return "\n".join(lines)


def _summary(
    rows: list[Result], new_error_cost: float, h1_correct: int, plain_shipped: bool
) -> str:
    h1, plain, ship = rows[0], rows[1], rows[-1]
    verb = "is" if ship.new_errors == 1 else "are"
    text = (
        f"Versus h1: {100 * (ship.accuracy - h1.accuracy):+.1f} accuracy points; "
        f"{ship.new_errors} of the {h1_correct} test samples h1 got right {verb} "
        "now wrong.\n"
    )
    if plain_shipped:
        return text + (
            "The shipped update is the plain update: in cross-validation no "
            "dissonance or gate paid for itself at this new error cost."
        )
    return text + (
        f"Versus the plain update: new errors {plain.new_errors} -> "
        f"{ship.new_errors}, accuracy {100 * (ship.accuracy - plain.accuracy):+.1f} "
        f"points, cost {plain.cost(new_error_cost):g} -> "
        f"{ship.cost(new_error_cost):g}."
    )


def _write_plots(search, h1_cv_accuracy, y_test, h1_test_pred, compared, args) -> None:
    """Draw the search's front and the test-set regions, as PNG files.

    ``compared`` maps names to test-set predictions: the plain update and the
    shipped one (one entry when they are the same).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(
            "Plots skipped: matplotlib is not installed. Get them with: "
            "pip install 'bcsk[plot]'"
        )
        return
    from bcsk import CompatibilityDisplay, CompatibilityTradeoffDisplay

    args.output.mkdir(parents=True, exist_ok=True)

    # Plotted on Figure objects, not pyplot: no global backend or open figures.
    figure = Figure(figsize=(9.0, 6.5), layout="constrained")
    figure.suptitle(
        f"Every searched update on {args.dataset}, {search.n_splits_}-fold "
        "cross-validation (circled: shipped)"
    )
    display = CompatibilityTradeoffDisplay.from_cv_results(
        search.cv_results_,
        x_metric="negative_flip_rate",
        best_index=search.best_index_,
        group_param="dissonance",
        h1_accuracy=h1_cv_accuracy,
        annotate=False,  # 65 labels would hide each other: the front's, below
        ax=figure.subplots(),
    )
    # The front's points numbered as in the printed table, with a key.
    results = search.cv_results_
    nfr = 0.0 - np.asarray(results["mean_test_neg_nfr"], dtype=float)
    accuracy = np.asarray(results["mean_test_accuracy"], dtype=float)
    key = []
    for number, i in enumerate(front_rows(accuracy, nfr, search.best_index_), 1):
        display.ax_.annotate(
            str(number),
            (nfr[i], accuracy[i]),
            xytext=(-4, 5),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            fontweight="bold",
        )
        key.append(f"{number}: {_short_name(results['params'][i])}")
    display.ax_.text(
        0.98,
        0.03,
        "\n".join(key),
        transform=display.ax_.transAxes,
        ha="right",
        va="bottom",
        multialignment="left",
        fontsize=8,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
    )
    tradeoff_path = args.output / TRADEOFF_PNG
    figure.savefig(tradeoff_path, dpi=110)

    figure = Figure(figsize=(11.5, 5.0), layout="constrained")
    figure.suptitle(f"h2 vs the old model h1 on {len(y_test)} held-out test samples")
    CompatibilityDisplay.from_predictions(
        y_test,
        h1_pred=h1_test_pred,
        h2_pred=compared,
        zero_division=np.nan,
        ax=figure.subplots(1, 2),
    )
    errors_path = args.output / ERRORS_PNG
    figure.savefig(errors_path, dpi=110)

    print("Plots written:")
    print(
        f"  {tradeoff_path}  (CV accuracy vs negative flip rate, one point per "
        "row, the front numbered as in the table)"
    )
    print(
        f"  {errors_path}  ({' and '.join(compared)} vs h1 on the test set, "
        "new errors per class)"
    )
