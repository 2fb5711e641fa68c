"""The dissonances: what h2 pays for disagreeing with h1, defined once.

Every training path of bcsk (the estimator, the Keras models, the loss classes
of ``bc_fit``) minimises the same objective::

    L = mean_i[ s_i l_i ] + lambda_c * mean_i[ s_i w_i d_i ]

with ``l_i`` the task loss of sample ``i``, ``s_i`` its sample weight, and
``d_i`` and ``w_i`` the per-sample value and weight of a *dissonance*. A
dissonance is an object with parameters, in the manner of scikit-learn's
Gaussian-process kernels: ``get_params`` / ``set_params``, equality and a repr,
so that ``clone`` keeps it and ``GridSearchCV`` reaches
``dissonance__temperature``. Each is also known by a name:

- ``"new_error"``, :class:`NewError`: ``d_i = l_i``, ``w_i = c_i``;
- ``"strict_imitation"``, :class:`StrictImitation`: the divergence of h2's output
  from h1's that matches the task loss, ``w_i = c_i``;
- ``"focal_distillation"``, :class:`FocalDistillation`:
  ``d_i = T^2 KL(softmax(z1/T) || softmax(z2/T))`` (or ``0.5 ||z2 - z1||^2``),
  ``w_i = alpha + beta c_i``;
- ``"logit_difference"``, :class:`LogitDifference`:
  ``d_i = mean_k max(|z2_k - z1_k| - margin, 0) ** power``, ``w_i = 1``.

``c_i`` is 1 where h1 predicts sample ``i`` correctly. ``z`` are centred
log-probabilities (:func:`bcsk._outputs.centred_log_probabilities`): the
centred logits of a softmax layer, comparable between h1's probabilities and
h2's probabilities or logits.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, ClassVar

import keras
from keras import ops

from bcsk.objective import _outputs

__all__ = [
    "Dissonance",
    "NewError",
    "StrictImitation",
    "FocalDistillation",
    "LogitDifference",
    "get_dissonance",
]


def _check_number(owner: str, name: str, value: Any, *, minimum: float, strict: bool):
    """Raise a ``ValueError`` unless ``value`` is a finite real above ``minimum``."""
    bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{owner}: {name} must be a real number {bound}, got {value!r} of type "
            f"{type(value).__name__}."
        )
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        raise ValueError(
            f"{owner}: {name} must be a finite number {bound}, got {value!r}."
        )


class Dissonance:
    """Base class: a per-sample dissonance ``d_i`` and its weight ``w_i``.

    Subclasses store their parameters in ``__init__`` (nothing else, as
    scikit-learn estimators do), check them in :meth:`validate`, and define
    :meth:`values` and :meth:`weights` with Keras ops, so one definition runs on
    every backend, inside compiled training steps and under XLA.
    """

    #: The name that selects this dissonance (``dissonance="..."``); a
    #: subclass of the user's keeps "custom" unless it names itself.
    name: ClassVar[str] = "custom"
    #: Whether ``d_i`` needs h1's probabilities (not only its labels).
    needs_probabilities: ClassVar[bool] = True
    #: The positive ``lambda_c`` values that ``lambda_cs="auto"`` searches
    #: (:class:`bcsk.BCCompatibleClassifierCV`; plain training, 0, is added
    #: once). ``None``: the dissonance has no grid of its own, and a search
    #: must be given ``lambda_cs``. The grids of bcsk's dissonances come from
    #: the defaults study ("Choosing a dissonance" in the docs): each spans
    #: where the dissonance starts to cut new errors up to where it costs
    #: about a point of accuracy; their scales differ up to 100-fold.
    default_lambda_cs: ClassVar[tuple[float, ...] | None] = None

    # -- parameters, in the manner of sklearn.gaussian_process.kernels ---------

    @classmethod
    def _param_names(cls) -> list[str]:
        if cls.__init__ is object.__init__:
            return []
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters of this dissonance, by name.

        Parameters
        ----------
        deep : bool, default=True
            Ignored (a dissonance holds no nested objects); kept for
            scikit-learn's protocol.

        Returns
        -------
        dict
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Dissonance:
        """Set parameters by name; returns ``self``.

        Parameters
        ----------
        **params
            New values of existing parameters.

        Returns
        -------
        self
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; valid "
                    f"parameters are {valid}."
                )
            setattr(self, name, value)
        return self

    def validate(self) -> Dissonance:
        """Check the parameters; raise a ``ValueError`` naming a bad one.

        Returns
        -------
        self
        """
        return self

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_params().items()))))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # -- Keras serialization ------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The parameters, for ``keras.saving``."""
        return self.get_params()

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Dissonance:
        """Rebuild a dissonance from :meth:`get_config`'s output."""
        return cls(**config)

    # -- the dissonance ------------------------------------------------------

    def values(self, y, h1_output, y_pred, task: _outputs.TaskLoss):
        """Per-sample dissonance ``d_i``, shape ``(n,)``.

        Parameters
        ----------
        y : tensor
            Labels (class indices, one-hot rows, or 0/1 for one sigmoid unit).
        h1_output : tensor
            h1's probabilities, in the layout of ``y_pred``.
        y_pred : tensor
            h2's output (probabilities, or logits if ``task.from_logits``).
        task : bcsk._outputs.TaskLoss
            The task loss, for dissonances defined through it.
        """
        raise NotImplementedError

    def weights(self, correct):
        """Per-sample weight ``w_i`` from ``correct`` (``c_i``), shape ``(n,)``."""
        return correct


