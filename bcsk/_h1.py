"""Turn any kind of h1 into probabilities over the estimator's classes.

h1 may be a Keras model, a fitted scikit-learn classifier or a callable. A Keras
or callable h1 gives one column per class in the order of ``classes_`` (sorted
labels, scikit-learn's convention); a scikit-learn h1 is mapped through its own
``classes_``, so an h1 that knew only some of the classes still works. Any other
object with a ``predict`` method (no ``fit``) gives labels only: enough for the
new-error objective, the scorers and the update gate. Shared by the estimator
(once per fit), the scorers (once per call) and the gate (once per predict).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from bcsk import _labels

# Rows of h1's output may differ from 1 by float32 rounding, not by more.
_SUM_TOLERANCE = 1e-3


def _is_keras(h1) -> bool:
    # Avoid importing keras (and TensorFlow) just to answer "no".
    return any(cls.__module__.startswith("keras") for cls in type(h1).__mro__)


def _is_sklearn(h1) -> bool:
    return hasattr(h1, "fit") and hasattr(h1, "predict")


def h1_kind(h1) -> str:
    """``"keras"``, ``"sklearn"``, ``"callable"`` or ``"predictor"``; else raise.

    ``"predictor"`` is an object that is none of the others but has a
    ``predict`` method returning labels (a model served behind a client, a
    lookup of stored predictions).
    """
    h1 = reference_version(h1)
    if isinstance(h1, WithClasses):
        # Called through bcsk only (its columns need y's classes): a Keras
        # model inside is used as a callable, never handed to bc_fit.
        kind = h1_kind(h1.model)
        return "callable" if kind == "keras" else kind
    if h1 is None:
        raise ValueError(
            "h1 is required: pass the old model as h1=... (a Keras model that "
            "outputs class probabilities, a fitted scikit-learn classifier, a "
            "callable X -> probabilities, or an object whose predict returns "
            "labels), or, when h1 cannot run here, its logged outputs: "
            "h1_proba=... or h1_pred=... (see 'h1 as logged outputs' in the docs)."
        )
    if _is_keras(h1):
        return "keras"
    if _is_sklearn(h1):
        return "sklearn"
    if callable(h1):
        return "callable"
    if callable(getattr(h1, "predict", None)):
        return "predictor"
    raise TypeError(
        f"h1 must be a Keras model, a fitted scikit-learn classifier, a callable "
        f"X -> probabilities or an object whose predict returns labels; got "
        f"{type(h1).__name__}."
    )


def has_probabilities(h1) -> bool:
    """Whether h1 gives class probabilities (needed for strict imitation)."""
    h1 = reference_version(h1)
    if isinstance(h1, WithClasses):
        h1 = h1.model
    kind = h1_kind(h1)
    return kind in ("keras", "callable") or (
        kind == "sklearn" and hasattr(h1, "predict_proba")
    )


def _predicted_labels(h1, X) -> np.ndarray:
    """Labels from ``h1.predict(X)``, checked to be one per sample."""
    labels = np.asarray(h1.predict(X))
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"h1.predict must return one label per sample: got an array of shape "
            f"{labels.shape} for {n_samples} samples. If h1 returns probabilities, "
            "pass h1.predict (a callable X -> probabilities) instead."
        )
    return labels


@dataclass(frozen=True)
class H1Outputs:
    """h1's view of a set of samples, aligned with the estimator's ``classes``.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,)
        h1's predicted label per sample (labels h1 knows but the estimator does
        not are kept, so they count as errors).
    probabilities : ndarray of shape (n_samples, n_classes) or None
        h1's probability of each of ``classes``; ``None`` when h1 only predicts.
    """

    labels: np.ndarray
    probabilities: np.ndarray | None


def _check_probabilities(output, n_classes: int, classes) -> np.ndarray:
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 1:
        output = output[:, None]
    if output.ndim != 2:
        raise ValueError(
            f"h1 must return one row of probabilities per sample; got an array of "
            f"shape {output.shape}."
        )
    if output.shape[1] == 1 and n_classes == 2:
        # One sigmoid unit: the probability of classes[1].
        output = np.hstack([1.0 - output, output])
    if output.shape[1] != n_classes:
        raise ValueError(
            f"h1 returns {output.shape[1]} probabilities per sample but y has "
            f"{n_classes} classes {list(classes)}: h1 must give one column per "
            "class, in the order of the sorted class labels."
        )
    n_bad = int(np.sum(~np.isfinite(output).all(axis=1)))
    if n_bad:
        raise ValueError(
            f"h1 returned NaN or infinite values for {n_bad} of {len(output)} "
            "samples; check h1 and the features it receives."
        )
    sums = output.sum(axis=1)
    if np.any(output < -_SUM_TOLERANCE) or np.any(np.abs(sums - 1.0) > _SUM_TOLERANCE):
        raise ValueError(
            "h1's outputs are not probabilities: row sums range from "
            f"{sums.min():.4g} to {sums.max():.4g} (expected 1). Give h1 a softmax "
            "(or sigmoid) output layer, or wrap it so that it returns probabilities."
        )
    return output


def _check_input_width(h1, X, kind: str) -> None:
    if kind == "sklearn":
        expected, found = getattr(h1, "n_features_in_", None), X.shape[1]
        if expected is None or expected == found:
            return
    else:
        try:
            inputs = h1.inputs
        except (AttributeError, ValueError):  # a subclassed model has no inputs
            return
        if not inputs or len(inputs) != 1:
            return
        expected, found = tuple(inputs[0].shape[1:]), tuple(X.shape[1:])
        if len(expected) == len(found) and all(
            e is None or e == f for e, f in zip(expected, found, strict=True)
        ):
            return
    raise ValueError(
        f"h1 expects inputs of shape {expected} per sample but X has {found}. In a "
        "Pipeline, h1 receives the output of the steps before the estimator: fit "
        "h1 on those features (or put h1's own preprocessing inside h1)."
    )


def _check_trained(h1, kind: str) -> None:
    """Refuse an h1 that was never trained (an unfitted or unbuilt model)."""
    if kind == "sklearn":
        try:
            check_is_fitted(h1)
        except NotFittedError:
            raise NotFittedError(
                f"h1 ({type(h1).__name__}) is not fitted: bcsk needs the trained "
                "old model. Fit it before passing it as h1."
            ) from None
    elif kind == "keras" and not h1.built:
        raise ValueError(
            "h1 is a Keras model with no weights yet: train it (or load the "
            "trained model) before using it as h1."
        )


def _keras_probabilities(h1, X, batch_size: int) -> np.ndarray:
    """Call a Keras h1 batch by batch in inference mode.

    Direct calls skip ``Model.predict``'s per-model tracing and its input
    pipeline: on 5,000 MNIST rows that was most of h1's cost, and on 100,000
    rows ``predict`` held ~670 MiB more than these slices.
    """
    from keras import ops

    batches = [
        h1(X[start : start + batch_size], training=False)
        for start in range(0, X.shape[0], batch_size)
    ]
    if isinstance(batches[0], (list, tuple)):  # a multi-output h1: one per output
        return [
            np.concatenate([ops.convert_to_numpy(part) for part in parts])
            for parts in zip(*batches, strict=True)
        ]
    return np.concatenate([ops.convert_to_numpy(batch) for batch in batches])


def h1_outputs(
    h1, X, classes, *, need_probabilities: bool, batch_size: int = 4096
) -> H1Outputs:
    """Run h1 once on ``X`` and align what it says with ``classes``.

    Parameters
    ----------
    h1 : keras.Model, scikit-learn classifier or callable
        The old model.
    X : ndarray
        The samples, as the estimator receives them.
    classes : ndarray
        The estimator's sorted class labels.
    need_probabilities : bool
        Raise if h1 cannot give probabilities (a scikit-learn h1 without
        ``predict_proba``).
    batch_size : int, default=4096
        Batch size for a Keras h1 (bounds the memory of inference).

    Returns
    -------
    H1Outputs
    """
    h1 = reference_version(h1)
    if isinstance(h1, WithClasses):
        return _with_classes_outputs(h1, X, classes, need_probabilities, batch_size)
    kind = h1_kind(h1)
    classes = np.asarray(classes)
    if kind == "predictor":
        if need_probabilities:
            raise ValueError(
                f"This dissonance needs h1's probabilities, but h1 "
                f"({type(h1).__name__}) only predicts labels. Use "
                "dissonance='new_error', or an h1 with predict_proba."
            )
        return H1Outputs(_predicted_labels(h1, X), None)
    if kind == "sklearn":
        _check_trained(h1, kind)
        known = np.asarray(getattr(h1, "classes_", classes))
        _check_known_labels(classes, known)
        _check_input_width(h1, X, kind)
        if not hasattr(h1, "predict_proba"):
            if need_probabilities:
                raise ValueError(
                    f"This dissonance needs h1's probabilities, but "
                    f"h1 ({type(h1).__name__}) has no predict_proba. Use "
                    "dissonance='new_error', or an h1 with predict_proba."
                )
            return H1Outputs(np.asarray(h1.predict(X)), None)
        return _aligned_sklearn_outputs(h1.predict_proba(X), known, classes)

    if kind == "keras":
        _check_trained(h1, kind)
        _check_input_width(h1, X, kind)
        output = _keras_probabilities(h1, X, batch_size)
    else:
        output = h1(X)
    if isinstance(output, (list, tuple)) and len(output) == 1:
        output = output[0]  # a Keras model built with outputs=[layer]
    return _class_outputs(output, classes)


def _check_known_labels(classes, known) -> None:
    if not np.isin(classes, known).any():
        raise ValueError(
            f"None of the labels in y {list(classes)} is a class h1 knows "
            f"{list(known)}: h1 and y must use the same labels."
        )


def _class_outputs(output, classes) -> H1Outputs:
    """Checked probabilities, one column per class of ``classes``, and h1's labels."""
    proba = _check_probabilities(output, len(classes), classes)
    return H1Outputs(classes[np.argmax(proba, axis=1)], proba)


