"""``BCCompatibleClassifierCV``: the best compatible update in one call.

In the manner of scikit-learn's ``LogisticRegressionCV``: one estimator that
cross-validates every candidate (dissonance, ``lambda_c``, flip cost,
ensemble size) and refits the best. Each fold trains all candidates at once
through the lambda_c path of :mod:`bcsk.model_selection._path`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from bcsk import _h1
from bcsk.estimator import (
    BCCompatibleClassifier,
)
from bcsk.gate._gate import CompatibleUpdateClassifier
from bcsk.gate._predictions import _check_flip_cost
from bcsk.model_selection._path import _fit_and_score_fold
from bcsk.objective._dissonances import Dissonance, get_dissonance

__all__ = ["BCCompatibleClassifierCV"]

# scikeras' routing prefixes: ``model__hidden`` is a routed parameter, not a
# parameter of a nested ``model`` object.
_ROUTED = {"model", "optimizer", "loss", "metrics", "callbacks", "fit", "predict"}


def _numbers(values, name: str, example: str) -> list:
    """``values`` as a non-empty list, or a ``ValueError`` naming ``name``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        try:
            values = list(values)
        except TypeError:
            raise ValueError(
                f"{name} must be a sequence of numbers, e.g. {example}; got {values!r}."
            ) from None
    if len(values) == 0:
        raise ValueError(f"{name} is empty: give at least one value, e.g. {example}.")
    return list(values)


def _check_distinct(values: list, name: str) -> None:
    duplicates = [v for i, v in enumerate(values) if v in values[:i]]
    if duplicates:
        raise ValueError(
            f"{name} holds {duplicates} more than once; give each value once."
        )


def _check_lambda_cs(lambda_cs) -> tuple[float, ...]:
    """The candidates as floats, or a ``ValueError`` saying what is wrong."""
    values = []
    for value in _numbers(lambda_cs, "lambda_cs", "(0, 0.1, 1) or 'auto'"):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"lambda_cs must hold finite numbers >= 0 (or be 'auto'); got "
                f"{value!r} in {list(lambda_cs)!r}."
            )
        values.append(float(value))
    _check_distinct(values, "lambda_cs")
    return tuple(values)


def _check_flip_costs(flip_costs) -> tuple[float, ...]:
    """The gate's costs as floats (each >= 1, inf allowed), or a ``ValueError``."""
    values = [
        _check_flip_cost(value, "each of flip_costs")  # the gate's own check
        for value in _numbers(flip_costs, "flip_costs", "(1, 1.5, 2)")
    ]
    _check_distinct(values, "flip_costs")
    return tuple(values)


def _check_sizes(n_members) -> tuple[int, ...]:
    """Ensemble sizes as ints >= 1 (one int or several), or a ``ValueError``."""
    if isinstance(n_members, numbers.Number):
        values = [n_members]
    else:
        values = _numbers(n_members, "n_members", "5 or (1, 5)")
    for value in values:
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < 1
        ):
            raise ValueError(
                f"n_members must be an int >= 1 (the networks averaged), or a "
                f"sequence of them to search; got {value!r}."
            )
    values = [int(v) for v in values]
    _check_distinct(values, "n_members")
    return tuple(values)


def _check_dissonances(dissonance) -> list:
    """The dissonances searched, as given (names or objects), checked."""
    several = isinstance(dissonance, (list, tuple))
    given = list(dissonance) if several else [dissonance]
    if not given:
        raise ValueError(
            "dissonance is an empty list: give a name, a Dissonance, or a list of "
            "them, e.g. ['new_error', 'focal_distillation']."
        )
    resolved = []
    for value in given:
        if not isinstance(value, (str, Dissonance)):
            raise ValueError(
                f"dissonance must be a name, a Dissonance or a list of them; got "
                f"{value!r} of type {type(value).__name__}."
            )
        resolved.append(get_dissonance(value))  # checks names and parameters
    duplicates = [given[i] for i, d in enumerate(resolved) if d in resolved[:i]]
    if duplicates:
        raise ValueError(
            f"dissonance lists {duplicates} more than once; give each dissonance once."
        )
    return given


