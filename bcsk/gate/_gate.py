"""The update gate as scikit-learn classifiers, and its cross-validated cost.

:class:`CompatibleUpdateClassifier` serves h2 behind the rule of
:mod:`bcsk.gate._predictions`; :class:`CompatibleUpdateClassifierCV` chooses
``flip_cost`` by cross-validation, evaluating a whole grid of costs on each
fold's held-out predictions (one fit of h2 per fold). No TensorFlow is
imported here (a Keras h1 imports it when h1 is first called).
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
from scipy.stats import rankdata
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
    check_array,
    check_is_fitted,
    indexable,
)

from bcsk import _h1
from bcsk._progress import FoldProgress
from bcsk.gate._predictions import (
    _FLIP_COST_HINT,
    DEFAULT_FLIP_COSTS,
    _as_labels,
    _check_flip_cost,
    _check_label_proba,
    _check_proba,
    _gate_cells,
    _gate_indices,
    _gate_outputs_per_column,
    _path_scores,
    _positions,
)

__all__ = ["CompatibleUpdateClassifier", "CompatibleUpdateClassifierCV"]

# fit checks h1 on this many training rows (that it runs on X and that its
# labels are labels of y), not on all of them: the gate is meant to be cheap.
_H1_PROBE_ROWS = 1000

# Mean CV accuracies are means of multiples of 1/n_test: compare with slack.
_ACCURACY_SLACK = 1e-12

_ESTIMATOR_HINT = (
    "The gate compares h2's probabilities for its own label and for h1's, so h2 "
    "needs predict_proba. For a classifier without it, calibrate it: "
    "sklearn.calibration.CalibratedClassifierCV(h2) (or, for SVC, "
    "SVC(probability=True))."
)
_PARAMETER_HINTS = {
    "flip_cost": _FLIP_COST_HINT,
    "estimator": _ESTIMATOR_HINT,
    "max_accuracy_drop": (
        "max_accuracy_drop is the accuracy (a fraction, 0.005 = half a point) the "
        "gate may lose against h2 alone (flip_cost=1) in cross-validation."
    ),
    "cv": (
        "Pass a number of folds, a splitter, an iterable of (train, test) "
        "indices, or 'prefit' to tune a fitted h2 on held-out data."
    ),
    "refit": (
        "refit chooses the flip cost from cv_results_: pass a callable "
        "cv_results -> index, such as "
        "bcsk.model_selection.fewest_new_errors_within(0.005) or "
        "bcsk.model_selection.lowest_update_cost(2.0), or None for the "
        "max_accuracy_drop rule."
    ),
}


def _gate_outputs(estimator, X, h1_pred=None) -> tuple:
    """h1's labels, h2's probabilities, the classes and the cost of a fitted gate.

    ``estimator`` is a gate, a Pipeline ending in one, or a fitted
    :class:`CompatibleUpdateClassifierCV`; h1 and h2 each run once on ``X``
    (h1 not at all when its logged labels ``h1_pred`` are given).
    """
    while True:
        if isinstance(estimator, CompatibleUpdateClassifierCV):
            check_is_fitted(estimator, "best_estimator_")
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "steps"):  # a Pipeline: the gate sees transformed X
            if len(estimator.steps) > 1:
                X = estimator[:-1].transform(X)
            estimator = estimator.steps[-1][1]
        else:
            break
    if not isinstance(estimator, CompatibleUpdateClassifier):
        raise TypeError(
            "Expected a fitted CompatibleUpdateClassifier (alone, as the last step "
            "of a Pipeline, or a CompatibleUpdateClassifierCV); got "
            f"{type(estimator).__name__}. For other models, use from_predictions "
            "with h1's labels and h2's predict_proba."
        )
    check_is_fitted(estimator, "estimator_")
    if getattr(estimator, "multioutput_", False):
        raise ValueError(
            "This gate decides a multi-output y (one label per sample and "
            "output); the flip-cost curve takes one label per sample. Draw it "
            "per output with from_predictions, from h1's and h2's column k."
        )
    classes = np.asarray(estimator.classes_)
    h1_pred = estimator._h1_labels(X, h1_pred, classes)
    return h1_pred, estimator.predict_proba(X), classes, estimator.flip_cost


# -- the estimators ---------------------------------------------------------------


class _BaseGate(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """What both gates share: h1 handling, h2's probabilities, clone, tags."""

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "h1": "no_validation",  # checked in fit, with bcsk's own messages
    }

    def _validate_params(self) -> None:
        # scikit-learn's message says what was expected; add how to fix it.
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            message = str(exc)
            for name, hint in _PARAMETER_HINTS.items():
                if f"The '{name}' parameter" in message:
                    raise InvalidParameterError(f"{message} {hint}") from None
            raise

    def __sklearn_clone__(self):
        return _h1.clone_sharing_h1(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = get_tags(self.estimator).input_tags.sparse
        return tags

    @property
    def classes_(self) -> np.ndarray:
        """h2's class labels (the gate's labels are drawn from them)."""
        return self.estimator_.classes_

    def predict_proba(self, X) -> np.ndarray:
        """h2's class probabilities; the gate changes labels, not probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as h2 receives them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def _check_h1_source(self, h1_pred) -> None:
        """A live h1 or h1's logged labels, not both, not neither; before h2 fits."""
        _h1.check_not_both(self.h1, None, h1_pred, type(self).__name__)
        if h1_pred is None:
            _h1.h1_kind(self.h1)  # a missing or unusable h1 fails before h2 trains

    def _h1_labels(self, X, h1_pred, classes) -> np.ndarray:
        """h1's labels on ``X``: the logged ``h1_pred`` if given, else h1's."""
        if getattr(self, "multioutput_", False):
            return self._h1_output_labels(X, h1_pred, classes)
        if getattr(self, "multilabel_", False):
            shape = (_num_samples(X), len(classes))
            if h1_pred is not None:
                return _h1._check_indicator(h1_pred, *shape, "h1_pred")
        if h1_pred is not None:
            return _h1.logged_labels(
                None, h1_pred, classes=classes, n_samples=_num_samples(X)
            )
        if self.h1 is None:
            raise ValueError(
                f"This {type(self).__name__} was fitted from h1's logged labels "
                "and holds no h1, so the gate needs h1's labels on these samples: "
                "pass them as predict(X, h1_pred=labels) (or set h1= a model "
                "that can run here)."
            )
        if getattr(self, "multilabel_", False):
            return _h1.multilabel_outputs(
                self.h1, _for_h1(X), len(classes), need_probabilities=False
            ).labels
        return _h1.h1_predict(self.h1, _for_h1(X), classes)

    def _h1_output_labels(self, X, h1_pred, classes) -> np.ndarray:
        """h1's labels of a multi-output y, shape ``(n_samples, n_outputs)``."""
        if h1_pred is not None:
            return _h1.checked_output_labels(
                h1_pred, classes, _num_samples(X), "h1_pred"
            )
        if self.h1 is None:
            raise ValueError(
                f"This {type(self).__name__} holds no h1: pass h1's labels as "
                "predict(X, h1_pred=labels), shape (n_samples, n_outputs)."
            )
        references = _h1.multioutput_outputs(
            self.h1, _for_h1(X), classes, need_probabilities=False
        )
        return np.column_stack([reference.labels for reference in references])

    def _finish_fit(self, estimator, X, h1_pred=None, y=None) -> None:
        """Check h1 against the fitted h2 on a few rows, then store h2."""
        # A multi-output h2 (one array of classes per output): the gate
        # decides each (sample, output) cell, each output as one label per
        # sample.
        self.multioutput_ = isinstance(estimator.classes_, list)
        classes = (
            estimator.classes_ if self.multioutput_ else np.asarray(estimator.classes_)
        )
        # A multilabel y: the gate decides each (sample, label) cell.
        self.multilabel_ = (
            not self.multioutput_
            and y is not None
            and type_of_target(y) == "multilabel-indicator"
        )
        if self.multilabel_ or self.multioutput_:
            self._h1_labels(X, h1_pred, classes)  # h1's layout must be y's
            self.estimator_ = estimator
            for name in ("n_features_in_", "feature_names_in_"):
                if hasattr(estimator, name):
                    setattr(self, name, getattr(estimator, name))
            return
        n_probe = min(_num_samples(X), _H1_PROBE_ROWS)
        probe = X
        if n_probe < _num_samples(X):
            (probe,) = indexable(X)  # sparse matrices become CSR, sliceable
            probe = _safe_indexing(probe, np.arange(n_probe))
        if h1_pred is not None:
            labels = self._h1_labels(X, h1_pred, classes)[:n_probe]
        else:
            labels = _h1.h1_predict(self.h1, _for_h1(probe), classes)
        known = None if h1_pred is not None else getattr(self.h1, "classes_", None)
        candidates = labels if known is None else np.asarray(known)
        if not (_positions(_as_labels(candidates, "h1's labels"), classes) >= 0).any():
            shown = ", ".join(
                repr(v) for v in list(dict.fromkeys(candidates.tolist()))[:10]
            )
            shown = f"[{shown}]"
            where = (
                f"predicts {shown} on the first {n_probe} training samples"
                if known is None
                else f"knows the classes {shown}"
            )
            raise ValueError(
                f"h1's labels share none with the classes of y {classes.tolist()}: "
                f"h1 {where}. h1 and y must use the same labels (same values and "
                "type, e.g. both the integers 0..9, or both strings)."
            )
        self.estimator_ = estimator
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))


