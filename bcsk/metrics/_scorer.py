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
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import get_config
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.multiclass import type_of_target

from bcsk import _docstrings, _h1, _labels, scores
from bcsk._labels import RegionCounts
from bcsk.metrics import _flips
from bcsk.metrics._slices import _check_min_group_size, worst_group_new_error_rate

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
    "make_worst_group_nfr_scorer",
]


def _final_step(estimator, X=None):
    """The estimator inside searches and Pipelines, and the X it sees."""
    while True:
        if hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "steps"):  # a Pipeline: h1 sees transformed X
            if len(estimator.steps) > 1 and X is not None:
                X = estimator[:-1].transform(X)
            estimator = estimator.steps[-1][1]
        else:
            return estimator, X


def _reference_of(estimator, X):
    """Find the h1 the estimator was trained against and the X that h1 sees."""
    estimator, X = _final_step(estimator, X)
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


def _compared_rows(h1, estimator, y) -> np.ndarray | None:
    """Rows whose true class h1 knows, when h1 says its classes; else None.

    An h1 wrapped with :func:`bcsk.with_classes` cannot be right on a class it
    does not know: such a row can be neither a new error nor a kept answer,
    and counting it would inflate PFR and BEC and shrink NFR. The scores
    leave it out, as :func:`bcsk.compatibility_report` does.
    """
    if h1 is None:
        h1 = getattr(_final_step(estimator)[0], "h1", None)
    known = _h1.known_classes(h1)
    if known is None or np.ndim(y) != 1:
        return None
    rows = _labels.known_rows(np.asarray(y), known)
    if not rows.any():
        raise ValueError(
            f"No sample's true class is one h1 knows ({known}): there is "
            "nothing to compare h2 with h1 on. Score on rows of h1's classes."
        )
    return None if rows.all() else rows


def _labels_of(scorer_h1, estimator, X, y, h1_pred, h1_proba):
    """``(y, h1's labels, h2's labels, compared rows)`` on ``X``.

    The rows are those :func:`_compared_rows` keeps (None: every row).
    """
    h1_labels = np.asarray(_h1_labels(scorer_h1, estimator, X, y, h1_pred, h1_proba))
    logged = None if h1_pred is None and h1_proba is None else h1_labels
    y = np.asarray(y)
    return (
        y,
        h1_labels,
        _h2_predict(estimator, X, logged),
        _compared_rows(scorer_h1, estimator, y),
    )


def _compared(scorer_h1, estimator, X, y, h1_pred, h1_proba):
    """``(y, h1's labels, h2's labels, rows)`` on the rows the scores compare."""
    y, h1_labels, h2_labels, rows = _labels_of(
        scorer_h1, estimator, X, y, h1_pred, h1_proba
    )
    if rows is None:
        return y, h1_labels, h2_labels, None
    return y[rows], h1_labels[rows], h2_labels[rows], rows


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

    # What this scorer can be routed; the worst-group scorer adds user_groups.
    _score_metadata: tuple[str, ...] = _SCORE_METADATA

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
        unknown = sorted(set(kwargs) - set(self._score_metadata))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.set_score_request got {unknown}; this "
                f"scorer takes the metadata {list(self._score_metadata)} (h1's "
                "logged labels or probabilities on the scored rows"
                + (", the rows' user groups" if "user_groups" in kwargs else "")
                + ")."
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
        for param in self._score_metadata:
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


class _KeywordForm:
    """A score of :mod:`bcsk.scores` in the scorers' calling convention.

    bcsk.scores keeps BCML's positional order ``(h1, h2, y)``; the scorers call
    ``metric(y_true, h1_pred=..., h2_pred=...)``. An object rather than a
    closure, so that a scorer holding it pickles; its module-level names
    below are those bcsk 0.1 pickled.
    """

    def __init__(self, score: Callable, name: str) -> None:
        self.score = score
        self.__name__ = name

    def __call__(
        self,
        y_true: ArrayLike,
        *,
        h1_pred: ArrayLike,
        h2_pred: ArrayLike,
        zero_division: str | float = "warn",
        average: str | None = "micro",
    ) -> float:
        return self.score(
            h1_pred, h2_pred, y_true, zero_division=zero_division, average=average
        )

    def __reduce__(self):
        # Pickled by name, as the module-level functions of bcsk 0.1 were.
        return self.__name__

    def __repr__(self) -> str:
        return self.__name__