def _aligned_sklearn_outputs(proba, known, classes) -> H1Outputs:
    """A scikit-learn predict_proba (over its classes_) aligned to ``classes``."""
    _check_known_labels(classes, known)
    proba = _check_probabilities(proba, len(known), known)
    labels = known[np.argmax(proba, axis=1)]
    aligned = np.zeros((proba.shape[0], len(classes)))
    position = {label: i for i, label in enumerate(known.tolist())}
    for j, label in enumerate(classes.tolist()):
        if label in position:
            aligned[:, j] = proba[:, position[label]]
    # Mass on classes this estimator does not have is dropped; renormalise.
    totals = aligned.sum(axis=1, keepdims=True)
    aligned = np.divide(aligned, totals, out=np.zeros_like(aligned), where=totals > 0)
    return H1Outputs(labels, aligned)


def h1_predict(h1, X, classes) -> np.ndarray:
    """h1's predicted labels on ``X`` (for the scorers)."""
    return h1_outputs(h1, X, classes, need_probabilities=False).labels


def clone_sharing_h1(estimator):
    """A clone of ``estimator`` (its ``__sklearn_clone__``) that shares its h1.

    h1 is frozen: clones share it instead of deep-copying a Keras model (slow)
    or re-creating an unfitted scikit-learn h1 (wrong). Every other parameter
    is cloned as ``sklearn.base.clone`` would.
    """
    from sklearn.base import clone

    params = estimator.get_params(deep=False)
    new = type(estimator)(
        **{
            name: value if name == "h1" else clone(value, safe=False)
            for name, value in params.items()
        }
    )
    # As sklearn.base.clone does: the metadata requests (set_fit_request, ...)
    # travel with the clone, so a routed h1_proba still reaches it.
    request = estimator.__dict__.get("_metadata_request")
    if request is not None:
        new._metadata_request = clone(request, safe=False)
    return new


