"""The lambda_c path: every candidate of a search trained as one Keras model.

Where ``GridSearchCV`` trains one network per (fold, candidate), the search
trains, on each fold, one Keras model that holds a copy of the user's network
per candidate and ensemble member
(:class:`bcsk._keras._models.ReferenceInputPathModel`): the copies share the
per-step overhead of Keras, and h1 runs once per fold instead of once per
candidate. :func:`_fit_and_score_fold` trains one fold and scores every
(candidate, ensemble size, flip cost) row on outputs computed once.
"""

from __future__ import annotations

from collections import defaultdict

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.utils import _safe_indexing

from bcsk import _h1
from bcsk._keras._ensemble import MeanEnsemble
from bcsk._keras._models import ReferenceInputPathModel
from bcsk.estimator import (
    BCCompatibleClassifier,
    check_same_networks,
    loss_weights_of,
    member_seeds,
)
from bcsk.gate._gate import CompatibleUpdateClassifier
from bcsk.objective._dissonances import get_dissonance

__all__: list[str] = []


# Compile arguments that say how Keras runs the training step, not what it
# computes: the path model keeps the user's.
_EXECUTION_SETTINGS = ("run_eagerly", "jit_compile", "steps_per_execution")


class _LambdaPath(BCCompatibleClassifier):
    """A ``BCCompatibleClassifier`` that trains every candidate of a search at once.

    A candidate is a ``(dissonance, lambda_c)`` pair; each has ``n_members``
    networks (an ensemble when more than one). Copy ``m`` of every candidate
    is built under member ``m``'s seed (:func:`bcsk.estimator.member_seeds`),
    so it starts from the weights a separate fit with that ``random_state``
    starts from, and every copy sees the same batches. ``models_`` holds the
    copies candidate by candidate: ``models_[j * n_members + m]``.

    ``dissonance`` must be one that needs h1's probabilities if any
    candidate's does (h1's outputs are computed once, for all of them).
    """

    def __init__(self, model=None, *, candidates=(), served_sizes=(), **kwargs):
        super().__init__(model, **kwargs)
        self.candidates = candidates
        # Ensemble sizes whose views a search may serve as trained: each
        # (candidate, size) then reports its own loss and metrics per epoch.
        self.served_sizes = served_sizes

    def _train(self, X, y, sample_weight, **kwargs) -> None:
        # One row of the data, for Keras to read the user's metric names by.
        self._first_rows = (X[:1], y[:1])
        try:
            super()._train(X, y, sample_weight, **kwargs)
        finally:
            del self._first_rows

    def _build_model(self) -> keras.Model:
        seeds = member_seeds(self._seed, self.n_members)
        self.models_ = self._build_copies(
            [seed for _ in self.candidates for seed in seeds]
        )
        check_same_networks(self.models_, "the candidates of BCCompatibleClassifierCV")
        return self.models_[0]

    def _reweights_samples(self, dissonance, fit_kwargs) -> bool:
        # Every candidate trains, in the path model: never h2's own fit.
        return False

    def _training_model(self, dissonance) -> keras.Model:
        optimizer = self.models_[0].optimizer
        if getattr(optimizer, "global_clipnorm", None) is not None:
            raise ValueError(
                "BCCompatibleClassifierCV trains every candidate together, and an "
                "optimizer with global_clipnorm would clip their gradients jointly, "
                "coupling the copies. Use clipnorm (per weight), or GridSearchCV over "
                "BCCompatibleClassifier."
            )
        objectives = [
            (lambda_c, candidate_dissonance)
            for candidate_dissonance, lambda_c in self.candidates
            for _ in range(self.n_members)
        ]
        path = ReferenceInputPathModel(
            self.models_,
            objectives,
            loss=self.models_[0].loss,
            multilabel=self._multilabel,
            loss_weights=loss_weights_of(self.models_[0]),
        )
        # The candidates' metrics are not compiled (they would be read on the
        # copies' joint outputs), but how the user asked Keras to execute the
        # training step is: run_eagerly, jit_compile, steps_per_execution.
        config = self.models_[0].get_compile_config() or {}
        execution = {key: config[key] for key in _EXECUTION_SETTINGS if key in config}
        path.compile(optimizer=optimizer, loss=None, **execution)
        if self.served_sizes:
            # ... but a view the search serves reports its own loss and metrics.
            X_row, y_row = self._first_rows
            path.track_groups(
                [
                    (_view_prefix(j, size), self._copies_of(j, size))
                    for j in range(len(self.candidates))
                    for size in self.served_sizes
                ],
                config.get("metrics"),
                config.get("weighted_metrics"),
                rows=(y_row, self.models_[0](X_row)),
            )
        return path

    def _copies_of(self, index: int, n_members: int) -> list[int]:
        """Indices in ``models_`` of candidate ``index``'s first copies."""
        first = index * self.n_members
        return list(range(first, first + n_members))

    def estimator_for(self, index: int, n_members: int | None = None):
        """A fitted ``BCCompatibleClassifier`` made of candidate ``index``'s copies.

        With ``n_members`` smaller than the path's, the ensemble of the first
        ``n_members`` copies (the members a fit with that ``n_members`` trains).
        """
        n = self.n_members if n_members is None else n_members
        dissonance, lambda_c = self.candidates[index]
        params = self.get_params(deep=False)
        for own in ("candidates", "served_sizes"):
            params.pop(own)
        view = BCCompatibleClassifier(
            **{**params, "lambda_c": lambda_c, "dissonance": dissonance, "n_members": n}
        )
        state = {k: v for k, v in vars(self).items() if k not in params}
        for own in ("candidates", "served_sizes", "models_"):
            state.pop(own, None)
        view.__dict__.update(state)
        members = [self.models_[i] for i in self._copies_of(index, n)]
        view.model_ = members[0] if n == 1 else MeanEnsemble(members)
        if n in self.served_sizes:
            # The view's own figures, not the sum over every copy trained.
            view.history_ = _view_history(self.history_, _view_prefix(index, n))
        return view