@keras.saving.register_keras_serializable(package="bcsk")
class NewError(Dissonance):
    """The task loss again, where h1 was right: BackwardCompatibilityML's new error.

    ``d_i = l_i`` and ``w_i = c_i``, so h2 pays ``1 + lambda_c`` times the task
    loss on every sample h1 predicts correctly. Needs only h1's labels. In
    Positive-Congruent Training (Yan et al., CVPR 2021) this is the "naive"
    baseline: it cuts new errors less than the distillation dissonances.

    Examples
    --------
    >>> NewError()
    NewError()
    """

    name = "new_error"
    needs_probabilities = False
    default_lambda_cs = (0.3, 1.0, 3.0, 10.0)

    def values(self, y, h1_output, y_pred, task):
        """``d_i = l(y_i, h2(x_i))``."""
        return task.per_sample(y, y_pred)


@keras.saving.register_keras_serializable(package="bcsk")
class StrictImitation(Dissonance):
    """Where h1 was right, h2 imitates h1's output distribution.

    ``d_i`` is the divergence of h2's output from h1's that matches the task
    loss (a soft-target cross-entropy for cross-entropy losses, binary
    cross-entropy with h1's probabilities as targets, ``KL(p1 || p2)`` for KL
    divergence) and ``w_i = c_i``.

    Examples
    --------
    >>> StrictImitation()
    StrictImitation()
    """

    name = "strict_imitation"
    default_lambda_cs = (0.03, 0.1, 0.3, 1.0)

    def values(self, y, h1_output, y_pred, task):
        """``d_i``: the task loss's divergence of h2's output from h1's."""
        return task.imitation(h1_output, y_pred)