# -- a chain of versions, and classes a later version adds ------------------------


@dataclass(frozen=True, eq=False)
class WithClasses:
    """An old model whose output columns are the classes ``classes``, in order.

    Made by :func:`with_classes`; read by :func:`h1_outputs` only.
    """

    model: object
    classes: tuple

    @property
    def classes_(self) -> np.ndarray:
        """The classes the model knows, in the order of its output columns."""
        return np.asarray(self.classes)

    def predict(self, X) -> np.ndarray:
        """The model's labels: the class of its most probable column."""
        if h1_kind(self.model) in ("sklearn", "predictor"):
            return np.asarray(self.model.predict(X))
        outputs = _with_classes_outputs(
            self, X, np.asarray(self.classes), need_probabilities=False, batch_size=4096
        )
        return outputs.labels

    def __repr__(self) -> str:
        return f"with_classes({type(self.model).__name__}, {list(self.classes)})"


def with_classes(h1, classes) -> WithClasses:
    """Say which classes an old model's outputs are, when it knows fewer than y.

    A new version often knows a class the old did not. A Keras model or a
    callable gives one probability column per class it knows; wrap it to say
    which class each column is, then pass the wrapper wherever ``h1`` is
    accepted (:class:`~bcsk.BCCompatibleClassifier`, the search, the gates,
    the scorers), alone or as a version of a chain ``h1=[v1, v2, ...]``.

    Its probabilities are placed in the columns of ``classes_`` (the sorted
    labels of ``y``), 0 on the classes it does not know. It is always wrong on
    the samples of those classes, so the new-error objective leaves them out
    by itself (it defends only h1's right answers); the other dissonances
    still pull h2 towards h1 there (see :ref:`lineage`).

    Parameters
    ----------
    h1 : keras.Model, callable or object with predict
        The old model. A fitted scikit-learn classifier already says its
        classes (``classes_``) and needs no wrapper; if wrapped, ``classes``
        must equal its ``classes_``.
    classes : array-like
        The class of each of h1's output columns, in order: distinct labels,
        each one of ``y``'s.

    Returns
    -------
    WithClasses
        The wrapper; ``.model`` is ``h1``, ``.classes_`` the classes.

    Examples
    --------
    v1 never saw class 1 of ``y = [0, 1, 2, ...]``; its two output columns
    are classes 0 and 2, and its probabilities land in those columns:

    >>> import numpy as np
    >>> from bcsk import with_classes
    >>> v1 = with_classes(lambda X: np.tile([0.8, 0.2], (len(X), 1)), classes=[0, 2])
    >>> v1.classes_.tolist(), v1.predict(np.zeros((2, 4))).tolist()
    ([0, 2], [0, 0])
    """
    if isinstance(h1, WithClasses) or _is_chain(h1):
        raise TypeError(
            "with_classes wraps one model; for a chain wrap each version: "
            "h1=[with_classes(v1, c1), with_classes(v2, c2), v3]."
        )
    h1_kind(h1)
    if classes is None or isinstance(classes, str) or np.ndim(classes) != 1:
        raise ValueError(
            "classes must be a 1-D sequence of class labels, one per output "
            f"column of h1, in order; got {classes!r}."
        )
    values = [v.item() if isinstance(v, np.generic) else v for v in classes]
    if not values or len(set(values)) != len(values):
        raise ValueError(
            f"classes must list each class h1 knows exactly once; got {values}."
        )
    if h1_kind(h1) == "sklearn" and hasattr(h1, "classes_"):
        if list(np.asarray(h1.classes_).tolist()) != values:
            raise ValueError(
                f"h1 ({type(h1).__name__}) has classes_ "
                f"{np.asarray(h1.classes_).tolist()} but classes={values}: a "
                "scikit-learn h1 says its classes itself; pass it unwrapped."
            )
    return WithClasses(h1, tuple(values))


