r"""The gate's rule on arrays: keep h1's answer unless h2 is clearly more confident.

The rule itself, for stored predictions (:func:`gate_predictions`), and the
gate's scores over a grid of flip costs on one set of predictions, which the
gate's CV search and :class:`~bcsk.metrics.FlipCostDisplay` read. NumPy only.
See :mod:`bcsk.gate` for the rule's formula.
"""

from __future__ import annotations

import numbers

import numpy as np

from bcsk import _h1
from bcsk._labels import equal as _equal

__all__ = ["DEFAULT_FLIP_COSTS", "gate_predictions"]

DEFAULT_FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
"""The grid of ``flip_cost`` values searched and plotted by default."""

_FLIP_COST_HINT = (
    "flip_cost is how many times more probable h2 must find its own label than "
    "h1's before the gate replaces h1's label: 1 serves h2's predictions, larger "
    "values keep more of h1's answers, inf keeps every h1 label h2 knows. Pass a "
    "number >= 1, for example flip_cost=2.0."
)


# -- the rule ------------------------------------------------------------------


def _positions(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of each label in ``classes``, ``-1`` where the label is absent."""
    labels, classes = np.asarray(labels), np.asarray(classes)
    kinds = {labels.dtype.kind, classes.dtype.kind}
    comparable = kinds <= set("biuf") or (len(kinds) == 1 and kinds <= set("US"))
    if comparable and classes.size and np.all(classes[:-1] < classes[1:]):
        index = np.searchsorted(classes, labels).clip(max=classes.size - 1)
        return np.where(classes[index] == labels, index, -1)
    # Mixed or object labels (or unsorted classes): Python's == semantics.
    lookup: dict = {}
    for i, label in enumerate(classes.tolist()):
        lookup.setdefault(label, i)
    return np.fromiter(
        (lookup.get(label, -1) for label in labels.tolist()),
        dtype=np.intp,
        count=labels.shape[0],
    )


def _gate_indices(
    h1_positions: np.ndarray, proba: np.ndarray, flip_costs
) -> np.ndarray:
    """Column of the gate's label, shape ``(len(flip_costs), n_samples)``.

    One pass over the probabilities serves every cost: the flipped set only
    shrinks as ``flip_cost`` grows.
    """
    rows = np.arange(proba.shape[0])
    top = np.argmax(proba, axis=1)  # first of the tied maxima
    p_top = proba[rows, top]
    known = h1_positions >= 0
    p_h1 = np.where(known, proba[rows, np.maximum(h1_positions, 0)], 0.0)
    out = np.empty((len(flip_costs), proba.shape[0]), dtype=np.intp)
    for k, cost in enumerate(flip_costs):
        # inf * 0 is NaN; an infinite cost flips only labels h2 does not know.
        flip = ~known if np.isinf(cost) else ~known | (p_top > cost * p_h1)
        out[k] = np.where(flip, top, h1_positions)
    return out


def _gate_cells(h1_bits: np.ndarray, proba: np.ndarray, flip_costs) -> np.ndarray:
    """The gate per label of a multilabel target, shape ``(len(flip_costs), n, L)``.

    Each (sample, label) cell is a binary problem of its own: h1's bit is
    ``y1``, h2's probability ``p`` of the label is the two classes ``[1 - p,
    p]``, and the rule of :func:`_gate_indices` keeps h1's bit unless h2's
    own bit is ``flip_cost`` times more probable.
    """
    n_samples, n_labels = h1_bits.shape
    p = proba.reshape(-1)
    cells = _gate_indices(
        h1_bits.reshape(-1).astype(np.intp), np.column_stack([1.0 - p, p]), flip_costs
    )
    return cells.reshape(len(flip_costs), n_samples, n_labels)


def _gate_outputs_per_column(h1_pred, h2_proba, classes, flip_cost: float):
    """The gate per output of a multi-output target, shape ``(n, n_outputs)``.

    Output ``k`` is gated as one label per sample: h1's label ``h1_pred[:,
    k]`` against h2's probabilities ``h2_proba[k]`` over ``classes[k]``.
    """
    n_samples, n_outputs = np.shape(h1_pred)
    if not isinstance(h2_proba, (list, tuple)) or len(h2_proba) != n_outputs:
        raise ValueError(
            f"h2_proba must be a list of {n_outputs} arrays, one per output of "
            "h1_pred's columns (h2.predict_proba of a multi-output h2)."
        )
    columns = []
    for k in range(n_outputs):
        output_classes = np.asarray(classes[k])
        proba = _check_proba(
            h2_proba[k], n_samples, output_classes.shape[0], f"h2_proba[{k}]"
        )
        positions = _positions(np.asarray(h1_pred)[:, k], output_classes)
        columns.append(output_classes[_gate_indices(positions, proba, [flip_cost])[0]])
    return np.column_stack(columns)


def _check_label_proba(proba, shape: tuple, source: str) -> np.ndarray:
    """h2's probability of each label, the shape of h1's indicator, in [0, 1]."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != shape or not np.isfinite(proba).all():
        raise ValueError(
            f"{source} must be finite probabilities of shape (n_samples, "
            f"n_labels) = {shape}, one column per label of the multilabel y; "
            f"got shape {proba.shape}."
        )
    if (proba < 0).any() or (proba > 1).any():
        raise ValueError(f"{source} must be probabilities in [0, 1] per label.")
    return proba


