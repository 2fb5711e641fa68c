"""The one NumPy oracle of bcsk's objective, for every test (float64).

Written from the formulas of issue 12, not from bcsk's code::

    L = mean_i[ s_i l_i ] + lambda_c * mean_i[ s_i w_i d_i ]

* ``l_i``: the task loss of sample ``i`` (a *family*: ``"ce"`` cross-entropy,
  ``"nll"`` negative log-likelihood, ``"bce"`` binary cross-entropy per output
  column, ``"kld"`` KL divergence from the one-hot target);
* ``s_i``: the sample weight (class weight included), 1 by default;
* ``c_i``: 1 where h1 predicts sample ``i`` correctly: argmax of its
  probabilities, ties to the lower index; a single sigmoid unit ``p`` predicts
  class 1 only when ``p > 0.5``;
* ``d_i``, ``w_i``: the dissonance and its weight,

  ==================  ================================================  ==============
  new_error           ``l_i``                                           ``c_i``
  strict_imitation    the family's divergence of p2 from p1             ``c_i``
  focal_distillation  ``T^2 KL(softmax(z1/T) || softmax(z2/T))``, or    ``a + b c_i``
                      ``0.5 ||z2 - z1||^2`` (``divergence="logits"``)
  logit_difference    ``mean_k max(|z2_k - z1_k| - m, 0) ** power``     ``1``
  ==================  ================================================  ==============

* ``z``: centred log-probabilities, ``z - mean_k z`` of ``log(clip(p, 1e-7,
  1))`` (or of the raw outputs for a ``from_logits`` loss); a single sigmoid
  unit is the two columns ``[1 - p, p]`` (logits ``[0, x]``).

Clipping follows Keras (``keras.backend.epsilon() = 1e-7``): cross-entropies
clip probabilities to ``[eps, 1 - eps]``, KL divergence and NLL to
``[eps, 1]``. Outputs ``p`` are in the layout of h2's output: ``(n, k)``, or
``(n, 1)`` for a single sigmoid unit (an h1 given as two columns is then read
as its class-1 column). Labels ``y`` are class indices; the tests turn them
into the other label formats.

The tests import this module as ``_reference`` (pytest puts ``tests/`` on
``sys.path``, as for ``_builders``).
"""

import numpy as np

EPS = 1e-7  # keras.backend.epsilon(), and the clip of the log-probabilities

FAMILIES = ("ce", "nll", "bce", "kld")

# Parameters of the dissonances selected by name (issue 12's defaults).
DEFAULTS = {
    "new_error": {},
    "strict_imitation": {},
    "focal_distillation": {
        "alpha": 1.0,
        "beta": 5.0,
        "temperature": 1.0,
        "divergence": "kl",
    },
    "logit_difference": {"margin": 0.5, "power": 2},
}

__all__ = [
    "EPS",
    "DEFAULTS",
    "softmax",
    "sigmoid",
    "two_columns",
    "predicted_indices",
    "h1_correct",
    "centred_log_probabilities",
    "task_loss",
    "imitation",
    "dissonance_spec",
    "dissonance_values",
    "dissonance_weights",
    "objective",
    "multilabel_objective",
    "multioutput_objective",
]


def _f64(a):
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def softmax(z):
    z = _f64(z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    z = _f64(z)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-_f64(x)))


def two_columns(p):
    """A single sigmoid column ``p`` as the distribution ``[1 - p, p]``."""
    p = _f64(p)
    return np.hstack([1.0 - p, p]) if p.shape[1] == 1 else p


def _in_layout(p1, width):
    """h1's probabilities in the layout of an h2 output of ``width`` columns."""
    p1 = _f64(p1)
    if width == 1 and p1.shape[1] == 2:
        return p1[:, 1:]
    return p1


def predicted_indices(p):
    """argmax, ties to the lower index; one sigmoid unit: class 1 iff ``p > 0.5``."""
    p = _f64(p)
    if p.shape[1] == 1:
        return (p[:, 0] > 0.5).astype(int)
    return np.argmax(p, axis=1)  # numpy returns the first maximum