def _is_chain(h1) -> bool:
    return isinstance(h1, (list, tuple))


def _version_classes(version):
    """The classes a version says it knows, in its column order, or None."""
    if isinstance(version, WithClasses):
        return list(version.classes)
    if h1_kind(version) == "sklearn" and hasattr(version, "classes_"):
        return np.asarray(version.classes_).tolist()
    return None


def reference_version(h1):
    """The version of ``h1`` that bcsk trains and scores against.

    ``h1`` may be a chain of versions, oldest first (``h1=[v1, v2, v3]``); the
    reference is the last, so ``h1=[v1, v2, v3]`` is the same as ``h1=v3``
    (``reference="last"``, the only reference the lineage study supports:
    :ref:`lineage`). Every version is checked to be a usable h1, and the
    versions that say their classes must list the classes they share in the
    same order. Anything else is returned as it is.
    """
    if not _is_chain(h1):
        return h1
    versions = list(h1)
    if not versions:
        raise ValueError(
            "h1 is an empty list: pass the old model, or the chain of earlier "
            "versions oldest first (h1=[v1, v2, ...])."
        )
    for k, version in enumerate(versions):
        if _is_chain(version):
            raise TypeError(
                f"h1[{k}] is a list: a chain is one flat list of versions, "
                "oldest first."
            )
        if version is None:
            raise ValueError(
                f"h1[{k}] is None: every version of the chain must be a model."
            )
        h1_kind(version)
    listed = [(k, _version_classes(v)) for k, v in enumerate(versions)]
    listed = [(k, c) for k, c in listed if c is not None]
    for (a, first), (b, second) in zip(listed[:-1], listed[1:], strict=True):
        shared = [c for c in first if c in second]
        in_second = [c for c in second if c in shared]
        if shared != in_second:
            raise ValueError(
                f"Versions h1[{a}] and h1[{b}] list the classes they share in "
                f"different orders ({shared} and {in_second}). Each list gives "
                "the class of each output column: one of them was written "
                "wrong. Fix the classes given to with_classes."
            )
    return versions[-1]


def known_classes(h1) -> list | None:
    """The classes h1 (a chain's last version) says it knows via with_classes."""
    if h1 is None:
        return None
    reference = reference_version(h1)
    return list(reference.classes) if isinstance(reference, WithClasses) else None


def _is_logged_chain(value, ndim: int | None = None) -> bool:
    """Whether logged outputs are a chain: a list of one array per version.

    A list (or tuple) of at least one NumPy array (or pandas object), all of
    one shape with at least one dimension, fewer of them than each has rows
    (a list of h1_proba's rows has as many entries as there are samples).
    """
    if not _is_chain(value) or not value:
        return False
    if not all(hasattr(v, "shape") and hasattr(v, "ndim") for v in value):
        return False
    shapes = {tuple(v.shape) for v in value}
    if len(shapes) != 1:
        return False
    (shape,) = shapes
    if len(shape) == 0 or (ndim is not None and len(shape) != ndim):
        return False
    return len(value) < shape[0] or len(value) == 1


def reference_logged(logged, ndim: int):
    """The reference version's logged outputs (the last of a chain)."""
    if _is_logged_chain(logged, ndim):
        return logged[-1]
    return logged


def _single_label_only(h1, target: str):
    if isinstance(h1, WithClasses):
        raise ValueError(
            f"with_classes is for one label per sample; {target} names its "
            "outputs by column. Pass the model unwrapped."
        )
    return h1


def _with_classes_outputs(h1, X, classes, need_probabilities, batch_size):
    """A wrapped h1's outputs, its columns placed among ``classes``."""
    classes = np.asarray(classes)
    known = _labels.check_known_classes(h1.classes, classes.tolist(), "with_classes")
    model, kind = h1.model, h1_kind(h1.model)
    if kind == "sklearn":
        return h1_outputs(
            model,
            X,
            classes,
            need_probabilities=need_probabilities,
            batch_size=batch_size,
        )
    if kind == "predictor":
        return h1_outputs(
            model,
            X,
            classes,
            need_probabilities=need_probabilities,
            batch_size=batch_size,
        )
    if kind == "keras":
        _check_trained(model, kind)
        _check_input_width(model, X, kind)
        output = _keras_probabilities(model, X, batch_size)
    else:
        output = model(X)
    if isinstance(output, (list, tuple)) and len(output) == 1:
        output = output[0]
    known = np.asarray(known, dtype=classes.dtype)
    try:
        proba = _check_probabilities(output, len(known), known)
    except ValueError as error:
        raise ValueError(
            f"{error} (h1 was wrapped with with_classes({list(known.tolist())}): "
            "one column per class listed there, in that order)"
        ) from None
    aligned = np.zeros((proba.shape[0], len(classes)))
    position = {label: j for j, label in enumerate(classes.tolist())}
    aligned[:, [position[label] for label in known.tolist()]] = proba
    return H1Outputs(known[np.argmax(proba, axis=1)], aligned)