def _for_h1(X):
    """``X`` as h1 receives it: as given, or as an array if it has no shape.

    A DataFrame keeps its columns; a list or an ``__array__`` object becomes
    an array (a Keras h1 and bcsk's h1 checks need a shape).
    """
    return X if hasattr(X, "shape") else np.asarray(X)


def _fit_params(fit_params: dict, sample_weight, estimator=None, h1_pred=None) -> dict:
    """h2's fit parameters, with ``sample_weight`` and h1's labels if it needs them.

    An h2 with ``h1=None`` whose ``fit`` takes ``h1_pred`` (a bcsk estimator
    trained from logged outputs) gets the gate's ``h1_pred`` unless it was
    given logged outputs of its own: the labels the gate keeps are the ones
    h2 learns to keep.
    """
    if sample_weight is not None:
        fit_params = {**fit_params, "sample_weight": sample_weight}
    if (
        h1_pred is not None
        and getattr(estimator, "h1", ...) is None
        and not {"h1_proba", "h1_pred"} & fit_params.keys()
        and "h1_pred" in inspect.signature(estimator.fit).parameters
    ):
        fit_params = {**fit_params, "h1_pred": h1_pred}
    return fit_params


class CompatibleUpdateClassifier(_BaseGate):
    """Serve h2, but keep h1's answer unless h2 is ``flip_cost`` times surer.

    A meta-estimator around the new model h2 (``estimator``) in the manner of
    :class:`sklearn.model_selection.FixedThresholdClassifier`: ``fit`` trains
    a clone of h2, ``predict`` applies the gate (:func:`gate_predictions`):
    h1's label ``y1`` unless ``p2(y2) > flip_cost * p2(y1)``, where ``y2`` is
    h2's most probable label. A tie keeps ``y1``; an h1 label h2 does not know
    gives ``y2``. ``predict_proba`` is h2's.

    Every negative flip of the gate (h1 right, gate wrong) is one of h2's own
    (h1 right, ``argmax`` of h2 wrong), and the flipped samples only shrink as
    ``flip_cost`` grows.

    Parameters
    ----------
    estimator : classifier with predict_proba
        The new model h2, cloned and fitted by ``fit``. Wrap an already
        trained h2 in :class:`sklearn.frozen.FrozenEstimator` to use it as it
        is (``fit`` then trains nothing).
    h1 : keras.Model, fitted scikit-learn classifier, callable or object with predict
        The old model: a Keras model or a callable ``X -> probabilities`` (one
        column per class of h2, in the order of ``classes_``), a fitted
        scikit-learn classifier, or any object whose ``predict`` returns
        labels (the rule needs only h1's labels). h1 receives the same ``X``
        as h2 (in a ``Pipeline``, the output of the preceding steps) and is
        never trained, modified, copied or cloned.
    flip_cost : float, default=2.0
        How many times more probable than h1's label h2's label must be to
        replace it; ``>= 1``. 1 serves h2's predictions (up to ties, see
        :func:`gate_predictions`); ``np.inf`` keeps every h1 label h2 knows.
        Use :class:`CompatibleUpdateClassifierCV` to choose it.

    Attributes
    ----------
    estimator_ : classifier
        The fitted h2.
    classes_ : ndarray of shape (n_classes,), or list of ndarray
        h2's class labels (one array per output for a multi-output h2).
    multilabel_ : bool
        Whether ``y`` was a multilabel indicator (gated per label).
    multioutput_ : bool
        Whether h2 is multi-output (gated per output).
    n_features_in_ : int
        Number of features seen by h2 during fit (if h2 records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen by h2 during fit (if h2 records them).

    See Also
    --------
    CompatibleUpdateClassifierCV : Chooses ``flip_cost`` by cross-validation.
    bcsk.metrics.FlipCostDisplay : Accuracy against negative flips per cost.
    bcsk.estimator.BCCompatibleClassifier : Compatibility at training time.

    Notes
    -----
    Serving the gate means serving both models: each prediction runs h1 and
    h2 (latency and memory of both), and h1 must be kept in service as long
    as the gate is. ``fit`` runs h1 on up to 1,000 training rows to check
    that it accepts ``X`` and that its labels are labels of ``y``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from bcsk.gate import CompatibleUpdateClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> h1 = LogisticRegression(max_iter=500).fit(X[:200], y[:200])
    >>> h2 = LogisticRegression(max_iter=500)
    >>> gate = CompatibleUpdateClassifier(h2, h1=h1, flip_cost=3.0)
    >>> gate.fit(X[200:1200], y[200:1200]).predict(X[1200:1205]).shape
    (5,)

    New errors (h1 right, the served model wrong) of h2 alone and of the gate:

    >>> X_test, y_test = X[1200:], y[1200:]
    >>> h1_right = h1.predict(X_test) == y_test
    >>> plain = (h1_right & (gate.estimator_.predict(X_test) != y_test)).sum()
    >>> gated = (h1_right & (gate.predict(X_test) != y_test)).sum()
    >>> bool(gated <= plain)
    True
    """

    _parameter_constraints: dict = {
        **_BaseGate._parameter_constraints,
        "flip_cost": [Interval(Real, 1, None, closed="both")],
    }

    def __init__(self, estimator, *, h1=None, flip_cost: float = 2.0) -> None:
        self.estimator = estimator
        self.h1 = h1
        self.flip_cost = flip_cost

    @_fit_context(
        # estimator (h2) is not validated here; its own fit validates itself.
        prefer_skip_nested_validation=False
    )
    def fit(
        self, X, y, sample_weight=None, *, h1_pred=None, **fit_params
    ) -> CompatibleUpdateClassifier:
        """Fit a clone of h2 (a ``FrozenEstimator`` is used as it is).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to h2's ``fit`` when given.
        h1_pred : array-like of shape (n_samples,), optional
            h1's logged labels on ``X``, with ``h1=None`` (h1 cannot run
            here); only checked (they must share labels with ``y``). The
            fitted gate then needs ``predict(X, h1_pred=...)``.
        **fit_params : dict
            Passed to h2's ``fit``.

        Returns
        -------
        self
        """
        self._check_h1_source(h1_pred)
        estimator = clone(self.estimator)
        estimator.fit(
            X, y, **_fit_params(fit_params, sample_weight, estimator, h1_pred)
        )
        self._finish_fit(estimator, X, h1_pred, y)
        return self

    def predict(self, X, h1_pred=None) -> np.ndarray:
        """h1's label unless h2 is ``flip_cost`` times surer of its own.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples; both h2 and h1 receive them.
        h1_pred : array-like of shape (n_samples,), optional
            h1's labels on ``X`` (served or logged): h1 is then not called.
            Required when the gate holds no h1 (``h1=None``).

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_outputs)
            Labels drawn from ``classes_``; for a multilabel or multi-output
            h2, one per sample and label or output, each cell gated on its
            own.
        """
        check_is_fitted(self, "estimator_")
        proba = self.estimator_.predict_proba(X)  # h2 first: it validates X
        if getattr(self, "multioutput_", False):
            h1_pred = self._h1_labels(X, h1_pred, self.classes_)
            return _gate_outputs_per_column(
                h1_pred, proba, self.classes_, float(self.flip_cost)
            )
        classes = np.asarray(self.classes_)
        h1_pred = self._h1_labels(X, h1_pred, classes)
        if getattr(self, "multilabel_", False):
            proba = _check_label_proba(proba, h1_pred.shape, "h2's predict_proba")
            return _gate_cells(h1_pred, proba, [float(self.flip_cost)])[0]
        proba = _check_proba(
            proba, h1_pred.shape[0], classes.shape[0], "h2's predict_proba"
        )
        cost = float(self.flip_cost)
        return classes[_gate_indices(_positions(h1_pred, classes), proba, [cost])[0]]


