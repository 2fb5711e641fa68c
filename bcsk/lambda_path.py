"""``BCCompatibleClassifierCV``: the lambda_c path for the price of a few fits.

In the manner of scikit-learn's ``LogisticRegressionCV``: one estimator that
cross-validates every candidate ``lambda_c`` and refits the best. Where
``GridSearchCV`` trains one network per (fold, ``lambda_c``), this trains, on
each fold, one Keras model that holds a copy of the user's network per value
(:class:`bcsk.tensorflow.models.ReferenceInputPathModel`): the copies share
the per-step overhead of Keras and TensorFlow, and h1 runs once per fold
instead of once per value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import keras
import numpy as np
import scipy.sparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from bcsk import _h1
from bcsk.estimator import BCCompatibleClassifier
from bcsk.tensorflow.models import ReferenceInputPathModel

__all__ = ["BCCompatibleClassifierCV"]

DEFAULT_LAMBDA_CS = (0.0, 0.1, 0.3, 1.0, 3.0)

# scikeras' routing prefixes: ``model__hidden`` is a routed parameter, not a
# parameter of a nested ``model`` object.
_ROUTED = {"model", "optimizer", "loss", "metrics", "callbacks", "fit", "predict"}


def _check_lambda_cs(lambda_cs) -> tuple[float, ...]:
    """The candidates as floats, or a ``ValueError`` saying what is wrong."""
    if isinstance(lambda_cs, (str, bytes)) or not isinstance(lambda_cs, Sequence):
        try:
            lambda_cs = list(lambda_cs)
        except TypeError:
            raise ValueError(
                "lambda_cs must be a sequence of numbers >= 0, e.g. (0, 0.1, 1); "
                f"got {lambda_cs!r}."
            ) from None
    if len(lambda_cs) == 0:
        raise ValueError(
            "lambda_cs is empty: give at least one candidate, e.g. (0, 0.1, 1)."
        )
    values = []
    for value in lambda_cs:
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"lambda_cs must hold finite numbers >= 0; got {value!r} in "
                f"{list(lambda_cs)!r}."
            )
        values.append(float(value))
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(
            f"lambda_cs holds {duplicates} more than once; give each candidate once."
        )
    return tuple(values)


class _LambdaPath(BCCompatibleClassifier):
    """A ``BCCompatibleClassifier`` that trains one copy of h2 per ``lambda_c``.

    Each copy is built by the user's builder under the estimator's random
    state, so it starts from the weights a separate fit with that
    ``random_state`` starts from, and sees the same batches.
    """

    def __init__(self, model=None, *, lambda_cs=DEFAULT_LAMBDA_CS, **kwargs):
        super().__init__(model, **kwargs)
        self.lambda_cs = lambda_cs

    def _build_keras_model(self) -> keras.Model:
        build = super()._build_keras_model
        self.models_ = [build() for _ in self.lambda_cs]
        shapes = [[tuple(w.shape) for w in m.weights] for m in self.models_]
        if any(shape != shapes[0] for shape in shapes):
            raise ValueError(
                "The model builder returned networks of different shapes for the "
                f"same parameters ({len(shapes)} calls): each lambda_c needs a copy "
                "of the same network. Make the builder deterministic in its "
                "architecture."
            )
        return self.models_[0]

    def _training_model(self, dissonance) -> keras.Model:
        optimizer = self.models_[0].optimizer
        if getattr(optimizer, "global_clipnorm", None) is not None:
            raise ValueError(
                "BCCompatibleClassifierCV trains every lambda_c together, and an "
                "optimizer with global_clipnorm would clip their gradients jointly, "
                "coupling the copies. Use clipnorm (per weight), or GridSearchCV over "
                "BCCompatibleClassifier."
            )
        path = ReferenceInputPathModel(
            self.models_, self.lambda_cs, dissonance, loss=self.models_[0].loss
        )
        path.compile(optimizer=optimizer, loss=None)
        return path

    def estimator_for(self, index: int) -> BCCompatibleClassifier:
        """A fitted ``BCCompatibleClassifier`` whose model is copy ``index``."""
        params = self.get_params(deep=False)
        params.pop("lambda_cs")
        view = BCCompatibleClassifier(**{**params, "lambda_c": self.lambda_cs[index]})
        state = {k: v for k, v in vars(self).items() if k not in params}
        state.pop("lambda_cs", None)
        state.pop("models_", None)
        view.__dict__.update(state)
        view.model_ = self.models_[index]
        return view


class BCCompatibleClassifierCV(ClassifierMixin, BaseEstimator):
    """``BCCompatibleClassifier`` with ``lambda_c`` chosen by cross-validation.

    For each fold, every candidate ``lambda_c`` trains at once: one Keras model
    holds a copy of the network per value, each built by ``model`` and
    starting from the weights a separate seeded fit would start from, and the
    copies' objectives are summed. The gradient of the sum with respect to a
    copy's weights is that copy's own gradient, so with an optimizer that
    updates each weight from its own gradient (SGD, Adam, RMSprop, Adagrad,
    ...) every copy trains as its own fit would, to float rounding. An
    optimizer with ``global_clipnorm`` would couple the copies and is refused.
    Each copy is then scored on the held-out fold like ``GridSearchCV`` scores
    a candidate, and the best value is refitted on all the data.

    Parameters
    ----------
    model : callable or keras.Model
        The model builder, as for :class:`~bcsk.BCCompatibleClassifier`.
    h1 : keras.Model, fitted scikit-learn classifier or callable
        The old model, as for :class:`~bcsk.BCCompatibleClassifier`.
    lambda_cs : sequence of float, default=(0.0, 0.1, 0.3, 1.0, 3.0)
        The candidates, distinct finite numbers ``>= 0``.
    cv : int, cross-validation generator or iterable, default=5
        As for ``GridSearchCV`` (stratified folds for an int).
    scoring : str, callable, list, tuple or dict, default=None
        As for ``GridSearchCV``; ``None`` is accuracy.
        :func:`~bcsk.compatibility_scoring` gives accuracy, BTC, BEC and the
        flip metrics.
    refit : bool, str or callable, default=True
        As for ``GridSearchCV``: with several metrics, the name of the one that
        chooses; a callable takes ``cv_results_`` and returns the index of the
        chosen candidate (for example the most compatible one within 0.5 pt of
        the best accuracy). ``False`` fits no final estimator.
    dissonance : str or Dissonance, default="new_error"
        As for :class:`~bcsk.BCCompatibleClassifier`.
    **kwargs
        Every other parameter of :class:`~bcsk.BCCompatibleClassifier`
        (``loss``, ``optimizer``, ``epochs``, ``batch_size``,
        ``random_state``, routed ``model__*`` ...). ``method="bc_fit"`` is not
        supported.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        As ``GridSearchCV``'s: ``params``, ``param_lambda_c``,
        ``split<i>_test_<metric>``, ``mean_test_<metric>``,
        ``std_test_<metric>``, ``rank_test_<metric>`` (``<metric>`` is
        ``score`` for a single metric).
    best_index_ : int
        Index of the chosen candidate in ``cv_results_``.
    lambda_c_ : float
        The chosen ``lambda_c``.
    best_score_ : float
        Mean CV score of the chosen candidate (not set for a callable refit).
    best_estimator_ : BCCompatibleClassifier
        Refitted on all the data with ``lambda_c_`` (when ``refit``).
    classes_ : ndarray
        Class labels.
    n_splits_ : int
        Number of folds.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> h1 = LogisticRegression(max_iter=200).fit(X[::3], y[::3])
    >>> def build(meta):
    ...     return keras.Sequential([
    ...         keras.Input((meta["n_features_in_"],)),
    ...         keras.layers.Dense(meta["n_classes_"], activation="softmax")])
    >>> path = BCCompatibleClassifierCV(build, h1=h1, lambda_cs=(0, 1), cv=2,
    ...     loss="sparse_categorical_crossentropy", epochs=1, random_state=0)
    >>> path.fit(X, y).lambda_c_ in (0.0, 1.0)
    True
    """

    def __init__(
        self,
        model=None,
        *,
        h1=None,
        lambda_cs: Sequence[float] = DEFAULT_LAMBDA_CS,
        cv=5,
        scoring=None,
        refit: bool | str | Callable = True,
        dissonance="new_error",
        **kwargs,
    ) -> None:
        self.model = model
        self.h1 = h1
        self.lambda_cs = lambda_cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.dissonance = dissonance
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
        for name in ("lambda_c",):
            if name in params:
                raise ValueError(
                    f"{name} is chosen by BCCompatibleClassifierCV: give the "
                    "candidates as lambda_cs=(...) instead."
                )
        return {
            **params,
            "model": self.model,
            "h1": self.h1,
            "dissonance": self.dissonance,
        }

    def fit(self, X, y, sample_weight=None) -> BCCompatibleClassifierCV:
        """Cross-validate every ``lambda_c`` and refit the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights for training (not for scoring).

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        lambda_cs = _check_lambda_cs(self.lambda_cs)
        params = self._estimator_params()
        base = BCCompatibleClassifier(**params)
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
        cv = check_cv(self.cv, y_array, classifier=True)
        weights = None if sample_weight is None else np.asarray(sample_weight)
        fold_scores = []  # one list of per-candidate scores (float or dict) per fold
        for train, test in cv.split(X, y_array):
            # _safe_indexing keeps a DataFrame a DataFrame (a scikit-learn h1
            # may need its column names).
            X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
            path = _LambdaPath(lambda_cs=lambda_cs, **params)
            path.fit(
                X_train,
                y_array[train],
                sample_weight=None if weights is None else weights[train],
            )
            fold_scores.append(
                [
                    scorer(path.estimator_for(j), X_test, y_array[test])
                    for j in range(len(lambda_cs))
                ]
            )
        self.n_splits_ = len(fold_scores)
        self.cv_results_ = _cv_results(lambda_cs, fold_scores)
        self.multimetric_ = isinstance(fold_scores[0][0], dict)
        self._choose(lambda_cs)
        if self.refit is not False:
            self.best_estimator_ = clone(base).set_params(lambda_c=self.lambda_c_)
            self.best_estimator_.fit(X, y, sample_weight=sample_weight)
            self.classes_ = self.best_estimator_.classes_
            self.n_features_in_ = self.best_estimator_.n_features_in_
        else:
            self.classes_ = np.unique(y_array)
            self.n_features_in_ = np.shape(X)[1]
        return self

    def _choose(self, lambda_cs) -> None:
        refit = self.refit
        results = self.cv_results_
        if callable(refit):
            index = refit(results)
            if not isinstance(index, numbers.Integral) or not (
                0 <= index < len(lambda_cs)
            ):
                raise ValueError(
                    f"refit returned {index!r}; it must return the index of a "
                    f"candidate, an int in [0, {len(lambda_cs)})."
                )
            self.best_index_ = int(index)
        else:
            if self.multimetric_:
                metrics = sorted(
                    k[len("mean_test_") :]
                    for k in results
                    if k.startswith("mean_test_")
                )
                if refit is False:
                    return
                if refit is True or refit not in metrics:
                    raise ValueError(
                        f"With several metrics, refit must name the one that chooses "
                        f"lambda_c, one of {metrics}, or be a callable; got {refit!r}."
                    )
                key = refit
            else:
                key = "score"
            self.best_index_ = int(np.argmin(results[f"rank_test_{key}"]))
            self.best_score_ = float(results[f"mean_test_{key}"][self.best_index_])
        self.lambda_c_ = lambda_cs[self.best_index_]

    # -- prediction: the refitted estimator's --------------------------------------

    def _final(self) -> BCCompatibleClassifier:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def predict(self, X) -> np.ndarray:
        """Labels predicted by :attr:`best_estimator_`."""
        return self._final().predict(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from :attr:`best_estimator_`."""
        return self._final().predict_proba(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of :attr:`best_estimator_` (``scoring`` chose it, not this)."""
        return self._final().score(X, y, sample_weight=sample_weight)


def _rank(values: np.ndarray) -> np.ndarray:
    """Ranks as ``GridSearchCV`` gives them: 1 is best, ties share the lower rank."""
    return rankdata(-values, method="min").astype(np.int32)


def _cv_results(lambda_cs, fold_scores) -> dict:
    """``GridSearchCV``-style results from per-fold, per-candidate scores."""
    n = len(lambda_cs)
    param = np.ma.MaskedArray(np.array(lambda_cs, dtype=object), mask=[False] * n)
    results: dict = {
        "params": [{"lambda_c": v} for v in lambda_cs],
        "param_lambda_c": param,
    }
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