# -- h1 as logged outputs ----------------------------------------------------------

_LOGGED_HINT = (
    "Pass h1's logged outputs for exactly the rows of X, in the same order: "
    "h1_proba of shape (n_samples, n_classes), one column per class in the order "
    "of classes_ (the sorted labels of y), or h1_pred, one label per sample."
)


def check_not_both(h1, h1_proba, h1_pred, owner: str) -> None:
    """Refuse a live h1 together with logged outputs, or both kinds of output."""
    if h1_proba is not None and h1_pred is not None:
        raise ValueError(
            f"{owner} got both h1_proba and h1_pred: pass one. h1_proba gives "
            "h1's labels too (the most probable class of each row); h1_pred "
            "alone is enough for dissonance='new_error', the scorers and the gate."
        )
    if h1 is not None and (h1_proba is not None or h1_pred is not None):
        given = "h1_proba" if h1_proba is not None else "h1_pred"
        raise ValueError(
            f"{owner} got both h1={type(h1).__name__} and {given}: h1's outputs "
            f"come from one place. To train from logged outputs, set h1=None and "
            f"pass {given}; to use the live model, do not pass {given}."
        )


def _as_numbers(values, what: str, hint: str = "") -> np.ndarray:
    """``values`` as a float64 array; ``what`` says "X must hold numbers (...)"."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise ValueError(
            f"{what}; got an array of dtype {values.dtype}. {hint}".strip()
        )
    return values.astype(np.float64, copy=False)


def _logged_probabilities(h1_proba, classes, n_samples: int) -> np.ndarray:
    proba = _as_numbers(
        h1_proba, "h1_proba must hold numbers (h1's class probabilities)"
    )
    n_classes = len(classes)
    if proba.ndim != 2 or proba.shape != (n_samples, n_classes):
        raise ValueError(
            f"h1_proba must have shape (n_samples, n_classes) = ({n_samples}, "
            f"{n_classes}) for the {n_classes} classes {list(classes)}; got "
            f"{proba.shape}. {_LOGGED_HINT} Nothing is re-ordered or dropped: "
            "align the logged table to X and to classes_ first."
        )
    finite = np.isfinite(proba).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"h1_proba holds NaN or infinite values in {rows.size} of {n_samples} "
            f"rows (first: {rows[:5].tolist()}); h1's logged outputs must be "
            "complete. Drop those rows from X, y and h1_proba together."
        )
    sums = proba.sum(axis=1)
    negative = (proba < -_SUM_TOLERANCE).any(axis=1)
    off = np.abs(sums - 1.0) > _SUM_TOLERANCE
    if negative.any() or off.any():
        rows = np.flatnonzero(negative | off)
        raise ValueError(
            f"h1_proba is not a table of probabilities: {rows.size} of {n_samples} "
            f"rows (first: {rows[:5].tolist()}) have negative entries or do not "
            f"sum to 1 within {_SUM_TOLERANCE:g} (row sums range from "
            f"{sums.min():.4g} to {sums.max():.4g}). Logits are not probabilities: "
            "apply a softmax (scipy.special.softmax(logits, axis=1)) to logged "
            "logits before passing them."
        )
    return proba


def _one_label_per_sample(h1_pred, n_samples: int) -> np.ndarray:
    """``h1_pred`` as a 1-D array of ``n_samples`` labels (a column is raveled)."""
    labels = np.asarray(h1_pred)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"h1_pred must be one label per sample, shape ({n_samples},); got "
            f"{labels.shape}. {_LOGGED_HINT}"
        )
    return labels


def _logged_labels(h1_pred, classes, n_samples: int) -> np.ndarray:
    labels = _one_label_per_sample(h1_pred, n_samples)
    classes = np.asarray(classes)
    lookup = {label: i for i, label in enumerate(classes.tolist())}
    positions = np.fromiter(
        (lookup.get(label, -1) for label in labels.tolist()),
        dtype=np.intp,
        count=n_samples,
    )
    unknown = positions < 0
    if unknown.any():
        shown = list(dict.fromkeys(labels[unknown].tolist()))[:5]
        raise ValueError(
            f"h1_pred holds labels that are not among the classes of y "
            f"{classes.tolist()}: {shown} ({int(unknown.sum())} of {n_samples} "
            "rows). h1_pred and y must use the same labels (same values and type, "
            "e.g. both the integers 0..9, or both strings)."
        )
    return classes[positions]


def logged_outputs(
    *,
    h1_proba=None,
    h1_pred=None,
    classes,
    n_samples: int,
    need_probabilities: bool,
) -> H1Outputs:
    """Check h1's logged outputs and align them with ``classes``, as a live h1's.

    The logged counterpart of :func:`h1_outputs`: the same :class:`H1Outputs`,
    so that every path (the estimator, the searches, the scorers, the gate)
    reads h1 from one place, live or logged.

    Parameters
    ----------
    h1_proba : array-like of shape (n_samples, n_classes), optional
        h1's logged probabilities, one column per class in the order of
        ``classes``; rows must sum to 1 within ``_SUM_TOLERANCE`` (1e-3), with
        no negative entry (logits are refused). h1's labels are the most
        probable class of each row.
    h1_pred : array-like of shape (n_samples,), optional
        h1's logged labels, each one of ``classes``.
    classes : ndarray
        The estimator's sorted class labels.
    n_samples : int
        Number of rows of ``X`` the outputs belong to.
    need_probabilities : bool
        Raise if only ``h1_pred`` is given.

    Returns
    -------
    H1Outputs
    """
    h1_proba, h1_pred = reference_logged(h1_proba, 2), reference_logged(h1_pred, 1)
    check_not_both(None, h1_proba, h1_pred, "logged_outputs")
    classes = np.asarray(classes)
    if h1_proba is not None:
        proba = _logged_probabilities(h1_proba, classes, n_samples)
        return H1Outputs(classes[np.argmax(proba, axis=1)], proba)
    if h1_pred is None:
        raise ValueError(f"No logged outputs given. {_LOGGED_HINT}")
    if need_probabilities:
        raise ValueError(
            "This dissonance needs h1's probabilities, but only h1's labels "
            "(h1_pred) were given. Pass h1_proba (shape (n_samples, n_classes)), "
            "or use dissonance='new_error', which needs only labels."
        )
    return H1Outputs(_logged_labels(h1_pred, classes, n_samples), None)


def logged_labels(h1_proba=None, h1_pred=None, *, classes, n_samples: int):
    """h1's labels from logged outputs, for scoring (labels h2 lacks are kept).

    ``h1_pred`` is checked for its length only: a fold's h2 may lack a class
    that h1 predicted, which then counts as an error of h1, as with a live h1.
    ``h1_proba`` is checked as in :func:`logged_outputs`.
    """
    h1_proba, h1_pred = reference_logged(h1_proba, 2), reference_logged(h1_pred, 1)
    check_not_both(None, h1_proba, h1_pred, "The scorer")
    if h1_proba is not None:
        classes = np.asarray(classes)
        proba = _logged_probabilities(h1_proba, classes, n_samples)
        return classes[np.argmax(proba, axis=1)]
    return _one_label_per_sample(h1_pred, n_samples)


def take_rows(array, rows):
    """``array[rows]`` (``None`` stays ``None``; ``rows=None`` keeps all).

    A chain of logged outputs (one array per version) keeps those rows of
    every version.
    """
    if array is None or rows is None:
        return array
    if _is_logged_chain(array):
        return [np.asarray(version)[rows] for version in array]
    return np.asarray(array)[rows]


# -- multilabel targets: one probability per (sample, label) ------------------------

_MULTILABEL_HINT = (
    "For a multilabel y of L labels, h1 must give one probability per label "
    "(an array of shape (n_samples, L), e.g. a Keras model with L sigmoid units "
    "or a scikit-learn multilabel classifier), or predict an indicator of shape "
    "(n_samples, L) of 0 and 1."
)


def _check_label_probabilities(output, n_samples: int, n_labels: int, source: str):
    """Probabilities of label 1, shape ``(n_samples, n_labels)``, each in [0, 1]."""
    output = _as_numbers(
        output,
        f"{source} must hold numbers (probabilities of each label)",
        _MULTILABEL_HINT,
    )
    if output.shape != (n_samples, n_labels):
        raise ValueError(
            f"{source} has shape {output.shape} but y is a multilabel indicator "
            f"of {n_labels} labels for {n_samples} samples: expected "
            f"({n_samples}, {n_labels}). {_MULTILABEL_HINT}"
        )
    if not np.isfinite(output).all():
        rows = np.flatnonzero(~np.isfinite(output).all(axis=1))
        raise ValueError(
            f"{source} holds NaN or infinite values in {rows.size} of {n_samples} "
            f"rows (first: {rows[:5].tolist()})."
        )
    if (output < -_SUM_TOLERANCE).any() or (output > 1 + _SUM_TOLERANCE).any():
        raise ValueError(
            f"{source} is not a table of label probabilities: values range from "
            f"{output.min():.4g} to {output.max():.4g} (expected [0, 1]). Logits "
            "are not probabilities: apply a sigmoid (scipy.special.expit) first."
        )
    return output.clip(0.0, 1.0)


def _check_indicator(labels, n_samples: int, n_labels: int, source: str):
    """A 0/1 indicator of shape ``(n_samples, n_labels)``, as integers."""
    labels = np.asarray(labels)
    if labels.shape != (n_samples, n_labels):
        raise ValueError(
            f"{source} has shape {labels.shape} but y is a multilabel indicator "
            f"of {n_labels} labels for {n_samples} samples: expected "
            f"({n_samples}, {n_labels}). {_MULTILABEL_HINT}"
        )
    if labels.dtype.kind not in "biuf" or not np.isin(labels, (0, 1)).all():
        raise ValueError(
            f"{source} must be a multilabel indicator of 0 and 1; got values "
            f"{np.unique(labels)[:5].tolist()}. {_MULTILABEL_HINT}"
        )
    return labels.astype(int)


def _sklearn_label_probabilities(h1, X, n_labels: int) -> np.ndarray:
    """P(label = 1) from a scikit-learn multilabel ``predict_proba``.

    Multilabel estimators return either one array of shape (n, L) (MLP,
    one-vs-rest) or a list of L arrays, one (n, n_classes_l) per label
    (forests, k-NN, MultiOutputClassifier), whose column of class 1 is found
    through ``classes_`` (a label h1 saw only as 0 has no such column).
    """
    proba = h1.predict_proba(X)
    if not isinstance(proba, list):
        return proba
    if len(proba) != n_labels:
        raise ValueError(
            f"h1.predict_proba returned {len(proba)} arrays (one per label) but y "
            f"has {n_labels} labels. {_MULTILABEL_HINT}"
        )
    known = getattr(h1, "classes_", None)
    columns = []
    for j, label_proba in enumerate(proba):
        label_proba = np.asarray(label_proba)
        classes = np.asarray(known[j]) if known is not None else np.arange(2)
        ones = np.flatnonzero(classes == 1)
        columns.append(
            label_proba[:, ones[0]] if ones.size else np.zeros(label_proba.shape[0])
        )
    return np.column_stack(columns)


def multilabel_outputs(
    h1, X, n_labels: int, *, need_probabilities: bool, batch_size: int = 4096
) -> H1Outputs:
    """h1's view of a multilabel target: per (sample, label) labels and probabilities.

    The multilabel counterpart of :func:`h1_outputs`: ``labels`` is h1's 0/1
    indicator of shape ``(n_samples, n_labels)`` (label on where its
    probability is above 0.5), ``probabilities`` h1's probability of each
    label, or ``None`` when h1 only predicts.
    """
    h1 = _single_label_only(reference_version(h1), "a multilabel y")
    kind = h1_kind(h1)
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    no_proba = (
        f"This dissonance needs h1's probabilities, but h1 ({type(h1).__name__}) "
        "only predicts labels. Use dissonance='new_error', or an h1 with "
        "predict_proba."
    )
    if kind == "sklearn":
        _check_trained(h1, kind)
        _check_input_width(h1, X, kind)
    if kind == "predictor" or (kind == "sklearn" and not hasattr(h1, "predict_proba")):
        if need_probabilities:
            raise ValueError(no_proba)
        labels = _check_indicator(h1.predict(X), n_samples, n_labels, "h1.predict(X)")
        return H1Outputs(labels, None)
    if kind == "sklearn":
        output = _sklearn_label_probabilities(h1, X, n_labels)
    elif kind == "keras":
        _check_trained(h1, kind)
        _check_input_width(h1, X, kind)
        output = _keras_probabilities(h1, X, batch_size)
    else:
        output = h1(X)
    proba = _check_label_probabilities(output, n_samples, n_labels, "h1's output")
    return H1Outputs((proba > 0.5).astype(int), proba)


def logged_multilabel_outputs(
    *, h1_proba=None, h1_pred=None, n_labels: int, n_samples: int, need_probabilities
) -> H1Outputs:
    """Check h1's logged outputs for a multilabel target, as :func:`logged_outputs`."""
    h1_proba, h1_pred = reference_logged(h1_proba, 2), reference_logged(h1_pred, 2)
    check_not_both(None, h1_proba, h1_pred, "logged_outputs")
    if h1_proba is not None:
        proba = _check_label_probabilities(h1_proba, n_samples, n_labels, "h1_proba")
        return H1Outputs((proba > 0.5).astype(int), proba)
    if h1_pred is None:
        raise ValueError(f"No logged outputs given. {_MULTILABEL_HINT}")
    if need_probabilities:
        raise ValueError(
            "This dissonance needs h1's probabilities, but only h1's labels "
            "(h1_pred) were given. Pass h1_proba (shape (n_samples, n_labels)), "
            "or use dissonance='new_error', which needs only labels."
        )
    return H1Outputs(_check_indicator(h1_pred, n_samples, n_labels, "h1_pred"), None)