def _score_fold(
    estimator, X, y, h1, train, test, fit_params, flip_costs, h1_pred=None
) -> dict:
    """Fit h2 on one fold (unless prefit) and score every cost on its test part.

    With h1's logged labels ``h1_pred`` (all rows), the test part is scored
    against its rows of them and h1 is not called.
    """
    if train is not None:
        estimator.fit(
            _safe_indexing(X, train),
            _safe_indexing(y, train),
            **_check_method_params(X, fit_params, indices=train),
        )
    X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
    classes = np.asarray(estimator.classes_)
    if h1_pred is not None:
        h1_pred = _safe_indexing(np.asarray(h1_pred), test)
    else:
        h1_pred = _h1.h1_predict(h1, _for_h1(X_test), classes)
    proba = _check_proba(
        estimator.predict_proba(X_test),
        _num_samples(X_test),
        classes.shape[0],
        "h2's predict_proba",
    )
    return _path_scores(np.asarray(y_test), h1_pred, proba, classes, flip_costs)


# Keys of cv_results_, named and signed as bcsk's scorers (compatibility_scoring):
# greater is better for each, so the negative flip rate is negated (neg_nfr).
_CV_METRICS = {
    "accuracy": "accuracy",
    "neg_nfr": "negative_flip_rate",
    "btc": "btc",
    "bec": "bec",
}