def _candidates(dissonances: list, lambda_cs) -> list[tuple]:
    """The ``(dissonance, lambda_c)`` candidates, plain training (0) at most once.

    Each dissonance with each of its ``lambda_c`` values: ``lambda_cs`` as
    given, or, for ``"auto"``, 0 and the dissonance's own grid
    (:attr:`bcsk.objective.Dissonance.default_lambda_cs`). ``lambda_c = 0``
    is the same plain training for every dissonance: it is listed once, under
    the first dissonance.
    """
    candidates = []
    for dissonance in dissonances:
        if isinstance(lambda_cs, str) and lambda_cs == "auto":
            grid = get_dissonance(dissonance).default_lambda_cs
            if grid is None:
                raise ValueError(
                    f"lambda_cs='auto' takes each dissonance's own grid, but "
                    f"{type(get_dissonance(dissonance)).__name__} has none (its "
                    "default_lambda_cs is None): pass the candidates as "
                    "lambda_cs=(0, ...), or give the class a default_lambda_cs."
                )
            values = (0.0, *(float(v) for v in grid))
        elif isinstance(lambda_cs, str):
            raise ValueError(
                f"lambda_cs must be 'auto' or a sequence of numbers >= 0; got "
                f"{lambda_cs!r}."
            )
        else:
            values = _check_lambda_cs(lambda_cs)
        for value in values:
            if value == 0 and any(v == 0 for _, v in candidates):
                continue
            candidates.append((dissonance, value))
    return candidates