# -- multiclass-multioutput targets: one class label per (sample, output) -----------

_MULTIOUTPUT_HINT = (
    "For a y of K outputs (one class label per sample and output), h1 must give "
    "a list of K arrays of probabilities, one (n_samples, n_classes_k) per "
    "output in the order of classes_[k] (a Keras model with K softmax outputs, "
    "a callable, or a scikit-learn multi-output classifier such as a forest or "
    "MultiOutputClassifier), or predict labels of shape (n_samples, K)."
)


def _per_output(outputs, n_outputs: int, source: str) -> list:
    """``outputs`` as a list of one array per output, checked to have K of them."""
    if not isinstance(outputs, (list, tuple)) or len(outputs) != n_outputs:
        found = (
            f"{len(outputs)} arrays"
            if isinstance(outputs, (list, tuple))
            else f"one array of shape {np.shape(outputs)}"
        )
        raise ValueError(
            f"{source} gave {found}, but y has {n_outputs} outputs. {_MULTIOUTPUT_HINT}"
        )
    return list(outputs)


def _for_each_output(function, items, source: str) -> list[H1Outputs]:
    """Apply ``function`` to each output's items; name the output in an error."""
    results = []
    for k, item in enumerate(items):
        try:
            results.append(function(*item))
        except ValueError as error:
            raise ValueError(f"{source}, output {k}: {error}") from None
    return results