class CompatibleUpdateClassifierCV(_BaseGate):
    """The update gate with ``flip_cost`` chosen by cross-validation.

    In the manner of :class:`sklearn.model_selection.TunedThresholdClassifierCV`.
    The gate needs no training per cost, so each fold fits h2 once and scores
    the whole grid ``flip_costs`` on that fold's held-out predictions. The
    rule: among the costs whose mean CV accuracy is at least the accuracy of
    h2 alone (``flip_cost=1``) minus ``max_accuracy_drop``, take the one with
    the lowest mean negative flip rate; ties go to the higher accuracy, then
    to the smaller cost. ``flip_cost=1`` always qualifies, so a cost is always
    chosen. A callable ``refit`` replaces this rule. Then h2 is refitted on
    all the data (unless ``cv="prefit"``).

    Parameters
    ----------
    estimator : classifier with predict_proba
        The new model h2.
    h1 : keras.Model, fitted scikit-learn classifier, callable or object with predict
        The old model; see :class:`CompatibleUpdateClassifier`. It receives the
        ``X`` passed to ``fit`` and ``predict``.
    flip_costs : array-like of float, default=None
        Costs to evaluate, each ``>= 1``; 1 is always added (the reference).
        ``None`` means :data:`DEFAULT_FLIP_COSTS` ``(1, 1.25, 1.5, 2, 3, 5,
        10)``.
    max_accuracy_drop : float, default=0.005
        Accuracy (a fraction: 0.005 is half a point) the gate may lose against
        h2 alone, in mean CV accuracy.
    cv : int, cross-validation generator, iterable or "prefit", default=None
        Splits of the training data; ``None`` is 5-fold stratified. With
        ``"prefit"``, h2 must be fitted (for example a
        :class:`~sklearn.frozen.FrozenEstimator`) and ``fit``'s data, which h2
        must not have been trained on, is one validation set.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib); ``None`` means 1.
    refit : callable, default=None
        How to choose the cost: ``None`` is the ``max_accuracy_drop`` rule
        above; a callable receives ``cv_results_`` and returns the index of
        the chosen cost (its row), as ``GridSearchCV``'s callable ``refit``
        does. ``max_accuracy_drop`` is then unused. bcsk's rules work here:
        :func:`~bcsk.model_selection.fewest_new_errors_within` (at a given accuracy
        budget against the most accurate cost, rather than against
        ``flip_cost=1``), :func:`~bcsk.model_selection.lowest_update_cost` and
        :func:`~bcsk.model_selection.best_accuracy_with_btc_at_least`.
    verbose : int, default=0
        ``0`` is silent; ``1`` prints a line when each fold is done (elapsed
        time and an estimate of the time left), as ``GridSearchCV`` users
        expect.

    Attributes
    ----------
    flip_cost_ : float
        The chosen cost.
    best_index_ : int
        Its row in ``cv_results_``.
    cv_results_ : dict of ndarray
        In :class:`~sklearn.model_selection.GridSearchCV`'s layout, one row per
        cost in increasing order: ``params``, ``param_flip_cost`` and, for
        ``accuracy``, ``neg_nfr`` (the negative flip rate, negated as in
        :func:`~bcsk.compatibility_scoring`), ``btc`` and ``bec``,
        ``split<i>_test_<name>``, ``mean_test_<name>``, ``std_test_<name>``
        and ``rank_test_<name>`` (rank 1 is the highest value). Works with
        ``CompatibilityTradeoffDisplay.from_cv_results(...,
        lambda_param="flip_cost")``.
    best_estimator_ : CompatibleUpdateClassifier
        The fitted gate with ``flip_cost=flip_cost_``; ``predict`` uses it.
    estimator_ : classifier
        The fitted h2 (``best_estimator_.estimator_``).
    n_splits_ : int
        Number of CV splits.
    classes_ : ndarray of shape (n_classes,)
        h2's class labels.
    n_features_in_ : int
        Number of features seen by h2 during fit (if h2 records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen by h2 during fit (if h2 records them).

    See Also
    --------
    CompatibleUpdateClassifier : The gate with a given ``flip_cost``.

    Notes
    -----
    The scores are unweighted even when ``fit`` gets ``sample_weight`` (it
    goes to h2's ``fit``). An already trained h2 evaluated with ``cv=5``
    would be scored on data it may have been trained on: use
    ``cv="prefit"`` with held-out data instead.

    Examples
    --------
    An old naive Bayes model, a logistic regression as the update, on wine:

    >>> from sklearn.datasets import load_wine
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.preprocessing import scale
    >>> from bcsk.gate import CompatibleUpdateClassifierCV
    >>> X, y = load_wine(return_X_y=True)
    >>> X = scale(X)
    >>> h1 = GaussianNB().fit(X[::4], y[::4])
    >>> search = CompatibleUpdateClassifierCV(
    ...     LogisticRegression(max_iter=500), h1=h1, max_accuracy_drop=0.01, cv=3
    ... ).fit(X, y)
    >>> search.cv_results_["param_flip_cost"].tolist()
    [1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0]
    >>> bool(search.flip_cost_ >= 1)
    True

    The fewest new errors within half a point of the most accurate cost:

    >>> from bcsk.model_selection import fewest_new_errors_within
    >>> rule = fewest_new_errors_within(0.005)
    >>> search = CompatibleUpdateClassifierCV(
    ...     LogisticRegression(max_iter=500), h1=h1, refit=rule, cv=3
    ... ).fit(X, y)
    >>> search.best_index_ == rule(search.cv_results_)
    True
    """

    _parameter_constraints: dict = {
        **_BaseGate._parameter_constraints,
        "flip_costs": ["array-like", None],
        "max_accuracy_drop": [Interval(Real, 0, 1, closed="both")],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "n_jobs": [Integral, None],
        "refit": [callable, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        h1=None,
        flip_costs=None,
        max_accuracy_drop: float = 0.005,
        cv=None,
        n_jobs=None,
        refit=None,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.h1 = h1
        self.flip_costs = flip_costs
        self.max_accuracy_drop = max_accuracy_drop
        self.cv = cv
        self.n_jobs = n_jobs
        self.refit = refit
        self.verbose = verbose

    def __setstate__(self, state: dict) -> None:
        # Gates pickled by bcsk 0.1 predate verbose (see get_params).
        super().__setstate__({"verbose": 0, **state})

    def _grid(self) -> np.ndarray:
        costs = DEFAULT_FLIP_COSTS if self.flip_costs is None else self.flip_costs
        values = [_check_flip_cost(c, "each of flip_costs") for c in np.ravel(costs)]
        return np.unique([1.0, *values])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self, X, y, sample_weight=None, *, h1_pred=None, **fit_params
    ) -> CompatibleUpdateClassifierCV:
        """Score every cost by cross-validation, choose one, refit h2.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples (with ``cv="prefit"``, held-out validation data).
        y : array-like of shape (n_samples,)
            Labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to h2's ``fit`` when given (the scores stay unweighted).
        h1_pred : array-like of shape (n_samples,), optional
            h1's logged labels on ``X``, with ``h1=None``: each fold's held-out
            rows are scored against their rows of it, and h1 is never called.
            The fitted gate then needs ``predict(X, h1_pred=...)``.
        **fit_params : dict
            Passed to h2's ``fit`` (sliced per fold, as ``GridSearchCV``
            does: ``h1_proba=`` for an h2 trained from logged outputs).

        Returns
        -------
        self
        """
        self._check_h1_source(h1_pred)
        costs = self._grid()
        fit_params = _fit_params(fit_params, sample_weight)
        # Splitting needs finite class labels: say so before any fold fails.
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_classification_targets(y)
        if type_of_target(y) == "multilabel-indicator":
            raise ValueError(
                f"{type(self).__name__} chooses one flip cost for one label per "
                "sample; for a multilabel y use CompatibleUpdateClassifier, whose "
                "gate decides each label, with a flip_cost of your choice."
            )
        if type_of_target(y) == "multiclass-multioutput":
            raise ValueError(
                f"{type(self).__name__} chooses one flip cost for one label per "
                "sample; a multi-output y (one column of class labels per "
                "output) is not supported yet."
            )
        X, y = indexable(X, y)
        if h1_pred is not None:
            h1_pred = _h1.logged_labels(
                None, h1_pred, classes=None, n_samples=_num_samples(X)
            )
            fit_params = _fit_params(fit_params, None, self.estimator, h1_pred)
        if self.cv == "prefit":
            try:
                check_is_fitted(self.estimator)
            except NotFittedError:
                raise NotFittedError(
                    "cv='prefit' uses h2 as it is, so the estimator must be "
                    "fitted: pass FrozenEstimator(h2) with a trained h2, or use a "
                    "number of folds."
                ) from None
            splits = [(None, np.arange(_num_samples(X)))]
        else:
            splits = list(check_cv(self.cv, y, classifier=True).split(X, y))
        progress = FoldProgress(
            type(self).__name__,
            len(splits),
            f"h2 trained, {len(costs)} flip costs scored",
            self.verbose,
            remaining_after=0.0 if self.cv == "prefit" else 1.0,
        )
        folds = list(
            progress.track(
                Parallel(n_jobs=self.n_jobs, return_as="generator")(
                    delayed(_score_fold)(
                        self.estimator if train is None else clone(self.estimator),
                        X,
                        y,
                        self.h1,
                        train,
                        test,
                        fit_params,
                        costs,
                        h1_pred,
                    )
                    for train, test in splits
                )
            )
        )
        self.cv_results_ = _cv_results(costs, folds)
        self.n_splits_ = len(splits)
        self.best_index_ = self._select(self.cv_results_)
        self.flip_cost_ = float(costs[self.best_index_])

        if self.cv == "prefit":
            h2 = self.estimator
        else:
            h2 = clone(self.estimator).fit(X, y, **fit_params)
            progress.refitted()
        best = CompatibleUpdateClassifier(
            self.estimator, h1=self.h1, flip_cost=self.flip_cost_
        )
        best._finish_fit(h2, X, h1_pred)
        self.best_estimator_ = best
        for name in ("estimator_", "n_features_in_", "feature_names_in_"):
            if hasattr(best, name):
                setattr(self, name, getattr(best, name))
        return self

    def _select(self, results: dict) -> int:
        if self.refit is not None:
            index = self.refit(results)
            n_costs = len(results["params"])
            if (
                isinstance(index, bool)
                or not isinstance(index, Integral)
                or not 0 <= index < n_costs
            ):
                raise ValueError(
                    f"refit returned {index!r}; it must return the index of a flip "
                    f"cost in cv_results_, an int in [0, {n_costs}). "
                    f"{_PARAMETER_HINTS['refit']}"
                )
            return int(index)
        accuracy = results["mean_test_accuracy"]
        flips = -results["mean_test_neg_nfr"]
        reference = accuracy[0]  # flip_cost=1, the smallest cost of the grid
        eligible = np.flatnonzero(
            accuracy >= reference - self.max_accuracy_drop - _ACCURACY_SLACK
        )
        # Fewest flips, then highest accuracy, then smallest cost (lexsort
        # sorts by its last key first; indices already increase with cost).
        order = np.lexsort((eligible, -accuracy[eligible], flips[eligible]))
        return int(eligible[order[0]])

    def predict(self, X, h1_pred=None) -> np.ndarray:
        """The gate's labels with the chosen ``flip_cost_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples; both h2 and h1 receive them.
        h1_pred : array-like of shape (n_samples,), optional
            h1's labels on ``X``; required when fitted from logged labels
            (``h1=None``). See :meth:`CompatibleUpdateClassifier.predict`.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X, h1_pred=h1_pred)


def _cv_results(costs: np.ndarray, folds: list[dict]) -> dict:
    """``cv_results_`` in GridSearchCV's layout, one row per cost."""
    results: dict = {
        "params": [{"flip_cost": float(c)} for c in costs],
        "param_flip_cost": np.ma.MaskedArray(
            costs.astype(float), mask=np.zeros(costs.shape, dtype=bool)
        ),
    }
    for name, score in _CV_METRICS.items():
        sign = -1.0 if name.startswith("neg_") else 1.0
        scores = sign * np.array([fold[score] for fold in folds], dtype=float)
        for i, split in enumerate(scores):
            results[f"split{i}_test_{name}"] = split
        mean = scores.mean(axis=0)
        results[f"mean_test_{name}"] = mean
        results[f"std_test_{name}"] = scores.std(axis=0)
        results[f"rank_test_{name}"] = rankdata(-mean, method="min").astype(np.int32)
    return results