_backward_trust_compatibility = _KeywordForm(
    scores.trust_compatibility_score, "_backward_trust_compatibility"
)
_backward_error_compatibility = _KeywordForm(
    scores.error_compatibility_score, "_backward_error_compatibility"
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
        :func:`bcsk._flips.negative_flip_rate`); it receives
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
        :func:`bcsk._flips.negative_flip_rate` (``"micro"``: every cell
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
        y_true, h1_labels, h2_labels, _ = _compared(
            self.h1, estimator, X, y, h1_pred, h1_proba
        )
        value = float(
            self.score_func(
                y_true, h1_pred=h1_labels, h2_pred=h2_labels, **self._kwargs()
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

neg_nfr_scorer = CompatibilityScorer(_flips.negative_flip_rate, greater_is_better=False)
"""Scorer for minus the negative flip rate, h1 taken from the estimator."""

pfr_scorer = CompatibilityScorer(_flips.positive_flip_rate)
"""Scorer for the positive flip rate, h1 taken from the estimator."""

neg_nfi_scorer = CompatibilityScorer(
    _flips.negative_flip_impact, greater_is_better=False
)
"""Scorer for minus the negative flip impact, h1 taken from the estimator."""

neg_relative_nfr_scorer = CompatibilityScorer(
    _flips.relative_negative_flip_rate, greater_is_better=False
)
"""Scorer for minus the relative negative flip rate, h1 taken from the estimator."""


def _scorer_against(metric, h1, zero_division, average) -> CompatibilityScorer:
    """A scorer of ``metric`` against h1, checked now rather than when scoring."""
    if h1 is not None:
        _h1.h1_kind(h1)
    return CompatibilityScorer(metric, h1, zero_division, average=average)


# The docstring sections both factories share (see bcsk._docstrings).
_FACTORY_DOCS = dict(
    average_returns="""average : {"micro", "macro", "samples"}, default="micro"
    Pooling of a multilabel y's (sample, label) cells; see
    :class:`CompatibilityScorer`.

Returns
-------
CompatibilityScorer
""",
)


@_docstrings.fill(**_FACTORY_DOCS)
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
    %(average_returns)s
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
    return _scorer_against(_backward_trust_compatibility, h1, zero_division, average)


@_docstrings.fill(**_FACTORY_DOCS)
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
    %(average_returns)s
    """
    return _scorer_against(_backward_error_compatibility, h1, zero_division, average)


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
    "neg_nfr": (_flips.negative_flip_rate, False, _flips._nfr_from_counts),
    "pfr": (_flips.positive_flip_rate, True, _flips._pfr_from_counts),
    "neg_nfi": (
        _flips.negative_flip_impact,
        False,
        lambda c: _flips._nfi_from_counts(c, 0.0),
    ),
    "neg_relative_nfr": (
        _flips.relative_negative_flip_rate,
        False,
        lambda c: _flips._relative_nfr_from_counts(c, 0.0),
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
        *arrays, rows = _labels_of(self.h1, estimator, X, y, h1_pred, h1_proba)
        y_true, h1_pred, h2_pred = _labels.check_label_arrays(
            tuple(arrays),
            ("y", "h1's predictions", "estimator.predict(X)"),
            multi=True,
        )
        h1_correct = _labels.equal(h1_pred, y_true)
        h2_correct = _labels.equal(h2_pred, y_true)
        # A multilabel y: every (sample, label) cell counts once (micro), so
        # "accuracy" here is the share of cells right (1 - Hamming loss). It
        # is over every row, the classes an h1 lacks included: it stays what
        # scikit-learn's accuracy scorer says.
        results = {"accuracy": float(np.mean(h2_correct))}
        if rows is not None:
            h1_correct, h2_correct = h1_correct[rows], h2_correct[rows]
        counts: RegionCounts = _labels.region_counts(h1_correct, h2_correct)
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


# -- the worst group ----------------------------------------------------------------


class _WorstGroupNFRScorer(CompatibilityScorer):
    """Minus the worst group's new-error rate; built by make_worst_group_nfr_scorer."""

    _score_metadata = (*_SCORE_METADATA, "user_groups")

    def __init__(self, h1: Any = None, *, min_group_size: int = 1) -> None:
        super().__init__(worst_group_new_error_rate, h1, greater_is_better=False)
        self.min_group_size = min_group_size

    def __call__(
        self, estimator, X, y, *, h1_pred=None, h1_proba=None, user_groups=None
    ) -> float:
        """Minus the highest new-error rate of the groups of ``user_groups``.

        Parameters
        ----------
        estimator, X, y, h1_pred, h1_proba
            As for :meth:`CompatibilityScorer.__call__`.
        user_groups : array-like of shape (n_samples,)
            A group label per row of ``X``, routed by a search after
            ``set_score_request(user_groups=True)``.

        Returns
        -------
        float
        """
        if user_groups is None:
            raise ValueError(
                "The worst-group scorer needs each row's group: enable metadata "
                "routing (sklearn.set_config(enable_metadata_routing=True)), call "
                "scorer.set_score_request(user_groups=True) and pass user_groups= "
                "to the search's fit (or to the scorer)."
            )
        y_true, h1_labels, h2_labels, rows = _compared(
            self.h1, estimator, X, y, h1_pred, h1_proba
        )
        if rows is not None:
            user_groups = np.asarray(user_groups)[rows]
        value = self.score_func(
            y_true,
            h1_pred=h1_labels,
            h2_pred=h2_labels,
            groups=user_groups,
            min_group_size=self.min_group_size,
        )
        return -float(value) + 0.0

    def __repr__(self) -> str:
        source = "" if self.h1 is None else f"h1={type(self.h1).__name__}, "
        return (
            f"make_worst_group_nfr_scorer({source}"
            f"min_group_size={self.min_group_size!r})"
        )


def make_worst_group_nfr_scorer(
    h1: Any = None, *, min_group_size: int = 1
) -> CompatibilityScorer:
    """Build a scorer of minus the worst group's new-error rate.

    The group labels reach the scorer through scikit-learn's metadata
    routing, as ``h1_pred`` does, under the name ``user_groups``: not
    ``groups``, which the group splitters (``GroupKFold``, ...) already
    consume. The groups that keep folds apart (patients, sessions) and the
    groups of users an update must not hurt (countries, clients) are seldom
    the same; to pass one array to both, alias it:
    ``set_score_request(user_groups="groups")``.

    Parameters
    ----------
    h1 : object, optional
        Score against this h1; by default h1 is taken from the estimator
        (see :class:`CompatibilityScorer`), or from logged labels routed as
        ``h1_pred``.
    min_group_size : int, default=1
        Groups of a test fold with fewer rows are left out (see
        :func:`~bcsk.metrics.worst_group_new_error_rate`). A test fold holds
        about ``1 / n_splits`` of each group.

    Returns
    -------
    CompatibilityScorer
        A fresh scorer (greater is better: minus the rate), to route with
        ``set_score_request(user_groups=True)``. For a refit rule to bound
        it, put it under the key ``"neg_worst_group_nfr"`` of a scoring dict
        and pass ``max_worst_group_nfr=`` to
        :func:`~bcsk.model_selection.fewest_new_errors_within` or
        :func:`~bcsk.model_selection.lowest_update_cost`.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::4], y[::4])
    >>> user_groups = np.arange(len(y)) % 3
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scorer = make_worst_group_nfr_scorer(h1).set_score_request(
    ...         user_groups=True
    ...     )
    ...     scores = cross_val_score(
    ...         LogisticRegression(max_iter=200), X, y, cv=3, scoring=scorer,
    ...         params={"user_groups": user_groups},
    ...     )
    >>> bool(((-1 <= scores) & (scores <= 0)).all())
    True
    """
    _check_min_group_size(min_group_size)
    if h1 is not None:
        _h1.h1_kind(h1)
    return _WorstGroupNFRScorer(h1, min_group_size=min_group_size)