@keras.saving.register_keras_serializable(package="bcsk")
class FocalDistillation(Dissonance):
    r"""Distil h1 into h2 everywhere, and most where h1 was right.

    Focal distillation of Positive-Congruent Training (Yan et al., CVPR 2021):

    .. math::

        w_i = \alpha + \beta c_i, \qquad
        d_i = T^2 \, \mathrm{KL}\big(\mathrm{softmax}(z_{1i}/T) \,\|\,
        \mathrm{softmax}(z_{2i}/T)\big)

    or, with ``divergence="logits"``, :math:`d_i = \tfrac12 \lVert z_{2i} -
    z_{1i} \rVert^2`, where ``z`` are centred log-probabilities of h1 and h2.

    Parameters
    ----------
    alpha : float, default=1.0
        Weight of the distillation on every sample, ``>= 0``.
    beta : float, default=5.0
        Extra weight on the samples h1 predicts correctly, ``>= 0``.
    temperature : float, default=1.0
        Softening temperature ``T > 0`` of the KL divergence (unused by
        ``divergence="logits"``). 1 was chosen by the defaults study of
        "Choosing a dissonance" in the docs: at equal accuracy cost, 1, 2 and 4
        cut negative flips alike, and larger temperatures move the useful
        ``lambda_c`` lower, away from usual grids.
    divergence : {"kl", "logits"}, default="kl"
        KL divergence of the softened distributions, or logit matching.

    Examples
    --------
    >>> FocalDistillation(temperature=2.0)
    FocalDistillation(alpha=1.0, beta=5.0, temperature=2.0, divergence='kl')
    """

    name = "focal_distillation"
    default_lambda_cs = (0.003, 0.01, 0.03, 0.1)
    DIVERGENCES: ClassVar[tuple[str, ...]] = ("kl", "logits")

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 5.0,
        temperature: float = 1.0,
        divergence: str = "kl",
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.temperature = temperature
        self.divergence = divergence

    def validate(self) -> FocalDistillation:
        """Check ``alpha``, ``beta``, ``temperature`` and ``divergence``."""
        owner = type(self).__name__
        _check_number(owner, "alpha", self.alpha, minimum=0.0, strict=False)
        _check_number(owner, "beta", self.beta, minimum=0.0, strict=False)
        _check_number(owner, "temperature", self.temperature, minimum=0.0, strict=True)
        if self.divergence not in self.DIVERGENCES:
            raise ValueError(
                f"{owner}: divergence must be one of {self.DIVERGENCES}, got "
                f"{self.divergence!r}."
            )
        return self

    def values(self, y, h1_output, y_pred, task):
        """``T^2 KL(softmax(z1/T) || softmax(z2/T))`` or ``0.5 ||z2 - z1||^2``."""
        if self.divergence == "logits":
            z1 = _outputs.centred_log_probabilities(h1_output)
            z2 = _outputs.centred_log_probabilities(y_pred, task.from_logits)
            return 0.5 * ops.sum(ops.square(z2 - z1), axis=-1)
        # log_softmax does not change when a row is shifted by a constant, so
        # the KL divergence needs the log-probabilities uncentred: two
        # reductions fewer in every step (a smaller XLA program on JAX, fewer
        # ops per step on PyTorch), the same values.
        z1 = _outputs.log_probabilities(h1_output)
        z2 = _outputs.log_probabilities(y_pred, task.from_logits)
        t = float(self.temperature)
        log_q1 = ops.log_softmax(z1 / t, axis=-1)
        log_q2 = ops.log_softmax(z2 / t, axis=-1)
        return t * t * ops.sum(ops.exp(log_q1) * (log_q1 - log_q2), axis=-1)

    def weights(self, correct):
        """``w_i = alpha + beta c_i``."""
        return float(self.alpha) + float(self.beta) * correct


@keras.saving.register_keras_serializable(package="bcsk")
class LogitDifference(Dissonance):
    r"""Logit-difference inhibition: forbid large moves of any logit, on every sample.

    After ELODI (Zhao et al., TPAMI 2024):

    .. math::

        d_i = \frac1K \sum_k \max\big(|z_{2ik} - z_{1ik}| - m, 0\big)^p,
        \qquad w_i = 1

    where ``z`` are centred log-probabilities of h1 and h2: differences within
    the margin ``m`` are free, larger ones are penalised.

    Parameters
    ----------
    margin : float, default=0.5
        Free band ``m >= 0`` around h1's logits.
    power : float, default=2
        Exponent ``p >= 1`` of the excess.

    Examples
    --------
    >>> LogitDifference(margin=1.0)
    LogitDifference(margin=1.0, power=2)
    """

    name = "logit_difference"
    default_lambda_cs = (0.01, 0.03, 0.1, 0.3)

    def __init__(self, margin: float = 0.5, power: float = 2) -> None:
        self.margin = margin
        self.power = power

    def validate(self) -> LogitDifference:
        """Check ``margin`` and ``power``."""
        owner = type(self).__name__
        _check_number(owner, "margin", self.margin, minimum=0.0, strict=False)
        _check_number(owner, "power", self.power, minimum=1.0, strict=False)
        return self

    def values(self, y, h1_output, y_pred, task):
        """``mean_k max(|z2_k - z1_k| - margin, 0) ** power``."""
        z1 = _outputs.centred_log_probabilities(h1_output)
        z2 = _outputs.centred_log_probabilities(y_pred, task.from_logits)
        excess = ops.relu(ops.abs(z2 - z1) - float(self.margin))
        return ops.mean(ops.power(excess, float(self.power)), axis=-1)

    def weights(self, correct):
        """``w_i = 1`` on every sample."""
        return ops.ones_like(correct)


DISSONANCES: dict[str, type[Dissonance]] = {
    cls.name: cls
    for cls in (NewError, StrictImitation, FocalDistillation, LogitDifference)
}


