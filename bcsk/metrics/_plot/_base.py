"""What the Displays share: matplotlib on demand, axes, labels, cv_results_ readers.

The Displays follow scikit-learn's Display API (as
:class:`sklearn.metrics.ConfusionMatrixDisplay` does), one per module of
:mod:`bcsk.metrics._plot`. matplotlib is an optional dependency: it is
imported when a plot is drawn, so importing the Displays does not need it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bcsk._labels import to_python as _to_python
from bcsk.metrics._plot._front import resolve as _resolve
from bcsk.metrics._plot._front import value_text as _value_text

H1_LINE_LABEL = "h1 (old model) accuracy"
BTC_AXIS_LABEL = "BTC: share of h1's correct answers h2 keeps"
BEC_AXIS_LABEL = "BEC: share of h2's errors h1 also made"
ACCURACY_AXIS_LABEL = "h2 accuracy"
REGION_NAMES = ("both right", "new errors", "fixed errors", "both wrong")
"""The four regions, in the order the displays draw them."""

# Colours of the four regions: new errors stand out in red, the rest stay quiet.
_REGION_COLORS = ("0.65", "tab:red", "tab:blue", "0.4")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot``, or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "bcsk's plots need matplotlib, which is not installed. Install it "
            "with: pip install 'bcsk[plot]'"
        ) from exc
    return plt


def _two_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """Return (figure, array of 2 axes), creating them when ``ax`` is None."""
    if ax is None:
        plt = _pyplot()
        figure, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
        return figure, np.asarray(axes, dtype=object)
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(
            "ax must hold 2 matplotlib Axes, one per panel (for example from "
            f"`fig, ax = plt.subplots(1, 2)`); got {axes.size} object(s)."
        )
    return axes[0].figure, axes


def _one_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """Return (figure, axes), creating them when ``ax`` is None."""
    if ax is None:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=figsize, layout="constrained")
        return figure, axes
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 1:
        raise ValueError(
            "ax must be one matplotlib Axes for x_metric='negative_flip_rate' "
            f"(for example from `fig, ax = plt.subplots()`); got {axes.size} "
            "objects."
        )
    return axes[0].figure, axes[0]


def _format_score(value: float) -> str:
    """Format a score for a title; NaN means the score is undefined."""
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def _lambda_text(value: Any) -> str:
    """Annotation for one candidate's ``lambda_c``."""
    if value is None or value is np.ma.masked:
        return "λ=default"
    return f"λ={_value_text(value)}"


X_METRICS = ("btc_bec", "negative_flip_rate")
"""What :meth:`CompatibilityTradeoffDisplay.plot` can put on the x axis."""

NFR_AXIS_LABEL = "negative flip rate: h1 right, h2 wrong"
FRONT_LINE_LABEL = "Pareto front"


def _object_array(values: ArrayLike) -> np.ndarray:
    """Return ``values`` as a 1-D object array, masked entries as ``None``."""
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values).ravel()
        data = np.ma.getdata(values).ravel()
        items = [None if m else v for v, m in zip(data, mask, strict=True)]
    else:
        items = list(values)
    array = np.empty(len(items), dtype=object)
    # Assigned one by one: NumPy would unpack tuple values such as (64, 32)
    # into a second dimension.
    for i, value in enumerate(items):
        array[i] = _to_python(value)
    return array


def _score_column(cv_results: Mapping[str, Any], key: str) -> np.ndarray:
    """Return one score column of ``cv_results`` as a float array."""
    if key not in cv_results:
        present = sorted(k for k in cv_results if k.startswith("mean_test_"))
        raise ValueError(
            f"cv_results has no key {key!r}; its mean test scores are {present}. "
            "Search with scoring=bcsk.compatibility_scoring() (or any multi-metric "
            "scoring that includes accuracy, BTC and BEC, and neg_nfr for "
            "x_metric='negative_flip_rate'), or pass accuracy_key=, btc_key=, "
            "bec_key= or neg_nfr_key= naming your scores."
        )
    return np.asarray(cv_results[key], dtype=float)


def _param_column(
    cv_results: Mapping[str, Any],
    name: str,
    defaults: Mapping[str, Any],
    n_candidates: int,
) -> np.ndarray:
    """Return the values of one searched parameter, ``None`` where not searched.

    ``defaults`` (the search estimator's parameters) replaces ``None`` where
    it knows the parameter, including when no candidate searched it.
    """
    name = name.removeprefix("param_")
    params = [k.removeprefix("param_") for k in cv_results if k.startswith("param_")]
    column = _resolve(name, params)
    default_key = _resolve(column or name, defaults)
    if column is not None:
        values = _object_array(cv_results[f"param_{column}"])
    elif default_key is not None:
        values = _object_array([None] * n_candidates)
    else:
        raise ValueError(
            f"cv_results has no column 'param_{name}'; the searched parameters "
            f"are {sorted(params)}. Pass the parameter's name as written in the "
            f"parameter grid (for a pipeline step, '<step>__{name}')."
        )
    if default_key is not None:
        values = _object_array(
            [defaults[default_key] if v is None else v for v in values]
        )
    return values


def _has_param(
    cv_results: Mapping[str, Any], name: str, defaults: Mapping[str, Any]
) -> bool:
    """Whether :func:`_param_column` finds ``name`` (searched or a default)."""
    name = name.removeprefix("param_")
    params = [k.removeprefix("param_") for k in cv_results if k.startswith("param_")]
    column = _resolve(name, params)
    return column is not None or _resolve(name, defaults) is not None


def _param_rows(
    cv_results: Mapping[str, Any],
    defaults: Mapping[str, Any],
    names: Iterable[str],
    n_candidates: int,
) -> list[dict[str, Any]]:
    """Each candidate's searched parameters, as in ``cv_results["params"]``.

    Read from the ``param_*`` columns (masked entries left out); ``defaults``
    (the search estimator's parameters) fills those of ``names`` that a row
    lacks.
    """
    columns = {
        key.removeprefix("param_"): _object_array(values)
        for key, values in cv_results.items()
        if key.startswith("param_")
    }
    rows = [
        {name: values[i] for name, values in columns.items() if values[i] is not None}
        for i in range(n_candidates)
    ]
    for row in rows:
        for name in names:
            key = _resolve(name.removeprefix("param_"), defaults)
            if key is not None and _resolve(name.removeprefix("param_"), row) is None:
                row[key] = defaults[key]
    return rows


def _named(value: Any, what: str) -> dict[str, Any]:
    """A mapping name -> value as given, or ``{"h2": value}`` for a single one."""
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f"{what} must name at least one candidate h2.")
        return {str(name): item for name, item in value.items()}
    return {"h2": value}