def checked_output_labels(labels, classes, n_samples: int, source: str) -> np.ndarray:
    """Labels of shape ``(n_samples, K)``, one column per output."""
    labels = np.asarray(labels)
    if labels.shape != (n_samples, len(classes)):
        raise ValueError(
            f"{source} has shape {labels.shape} but y has {len(classes)} outputs "
            f"for {n_samples} samples: expected ({n_samples}, {len(classes)}). "
            f"{_MULTIOUTPUT_HINT}"
        )
    return labels


def multioutput_outputs(
    h1, X, classes, *, need_probabilities: bool, batch_size: int = 4096
) -> list[H1Outputs]:
    """h1's view of a multiclass-multioutput target: one :class:`H1Outputs` per output.

    The multi-output counterpart of :func:`h1_outputs`; output ``k`` is
    aligned with ``classes[k]`` exactly as a single output is with
    ``classes`` (a scikit-learn h1 through its ``classes_[k]``).

    Parameters
    ----------
    h1 : keras.Model, scikit-learn classifier, callable or predictor
        The old model, with one output per column of y.
    X : ndarray
        The samples h1 receives.
    classes : list of ndarray
        The estimator's sorted class labels of each output.
    need_probabilities : bool
        Raise if h1 cannot give probabilities.
    batch_size : int, default=4096
        Batch size for a Keras h1.

    Returns
    -------
    list of H1Outputs
    """
    h1 = _single_label_only(reference_version(h1), "a multi-output y")
    kind = h1_kind(h1)
    classes = [np.asarray(c) for c in classes]
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    if kind in ("sklearn", "keras"):
        _check_trained(h1, kind)
        _check_input_width(h1, X, kind)
    if kind == "predictor" or (kind == "sklearn" and not hasattr(h1, "predict_proba")):
        if need_probabilities:
            raise ValueError(
                f"This dissonance needs h1's probabilities, but h1 "
                f"({type(h1).__name__}) only predicts labels. Use "
                "dissonance='new_error', or an h1 with predict_proba."
            )
        labels = checked_output_labels(
            h1.predict(X), classes, n_samples, "h1.predict(X)"
        )
        return [H1Outputs(labels[:, k], None) for k in range(len(classes))]
    if kind == "sklearn":
        proba = _per_output(h1.predict_proba(X), len(classes), "h1.predict_proba(X)")
        known = getattr(h1, "classes_", None)
        if not isinstance(known, list) or len(known) != len(classes):
            raise ValueError(
                f"h1 ({type(h1).__name__}) has no classes_ per output for the "
                f"{len(classes)} outputs of y. {_MULTIOUTPUT_HINT}"
            )
        items = zip(proba, [np.asarray(k) for k in known], classes, strict=True)
        return _for_each_output(_aligned_sklearn_outputs, items, "h1.predict_proba")
    if kind == "keras":
        output = _keras_probabilities(h1, X, batch_size)
    else:
        output = h1(X)
    outputs = _per_output(output, len(classes), "h1")
    return _for_each_output(
        _class_outputs, zip(outputs, classes, strict=True), "h1's outputs"
    )


