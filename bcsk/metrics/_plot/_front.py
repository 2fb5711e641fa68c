"""Names and Pareto front of the candidates of a search (NumPy only).

The helpers behind :class:`bcsk.metrics.CompatibilityTradeoffDisplay`'s
front (``x_metric="negative_flip_rate"``): :func:`candidate_label` names a
candidate by its parameters ("focal λ=0.1 + gate 1.5"), :func:`pareto_mask`
finds the candidates that no other one beats on both accuracy and negative
flips, and :func:`resolve` finds a parameter by name, with or without a
pipeline step's prefix.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk._labels import to_python as _to_python


def resolve(name: str, names: Iterable[str]) -> str | None:
    """Find ``name``, or the only ``<step>__name``, among ``names``."""
    names = list(names)
    if name in names:
        return name
    matches = [n for n in names if n.endswith(f"__{name}")]
    return matches[0] if len(matches) == 1 else None


def value_text(value: Any) -> str:
    """A parameter value as written in a label: numbers in short form."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):g}"
    return str(value)


# Short names of bcsk's dissonances in the labels of the points.
_DISSONANCE_TEXT = {
    "new_error": "new error",
    "focal_distillation": "focal",
    "logit_difference": "logit diff",
    "strict_imitation": "strict imitation",
}
# Parameters that name a candidate of a search, in the order of its label.
LABEL_PARAMS = ("n_members", "dissonance", "lambda_c", "flip_cost")


def _lookup(params: Mapping[str, Any], name: str) -> Any:
    """The value of ``name`` (or the only ``<step>__name``) in ``params``."""
    key = resolve(name.removeprefix("param_"), params)
    value = None if key is None else _to_python(params[key])
    return None if value is np.ma.masked else value


def base_name(name: str) -> str:
    """``"clf__lambda_c"`` -> ``"lambda_c"``."""
    return name.removeprefix("param_").rsplit("__", 1)[-1]


def candidate_label(params: Mapping[str, Any], lambda_param: str = "lambda_c") -> str:
    """Name a candidate of a search by its parameters, for the front's labels.

    ``params`` is one row of ``cv_results_["params"]`` (keys may carry a
    pipeline prefix, ``"clf__lambda_c"``). Read are ``lambda_param``,
    ``dissonance``, ``n_members`` and ``flip_cost``; others are left to the
    colours (``group_param``). ``lambda_c=0`` is plain training, whatever the
    dissonance; ``flip_cost=1`` is no gate.

    >>> candidate_label({"lambda_c": 0.0})
    'plain'
    >>> candidate_label({"dissonance": "focal_distillation", "lambda_c": 0.1,
    ...                   "flip_cost": 1.5})
    'focal λ=0.1 + gate 1.5'
    >>> candidate_label({"n_members": 5, "dissonance": "new_error", "lambda_c": 3})
    '5× new error λ=3'
    >>> candidate_label({"flip_cost": 1.0})
    'no gate'
    """
    lam = None
    if base_name(lambda_param) != "flip_cost":
        lam = _lookup(params, lambda_param)
    dissonance = _lookup(params, "dissonance")
    n_members = _lookup(params, "n_members")
    cost = _lookup(params, "flip_cost")

    if _equals(lam, 0):
        model = "plain"
    else:
        words = [] if dissonance is None else [_dissonance_text(dissonance)]
        if lam is not None:
            words.append(f"λ={value_text(lam)}")
        model = " ".join(words)
    if n_members is not None and not _equals(n_members, 1):
        n = value_text(n_members)
        model = f"{n}× {model}" if model else f"{n} members"
    if cost is not None and not _equals(cost, 1):
        gate = f"gate {value_text(cost)}"
        return f"{model} + {gate}" if model else gate
    if model:
        return model
    return "default" if cost is None else "no gate"


def _equals(value: Any, number: float) -> bool:
    """Whether ``value`` is a number equal to ``number``."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and float(value) == number
    )


def _dissonance_text(dissonance: Any) -> str:
    """Short name of a dissonance: a name or an object with ``.name``."""
    name = dissonance if isinstance(dissonance, str) else None
    name = getattr(dissonance, "name", name)
    if not isinstance(name, str):
        return type(dissonance).__name__
    return _DISSONANCE_TEXT.get(name, name.replace("_", " "))


def pareto_mask(accuracy: ArrayLike, negative_flip_rate: ArrayLike) -> np.ndarray:
    """Which candidates no other one beats on both accuracy and flips.

    A candidate is dominated when another has an accuracy at least as high and
    a negative flip rate at least as low, one of them strictly; equal points
    are all on the front. Undefined (NaN) scores are never on it.

    >>> pareto_mask([0.9, 0.8, 0.85, 0.9], [0.02, 0.01, 0.02, 0.02]).tolist()
    [True, True, False, True]
    """
    acc = np.asarray(accuracy, dtype=float).ravel()
    flips = np.asarray(negative_flip_rate, dtype=float).ravel()
    finite = np.isfinite(acc) & np.isfinite(flips)
    # dominates[i, j]: candidate j dominates candidate i (NaN compares False).
    at_least = (acc[None, :] >= acc[:, None]) & (flips[None, :] <= flips[:, None])
    better = (acc[None, :] > acc[:, None]) | (flips[None, :] < flips[:, None])
    return finite & ~(at_least & better).any(axis=1)