def get_dissonance(dissonance: str | Dissonance) -> Dissonance:
    """The validated dissonance object for a name or an object.

    Parameters
    ----------
    dissonance : str or Dissonance
        One of ``"new_error"``, ``"strict_imitation"``, ``"focal_distillation"``,
        ``"logit_difference"`` (default parameters), or a :class:`Dissonance`.

    Returns
    -------
    Dissonance
        A new object for a name; the object itself (checked, unchanged) for an
        object.

    Examples
    --------
    >>> get_dissonance("logit_difference")
    LogitDifference(margin=0.5, power=2)
    """
    if isinstance(dissonance, Dissonance):
        return dissonance.validate()
    if isinstance(dissonance, str) and dissonance in DISSONANCES:
        return DISSONANCES[dissonance]()
    raise ValueError(
        f"dissonance must be one of {sorted(DISSONANCES)} or a bcsk.objective."
        f"Dissonance object such as FocalDistillation(temperature=2), got "
        f"{dissonance!r}."
    )


def weighted_values(
    dissonance: Dissonance,
    task,
    y,
    h1_output,
    y_pred,
    correct=None,
    multilabel: bool = False,
):
    """``w_i * d_i`` per sample, with ``c_i`` computed from h1's output if not given.

    Parameters
    ----------
    dissonance : Dissonance
    task : bcsk._outputs.TaskLoss
    y, h1_output, y_pred : tensor
        Labels, h1's probabilities (layout of ``y_pred``) and h2's output.
    correct : tensor, optional
        ``c_i``; computed from ``h1_output`` and ``y`` when omitted.
    multilabel : bool, default=False
        ``y`` is a multilabel indicator of shape ``(n, L)`` and ``y_pred`` has
        one sigmoid unit per label: each (sample, label) cell is a binary
        problem of its own, with its own ``c_il`` (shape ``(n, L)`` when
        given), and a sample's ``w_i d_i`` is the mean over its labels of
        ``w_il d_il`` (see :func:`per_label`).

    Returns
    -------
    tensor of shape (n,)
    """
    _outputs.check_same_width(h1_output, y_pred)
    if multilabel:
        return per_label(dissonance, task, y, h1_output, y_pred, correct)
    dtype = y_pred.dtype
    h1_output = ops.stop_gradient(ops.cast(h1_output, dtype))
    if correct is None:
        correct = _outputs.h1_correct(h1_output, y, dtype)
    correct = ops.reshape(ops.cast(correct, dtype), (-1,))
    values = dissonance.values(y, h1_output, y_pred, task)
    return dissonance.weights(correct) * ops.cast(values, dtype)


def per_label(dissonance: Dissonance, task, y, h1_output, y_pred, correct=None):
    """``w_i d_i`` of a multilabel sample: the mean over labels of ``w_il d_il``.

    Every (sample, label) cell is read as a binary problem with one sigmoid
    unit (the layout bcsk already knows), so each dissonance needs no
    multilabel case of its own: new error is the task loss where h1 got that
    label right, focal distillation the two-class divergence of that label,
    and so on. The mean (rather than the sum) over labels matches Keras'
    binary cross-entropy, which averages over the last axis: ``lambda_c``
    then weighs the compatibility term against the task loss on the same
    scale whatever the number of labels.
    """
    n_labels = _outputs.output_width(y_pred)

    def cells(tensor):
        return ops.reshape(tensor, (-1, 1))

    if correct is not None:
        correct = ops.reshape(correct, (-1,))
    values = weighted_values(
        dissonance, task, cells(y), cells(h1_output), cells(y_pred), correct
    )
    return ops.mean(ops.reshape(values, (-1, n_labels)), axis=-1)


def reweights_task_loss(dissonance: Dissonance) -> bool:
    """Whether ``d_i`` is the task loss itself (bcsk's :class:`NewError`).

    Then ``mean_i[s_i l_i] + lambda_c mean_i[s_i w_i d_i]`` is
    ``mean_i[s_i (1 + lambda_c w_i) l_i]``: the whole objective is the task
    loss under other sample weights (:func:`task_loss_weights`), and a training
    step computes the task loss once instead of twice. A subclass that
    redefines ``values`` is not folded.
    """
    return isinstance(dissonance, NewError) and type(dissonance).values is (
        NewError.values
    )