def logged_multioutput_outputs(
    *, h1_proba=None, h1_pred=None, classes, n_samples: int, need_probabilities
) -> list[H1Outputs]:
    """Check h1's logged outputs for a multi-output target, as :func:`logged_outputs`.

    ``h1_proba`` is a list of one ``(n_samples, n_classes_k)`` array per
    output (scikit-learn's ``predict_proba`` of a multi-output classifier);
    ``h1_pred`` one label per sample and output, shape ``(n_samples, K)``.
    """
    check_not_both(None, h1_proba, h1_pred, "logged_outputs")
    classes = [np.asarray(c) for c in classes]
    need = need_probabilities
    if h1_proba is not None:
        tables = _per_output(h1_proba, len(classes), "h1_proba")
        items = [(table, None, c) for table, c in zip(tables, classes, strict=True)]
    elif h1_pred is not None:
        labels = checked_output_labels(h1_pred, classes, n_samples, "h1_pred")
        items = [(None, labels[:, k], c) for k, c in enumerate(classes)]
    else:
        raise ValueError(f"No logged outputs given. {_MULTIOUTPUT_HINT}")

    def one(proba, pred, output_classes):
        return logged_outputs(
            h1_proba=proba,
            h1_pred=pred,
            classes=output_classes,
            n_samples=n_samples,
            need_probabilities=need,
        )

    source = "h1_proba" if h1_proba is not None else "h1_pred"
    return _for_each_output(one, items, source)