def _view_prefix(index: int, n_members: int) -> str:
    """How the path model names a served view's loss and metrics."""
    return f"c{index}x{n_members}_"


def _view_history(history, prefix: str) -> defaultdict:
    """The path's ``history_`` entries of one view, under the names of a fit."""
    view = defaultdict(list)
    for key, values in history.items():
        for head in ("", "val_"):
            if key.startswith(head + prefix):
                view[head + key[len(head + prefix) :]] = list(values)
    return view


class _Stored(ClassifierMixin, BaseEstimator):
    """Stands in for h2 or h1 on one held-out fold, with outputs computed once.

    Scoring every flip cost of the gate on a fold's held-out rows needs h2's
    probabilities and h1's labels on those rows once, not once per cost:
    ``predict_proba`` (for h2) or ``predict`` (for h1) returns the stored
    output when called with that very ``X``, and asks the model otherwise.
    """

    def __init__(self, X, output, model, classes) -> None:
        self.X = X
        self.output = output
        self.model = model
        self.classes = classes

    @property
    def classes_(self) -> np.ndarray:
        return self.classes

    def _answer(self, X, method: str):
        if X is self.X:
            return self.output
        if method == "predict_proba":
            return self.model.predict_proba(X)
        return _h1.h1_predict(self.model, X, self.classes)


class _StoredProbabilities(_Stored):
    """h2 on the fold: its probabilities stored once, and h1's stored labels.

    ``predict`` is h2's own rule on them (the first most probable class, as
    scikeras' ``predict``), so the row without the gate reuses them too.
    """

    def __init__(self, X, output, model, classes, h1=None) -> None:
        super().__init__(X, output, model, classes)
        self.h1 = h1

    def predict_proba(self, X):
        return self._answer(X, "predict_proba")

    def predict(self, X):
        if X is self.X:
            return self.classes[np.argmax(self.output, axis=1)]
        return self.model.predict(X)


class _StoredLabels(_Stored):
    # Only ``predict`` and no ``fit``: bcsk reads such an object as an h1 that
    # gives labels (``_h1.h1_kind`` "predictor").
    def predict(self, X):
        return self._answer(X, "predict")