def task_loss_weights(dissonance: Dissonance, lambda_c: float, correct, sample_weight):
    """``s_i (1 + lambda_c w_i)``: the sample weights that fold the term in.

    For a dissonance with ``d_i = l_i`` (:func:`reweights_task_loss`) the
    objective equals the task loss reduced with these weights, exactly, as long
    as the task loss divides its weighted sum by the number of samples (Keras'
    default ``"sum_over_batch_size"`` reduction), which does not depend on the
    weights.

    Parameters
    ----------
    dissonance : Dissonance
    lambda_c : float
    correct : tensor of shape (n,) or (n, 1)
        ``c_i``.
    sample_weight : tensor of shape (n,) or (n, 1), or None
        ``s_i``; None is 1 for every sample.

    Returns
    -------
    tensor of shape (n,)
    """
    dtype = keras.backend.floatx()
    correct = ops.reshape(ops.cast(correct, dtype), (-1,))
    factor = 1.0 + float(lambda_c) * dissonance.weights(correct)
    if sample_weight is None:
        return factor
    return ops.reshape(ops.cast(sample_weight, dtype), (-1,)) * factor


class CompatibilityTerm(keras.losses.Loss):
    """``mean_i[ s_i w_i d_i ]`` as a Keras loss (without ``lambda_c``).

    A ``keras.losses.Loss`` (rather than a hand-made mean) is reduced over the
    batch the way Keras reduces the compiled loss, and scaled correctly under
    ``tf.distribute`` strategies. ``y_true`` is the triple
    ``(y, h1_output, correct)``.

    Parameters
    ----------
    dissonance : Dissonance
    task : bcsk._outputs.TaskLoss
    name : str, default="compatibility"
    multilabel : bool, default=False
        One sigmoid unit per label, each label its own binary problem (see
        :func:`weighted_values`).
    """

    def __init__(
        self,
        dissonance: Dissonance,
        task,
        name: str = "compatibility",
        multilabel: bool = False,
    ):
        super().__init__(name=name)
        self.dissonance = dissonance
        self.task = task
        self.multilabel = multilabel

    def call(self, y_true, y_pred):
        """Per-sample ``w_i d_i``."""
        y, h1_output, correct = y_true
        return weighted_values(
            self.dissonance, self.task, y, h1_output, y_pred, correct, self.multilabel
        )


class Objective(keras.losses.Loss):
    """``mean_i[ s_i (l_i + lambda_c w_i d_i) ]``: a network's whole objective.

    The task term and the compatibility term in one Keras loss: one call
    (one reduction, one round of Keras' per-call work) per network in each
    step instead of two. On PyTorch, which runs every step eagerly, that
    round is about 0.3 ms (of a ~6 ms step of a small MLP); under XLA it is a
    smaller program to compile. It equals the task loss plus ``lambda_c``
    times :class:`CompatibilityTerm` when the task loss averages its
    weighted sum over the samples (Keras' default reduction), which the
    callers check. ``y_true`` is the triple ``(y, h1_output, correct)``.

    For a dissonance whose ``d_i`` is the task loss (:func:`reweights_task_loss`)
    and one label per sample, the term is folded in: ``l_i (1 + lambda_c w_i)``,
    the task loss computed once.

    Parameters
    ----------
    dissonance : Dissonance
    task : bcsk._outputs.TaskLoss
    lambda_c : float
    name : str, default="objective"
    multilabel : bool, default=False
        One sigmoid unit per label (see :func:`weighted_values`).
    """

    def __init__(
        self,
        dissonance: Dissonance,
        task,
        lambda_c: float,
        name: str = "objective",
        multilabel: bool = False,
    ):
        super().__init__(name=name)
        self.dissonance = dissonance
        self.task = task
        self.lambda_c = float(lambda_c)
        self.multilabel = multilabel

    def call(self, y_true, y_pred):
        """Per-sample ``l_i + lambda_c w_i d_i``."""
        y, h1_output, correct = y_true
        values = self.task.per_sample(y, y_pred)
        if not self.lambda_c:
            return values
        if reweights_task_loss(self.dissonance) and not self.multilabel:
            _outputs.check_same_width(h1_output, y_pred)
            factor = task_loss_weights(self.dissonance, self.lambda_c, correct, None)
            return values * ops.cast(factor, values.dtype)
        return values + self.lambda_c * weighted_values(
            self.dissonance, self.task, y, h1_output, y_pred, correct, self.multilabel
        )