def h1_correct(p1, y):
    """``c_i``: 1.0 where h1's prediction is the label ``y_i``."""
    return (predicted_indices(p1) == np.asarray(y).reshape(-1)).astype(np.float64)


def centred_log_probabilities(output, from_logits=False):
    """``z - mean_k z``, shape ``(n, k)`` (``k = 2`` for one sigmoid unit)."""
    output = _f64(output)
    if from_logits:
        z = output
        if z.shape[1] == 1:
            z = np.hstack([np.zeros_like(z), z])
    else:
        z = np.log(np.clip(two_columns(output), EPS, 1.0))
    return z - z.mean(axis=1, keepdims=True)


def _targets(y, width):
    """One-hot rows, or the 0/1 column for a single sigmoid unit."""
    y = np.asarray(y).reshape(-1).astype(int)
    if width == 1:
        return y.reshape(-1, 1).astype(np.float64)
    return np.eye(width)[y]


def _bce(t, output, from_logits):
    """Binary cross-entropy averaged over the columns."""
    t, output = _f64(t), _f64(output)
    if from_logits:
        x = output
        per_column = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    else:
        p = np.clip(output, EPS, 1 - EPS)
        per_column = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return per_column.mean(axis=1)


def _soft_ce(t, output, from_logits):
    """``-sum_k t_k log q_k``, q the (renormalised, clipped) distribution of h2."""
    t, output = _f64(t), _f64(output)
    if output.shape[1] == 1:
        return _bce(t, output, from_logits)
    if from_logits:
        return -np.sum(t * log_softmax(output), axis=1)
    q = np.clip(output / output.sum(axis=1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(q), axis=1)


def _kl(t, p):
    t = np.clip(two_columns(t), EPS, 1.0)
    p = np.clip(two_columns(p), EPS, 1.0)
    return np.sum(t * np.log(t / p), axis=1)


def _nll(t, p):
    """``-sum_k t_k log clip(p_k)`` without renormalising ``p`` (BCML's NLL)."""
    return -np.sum(two_columns(t) * np.log(np.clip(two_columns(p), EPS, 1)), axis=1)


def _family_loss(family, targets, output, from_logits):
    """The family's per-sample loss of h2's output against rows of targets."""
    if from_logits and family not in ("ce", "bce"):
        raise AssertionError(f"family {family!r} takes probabilities only")
    if family == "ce":
        return _soft_ce(targets, output, from_logits)
    if family == "nll":
        return _nll(targets, output)
    if family == "bce":
        return _bce(targets, output, from_logits)
    if family == "kld":
        return _kl(targets, output)
    raise AssertionError(family)


def task_loss(family, y, output, from_logits=False):
    """Per-sample task loss ``l_i`` of h2's ``output`` against labels ``y``."""
    output = _f64(output)
    return _family_loss(family, _targets(y, output.shape[1]), output, from_logits)


def imitation(family, p1, output, from_logits=False):
    """Strict imitation's ``d_i``: the family's divergence of h2's output from p1."""
    output = _f64(output)
    return _family_loss(family, _in_layout(p1, output.shape[1]), output, from_logits)


def dissonance_spec(dissonance):
    """``(name, parameters)`` of a dissonance given by name or as an object."""
    if isinstance(dissonance, str):
        return dissonance, dict(DEFAULTS[dissonance])
    return dissonance.name, dict(dissonance.get_params())


def dissonance_values(dissonance, family, y, p1, output, from_logits=False):
    """Per-sample ``d_i``."""
    name, params = dissonance_spec(dissonance)
    if name == "new_error":
        return task_loss(family, y, output, from_logits)
    if name == "strict_imitation":
        return imitation(family, p1, output, from_logits)
    z1 = centred_log_probabilities(_in_layout(p1, _f64(output).shape[1]))
    z2 = centred_log_probabilities(output, from_logits)
    if name == "focal_distillation":
        if params["divergence"] == "logits":
            return 0.5 * np.sum((z2 - z1) ** 2, axis=1)
        t = float(params["temperature"])
        log_q1, log_q2 = log_softmax(z1 / t), log_softmax(z2 / t)
        return t * t * np.sum(np.exp(log_q1) * (log_q1 - log_q2), axis=1)
    if name == "logit_difference":
        excess = np.maximum(np.abs(z2 - z1) - float(params["margin"]), 0.0)
        return np.mean(excess ** float(params["power"]), axis=1)
    raise AssertionError(name)


def dissonance_weights(dissonance, correct):
    """Per-sample ``w_i`` from ``c_i``."""
    name, params = dissonance_spec(dissonance)
    correct = np.asarray(correct, dtype=np.float64).reshape(-1)
    if name in ("new_error", "strict_imitation"):
        return correct
    if name == "focal_distillation":
        return float(params["alpha"]) + float(params["beta"]) * correct
    if name == "logit_difference":
        return np.ones_like(correct)
    raise AssertionError(name)


def objective(
    dissonance,
    family,
    y,
    p1,
    output,
    lambda_c,
    sample_weight=None,
    *,
    correct=None,
    from_logits=False,
):
    """``mean_i[s_i l_i] + lambda_c * mean_i[s_i w_i d_i]``.

    ``p1`` may be ``None`` for new error when ``correct`` (``c_i``) is given (an
    h1 that only predicts labels); otherwise ``c_i`` comes from ``p1``.
    """
    y = np.asarray(y).reshape(-1).astype(int)
    task = task_loss(family, y, output, from_logits)
    if correct is None:
        correct = h1_correct(p1, y)
    d = dissonance_values(dissonance, family, y, p1, output, from_logits)
    w = dissonance_weights(dissonance, correct)
    s = np.ones(len(y)) if sample_weight is None else _f64(sample_weight).ravel()
    return float(np.mean(s * task) + lambda_c * np.mean(s * w * d))


def multilabel_objective(dissonance, Y, P1, P2, lambda_c, sample_weight=None):
    """The objective of a multilabel target, one binary problem per label.

    ``Y`` is the 0/1 indicator ``(n, L)``, ``P1`` and ``P2`` the probabilities
    of each label under h1 and h2. Label ``l`` of sample ``i`` is a single
    sigmoid unit with its own ``c_il``; ``l_i`` and ``w_i d_i`` are the means
    over the labels (the mean of Keras' binary cross-entropy over its last
    axis)::

        mean_i[ s_i mean_l l_il ] + lambda_c * mean_i[ s_i mean_l w_il d_il ]
    """
    Y, P1, P2 = (np.asarray(a, dtype=np.float64) for a in (Y, P1, P2))
    n, n_labels = Y.shape
    task = np.zeros(n)
    compat = np.zeros(n)
    for label in range(n_labels):
        y, p1, p2 = Y[:, label].astype(int), P1[:, label], P2[:, label]
        task += task_loss("bce", y, p2) / n_labels
        w = dissonance_weights(dissonance, h1_correct(p1, y))
        d = dissonance_values(dissonance, "bce", y, p1, p2)
        compat += w * d / n_labels
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    return float(np.mean(s * task) + lambda_c * np.mean(s * compat))


def multioutput_objective(
    dissonance,
    families,
    Y,
    P1s,
    P2s,
    lambda_c,
    sample_weight=None,
    *,
    loss_weights=None,
    corrects=None,
):
    """The objective of a multiclass-multioutput target: each output's, summed.

    ``Y`` holds one column of class indices per output; ``P1s`` and ``P2s``
    one array of h1's and h2's probabilities per output (h2's in its layout,
    ``(n, 1)`` for a single sigmoid unit); ``families`` one task-loss family
    per output; ``v_k`` the ``loss_weights``, 1 by default; ``corrects``
    (optional) the ``c_ik`` of an h1 that only predicts labels::

        sum_k v_k ( mean_i[ s_i l_ik ] + lambda_c * mean_i[ s_i w_ik d_ik ] )
    """
    Y = np.asarray(Y)
    n_outputs = Y.shape[1]
    weights = [1.0] * n_outputs if loss_weights is None else list(loss_weights)
    total = 0.0
    for k in range(n_outputs):
        total += weights[k] * objective(
            dissonance,
            families[k],
            Y[:, k],
            None if P1s is None else P1s[k],
            P2s[k],
            lambda_c,
            sample_weight,
            correct=None if corrects is None else corrects[:, k],
        )
    return total