def _gated(h2, h1, X_test, flip_cost: float) -> CompatibleUpdateClassifier:
    """The gate around a fitted h2 at ``flip_cost``, as ``fit`` would leave it.

    ``h2`` and ``h1`` are :class:`_Stored` outputs on ``X_test``.
    """
    gate = CompatibleUpdateClassifier(FrozenEstimator(h2), h1=h1, flip_cost=flip_cost)
    gate.estimator_ = h2
    return gate


def _fit_and_score_fold(
    params,
    candidates,
    sizes,
    flip_costs,
    scorer,
    X,
    y,
    sample_weight,
    train,
    test,
    logged=None,
    keep=False,
):
    """Train every candidate on one fold; score each (candidate, size, cost) row.

    Rows come candidate by candidate, then ensemble size, then flip cost. A
    row at ``flip_cost = 1`` scores h2 itself (no gate), as ``GridSearchCV``
    would. With gate costs, h2 predicts the held-out rows once and h1 once per
    fold, and every row, the one without the gate included, is scored on those
    stored outputs: the flip-cost axis costs no fit and no prediction.

    ``logged`` is ``(h1_proba, h1_pred, labels)`` for h1's logged outputs
    (``labels`` h1's labels, from either): the fold trains on its rows of
    the given one, and every scored view holds, as its h1, the logged labels
    of the held-out rows (a :class:`_StoredLabels`), so that bcsk's scorers
    and the gate read them instead of calling an h1.

    Returns the list of scores, or, with ``keep``, ``(scores, path)``: the
    fold's trained :class:`_LambdaPath`, whose networks a search that holds
    out one split serves without a refit.
    """
    # _safe_indexing keeps a DataFrame a DataFrame (a scikit-learn h1 may need
    # its column names).
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    path = _LambdaPath(
        candidates=candidates,
        served_sizes=tuple(sizes) if keep else (),
        **{**params, "n_members": max(sizes), "dissonance": _reference(candidates)},
    )
    outputs = {}
    if logged is not None:  # the fold's rows of what was logged
        outputs = {
            name: values[train]
            for name, values in zip(("h1_proba", "h1_pred"), logged[:2], strict=True)
            if values is not None
        }
    path.fit(
        X_train,
        y[train],
        sample_weight=None if sample_weight is None else sample_weight[train],
        **outputs,
    )
    gate_costs = [cost for cost in flip_costs if cost != 1.0]
    h1_labels = None
    X_h1 = X_test if hasattr(X_test, "shape") else np.asarray(X_test)
    if logged is not None:
        h1_labels = _StoredLabels(X_h1, logged[2][test], None, path.classes_)
    elif gate_costs:
        labels = _h1.h1_predict(params["h1"], X_h1, path.classes_)
        h1_labels = _StoredLabels(X_h1, labels, params["h1"], path.classes_)
        known = _h1.known_classes(params["h1"])
        if known is not None:
            # The gate's rows are scored as h2's are: without the rows of
            # classes h1 does not know (the scorers read with_classes).
            h1_labels = _h1.with_classes(h1_labels, known)
    scores = []
    for j in range(len(candidates)):
        for size in sizes:
            h2 = path.estimator_for(j, size)
            if logged is not None:
                h2.h1 = h1_labels  # the scorers find h1's logged labels here
            if gate_costs:
                h2 = _StoredProbabilities(
                    X_test, h2.predict_proba(X_test), h2, h2.classes_, h1=h1_labels
                )
            for cost in flip_costs:
                if cost == 1.0:
                    scores.append(scorer(h2, X_test, y[test]))
                else:
                    gate = _gated(h2, h1_labels, X_test, cost)
                    scores.append(scorer(gate, X_test, y[test]))
    return (scores, path) if keep else scores


def _reference(candidates):
    """A candidate dissonance that needs h1's probabilities, if any does."""
    dissonances = [get_dissonance(d) for d, _ in candidates]
    for given, dissonance in zip(candidates, dissonances, strict=True):
        if dissonance.needs_probabilities:
            return given[0]
    return candidates[0][0]