class BCCompatibleClassifierCV(ClassifierMixin, BaseEstimator):
    """The best compatible update in one call: a search trained as one model.

    Searches the dissonance, ``lambda_c``, the update gate's ``flip_cost``
    and (optionally) the ensemble size together, by cross-validation, for the
    price of one fit per fold. In the manner of scikit-learn's
    ``LogisticRegressionCV``: on each fold, every candidate trains at once in
    one Keras model that holds a copy of the user's network per candidate
    (and per ensemble member), each built by ``model`` and starting from the
    weights a separate seeded fit would start from; the copies' objectives are
    summed. The gradient of the sum with respect to a copy's weights is that
    copy's own gradient, so with an optimizer that updates each weight from
    its own gradient (SGD, Adam, RMSprop, Adagrad, ...) every copy trains as
    its own fit would, to float rounding. An optimizer with
    ``global_clipnorm`` would couple the copies and is refused.

    The gate (:class:`~bcsk.CompatibleUpdateClassifier`) needs no training,
    so every flip cost is scored on the held-out predictions of the same fold
    models: one row of ``cv_results_`` per (candidate, flip cost) pair, at no
    extra fit. The chosen row is refitted on all the data, and served behind
    the gate when its cost is above 1.

    Parameters
    ----------
    model : callable or keras.Model
        The model builder, as for :class:`~bcsk.BCCompatibleClassifier`.
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model, as for :class:`~bcsk.BCCompatibleClassifier`.
    lambda_cs : "auto" or sequence of float, default="auto"
        The ``lambda_c`` candidates. ``"auto"``: for each dissonance, 0 (plain
        training) and its own grid, the class attribute
        :attr:`~bcsk.objective.Dissonance.default_lambda_cs` (new error
        ``0.3-10``, strict imitation ``0.03-1``, focal distillation
        ``0.003-0.1``, logit difference ``0.01-0.3``: their useful scales
        differ a hundredfold, see "Choosing lambda_c" in the docs). A sequence
        of distinct finite numbers ``>= 0`` is used for every dissonance. With
        several dissonances, ``lambda_c = 0`` is one candidate, listed under
        the first.
    cv : int, cross-validation generator or iterable, default=5
        As for ``GridSearchCV`` (stratified folds for an int).
    scoring : str, callable, list, tuple or dict, default=None
        As for ``GridSearchCV``; ``None`` is accuracy.
        :func:`~bcsk.compatibility_scoring` gives accuracy, BTC, BEC and the
        flip metrics, which the refit rules of :mod:`bcsk.model_selection` read.
    refit : bool, str or callable, default=True
        As for ``GridSearchCV``: with several metrics, the name of the one that
        chooses; a callable takes ``cv_results_`` and returns the index of the
        chosen row, for example :func:`~bcsk.lowest_update_cost` or
        :func:`~bcsk.fewest_new_errors_within`. ``False`` fits no final
        estimator.
    dissonance : str, Dissonance or list of them, default="new_error"
        As for :class:`~bcsk.BCCompatibleClassifier`; a list searches them
        all, in one model per fold.
    flip_costs : sequence of float, default=(1.0,)
        The gate's costs to score for every candidate, distinct numbers
        ``>= 1`` (``inf`` allowed); 1 is h2 served alone. The default searches
        no gate and keeps the results of a search without one bit for bit.
    n_members : int or sequence of int, default=1
        Networks averaged per candidate (see
        :class:`~bcsk.BCCompatibleClassifier`). A sequence, such as
        ``(1, 5)``, searches the sizes: the largest is trained, and a smaller
        size is scored on the first members of the same ensemble, which are
        the members a fit of that size trains.
    n_jobs : int, default=None
        Folds trained in parallel by joblib, as in ``GridSearchCV``; ``None``
        means 1. ``joblib.parallel_backend("dask")`` spreads them over a dask
        cluster. Seeded results do not depend on it.
    **kwargs
        Every other parameter of :class:`~bcsk.BCCompatibleClassifier`
        (``loss``, ``optimizer``, ``epochs``, ``batch_size``,
        ``random_state``, routed ``model__*`` ...). ``method="bc_fit"`` is not
        supported.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        As ``GridSearchCV``'s, one row per (candidate, ensemble size, flip
        cost): ``params``, ``param_lambda_c``, ``param_dissonance`` (with
        several dissonances), ``param_n_members`` (with several sizes),
        ``param_flip_cost`` (unless ``flip_costs=(1.0,)``),
        ``split<i>_test_<metric>``, ``mean_test_<metric>``,
        ``std_test_<metric>``, ``rank_test_<metric>`` (``<metric>`` is
        ``score`` for a single metric).
    best_index_ : int
        Index of the chosen row in ``cv_results_``.
    best_params_ : dict
        Its ``params``.
    lambda_c_ : float
        The chosen ``lambda_c``.
    dissonance_ : str or Dissonance
        The chosen dissonance, as given.
    flip_cost_ : float
        The chosen flip cost (1: no gate).
    n_members_ : int
        The chosen ensemble size.
    best_score_ : float
        Mean CV score of the chosen row (not set for a callable refit).
    best_estimator_ : BCCompatibleClassifier or CompatibleUpdateClassifier
        Refitted on all the data (when ``refit``): the chosen h2, or, when
        ``flip_cost_ > 1``, the gate ``CompatibleUpdateClassifier(
        FrozenEstimator(h2), h1=h1, flip_cost=flip_cost_)`` around it.
        ``predict``, ``predict_proba`` and ``score`` use it, and so do bcsk's
        scorers.
    classes_ : ndarray
        Class labels.
    n_splits_ : int
        Number of folds.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    The old model is a shallow tree; each candidate h2 a linear Keras network:

    >>> import keras
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from bcsk import compatibility_scoring, lowest_update_cost
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = DecisionTreeClassifier(max_depth=1).fit(X, y)
    >>> def linear(meta):
    ...     inputs = keras.Input((meta["n_features_in_"],))
    ...     outputs = keras.layers.Dense(meta["n_classes_"], "softmax")(inputs)
    ...     return keras.Model(inputs, outputs)
    >>> search = BCCompatibleClassifierCV(
    ...     linear, h1=h1, dissonance=["new_error", "focal_distillation"],
    ...     flip_costs=(1, 2), cv=2, scoring=compatibility_scoring(),
    ...     refit=lowest_update_cost(2.0),
    ...     loss="sparse_categorical_crossentropy", epochs=1, random_state=0)
    >>> len(search.fit(X, y).cv_results_["params"])  # (1 + 4 + 4) x 2 costs
    18
    >>> search.flip_cost_ in (1.0, 2.0)
    True
    """

    def __init__(
        self,
        model=None,
        *,
        h1=None,
        lambda_cs: str | Sequence[float] = "auto",
        cv=5,
        scoring=None,
        refit: bool | str | Callable = True,
        dissonance="new_error",
        flip_costs: Sequence[float] = (1.0,),
        n_members: int | Sequence[int] = 1,
        n_jobs: int | None = None,
        **kwargs,
    ) -> None:
        self.model = model
        self.h1 = h1
        self.lambda_cs = lambda_cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.dissonance = dissonance
        self.flip_costs = flip_costs
        self.n_members = n_members
        self.n_jobs = n_jobs
        # BCCompatibleClassifier's parameters, stored as given (``__init__``
        # only stores); get_params and set_params see them as parameters.
        self._estimator_kwargs = dict(kwargs)

    # -- parameters: explicit ones plus BCCompatibleClassifier's ---------------

    def __getattr__(self, name: str):
        kwargs = self.__dict__.get("_estimator_kwargs", {})
        if name in kwargs:
            return kwargs[name]
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def get_params(self, deep: bool = True) -> dict:
        """Parameters, the ``BCCompatibleClassifier`` ones passed as kwargs included."""
        params = super().get_params(deep=deep)
        params.update(self._estimator_kwargs)
        return params

    def set_params(self, **params) -> BCCompatibleClassifierCV:
        """Set parameters; routed names (``model__hidden``) are stored as given."""
        own = set(super().get_params(deep=False))
        nested = {}
        for name, value in params.items():
            prefix, routed, _ = name.partition("__")
            if routed and prefix not in _ROUTED:
                nested[name] = value  # a parameter of a nested object
            elif name in own:
                setattr(self, name, value)
            else:
                self._estimator_kwargs[name] = value
        if nested:
            super().set_params(**nested)
        return self

    def __sklearn_clone__(self):
        return _h1.clone_sharing_h1(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = True
        return tags

    # -- fitting ---------------------------------------------------------------

    def _estimator_params(self) -> dict:
        params = dict(self._estimator_kwargs)
        if params.get("method", "model") != "model":
            raise ValueError(
                "BCCompatibleClassifierCV trains with method='model' only; got "
                f"method={params['method']!r}. Use GridSearchCV over "
                "BCCompatibleClassifier for method='bc_fit'."
            )
        if "lambda_c" in params:
            raise ValueError(
                "lambda_c is chosen by BCCompatibleClassifierCV: give the "
                "candidates as lambda_cs=(...) instead."
            )
        return {**params, "model": self.model, "h1": self.h1}

    def _rows(self, candidates, sizes, costs) -> list[dict]:
        """``params`` of each row: candidate by candidate, then size, then cost."""
        several_dissonances = isinstance(self.dissonance, (list, tuple))
        rows = []
        for dissonance, lambda_c in candidates:
            for size in sizes:
                for cost in costs:
                    row = {"lambda_c": lambda_c}
                    if several_dissonances:
                        row["dissonance"] = dissonance
                    if len(sizes) > 1:
                        row["n_members"] = size
                    if costs != (1.0,):
                        row["flip_cost"] = cost
                    rows.append(row)
        return rows

    def fit(
        self, X, y, sample_weight=None, *, h1_proba=None, h1_pred=None
    ) -> BCCompatibleClassifierCV:
        """Cross-validate every candidate and flip cost; refit the chosen one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights for training (not for scoring).
        h1_proba : array-like of shape (n_samples, n_classes), optional
            h1's logged probabilities on ``X`` (with ``h1=None``), columns in
            the order of the sorted labels of ``y``. Each fold trains on its
            rows, and is scored against h1's labels (their most probable
            class) on its held-out rows; the refit uses them all.
        h1_pred : array-like of shape (n_samples,), optional
            h1's logged labels on ``X`` (with ``h1=None``), enough for
            ``dissonance="new_error"``.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        _h1.check_not_both(self.h1, h1_proba, h1_pred, type(self).__name__)
        dissonances = _check_dissonances(self.dissonance)
        candidates = _candidates(dissonances, self.lambda_cs)
        costs = _check_flip_costs(self.flip_costs)
        sizes = _check_sizes(self.n_members)
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool)
            or not isinstance(self.n_jobs, numbers.Integral)
        ):
            raise ValueError(
                f"n_jobs must be an int or None, as for GridSearchCV; got "
                f"{self.n_jobs!r}."
            )
        params = self._estimator_params()
        base = BCCompatibleClassifier(
            **params, dissonance=dissonances[0], n_members=sizes[0]
        )
        scorer = check_scoring(base, scoring=self.scoring)
        if scipy.sparse.issparse(X):
            raise TypeError(
                f"{type(self).__name__} does not accept sparse X (got "
                f"{type(X).__name__}): pass a dense array, e.g. X.toarray()."
            )
        if not hasattr(X, "columns"):  # a DataFrame stays one (for a sklearn h1)
            X = np.asarray(X)
        y_array = np.asarray(y)
        if y_array.dtype.kind in "fc":
            assert_all_finite(y_array, input_name="y")
        if y_array.ndim == 2 and type_of_target(y_array) == "multiclass-multioutput":
            raise ValueError(
                f"{type(self).__name__} with a multi-output y (one column of class "
                "labels per output) is not supported yet: choose lambda_c with "
                "GridSearchCV over BCCompatibleClassifier, which trains it."
            )
        cv = check_cv(self.cv, y_array, classifier=True)
        weights = None if sample_weight is None else np.asarray(sample_weight)
        logged = None
        if h1_proba is not None or h1_pred is not None:
            # Checked once here, before any fold trains.
            outputs = _h1.logged_outputs(
                h1_proba=h1_proba,
                h1_pred=h1_pred,
                classes=np.unique(y_array),
                n_samples=y_array.shape[0],
                need_probabilities=any(
                    get_dissonance(d).needs_probabilities for d, _ in candidates
                ),
            )
            logged = (
                outputs.probabilities,
                outputs.labels if h1_pred is not None else None,
                outputs.labels,
            )
        elif self.h1 is None:
            _h1.h1_kind(self.h1)  # says how to pass h1 or its logged outputs
        # One list of per-row scores (float or dict) per fold.
        fold_scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_and_score_fold)(
                params,
                candidates,
                sizes,
                costs,
                scorer,
                X,
                y_array,
                weights,
                *split,
                logged=logged,
            )
            for split in cv.split(X, y_array)
        )
        rows = self._rows(candidates, sizes, costs)
        self.n_splits_ = len(fold_scores)
        self.cv_results_ = _cv_results(rows, fold_scores)
        self.multimetric_ = isinstance(fold_scores[0][0], dict)
        self._choose(len(rows))
        if not hasattr(self, "best_index_"):  # refit=False with several metrics
            self.classes_ = np.unique(y_array)
            self.n_features_in_ = np.shape(X)[1]
            return self
        chosen = rows[self.best_index_]
        self.best_params_ = chosen
        self.lambda_c_ = chosen["lambda_c"]
        self.dissonance_ = chosen.get("dissonance", dissonances[0])
        self.n_members_ = chosen.get("n_members", sizes[0])
        self.flip_cost_ = chosen.get("flip_cost", 1.0)
        if self.refit is not False:
            h2 = clone(base).set_params(
                lambda_c=self.lambda_c_,
                dissonance=self.dissonance_,
                n_members=self.n_members_,
            )
            outputs = {}
            if logged is not None:  # all the rows of what was logged
                outputs = {
                    name: values
                    for name, values in zip(
                        ("h1_proba", "h1_pred"), logged[:2], strict=True
                    )
                    if values is not None
                }
            h2.fit(X, y, sample_weight=sample_weight, **outputs)
            if self.flip_cost_ == 1.0:
                self.best_estimator_ = h2
            else:
                # From logged outputs, the gate holds no h1: its predict then
                # needs h1's labels, predict(X, h1_pred=...).
                gate = CompatibleUpdateClassifier(
                    FrozenEstimator(h2), h1=self.h1, flip_cost=self.flip_cost_
                )
                self.best_estimator_ = gate.fit(
                    X, y, h1_pred=None if logged is None else logged[2]
                )
            self.classes_ = h2.classes_
            self.n_features_in_ = h2.n_features_in_
        else:
            self.classes_ = np.unique(y_array)
            self.n_features_in_ = np.shape(X)[1]
        return self

    def _choose(self, n_rows: int) -> None:
        refit = self.refit
        results = self.cv_results_
        if callable(refit):
            index = refit(results)
            if (
                isinstance(index, bool)
                or not isinstance(index, numbers.Integral)
                or not (0 <= index < n_rows)
            ):
                raise ValueError(
                    f"refit returned {index!r}; it must return the index of a "
                    f"row of cv_results_, an int in [0, {n_rows})."
                )
            self.best_index_ = int(index)
            return
        if self.multimetric_:
            metrics = sorted(
                k[len("mean_test_") :] for k in results if k.startswith("mean_test_")
            )
            if refit is False:
                return
            if refit is True or refit not in metrics:
                raise ValueError(
                    f"With several metrics, refit must name the one that chooses, "
                    f"one of {metrics}, or be a callable; got {refit!r}."
                )
            key = refit
        else:
            key = "score"
        self.best_index_ = int(np.argmin(results[f"rank_test_{key}"]))
        self.best_score_ = float(results[f"mean_test_{key}"][self.best_index_])

    # -- prediction: the refitted estimator's --------------------------------------

    def _final(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def predict(self, X, h1_pred=None) -> np.ndarray:
        """Labels predicted by :attr:`best_estimator_` (behind the gate, if chosen).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        h1_pred : array-like of shape (n_samples,), optional
            h1's labels on ``X``, for a gate (``flip_cost_ > 1``) fitted from
            logged outputs, which holds no h1; unused without the gate.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        final = self._final()
        if isinstance(final, CompatibleUpdateClassifier):
            return final.predict(X, h1_pred=h1_pred)
        return final.predict(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from :attr:`best_estimator_` (h2's)."""
        return self._final().predict_proba(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of :attr:`best_estimator_` (``scoring`` chose it, not this)."""
        return self._final().score(X, y, sample_weight=sample_weight)


def _rank(values: np.ndarray) -> np.ndarray:
    """Ranks as ``GridSearchCV`` gives them: 1 is best, ties share the lower rank."""
    return rankdata(-values, method="min").astype(np.int32)


def _cv_results(rows: list[dict], fold_scores) -> dict:
    """``GridSearchCV``-style results from per-fold, per-row scores."""
    n = len(rows)
    results: dict = {"params": rows}
    for name in rows[0]:
        values = np.empty(n, dtype=object)
        values[:] = [row[name] for row in rows]
        results[f"param_{name}"] = np.ma.MaskedArray(values, mask=[False] * n)
    multimetric = isinstance(fold_scores[0][0], dict)
    names = sorted(fold_scores[0][0]) if multimetric else ["score"]
    for name in names:
        table = np.array(
            [[s[name] if multimetric else s for s in fold] for fold in fold_scores],
            dtype=float,
        )
        for i, row in enumerate(table):
            results[f"split{i}_test_{name}"] = row
        mean = table.mean(axis=0)
        results[f"mean_test_{name}"] = mean
        results[f"std_test_{name}"] = table.std(axis=0)
        results[f"rank_test_{name}"] = _rank(mean)
    return results
