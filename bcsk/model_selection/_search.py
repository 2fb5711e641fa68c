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
from sklearn.model_selection import StratifiedShuffleSplit, check_cv
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from bcsk import _h1
from bcsk._progress import FoldProgress
from bcsk.estimator import (
    BCCompatibleClassifier,
)
from bcsk.gate._gate import CompatibleUpdateClassifier
from bcsk.gate._predictions import _check_flip_cost
from bcsk.metrics._scorer import compatibility_scoring
from bcsk.model_selection._path import _fit_and_score_fold
from bcsk.model_selection._refit import lowest_update_cost
from bcsk.objective._dissonances import Dissonance, get_dissonance

__all__ = ["BCCompatibleClassifierCV"]

# The search the study supports (docs/study.rst, "At realistic size"), run
# when the parameters are left at "auto": these dissonances, each with its own
# lambda_c grid, these gate costs, and the refit rule that ships the update
# with the fewest errors when a new error counts twice.
RECOMMENDED_DISSONANCES = ("new_error", "focal_distillation", "logit_difference")
RECOMMENDED_FLIP_COSTS = (1.0, 1.25, 1.5, 2.0, 3.0)
RECOMMENDED_NEW_ERROR_COST = 2.0
# With budget=..., the candidates of the recommended grid are trained in this
# order, as many as the budget buys: their rank by 3-fold CV cost (training
# rows only) on the study's Fashion-MNIST update (docs/study.rst). The first
# is the one setting trained when the budget allows a single training run.
BUDGET_ORDER = (
    ("focal_distillation", 0.03),
    ("focal_distillation", 0.003),
    ("focal_distillation", 0.01),
    ("new_error", 0.0),  # plain training (the gate may still be chosen)
    ("new_error", 0.3),
    ("focal_distillation", 0.1),
    ("logit_difference", 0.01),
    ("new_error", 1.0),
    ("logit_difference", 0.03),
    ("logit_difference", 0.1),
    ("new_error", 3.0),
    ("new_error", 10.0),
    ("logit_difference", 0.3),
)
# The share of the rows a budgeted search holds out to choose on.
HOLDOUT_SIZE = 0.1

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
    and (optionally) the ensemble size together, on a held-out split (the
    default) or by cross-validation, for the price of one fit per fold. In
    the manner of scikit-learn's ``LogisticRegressionCV``: on each fold (the
    held-out split is one), every candidate trains at once in
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
    extra fit. The chosen networks are served as trained on the kept rows
    (held-out split) or refitted on all the data (cross-validation), behind
    the gate when the chosen cost is above 1. Left at their defaults, the
    grid, the gate's costs, the validation and the rule are those the study
    supports (docs/search.rst, "The defaults"); ``budget`` caps the cost.

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
    cv : "holdout", int, cross-validation generator or iterable, default="holdout"
        ``"holdout"``: 10 % of the rows (stratified, drawn with
        ``random_state``) are held out once, every candidate is trained on the
        other 90 %, and the chosen networks are served as trained, with no
        refit: the networks served are the ones the scores describe. Anything
        else is as for ``GridSearchCV`` (stratified folds for an int): every
        candidate is trained on each fold and the chosen one refitted on all
        the rows. On the study's 50,000-row update a refit made h2 stronger
        than the fold networks it was chosen on, so the gate's flip cost
        chosen on them was too high (docs/study.rst, "At realistic size");
        with a few thousand rows, folds average more held-out rows.
    scoring : str, callable, list, tuple or dict, default=None
        As for ``GridSearchCV``. ``None``: :func:`~bcsk.compatibility_scoring`
        (accuracy, BTC, BEC and the flip metrics, which the refit rules of
        :mod:`bcsk.model_selection` read) when ``refit="auto"``, accuracy
        otherwise.
    refit : "auto", bool, str or callable, default="auto"
        ``"auto"``: the rule the study supports,
        ``lowest_update_cost(2.0)``: the row with the fewest errors when a
        new error counts twice. Otherwise as for ``GridSearchCV``: with several
        metrics, the name of the one that chooses; a callable takes
        ``cv_results_`` and returns the index of the chosen row, for example
        :func:`~bcsk.lowest_update_cost` or
        :func:`~bcsk.fewest_new_errors_within`. ``False`` fits no final
        estimator.
    dissonance : "auto", str, Dissonance or list of them, default="auto"
        As for :class:`~bcsk.BCCompatibleClassifier`; a list searches them
        all, in one model per fold. ``"auto"``: the study's three, new error,
        focal distillation and logit difference.
    flip_costs : "auto" or sequence of float, default="auto"
        The gate's costs to score for every candidate, distinct numbers
        ``>= 1`` (``inf`` allowed); 1 is h2 served alone. ``"auto"``: 1, 1.25,
        1.5, 2 and 3. ``(1.0,)`` searches no gate.
    n_members : int or sequence of int, default=1
        Networks averaged per candidate (see
        :class:`~bcsk.BCCompatibleClassifier`). A sequence, such as
        ``(1, 5)``, searches the sizes: the largest is trained, and a smaller
        size is scored on the first members of the same ensemble, which are
        the members a fit of that size trains.
    budget : float, default=None
        What the search may cost, in plain fits of h2 (one network trained on
        all the rows). ``None``: the whole search. A budget below the whole
        search's cost switches to ``cv="holdout"`` and trains as many
        candidates as it buys (each costs 0.9 fits, times ``n_members``); the
        gate's flip costs are scored on the held-out rows for free. With the
        default grid the candidates come in the order of ``BUDGET_ORDER``
        (the study's ranking on training rows), so ``budget=1.5`` trains one
        network, with focal distillation at ``lambda_c=0.03``, and chooses
        only the gate's flip cost. Costs count each network as its own fit,
        an upper bound: the copies trained together share Keras' per-step
        work. :attr:`plan_` says what was run.
    n_jobs : int, default=None
        Folds trained in parallel by joblib, as in ``GridSearchCV``; ``None``
        means 1. ``joblib.parallel_backend("dask")`` spreads them over a dask
        cluster. Seeded results do not depend on it.
    verbose : int, default=0
        ``0`` is silent; ``1`` prints a line when each fold is done (the
        candidates trained, elapsed time, an estimate of the time left) and
        one after the refit, as ``GridSearchCV`` users expect.
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
        Number of folds (1 for the held-out split of a budget).
    plan_ : dict
        What the search ran: ``validation`` (``"3-fold CV"``, ``"split"``
        or ``"holdout"``), ``candidates`` (how many were trained), ``refit``
        (whether the final networks were retrained on all the rows) and
        ``cost`` (in plain fits of h2, as ``budget`` counts).
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
        cv="holdout",
        scoring=None,
        refit: bool | str | Callable = "auto",
        dissonance="auto",
        flip_costs: str | Sequence[float] = "auto",
        n_members: int | Sequence[int] = 1,
        budget: float | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
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
        self.budget = budget
        self.n_jobs = n_jobs
        self.verbose = verbose
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

    def __setstate__(self, state: dict) -> None:
        # Searches pickled by bcsk 0.1 predate budget and verbose: give them
        # the defaults, so that get_params, clone and repr work on them.
        super().__setstate__({"budget": None, "verbose": 0, **state})

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
        several_dissonances = _is_auto(self.dissonance) or isinstance(
            self.dissonance, (list, tuple)
        )
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
        dissonances = _check_dissonances(
            list(RECOMMENDED_DISSONANCES)
            if _is_auto(self.dissonance)
            else self.dissonance
        )
        candidates = _candidates(dissonances, self.lambda_cs)
        costs = _check_flip_costs(
            RECOMMENDED_FLIP_COSTS if _is_auto(self.flip_costs) else self.flip_costs
        )
        sizes = _check_sizes(self.n_members)
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool)
            or not isinstance(self.n_jobs, numbers.Integral)
        ):
            raise ValueError(
                f"n_jobs must be an int or None, as for GridSearchCV; got "
                f"{self.n_jobs!r}."
            )
        _check_verbose(self.verbose)
        _check_budget(self.budget)
        scoring, refit = self._scoring_and_refit()
        params = self._estimator_params()
        base = BCCompatibleClassifier(
            **params, dissonance=dissonances[0], n_members=sizes[0]
        )
        scorer = check_scoring(base, scoring=scoring)
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
        splits, self.plan_ = self._plan(
            X, y_array, len(candidates), max(sizes), params.get("random_state")
        )
        if self.plan_["validation"] == "holdout":
            candidates = self._budget_order(candidates)[: self.plan_["candidates"]]
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
        # The holdout plan serves a fold's own networks: keep the fold's model.
        keep = self.plan_["validation"] == "holdout" and refit is not False
        progress = FoldProgress(
            type(self).__name__,
            len(splits),
            _describe(len(candidates), sizes, costs),
            self.verbose,
            remaining_after=(
                _refit_share(splits, len(y_array), len(candidates))
                if self.plan_["refit"]
                else 0.0
            ),
        )
        # One list of per-row scores (float or dict) per fold.
        folds = list(
            progress.track(
                Parallel(n_jobs=self.n_jobs, return_as="generator")(
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
                        keep=keep,
                    )
                    for split in splits
                )
            )
        )
        fold_scores = [fold[0] if keep else fold for fold in folds]
        rows = self._rows(candidates, sizes, costs)
        self.n_splits_ = len(fold_scores)
        self.cv_results_ = _cv_results(rows, fold_scores)
        self.multimetric_ = isinstance(fold_scores[0][0], dict)
        self._choose(len(rows), refit)
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
        if refit is False:
            self.classes_ = np.unique(y_array)
            self.n_features_in_ = np.shape(X)[1]
            return self
        if keep:
            # The chosen candidate's networks as the holdout fold trained them.
            path = folds[0][1]
            index = candidates.index((self.dissonance_, self.lambda_c_))
            h2 = path.estimator_for(index, self.n_members_)
        else:
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
            progress.refitted()
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
        return self

    def _scoring_and_refit(self):
        """``scoring`` and ``refit`` with ``refit="auto"`` resolved."""
        if _is_auto(self.refit):
            scoring = compatibility_scoring() if self.scoring is None else self.scoring
            return scoring, lowest_update_cost(RECOMMENDED_NEW_ERROR_COST)
        return self.scoring, self.refit

    def _plan(self, X, y, n_candidates: int, n_networks: int, random_state):
        """The splits, and what the search trains on them (``plan_``).

        Cross-validation (an int or a splitter as ``cv``) trains every
        candidate on each fold and refits the chosen one on all the rows;
        ``cv="holdout"``, or a ``budget`` below that, holds out
        :data:`HOLDOUT_SIZE` of the rows once, trains as many candidates as
        the budget buys on the rest, and serves the chosen networks as
        trained: they are the networks its scores describe. Costs are in
        plain fits of h2 on all the rows, each network trained on a share of
        the rows counted as that share of a fit (an upper bound: the copies
        of a fold share Keras' per-step work).
        """
        one = (1 - HOLDOUT_SIZE) * n_networks  # one candidate on the kept rows
        if not _is_holdout(self.cv):
            splits = list(check_cv(self.cv, y, classifier=True).split(X, y))
            refits = self.refit is not False
            shares = sum(len(train) for train, _ in splits) / len(y)
            full = shares * n_candidates * n_networks + (n_networks if refits else 0)
            if self.budget is None or self.budget >= full:
                validation = f"{len(splits)}-fold CV" if len(splits) > 1 else "split"
                return splits, {
                    "validation": validation,
                    "candidates": n_candidates,
                    "refit": refits,
                    "cost": full,
                }
        else:
            full = one * n_candidates
        k = n_candidates
        if self.budget is not None:
            k = min(n_candidates, math.floor(self.budget / one + 1e-9))
        if k < 1:
            raise ValueError(
                f"budget={self.budget!r} buys less than the cheapest search, one "
                f"training run on {100 * (1 - HOLDOUT_SIZE):g} % of the rows "
                f"({one:g} plain fits with n_members={n_networks}): give "
                f"budget >= {one:g}, or budget=None for the whole search "
                f"({full:.1f} plain fits)."
            )
        holdout = StratifiedShuffleSplit(
            n_splits=1, test_size=HOLDOUT_SIZE, random_state=random_state
        )
        return list(holdout.split(X, y)), {
            "validation": "holdout",
            "candidates": k,
            "refit": False,
            "cost": k * one,
        }

    def _budget_order(self, candidates: list) -> list:
        """The candidates in the order a budget takes them.

        The recommended grid (dissonance and ``lambda_cs`` left at ``"auto"``)
        comes in :data:`BUDGET_ORDER` first, then the rest in grid order; a
        grid the user gave keeps the user's order.
        """
        if not (_is_auto(self.dissonance) and _is_auto(self.lambda_cs)):
            return list(candidates)
        first = [c for c in BUDGET_ORDER if c in candidates]
        return first + [c for c in candidates if c not in first]

    def _choose(self, n_rows: int, refit) -> None:
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


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _is_holdout(cv) -> bool:
    return isinstance(cv, str) and cv == "holdout"


