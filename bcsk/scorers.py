"""BTC and BEC scorers for ``GridSearchCV``, ``cross_val_score`` and friends.

``btc_scorer`` and ``bec_scorer`` take h1 from the estimator being scored: a
:class:`~bcsk.BCCompatibleClassifier`, the last step of a ``Pipeline`` ending in
one (h1 then sees X transformed by the preceding steps, exactly as during
``fit``), or the ``best_estimator_`` of a fitted search. ``make_btc_scorer(h1)``
and ``make_bec_scorer(h1)`` score any classifier against a given h1, which
receives X as passed to the scorer.

This module imports no TensorFlow.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import numpy as np

from bcsk import _h1, scores

__all__ = [
    "CompatibilityScorer",
    "btc_scorer",
    "bec_scorer",
    "make_btc_scorer",
    "make_bec_scorer",
    "compatibility_scoring",
    "best_accuracy_with_btc_at_least",
]


def _reference_of(estimator, X):
    """Find the h1 the estimator was trained against and the X that h1 sees."""
    while True:
        if hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "steps"):  # a Pipeline: h1 sees transformed X
            if len(estimator.steps) > 1:
                X = estimator[:-1].transform(X)
            estimator = estimator.steps[-1][1]
        else:
            break
    h1 = getattr(estimator, "h1", None)
    if h1 is None:
        raise ValueError(
            f"Cannot find h1 on {type(estimator).__name__}: btc_scorer and "
            "bec_scorer score a BCCompatibleClassifier (alone, as the last step of "
            "a Pipeline, or as a search's best_estimator_). To score another "
            "classifier, build a scorer with make_btc_scorer(h1) or "
            "make_bec_scorer(h1)."
        )
    return h1, X, estimator.classes_


class CompatibilityScorer:
    """A scorer ``(estimator, X, y) -> float`` comparing h2 with h1 on ``X``.

    Parameters
    ----------
    score_func : callable
        ``score_func(h1_labels, h2_labels, y_true) -> float``, e.g.
        :func:`bcsk.scores.trust_compatibility_score`.
    h1 : object, optional
        The old model (Keras model, fitted scikit-learn classifier or callable).
        When omitted, h1 is taken from the scored estimator.
    zero_division : {1.0, 0.0, np.nan, "warn"}, default=1.0
        Score when the denominator is zero (h1 never right for BTC; h2 never
        wrong for BEC). Scorers default to 1.0, the vacuous truth ("no trust was
        broken", "no error is new"), so that a perfect fold neither warns nor
        ranks last in a search.
    """

    def __init__(self, score_func: Callable, h1=None, zero_division=1.0) -> None:
        self.score_func = score_func
        self.h1 = h1
        self.zero_division = zero_division

    def __call__(self, estimator, X, y) -> float:
        """Score ``estimator`` (h2) against h1 on ``(X, y)``."""
        if self.h1 is None:
            h1, X_h1, classes = _reference_of(estimator, X)
        else:
            h1, X_h1 = self.h1, X
            classes = getattr(estimator, "classes_", None)
            if classes is None:
                classes = np.unique(y)
        h1_labels = _h1.h1_predict(h1, X_h1, classes)
        return float(
            self.score_func(
                h1_labels,
                estimator.predict(X),
                np.asarray(y),
                zero_division=self.zero_division,
            )
        )

    def __repr__(self) -> str:
        source = "estimator.h1" if self.h1 is None else type(self.h1).__name__
        return f"CompatibilityScorer({self.score_func.__name__}, h1={source})"


btc_scorer = CompatibilityScorer(scores.trust_compatibility_score)
"""Scorer for BTC (backward trust compatibility), h1 taken from the estimator."""

bec_scorer = CompatibilityScorer(scores.error_compatibility_score)
"""Scorer for BEC (backward error compatibility), h1 taken from the estimator."""


def make_btc_scorer(h1, *, zero_division=1.0) -> CompatibilityScorer:
    """Build a BTC scorer for any classifier against a given h1.

    Parameters
    ----------
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model; it receives X as passed to the scorer. A Keras or
        callable h1 is read in the order of the scored estimator's ``classes_``.
    zero_division : float or "warn", default=1.0
        Score when h1 is never right; see :class:`CompatibilityScorer`.

    Returns
    -------
    CompatibilityScorer
        Use as ``scoring=`` or in a multi-metric scoring dict.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::4], y[::4])
    >>> h2 = RandomForestClassifier(n_estimators=10, random_state=0)
    >>> btc = cross_val_score(h2, X, y, cv=3, scoring=make_btc_scorer(h1))
    >>> bool(((0 <= btc) & (btc <= 1)).all())
    True
    """
    _h1.h1_kind(h1)
    return CompatibilityScorer(scores.trust_compatibility_score, h1, zero_division)


def make_bec_scorer(h1, *, zero_division=1.0) -> CompatibilityScorer:
    """Build a BEC scorer for any classifier against a given h1.

    Parameters
    ----------
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model; see :func:`make_btc_scorer`.
    zero_division : float or "warn", default=1.0
        Score when h2 is never wrong; see :class:`CompatibilityScorer`.

    Returns
    -------
    CompatibilityScorer
    """
    _h1.h1_kind(h1)
    return CompatibilityScorer(scores.error_compatibility_score, h1, zero_division)


def compatibility_scoring(h1=None) -> dict:
    """Multi-metric scoring: ``{"accuracy", "btc", "bec"}``.

    Parameters
    ----------
    h1 : object, optional
        Score against this h1; by default h1 is taken from the estimator.

    Returns
    -------
    dict
        For ``scoring=`` of ``GridSearchCV`` or ``cross_validate``; results
        appear as ``mean_test_accuracy``, ``mean_test_btc``, ``mean_test_bec``.
    """
    if h1 is None:
        return {"accuracy": "accuracy", "btc": btc_scorer, "bec": bec_scorer}
    return {
        "accuracy": "accuracy",
        "btc": make_btc_scorer(h1),
        "bec": make_bec_scorer(h1),
    }


def best_accuracy_with_btc_at_least(
    min_btc: float,
    *,
    accuracy_key: str = "mean_test_accuracy",
    btc_key: str = "mean_test_btc",
) -> Callable[[dict], int]:
    """A ``refit=`` callable: the most accurate candidate whose BTC >= ``min_btc``.

    Parameters
    ----------
    min_btc : float
        Lowest acceptable mean BTC, in ``[0, 1]``.
    accuracy_key, btc_key : str
        Keys of ``cv_results_`` to read (the defaults match
        :func:`compatibility_scoring`).

    Returns
    -------
    callable
        ``refit(cv_results) -> index`` for ``GridSearchCV(refit=...)``. When no
        candidate reaches ``min_btc``, it warns and picks the candidate with the
        highest BTC. Ties in accuracy go to the candidate listed first.

    Examples
    --------
    >>> refit = best_accuracy_with_btc_at_least(0.9)
    >>> refit({"mean_test_accuracy": [0.95, 0.93, 0.90],
    ...        "mean_test_btc": [0.85, 0.92, 0.97]})
    1
    """
    if (
        isinstance(min_btc, bool)
        or not isinstance(min_btc, numbers.Real)
        or not 0 <= min_btc <= 1
    ):
        raise ValueError(f"min_btc must be a number in [0, 1], got {min_btc!r}.")

    def refit(cv_results: dict) -> int:
        try:
            accuracy = np.asarray(cv_results[accuracy_key], dtype=float)
            btc = np.asarray(cv_results[btc_key], dtype=float)
        except KeyError as missing:
            raise KeyError(
                f"cv_results_ has no {missing}: score with "
                "scoring=compatibility_scoring() (or pass accuracy_key/btc_key)."
            ) from None
        eligible = np.flatnonzero(np.nan_to_num(btc, nan=-1.0) >= min_btc)
        if eligible.size == 0:
            best = int(np.nanargmax(btc))
            warnings.warn(
                f"No candidate reaches BTC >= {min_btc} (the highest mean BTC is "
                f"{btc[best]:.4f}); refitting the most compatible candidate.",
                UserWarning,
                stacklevel=2,
            )
            return best
        return int(eligible[np.argmax(accuracy[eligible])])

    refit.__name__ = f"best_accuracy_with_btc_at_least_{min_btc}"
    return refit