def _check_flip_cost(value, name: str = "flip_cost") -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or np.isnan(value)
        or value < 1
    ):
        raise ValueError(
            f"{name} must be a number >= 1 (inf allowed), got {value!r}. "
            f"{_FLIP_COST_HINT}"
        )
    return float(value)


def _check_proba(proba, n_samples: int, n_classes: int, source: str) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (n_samples, n_classes):
        raise ValueError(
            f"{source} must have shape (n_samples, n_classes) = ({n_samples}, "
            f"{n_classes}), one column per class in the order of classes; got "
            f"{proba.shape}."
        )
    if not np.isfinite(proba).all() or (proba < 0).any():
        raise ValueError(
            f"{source} holds NaN, infinite or negative values; the gate needs "
            "class probabilities (any non-negative scores, row by row, work)."
        )
    return proba


def _as_labels(labels, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be one label per sample (1-D); got shape {labels.shape}."
        )
    return labels


def gate_predictions(*, h1_pred, h2_proba, classes, flip_cost: float = 2.0):
    r"""Keep h1's labels unless h2 is more than ``flip_cost`` times as confident.

    For each sample, with ``y1`` h1's label, ``y2`` the most probable of
    ``classes`` under h2 and ``p2`` h2's probabilities, the gate returns

    .. math::

        \hat y = y_2 \text{ if } p_2(y_2) > c \, p_2(y_1)
        \text{ or } y_1 \notin \text{classes}, \text{ else } y_1 .

    Ties: ``y2`` is the first of the classes tied for the highest probability
    (``np.argmax``), and the comparison is strict, so a tie keeps ``y1``. With
    ``flip_cost=1`` the gate therefore returns a most probable label of h2 for
    every sample: ``classes[argmax]``, except where h1's label ties with it
    for the highest probability, where h1's label is kept. Probabilities are
    compared in float64.

    Parameters
    ----------
    h1_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Labels of the old model h1. A label that is not in ``classes`` is
        replaced by h2's label. A 0/1 indicator of several columns is a
        multilabel target: each (sample, label) cell is gated on its own,
        ``h2_proba`` then holds each label's probability ``p`` (the two
        classes ``[1 - p, p]``), and the result is an indicator. With
        ``classes`` a list (a multi-output target), one column of labels per
        output, each gated on its own.
    h2_proba : array-like of shape (n_samples, n_classes), or list
        h2's probabilities, one column per class in the order of ``classes``
        (``h2.predict_proba(X)``). Rows need not sum to 1: the rule only
        compares two entries of a row. A list of one such array per output
        for a multi-output target.
    classes : array-like of shape (n_classes,), or list of arrays
        The labels of ``h2_proba``'s columns (``h2.classes_``); a list of one
        array per output for a multi-output target.
    flip_cost : float, default=2.0
        ``c >= 1``. 1 gives h2's labels; ``np.inf`` keeps every h1 label that
        is in ``classes``.

    Returns
    -------
    ndarray of shape (n_samples,)
        The gate's labels, drawn from ``classes`` (so of its dtype).

    Examples
    --------
    h2 is sure on the first sample, hesitant on the second, and does not know
    h1's label on the third:

    >>> from bcsk.gate import gate_predictions
    >>> gate_predictions(
    ...     h1_pred=[0, 0, 7],
    ...     h2_proba=[[0.1, 0.9], [0.4, 0.6], [0.3, 0.7]],
    ...     classes=[0, 1],
    ...     flip_cost=2.0,
    ... )
    array([1, 0, 1])
    """
    cost = _check_flip_cost(flip_cost)
    if isinstance(classes, list) and all(np.ndim(c) == 1 for c in classes):
        # One array of classes per output: a multi-output target.
        h1_pred = np.asarray(h1_pred)
        if h1_pred.ndim != 2 or h1_pred.shape[1] != len(classes):
            raise ValueError(
                f"h1_pred must hold one label per sample and output, shape "
                f"(n_samples, {len(classes)}), for the {len(classes)} outputs "
                f"of classes; got {h1_pred.shape}."
            )
        return _gate_outputs_per_column(h1_pred, h2_proba, classes, cost)
    classes = np.asarray(classes)
    if np.ndim(h1_pred) == 2 and np.shape(h1_pred)[1] > 1:
        bits = _h1._check_indicator(h1_pred, *np.shape(h1_pred), "h1_pred")
        proba = _check_label_proba(h2_proba, bits.shape, "h2_proba")
        return _gate_cells(bits, proba, [cost])[0]
    h1_pred = _as_labels(h1_pred, "h1_pred")
    proba = _check_proba(h2_proba, h1_pred.shape[0], classes.shape[0], "h2_proba")
    return classes[_gate_indices(_positions(h1_pred, classes), proba, [cost])[0]]