def _check_verbose(verbose) -> None:
    if isinstance(verbose, bool) or not isinstance(verbose, numbers.Integral):
        raise ValueError(
            f"verbose must be an int (0: silent, 1: a line per fold), as for "
            f"GridSearchCV; got {verbose!r}."
        )


def _check_budget(budget) -> None:
    if budget is None:
        return
    if (
        isinstance(budget, bool)
        or not isinstance(budget, numbers.Real)
        or not math.isfinite(budget)
        or budget <= 0
    ):
        raise ValueError(
            f"budget is the search's cost in plain fits of h2, a finite number "
            f"> 0 such as 1.5 (or None: the whole search); got {budget!r}."
        )


def _describe(n_candidates: int, sizes, costs) -> str:
    """What one fold trains and scores, for the progress lines."""
    text = f"{n_candidates} candidate{'s' * (n_candidates != 1)}"
    if len(sizes) > 1:
        text += f" x {len(sizes)} ensemble sizes"
    return text + f" x {len(costs)} flip cost{'s' * (len(costs) != 1)}"


def _refit_share(splits, n_samples: int, n_candidates: int) -> float:
    """The refit's work in folds: one candidate on all rows against a fold's."""
    train_share = np.mean([len(train) for train, _ in splits]) / n_samples
    return 1.0 / (train_share * n_candidates)


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
