"""Compatibility scorers for ``GridSearchCV``, ``cross_val_score`` and friends.

Scorers follow scikit-learn's conventions: ``scorer(estimator, X, y)`` returns
a number where greater is better, so the metrics where lower is better are
negated and their names start with ``neg_``, as ``neg_log_loss`` does.

=============================  ===================================  ==========
scorer                         metric                               key
=============================  ===================================  ==========
``btc_scorer``                 BTC (backward trust compatibility)   ``btc``
``bec_scorer``                 BEC (backward error compatibility)   ``bec``
``neg_nfr_scorer``             minus the negative flip rate         ``neg_nfr``
``pfr_scorer``                 positive flip rate                   ``pfr``
``neg_nfi_scorer``             minus the negative flip impact       ``neg_nfi``
``neg_relative_nfr_scorer``    minus the relative NFR               ``neg_relative_nfr``
=============================  ===================================  ==========

These scorers take h1 from the estimator being scored: a
:class:`~bcsk.BCCompatibleClassifier`, the last step of a ``Pipeline`` ending in
one (h1 then sees X transformed by the preceding steps, exactly as during
``fit``), or the ``best_estimator_`` of a fitted search. ``make_btc_scorer(h1)``,
``make_bec_scorer(h1)`` and ``CompatibilityScorer(metric, h1=h1)`` score any
classifier against a given h1, which receives X as passed to the scorer.

:func:`compatibility_scoring` scores all of them and accuracy at once, with one
prediction of h1 and one of h2 per call.

When h1 cannot run, every scorer takes h1's logged labels instead:
``scorer(estimator, X, y, h1_pred=labels)`` (or ``h1_proba=``), and, with
scikit-learn's metadata routing enabled, ``scorer.set_score_request(
h1_pred=True)`` makes a search or a cross-validation pass each test fold its
rows of them. h1 is then never called.

This module imports no TensorFlow.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import get_config
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.multiclass import type_of_target

from bcsk import _h1, _labels, metrics, scores
from bcsk._labels import RegionCounts

__all__ = [
    "CompatibilityScorer",
    "MultimetricCompatibilityScorer",
    "btc_scorer",
    "bec_scorer",
    "neg_nfr_scorer",
    "pfr_scorer",
    "neg_nfi_scorer",
    "neg_relative_nfr_scorer",
    "make_btc_scorer",
    "make_bec_scorer",
    "compatibility_scoring",
    "best_accuracy_with_btc_at_least",
    "fewest_new_errors_within",
    "lowest_update_cost",
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
            f"Cannot find h1 on {type(estimator).__name__}: without an h1 of "
            "their own, bcsk's compatibility scorers (btc_scorer, bec_scorer, ...) "
            "and CompatibilityDisplay.from_estimator take it from a "
            "BCCompatibleClassifier (alone, as the last step of a Pipeline, or as "
            "a search's best_estimator_). For another classifier, pass h1: "
            "make_btc_scorer(h1), make_bec_scorer(h1), compatibility_scoring(h1) "
            "or from_estimator(..., h1=h1). A model trained from h1's logged "
            "outputs holds no h1: pass h1's logged labels, scorer(estimator, X, "
            "y, h1_pred=labels), from_estimator(..., h1_pred=labels), or route "
            "them in a search with scorer.set_score_request(h1_pred=True)."
        )
    return h1, X, estimator.classes_


def _classes_of(estimator, y) -> np.ndarray:
    classes = getattr(estimator, "classes_", None)
    return np.unique(y) if classes is None else np.asarray(classes)


def _h1_labels(h1, estimator, X, y, h1_pred=None, h1_proba=None) -> np.ndarray:
    """h1's labels on ``X``: logged, or from h1 given, or from the estimator's.

    Logged labels (``h1_pred``, or the most probable class of each row of
    ``h1_proba``, columns in the order of the estimator's ``classes_``) win:
    h1 is then never called.
    """
    if _is_multioutput(estimator, y):
        return _h1_output_labels(h1, estimator, X, y, h1_pred, h1_proba)
    if _is_multilabel(y):
        return _h1_label_indicator(h1, estimator, X, y, h1_pred, h1_proba)
    if h1_pred is not None or h1_proba is not None:
        return _h1.logged_labels(
            h1_proba,
            h1_pred,
            classes=_classes_of(estimator, y),
            n_samples=_h1_n_samples(X),
        )
    if h1 is None:
        h1, X_h1, classes = _reference_of(estimator, X)
    else:
        X_h1 = X
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            classes = np.unique(y)
    return _h1.h1_predict(h1, X_h1, classes)


def _is_multilabel(y) -> bool:
    """Whether ``y`` is a 2-D target of several labels per sample."""
    return np.ndim(y) == 2 and np.shape(y)[1] > 1


def _is_multioutput(estimator, y) -> bool:
    """Whether ``y`` (or the estimator's fit) has several outputs of class labels.

    An estimator fitted on a multi-output y has a list of ``classes_``, one
    array per output; a test fold whose columns happen to hold only 0 and 1
    is then still read per output, not as a multilabel indicator.
    """
    if isinstance(getattr(estimator, "classes_", None), list):
        return True
    try:
        return np.ndim(y) == 2 and type_of_target(y) == "multiclass-multioutput"
    except ValueError:
        return False


def _h1_output_labels(h1, estimator, X, y, h1_pred, h1_proba) -> np.ndarray:
    """h1's labels on ``X`` for a multi-output ``y``, shape ``(n_samples, K)``."""
    y = np.asarray(y)
    classes = getattr(estimator, "classes_", None)
    if not isinstance(classes, list):
        classes = [np.unique(y[:, k]) for k in range(y.shape[1])]
    if h1_pred is not None and h1_proba is None:
        # Checked for its shape only: a fold's h2 may lack a class h1 predicts,
        # which then counts as an error of h1, as with a live h1.
        return _h1.checked_output_labels(h1_pred, classes, len(y), "h1_pred")
    if h1_proba is not None:
        references = _h1.logged_multioutput_outputs(
            h1_proba=h1_proba,
            h1_pred=h1_pred,
            classes=classes,
            n_samples=len(y),
            need_probabilities=False,
        )
    else:
        X_h1 = X
        if h1 is None:
            h1, X_h1, _ = _reference_of(estimator, X)
        references = _h1.multioutput_outputs(
            h1, X_h1, classes, need_probabilities=False
        )
    return np.column_stack([reference.labels for reference in references])


def _h1_label_indicator(h1, estimator, X, y, h1_pred, h1_proba) -> np.ndarray:
    """h1's 0/1 indicator on ``X`` for a multilabel ``y`` (logged or live)."""
    n_samples, n_labels = np.shape(y)
    if h1_pred is not None or h1_proba is not None:
        return _h1.logged_multilabel_outputs(
            h1_proba=h1_proba,
            h1_pred=h1_pred,
            n_labels=n_labels,
            n_samples=n_samples,
            need_probabilities=False,
        ).labels
    X_h1 = X
    if h1 is None:
        h1, X_h1, _ = _reference_of(estimator, X)
    return _h1.multilabel_outputs(h1, X_h1, n_labels, need_probabilities=False).labels


def _h1_n_samples(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _h2_predict(estimator, X, h1_pred) -> np.ndarray:
    """``estimator.predict(X)``, the logged labels passed to a gate's predict.

    A gate (whose ``predict`` takes ``h1_pred``) then does not call h1 either.
    """
    if h1_pred is not None:
        parameters = _parameters(estimator.predict)
        if parameters is not None and "h1_pred" in parameters:
            return np.asarray(estimator.predict(X, h1_pred=h1_pred))
    return np.asarray(estimator.predict(X))


# The metadata the scorers can be routed (scikit-learn's metadata routing).
_SCORE_METADATA = ("h1_pred", "h1_proba")


class _RoutedScorer:
    """Metadata requests for the ``score`` method, as scikit-learn's scorers have.

    In the manner of ``sklearn.metrics._scorer._BaseScorer``: by default a
    scorer requests nothing, and a search that is passed ``h1_pred`` (or
    ``h1_proba``) with routing enabled asks for ``set_score_request``; with
    ``set_score_request(h1_pred=True)`` every test fold is scored against its
    rows of the logged labels.
    """

    def set_score_request(self, **kwargs):
        """Request ``h1_pred`` or ``h1_proba`` for scoring (metadata routing).

        Parameters
        ----------
        **kwargs
            ``h1_pred=`` and/or ``h1_proba=`` with ``True`` (requested),
            ``False`` (not requested), ``None`` (error if passed) or a string
            (an alias), as for scikit-learn's scorers.

        Returns
        -------
        self
        """
        if not get_config()["enable_metadata_routing"]:
            raise RuntimeError(
                "This method is only available when metadata routing is enabled."
                " You can enable it using"
                " sklearn.set_config(enable_metadata_routing=True)."
            )
        unknown = sorted(set(kwargs) - set(_SCORE_METADATA))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.set_score_request got {unknown}; bcsk's "
                f"scorers take the metadata {list(_SCORE_METADATA)} (h1's logged "
                "labels or probabilities on the scored rows)."
            )
        request = self._score_request(self)
        for param, alias in kwargs.items():
            request.score.add_request(param=param, alias=alias)
        self._metadata_request = request
        return self

    def _score_request(self, owner) -> MetadataRequest:
        """A copy of this scorer's requests, owned by ``owner``."""
        request = MetadataRequest(owner=owner)
        current = self.__dict__.get("_metadata_request")
        for param in _SCORE_METADATA:
            alias = None if current is None else current.score.requests.get(param)
            request.score.add_request(param=param, alias=alias)
        return request

    def get_metadata_routing(self) -> MetadataRequest:
        """The scorer's metadata requests (see :meth:`set_score_request`).

        Returns
        -------
        MetadataRequest
        """
        return self._score_request(self)

    def _routing_repr(self) -> str:
        return repr(self)


# BTC and BEC in the calling convention of the scorers (y_true first, the
# predictions by keyword); bcsk.scores keeps BCML's positional order.
def _backward_trust_compatibility(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    zero_division: str | float = "warn",
    average: str | None = "micro",
) -> float:
    """BTC; :func:`bcsk.scores.trust_compatibility_score` with keywords."""
    return scores.trust_compatibility_score(
        h1_pred, h2_pred, y_true, zero_division=zero_division, average=average
    )


def _backward_error_compatibility(
    y_true: ArrayLike,
    *,
    h1_pred: ArrayLike,
    h2_pred: ArrayLike,
    zero_division: str | float = "warn",
    average: str | None = "micro",
) -> float:
    """BEC; :func:`bcsk.scores.error_compatibility_score` with keywords."""
    return scores.error_compatibility_score(
        h1_pred, h2_pred, y_true, zero_division=zero_division, average=average
    )


def _parameters(func: Callable) -> Mapping[str, inspect.Parameter] | None:
    """The parameters of ``func``, or None when it has no signature to read."""
    try:
        return inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return None


class CompatibilityScorer(_RoutedScorer):
    """A scorer ``(estimator, X, y) -> float`` comparing h2 with h1 on ``X``.

    Calls ``h1`` once and ``estimator.predict`` (h2) once; given h1's logged
    labels (``h1_pred=``, routed by a search after
    ``set_score_request(h1_pred=True)``), it calls ``estimator.predict``
    only.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, *, h1_pred, h2_pred) -> float``, the convention of
        :mod:`bcsk.metrics` (for example
        :func:`bcsk.metrics.negative_flip_rate`); it receives
        ``zero_division=`` too when its signature has that parameter.
    h1 : object, optional
        The old model (Keras model, fitted scikit-learn classifier or callable).
        When omitted, h1 is taken from the scored estimator.
    zero_division : {None, 1.0, 0.0, np.nan, "warn"}, default=None
        Score when the metric is undefined (its denominator is zero). ``None``
        gives the metric's best value, the vacuous truth: 1.0 when greater is
        better (BTC when h1 is never right: "no trust was broken"; BEC when h2
        is never wrong: "no error is new"), 0.0 when lower is better (NFI and
        the relative NFR are then 0/0: there is no new error). So a perfect
        fold neither warns nor ranks last in a search.
    greater_is_better : bool, default=True
        Whether higher values of ``score_func`` are better. If False the
        scorer returns minus the metric, as scikit-learn's ``neg_*`` scorers
        do, so that a search still maximises it.
    average : {"micro", "macro", "samples"}, default="micro"
        For a multilabel ``y`` (a 0/1 indicator of shape ``(n_samples,
        n_labels)``): how the (sample, label) cells are pooled, as in
        :func:`bcsk.metrics.negative_flip_rate` (``"micro"``: every cell
        counts once). A scorer returns one number, so ``None`` (one score per
        label) is refused. Ignored for one label per sample; passed to
        ``score_func`` only when it takes ``average``.

    Examples
    --------
    The negative flip rate against a fixed h1, for any classifier:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from bcsk.metrics import negative_flip_rate
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::4], y[::4])
    >>> h2 = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    >>> scorer = CompatibilityScorer(
    ...     negative_flip_rate, h1=h1, greater_is_better=False
    ... )
    >>> scorer
    CompatibilityScorer(negative_flip_rate, h1=LogisticRegression, greater_is_better=False)
    >>> round(scorer(h2, X, y), 4)  # minus the share of samples h2 breaks
    -0.2533
    """  # noqa: E501

    def __init__(
        self,
        score_func: Callable[..., float],
        h1: Any = None,
        zero_division: str | float | None = None,
        *,
        greater_is_better: bool = True,
        average: str = "micro",
    ) -> None:
        if average not in ("micro", "macro", "samples"):
            raise ValueError(
                f"average must be 'micro', 'macro' or 'samples' for a scorer, got "
                f"{average!r}: a scorer returns one number (average=None, one "
                "score per label, is for bcsk.metrics' functions)."
            )
        parameters = _parameters(score_func)
        if parameters is not None and not (
            {"h1_pred", "h2_pred"} <= set(parameters)
            or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        ):
            name = getattr(score_func, "__name__", repr(score_func))
            raise TypeError(
                f"score_func must be called as score_func(y_true, *, h1_pred, "
                f"h2_pred), as the functions of bcsk.metrics are; {name} takes "
                f"({', '.join(parameters)}). For BTC and BEC (bcsk.scores' order), "
                "use btc_scorer and bec_scorer, or make_btc_scorer(h1) and "
                "make_bec_scorer(h1)."
            )
        self.score_func = score_func
        self.h1 = h1
        self.zero_division = zero_division
        self.greater_is_better = greater_is_better
        self.average = average

    def _kwargs(self) -> dict[str, Any]:
        parameters = _parameters(self.score_func)
        if parameters is None:
            return {}
        kwargs: dict[str, Any] = {}
        if "average" in parameters:
            kwargs["average"] = self.average
        if "zero_division" in parameters:
            zero_division = self.zero_division
            if zero_division is None:
                zero_division = 1.0 if self.greater_is_better else 0.0
            kwargs["zero_division"] = zero_division
        return kwargs

    def __call__(self, estimator, X, y, *, h1_pred=None, h1_proba=None) -> float:
        """Score ``estimator`` (h2) against h1 on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier
            h2.
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            True labels.
        h1_pred : array-like of shape (n_samples,), optional
            h1's logged labels on ``X``; h1 is then not called.
        h1_proba : array-like of shape (n_samples, n_classes), optional
            h1's logged probabilities on ``X`` (columns in the order of
            ``estimator.classes_``); h1's labels are their most probable class.

        Returns
        -------
        float
        """
        h1_labels = _h1_labels(self.h1, estimator, X, y, h1_pred, h1_proba)
        logged = None if h1_pred is None and h1_proba is None else h1_labels
        value = float(
            self.score_func(
                np.asarray(y),
                h1_pred=h1_labels,
                h2_pred=_h2_predict(estimator, X, logged),
                **self._kwargs(),
            )
        )
        # "+ 0.0" turns the -0.0 of a negated zero into 0.0.
        return (value if self.greater_is_better else -value) + 0.0

    def __repr__(self) -> str:
        source = "estimator.h1" if self.h1 is None else type(self.h1).__name__
        name = getattr(self.score_func, "__name__", repr(self.score_func))
        sign = "" if self.greater_is_better else ", greater_is_better=False"
        if self.average != "micro":
            sign += f", average={self.average!r}"
        return f"CompatibilityScorer({name}, h1={source}{sign})"


btc_scorer = CompatibilityScorer(_backward_trust_compatibility)
"""Scorer for BTC (backward trust compatibility), h1 taken from the estimator."""

bec_scorer = CompatibilityScorer(_backward_error_compatibility)
"""Scorer for BEC (backward error compatibility), h1 taken from the estimator."""

neg_nfr_scorer = CompatibilityScorer(
    metrics.negative_flip_rate, greater_is_better=False
)
"""Scorer for minus the negative flip rate, h1 taken from the estimator."""

pfr_scorer = CompatibilityScorer(metrics.positive_flip_rate)
"""Scorer for the positive flip rate, h1 taken from the estimator."""

neg_nfi_scorer = CompatibilityScorer(
    metrics.negative_flip_impact, greater_is_better=False
)
"""Scorer for minus the negative flip impact, h1 taken from the estimator."""

neg_relative_nfr_scorer = CompatibilityScorer(
    metrics.relative_negative_flip_rate, greater_is_better=False
)
"""Scorer for minus the relative negative flip rate, h1 taken from the estimator."""


def make_btc_scorer(
    h1, *, zero_division=1.0, average: str = "micro"
) -> CompatibilityScorer:
    """Build a BTC scorer for any classifier against a given h1.

    Parameters
    ----------
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model; it receives X as passed to the scorer. A Keras or
        callable h1 is read in the order of the scored estimator's ``classes_``.
    zero_division : float or "warn", default=1.0
        Score when h1 is never right; see :class:`CompatibilityScorer`.
    average : {"micro", "macro", "samples"}, default="micro"
        Pooling of a multilabel y's (sample, label) cells; see
        :class:`CompatibilityScorer`.

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
    if h1 is not None:
        _h1.h1_kind(h1)
    return CompatibilityScorer(
        _backward_trust_compatibility, h1, zero_division, average=average
    )


def make_bec_scorer(
    h1, *, zero_division=1.0, average: str = "micro"
) -> CompatibilityScorer:
    """Build a BEC scorer for any classifier against a given h1.

    Parameters
    ----------
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model; see :func:`make_btc_scorer`.
    zero_division : float or "warn", default=1.0
        Score when h2 is never wrong; see :class:`CompatibilityScorer`.
    average : {"micro", "macro", "samples"}, default="micro"
        Pooling of a multilabel y's (sample, label) cells; see
        :class:`CompatibilityScorer`.

    Returns
    -------
    CompatibilityScorer
    """
    if h1 is not None:
        _h1.h1_kind(h1)
    return CompatibilityScorer(
        _backward_error_compatibility, h1, zero_division, average=average
    )


# key -> (metric, greater is better, value from the region counts). The
# undefined ratios get the metric's best value, as CompatibilityScorer's
# zero_division=None does.
_METRICS: dict[str, tuple[Callable[..., float], bool, Callable]] = {
    "btc": (
        _backward_trust_compatibility,
        True,
        lambda c: scores._btc_from_counts(c, 1.0),
    ),
    "bec": (
        _backward_error_compatibility,
        True,
        lambda c: scores._bec_from_counts(c, 1.0),
    ),
    "neg_nfr": (metrics.negative_flip_rate, False, metrics._nfr_from_counts),
    "pfr": (metrics.positive_flip_rate, True, metrics._pfr_from_counts),
    "neg_nfi": (
        metrics.negative_flip_impact,
        False,
        lambda c: metrics._nfi_from_counts(c, 0.0),
    ),
    "neg_relative_nfr": (
        metrics.relative_negative_flip_rate,
        False,
        lambda c: metrics._relative_nfr_from_counts(c, 0.0),
    ),
}


class MultimetricCompatibilityScorer(_RoutedScorer, Mapping):
    """Accuracy and every compatibility metric from one prediction per model.

    Build it with :func:`compatibility_scoring`. Called by a search or a
    cross-validation as ``scorer(estimator, X, y)``, it returns a dict of
    scores (scikit-learn's "callable returning a dictionary" form of
    ``scoring``): ``estimator.predict`` (h2) and h1 each run once, however many
    metrics are reported.

    It is also a read-only mapping from each key to its single-metric scorer
    (``"accuracy"`` maps to scikit-learn's ``"accuracy"``), so that
    ``cross_val_score(clf, X, y, scoring=scoring["btc"])`` and
    ``{**scoring, "f1": "f1_macro"}`` work; a plain dict built this way calls
    each scorer, and so each model, once per metric.

    Parameters
    ----------
    h1 : object, optional
        Score against this h1; by default h1 is taken from the estimator.

    Attributes
    ----------
    h1 : object or None
        The ``h1`` parameter.
    """

    def __init__(self, h1: Any = None) -> None:
        self.h1 = h1

    def __call__(
        self, estimator, X, y, *, h1_pred=None, h1_proba=None
    ) -> dict[str, float]:
        """Score ``estimator`` (h2) against h1 on ``(X, y)``, every metric at once.

        Parameters
        ----------
        estimator, X, y, h1_pred, h1_proba
            As for :meth:`CompatibilityScorer.__call__`: with ``h1_pred`` or
            ``h1_proba`` (h1's logged outputs on ``X``), h1 is not called.

        Returns
        -------
        dict
            One float per key of this mapping; greater is better for each.
            For a multilabel ``y`` every (sample, label) cell counts once
            (``average="micro"``), ``"accuracy"`` included: the share of
            cells right, ``1 - hamming_loss``.
        """
        h1_labels = _h1_labels(self.h1, estimator, X, y, h1_pred, h1_proba)
        logged = None if h1_pred is None and h1_proba is None else h1_labels
        y_true, h1_pred, h2_pred = _labels.check_label_arrays(
            (np.asarray(y), h1_labels, _h2_predict(estimator, X, logged)),
            ("y", "h1's predictions", "estimator.predict(X)"),
            multi=True,
        )
        # A multilabel y: every (sample, label) cell counts once (micro), so
        # "accuracy" here is the share of cells right (1 - Hamming loss).
        counts: RegionCounts = _labels.region_counts(
            _labels.equal(h1_pred, y_true), _labels.equal(h2_pred, y_true)
        )
        results = {
            "accuracy": (counts.both_right + counts.fixed_errors) / counts.n_samples
        }
        for key, (_, greater_is_better, from_counts) in _METRICS.items():
            value = float(from_counts(counts))
            results[key] = (value if greater_is_better else -value) + 0.0
        return results

    def __getitem__(self, key: str) -> CompatibilityScorer | str:
        if key == "accuracy":
            return "accuracy"
        if key not in _METRICS:
            raise KeyError(key)
        score_func, greater_is_better, _ = _METRICS[key]
        scorer = CompatibilityScorer(
            score_func, self.h1, greater_is_better=greater_is_better
        )
        if "_metadata_request" in self.__dict__:  # the same requests as this one
            scorer._metadata_request = self._score_request(scorer)
        return scorer

    def __iter__(self) -> Iterator[str]:
        return iter(["accuracy", *_METRICS])

    def __len__(self) -> int:
        return 1 + len(_METRICS)

    def __repr__(self) -> str:
        source = "estimator.h1" if self.h1 is None else type(self.h1).__name__
        return f"MultimetricCompatibilityScorer({list(self)}, h1={source})"

    def _routing_repr(self) -> str:
        source = "" if self.h1 is None else type(self.h1).__name__
        return f"compatibility_scoring({source})"


def compatibility_scoring(h1: Any = None) -> MultimetricCompatibilityScorer:
    """Multi-metric scoring: accuracy and the compatibility metrics.

    The keys, as in ``cv_results_`` (``mean_test_<key>``) and for ``refit=``:

    ====================  ====================================================
    key                   metric (greater is better for every key)
    ====================  ====================================================
    ``accuracy``          h2's accuracy
    ``btc``               backward trust compatibility
    ``bec``               backward error compatibility
    ``neg_nfr``           minus the negative flip rate (new errors / samples)
    ``pfr``               positive flip rate (fixed errors / samples)
    ``neg_nfi``           minus the negative flip impact
    ``neg_relative_nfr``  minus the relative negative flip rate
    ====================  ====================================================

    Parameters
    ----------
    h1 : object, optional
        Score against this h1; by default h1 is taken from the estimator, or,
        when routed (``set_score_request(h1_pred=True)``), from h1's logged
        labels on each test fold.

    Returns
    -------
    MultimetricCompatibilityScorer
        For ``scoring=`` of ``GridSearchCV`` or ``cross_validate``: it predicts
        with h2 and with h1 once per fold for all the metrics. An undefined
        ratio gets the metric's best value (see
        :class:`CompatibilityScorer`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::4], y[::4])
    >>> results = cross_validate(
    ...     DecisionTreeClassifier(random_state=0), X, y, cv=3,
    ...     scoring=compatibility_scoring(h1),
    ... )
    >>> sorted(k for k in results if k.startswith("test_"))  # doctest: +NORMALIZE_WHITESPACE
    ['test_accuracy', 'test_bec', 'test_btc', 'test_neg_nfi', 'test_neg_nfr',
     'test_neg_relative_nfr', 'test_pfr']
    """  # noqa: E501
    if h1 is not None:
        _h1.h1_kind(h1)
    return MultimetricCompatibilityScorer(h1)


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

    return _MostAccurateWithBTC(min_btc, accuracy_key, btc_key)


class _MostAccurateWithBTC:
    """The rule :func:`best_accuracy_with_btc_at_least` returns.

    A class rather than a closure so that a fitted search holding it as
    ``refit`` pickles.
    """

    def __init__(self, min_btc: float, accuracy_key: str, btc_key: str) -> None:
        self.min_btc = min_btc
        self.accuracy_key = accuracy_key
        self.btc_key = btc_key
        self.__name__ = f"best_accuracy_with_btc_at_least_{min_btc}"

    def __call__(self, cv_results: Mapping) -> int:
        try:
            accuracy = np.asarray(cv_results[self.accuracy_key], dtype=float)
            btc = np.asarray(cv_results[self.btc_key], dtype=float)
        except KeyError as missing:
            raise KeyError(
                f"cv_results_ has no {missing}: score with "
                "scoring=compatibility_scoring() (or pass accuracy_key/btc_key)."
            ) from None
        eligible = np.flatnonzero(np.nan_to_num(btc, nan=-1.0) >= self.min_btc)
        if eligible.size == 0:
            best = int(np.nanargmax(btc))
            warnings.warn(
                f"No candidate reaches BTC >= {self.min_btc} (the highest mean BTC "
                f"is {btc[best]:.4f}); refitting the most compatible candidate.",
                UserWarning,
                stacklevel=2,
            )
            return best
        return int(eligible[np.argmax(accuracy[eligible])])

    def __repr__(self) -> str:
        return f"best_accuracy_with_btc_at_least({self.min_btc!r})"


# -- refit rules that read the new errors ------------------------------------------

# Mean CV scores are means of multiples of 1/n_test: values equal on paper can
# differ in the last bits, so comparisons allow this much (as bcsk.gate does).
_SLACK = 1e-12


def _param_column(cv_results: Mapping, name: str) -> str | None:
    """The ``cv_results_`` key of parameter ``name``, or None when there is none.

    ``param_<name>``, else the one ``param_<step>__<name>`` of a Pipeline step;
    with several such columns it is unknown which one counts, so none does.
    """
    if f"param_{name}" in cv_results:
        return f"param_{name}"
    steps = [
        key
        for key in cv_results
        if isinstance(key, str)
        and key.startswith("param_")
        and key.endswith(f"__{name}")
    ]
    return steps[0] if len(steps) == 1 else None


def _param_values(cv_results: Mapping, name: str, n: int, default: float):
    """Parameter ``name`` of each candidate as floats; ``default`` where unset.

    A missing column, a masked entry (a candidate of a list-of-grids search
    that did not set it), None or a value that is not a number all count as
    ``default``.
    """
    values = np.full(n, default, dtype=float)
    key = _param_column(cv_results, name)
    if key is None:
        return values
    column = cv_results[key]
    mask, data = np.ma.getmaskarray(column), np.ma.getdata(column)
    if len(data) != n:
        raise ValueError(
            f"cv_results_[{key!r}] has {len(data)} entries but there are {n} "
            "candidates; pass the cv_results_ of one search."
        )
    for i, (masked, value) in enumerate(zip(mask.tolist(), data.tolist(), strict=True)):
        if masked or isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        if not np.isnan(value):
            values[i] = float(value)
    return values


def _simplest(cv_results: Mapping, candidates: np.ndarray, n: int) -> int:
    """The simplest of ``candidates`` (indices into the rows of ``cv_results``).

    Plain (``lambda_c == 0``) before trained, then fewer ``n_members``, then
    smaller ``lambda_c``, then smaller ``flip_cost``, then the earlier row. An
    unknown ``lambda_c`` ranks after every known one (so when no candidate has
    one, the key is the same for all); ``n_members`` and ``flip_cost`` default
    to 1.
    """
    lambda_c = _param_values(cv_results, "lambda_c", n, np.nan)
    trained = ~(lambda_c == 0)  # unknown counts as "not known to be plain"
    lambda_c = np.where(np.isnan(lambda_c), np.inf, lambda_c)
    members = _param_values(cv_results, "n_members", n, 1.0)
    flip_cost = _param_values(cv_results, "flip_cost", n, 1.0)
    keys = (trained, members, lambda_c, flip_cost)
    # lexsort sorts by its last key first.
    order = np.lexsort((candidates, *(key[candidates] for key in reversed(keys))))
    return int(candidates[order[0]])


class _RefitRule:
    """A picklable ``refit(cv_results) -> index`` that reads accuracy and NFR.

    Subclasses give each candidate a score (greater is better) and say which
    candidates may be chosen; the best score wins, and the candidates within
    ``_SLACK`` of it are tied and go to :func:`_simplest`.
    """

    _factory = ""  # the public function that builds the rule

    def __init__(self, accuracy_key: str, nfr_key: str) -> None:
        self.accuracy_key = accuracy_key
        self.nfr_key = nfr_key

    def _rule(self, accuracy: np.ndarray, neg_nfr: np.ndarray, valid: np.ndarray):
        """``(score, eligible, slack)`` from the defined (``valid``) candidates."""
        raise NotImplementedError

    def _arguments(self) -> str:
        raise NotImplementedError

    def __call__(self, cv_results: Mapping) -> int:
        """Index of the chosen candidate in ``cv_results`` (``cv_results_``).

        Parameters
        ----------
        cv_results : dict
            A search's ``cv_results_``, with ``accuracy_key`` and ``nfr_key``
            (and, for the ties, ``param_lambda_c``, ``param_n_members`` and
            ``param_flip_cost`` where present).

        Returns
        -------
        int
        """
        try:
            accuracy = np.asarray(cv_results[self.accuracy_key], dtype=float)
            neg_nfr = np.asarray(cv_results[self.nfr_key], dtype=float)
        except KeyError as missing:
            raise KeyError(
                f"cv_results_ has no {missing}: score with "
                "scoring=compatibility_scoring() (its keys are accuracy, btc, bec, "
                "neg_nfr, ...), or pass accuracy_key/nfr_key to "
                f"{self._factory}."
            ) from None
        if accuracy.shape != neg_nfr.shape or accuracy.ndim != 1:
            raise ValueError(
                f"cv_results_[{self.accuracy_key!r}] and cv_results_"
                f"[{self.nfr_key!r}] must hold one value per candidate; got shapes "
                f"{accuracy.shape} and {neg_nfr.shape}."
            )
        valid = np.isfinite(accuracy) & np.isfinite(neg_nfr)
        if not valid.any():
            raise ValueError(
                f"No candidate has both a {self.accuracy_key} and a {self.nfr_key} "
                f"(they are NaN for all {accuracy.size} candidates), so "
                f"{self._factory} has nothing to choose from. A search scores NaN "
                "where a fit or a score failed (error_score=np.nan): look at its "
                "warnings, or pass error_score='raise' to see the error."
            )
        score, eligible, slack = self._rule(accuracy, neg_nfr, valid)
        eligible &= valid
        best = np.max(score[eligible])
        tied = np.flatnonzero(eligible & (score >= best - slack))
        return _simplest(cv_results, tied, accuracy.size)

    def __repr__(self) -> str:
        keys = ""
        if self.accuracy_key != "mean_test_accuracy":
            keys += f", accuracy_key={self.accuracy_key!r}"
        if self.nfr_key != "mean_test_neg_nfr":
            keys += f", nfr_key={self.nfr_key!r}"
        return f"{self._factory}({self._arguments()}{keys})"


class _FewestNewErrorsWithin(_RefitRule):
    r"""Refit rule: the fewest new errors within an accuracy budget.

    With :math:`a_i` the mean CV accuracy of candidate :math:`i`,
    :math:`\mathrm{NFR}_i` its mean negative flip rate and :math:`b` the
    budget, it returns

    .. math::

        \hat\imath = \operatorname*{arg\,min}_{i \,:\, a_i \ge \max_j a_j - b}
        \mathrm{NFR}_i ,

    ties going to the simplest candidate. Built by
    :func:`fewest_new_errors_within`.
    """

    _factory = "fewest_new_errors_within"

    def __init__(self, accuracy_budget: float, accuracy_key: str, nfr_key: str):
        super().__init__(accuracy_key, nfr_key)
        self.accuracy_budget = accuracy_budget
        self.__name__ = f"fewest_new_errors_within_{accuracy_budget}"

    def _rule(self, accuracy, neg_nfr, valid):
        floor = np.max(accuracy[valid]) - self.accuracy_budget - _SLACK
        return neg_nfr, accuracy >= floor, _SLACK

    def _arguments(self) -> str:
        return f"accuracy_budget={self.accuracy_budget!r}"


class _LowestUpdateCost(_RefitRule):
    r"""Refit rule: the fewest expected errors when a new error counts more.

    With :math:`a_i` the mean CV accuracy of candidate :math:`i`,
    :math:`\mathrm{NFR}_i` its mean negative flip rate and :math:`c` the cost
    of a new error, it returns

    .. math::

        \hat\imath = \operatorname*{arg\,max}_i \; a_i - (c - 1)\,\mathrm{NFR}_i ,

    ties going to the simplest candidate. Built by :func:`lowest_update_cost`.
    """

    _factory = "lowest_update_cost"

    def __init__(self, new_error_cost: float, accuracy_key: str, nfr_key: str):
        super().__init__(accuracy_key, nfr_key)
        self.new_error_cost = new_error_cost
        self.__name__ = f"lowest_update_cost_{new_error_cost}"

    def _rule(self, accuracy, neg_nfr, valid):
        # neg_nfr holds -NFR. The slack grows with the factor that scales NFR.
        score = accuracy + (self.new_error_cost - 1) * neg_nfr
        return score, valid.copy(), _SLACK * self.new_error_cost

    def _arguments(self) -> str:
        return f"new_error_cost={self.new_error_cost!r}"


def fewest_new_errors_within(
    accuracy_budget: float = 0.005,
    *,
    accuracy_key: str = "mean_test_accuracy",
    nfr_key: str = "mean_test_neg_nfr",
) -> Callable[[Mapping], int]:
    r"""A ``refit=`` rule: the fewest new errors, losing at most ``accuracy_budget``.

    Among the candidates whose mean CV accuracy is at least the best mean CV
    accuracy minus ``accuracy_budget``, it chooses the one with the lowest
    mean negative flip rate (the share of samples h1 gets right and the
    candidate gets wrong):

    .. math::

        \hat\imath = \operatorname*{arg\,min}_{i \,:\, a_i \ge \max_j a_j - b}
        \mathrm{NFR}_i .

    The most accurate candidate always qualifies, so one is always chosen.

    Parameters
    ----------
    accuracy_budget : float, default=0.005
        :math:`b`, the mean CV accuracy (a fraction: 0.005 is half a point)
        that may be given up for fewer new errors, in ``[0, 1]``. 0 keeps the
        most accurate candidates only; 1 takes the fewest new errors whatever
        the accuracy.
    accuracy_key, nfr_key : str
        Keys of ``cv_results_`` holding the mean accuracy and minus the mean
        negative flip rate (the defaults match :func:`compatibility_scoring`).

    Returns
    -------
    callable
        ``refit(cv_results) -> index`` for ``GridSearchCV(refit=...)``,
        :class:`~bcsk.BCCompatibleClassifierCV` and
        :class:`~bcsk.CompatibleUpdateClassifierCV`. It pickles with the search.
        Ties go to the simplest candidate: plain (``lambda_c == 0``) before
        trained, then fewer ``n_members``, then smaller ``lambda_c``, then
        smaller ``flip_cost``, then the candidate listed first. They are read
        from ``param_lambda_c`` (or the one ``param_<step>__lambda_c`` of a
        Pipeline), ``param_n_members`` and ``param_flip_cost``; where a column
        is missing or an entry masked, ``n_members`` and ``flip_cost`` count
        as 1 and ``lambda_c`` as unknown (after every known value).
        Candidates with a NaN score are never chosen.

    See Also
    --------
    lowest_update_cost : Trade accuracy for new errors at a given price.
    best_accuracy_with_btc_at_least : The most accurate candidate above a BTC.

    Examples
    --------
    The second candidate loses 0.3 points of accuracy and halves the new
    errors; the third loses too much:

    >>> refit = fewest_new_errors_within(0.005)
    >>> refit({"mean_test_accuracy": [0.950, 0.947, 0.930],
    ...        "mean_test_neg_nfr": [-0.040, -0.020, -0.005]})
    1
    >>> refit.__name__
    'fewest_new_errors_within_0.005'
    """
    if (
        isinstance(accuracy_budget, bool)
        or not isinstance(accuracy_budget, numbers.Real)
        or not 0 <= accuracy_budget <= 1  # False for NaN
    ):
        raise ValueError(
            "accuracy_budget must be a number in [0, 1], the mean CV accuracy (a "
            f"fraction) that may be given up for fewer new errors; got "
            f"{accuracy_budget!r}. For half a point, pass accuracy_budget=0.005."
        )
    return _FewestNewErrorsWithin(float(accuracy_budget), accuracy_key, nfr_key)


def lowest_update_cost(
    new_error_cost: float = 2.0,
    *,
    accuracy_key: str = "mean_test_accuracy",
    nfr_key: str = "mean_test_neg_nfr",
) -> Callable[[Mapping], int]:
    r"""A ``refit=`` rule: the fewest errors when a new error counts ``new_error_cost``.

    Every error costs 1, and an error on a sample h1 got right (a new error)
    costs ``new_error_cost``: the expected cost per sample of candidate
    :math:`i` is :math:`(1 - a_i) + (c - 1)\,\mathrm{NFR}_i`, so the rule
    chooses

    .. math::

        \hat\imath = \operatorname*{arg\,max}_i \; a_i - (c - 1)\,\mathrm{NFR}_i ,

    with :math:`a_i` the mean CV accuracy and :math:`\mathrm{NFR}_i` the mean
    negative flip rate.

    Parameters
    ----------
    new_error_cost : float, default=2.0
        :math:`c \ge 1`, finite: how many ordinary errors one new error is
        worth. 1 chooses the most accurate candidate; large values choose the
        fewest new errors.
    accuracy_key, nfr_key : str
        Keys of ``cv_results_`` holding the mean accuracy and minus the mean
        negative flip rate (the defaults match :func:`compatibility_scoring`).

    Returns
    -------
    callable
        ``refit(cv_results) -> index`` for ``GridSearchCV(refit=...)``,
        :class:`~bcsk.BCCompatibleClassifierCV` and
        :class:`~bcsk.CompatibleUpdateClassifierCV`. It pickles with the search.
        Ties go to the simplest candidate: plain (``lambda_c == 0``) before
        trained, then fewer ``n_members``, then smaller ``lambda_c``, then
        smaller ``flip_cost``, then the candidate listed first. They are read
        from ``param_lambda_c`` (or the one ``param_<step>__lambda_c`` of a
        Pipeline), ``param_n_members`` and ``param_flip_cost``; where a column
        is missing or an entry masked, ``n_members`` and ``flip_cost`` count
        as 1 and ``lambda_c`` as unknown (after every known value).
        Candidates with a NaN score are never chosen.

    See Also
    --------
    fewest_new_errors_within : The fewest new errors within an accuracy budget.
    best_accuracy_with_btc_at_least : The most accurate candidate above a BTC.

    Examples
    --------
    With a new error worth two errors, the scores are 0.95 - 0.04 = 0.91,
    0.94 - 0.02 = 0.92 and 0.90 - 0.00 = 0.90:

    >>> refit = lowest_update_cost(2.0)
    >>> refit({"mean_test_accuracy": [0.95, 0.94, 0.90],
    ...        "mean_test_neg_nfr": [-0.04, -0.02, 0.0]})
    1
    >>> lowest_update_cost(10.0)({"mean_test_accuracy": [0.95, 0.94, 0.90],
    ...                           "mean_test_neg_nfr": [-0.04, -0.02, 0.0]})
    2
    """
    if (
        isinstance(new_error_cost, bool)
        or not isinstance(new_error_cost, numbers.Real)
        or not 1 <= new_error_cost < np.inf  # False for NaN
    ):
        raise ValueError(
            "new_error_cost must be a finite number >= 1, how many ordinary errors "
            f"one new error is worth; got {new_error_cost!r}. For a new error that "
            "costs twice an ordinary one, pass new_error_cost=2.0; to minimise the "
            "new errors alone, use fewest_new_errors_within(1.0)."
        )
    return _LowestUpdateCost(float(new_error_cost), accuracy_key, nfr_key)