def _path_scores(y_true, h1_pred, proba, classes, flip_costs) -> dict:
    """Accuracy, negative flip rate, BTC and BEC of the gate, per flip cost.

    Undefined ratios are 1.0, as in bcsk's scorers: BTC when h1 is never
    right, BEC when the gate is never wrong.
    """
    y_true = _as_labels(y_true, "y")
    h1_pred = _as_labels(h1_pred, "h1's labels")
    labels = classes[_gate_indices(_positions(h1_pred, classes), proba, flip_costs)]
    right = _equal(labels, np.broadcast_to(y_true, labels.shape))
    h1_right = _equal(h1_pred, y_true)
    n_h1_right = np.count_nonzero(h1_right)
    n_wrong = np.count_nonzero(~right, axis=1)
    kept = np.count_nonzero(right & h1_right, axis=1)
    shared_errors = np.count_nonzero(~right & ~h1_right, axis=1)
    return {
        "accuracy": right.mean(axis=1),
        "negative_flip_rate": np.count_nonzero(h1_right & ~right, axis=1)
        / y_true.shape[0],
        "btc": kept / n_h1_right if n_h1_right else np.ones(len(flip_costs)),
        "bec": np.divide(
            shared_errors,
            n_wrong,
            out=np.ones(len(flip_costs)),
            where=n_wrong > 0,
        ),
    }


def _flip_cost_curve(y_true, h1_pred, h2_proba, classes, flip_costs) -> tuple:
    """The gate's scores over a grid of costs (for the Display).

    Returns
    -------
    costs : ndarray
        The sorted, de-duplicated costs.
    scores : dict
        As :func:`_path_scores`, plus ``"h1_accuracy"``.
    """
    classes = np.asarray(classes)
    y_true = _as_labels(y_true, "y_true")
    h1_pred = _as_labels(h1_pred, "h1_pred")
    if h1_pred.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true and h1_pred must have the same length; got {y_true.shape[0]} "
            f"and {h1_pred.shape[0]}."
        )
    costs = DEFAULT_FLIP_COSTS if flip_costs is None else flip_costs
    costs = np.unique(
        [_check_flip_cost(c, "each of flip_costs") for c in np.ravel(costs)]
    )
    proba = _check_proba(h2_proba, y_true.shape[0], classes.shape[0], "h2_proba")
    scores = _path_scores(y_true, h1_pred, proba, classes, costs)
    scores["h1_accuracy"] = float(np.mean(_equal(h1_pred, y_true)))
    return costs, scores
