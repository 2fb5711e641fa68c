"""The eight loss classes against an independent NumPy version of the objective.

Reference formulas (``c_i = 1`` where h1 is right, ``s_i`` the sample weight)::

    L = mean_i[ s_i l(y_i, p2_i) ] + lambda_c * mean_i[ s_i c_i d_i ]

The NumPy code below is written from that specification, not from bcsk.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from bcsk.tensorflow.loss import (
    BCBinaryCrossEntropyLoss,
    BCCrossEntropyLoss,
    BCKLDivLoss,
    BCNLLLoss,
    BCStrictImitationBinaryCrossEntropyLoss,
    BCStrictImitationCrossEntropyLoss,
    BCStrictImitationKLDivLoss,
    BCStrictImitationNLLLoss,
)

EPS = 1e-7  # keras.backend.epsilon()
RTOL = 1e-5
N, K, N_FEATURES = 32, 4, 5

# (class, task family, dissonance)
LOSSES = [
    (BCCrossEntropyLoss, "ce", "new_error"),
    (BCNLLLoss, "nll", "new_error"),
    (BCBinaryCrossEntropyLoss, "bce", "new_error"),
    (BCKLDivLoss, "kld", "new_error"),
    (BCStrictImitationCrossEntropyLoss, "ce", "strict_imitation"),
    (BCStrictImitationNLLLoss, "nll", "strict_imitation"),
    (BCStrictImitationBinaryCrossEntropyLoss, "bce", "strict_imitation"),
    (BCStrictImitationKLDivLoss, "kld", "strict_imitation"),
]
LOSS_IDS = [cls.__name__ for cls, _, _ in LOSSES]
LOSS_CLASSES = [cls for cls, _, _ in LOSSES]
SPEC = {cls: (family, dissonance) for cls, family, dissonance in LOSSES}


# --------------------------------------------------------------------------
# NumPy reference
# --------------------------------------------------------------------------


def np_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def two_columns(p):
    """A single sigmoid column p as the distribution [1 - p, p]."""
    p = np.asarray(p, dtype=np.float64)
    return np.concatenate([1.0 - p, p], axis=1) if p.shape[1] == 1 else p


def np_targets(y_idx, width):
    """One-hot targets (or the 0/1 column for a single sigmoid unit)."""
    if width == 1:
        return y_idx.reshape(-1, 1).astype(np.float64)
    return np.eye(width)[y_idx]


def np_bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p), axis=1)


def np_kl(t, p):
    t = np.clip(two_columns(t), EPS, 1)
    p = np.clip(two_columns(p), EPS, 1)
    return np.sum(t * np.log(t / p), axis=1)


def np_soft_ce(t, p):
    """-sum_k t_k log p_k over the two-column view."""
    t, p = two_columns(t), two_columns(p)
    return -np.sum(t * np.log(np.clip(p, EPS, 1)), axis=1)


def np_task(family, y_idx, p2):
    width = p2.shape[1]
    t = np_targets(y_idx, width)
    if family == "ce":
        if width == 1:
            return np_bce(t, p2)
        p = np.clip(p2 / p2.sum(axis=1, keepdims=True), EPS, 1 - EPS)
        return -np.log(p[np.arange(len(y_idx)), y_idx])
    if family == "nll":
        p = np.clip(two_columns(p2), EPS, 1)
        return -np.log(p[np.arange(len(y_idx)), y_idx])
    if family == "bce":
        return np_bce(t, p2)
    if family == "kld":
        return np_kl(t, p2)
    raise AssertionError(family)


def np_imitation(family, p1, p2):
    if family in ("ce", "nll"):
        return np_soft_ce(p1, p2)
    if family == "bce":
        return np_bce(p1, p2)
    if family == "kld":
        return np_kl(p1, p2)
    raise AssertionError(family)


def np_h1_correct(p1, y_idx):
    pred = (p1[:, 0] >= 0.5).astype(int) if p1.shape[1] == 1 else p1.argmax(axis=1)
    return (pred == y_idx).astype(np.float64)


def np_objective(cls, y_idx, p1, p2, lambda_c, sample_weight=None):
    """The objective from the specification, in float64."""
    family, dissonance = SPEC[cls]
    p1 = np.asarray(p1, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    task = np_task(family, y_idx, p2)
    if dissonance == "new_error":
        d = task
    else:
        d = np_imitation(family, p1, p2)
    c = np_h1_correct(p1, y_idx)
    s = np.ones(len(y_idx)) if sample_weight is None else sample_weight
    return np.mean(s * task) + lambda_c * np.mean(s * c * d)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def random_outputs(width, seed, n=N):
    rng = np.random.default_rng(seed)
    if width == 1:
        p1 = np_sigmoid(2 * rng.normal(size=(n, 1)))
        p2 = np_sigmoid(2 * rng.normal(size=(n, 1)))
        y = rng.integers(0, 2, size=n)
    else:
        p1 = np_softmax(rng.normal(size=(n, width)))
        p2 = np_softmax(rng.normal(size=(n, width)))
        y = rng.integers(0, width, size=n)
    return y, p1.astype("float32"), p2.astype("float32")


def as_label_format(y_idx, fmt, width):
    if fmt == "int":
        return y_idx.astype("int64")
    if fmt == "column":
        return y_idx.reshape(-1, 1).astype("int32")
    if fmt == "float":
        return y_idx.astype("float32")
    if fmt == "onehot":
        return np.eye(width, dtype="float32")[y_idx]
    raise AssertionError(fmt)


def dense_model(width, seed, activation=None):
    keras.utils.set_random_seed(seed)
    activation = activation or ("sigmoid" if width == 1 else "softmax")
    return keras.Sequential(
        [keras.Input((N_FEATURES,)), keras.layers.Dense(width, activation=activation)]
    )


@pytest.fixture(scope="module")
def x_batch():
    return np.random.default_rng(42).normal(size=(N, N_FEATURES)).astype("float32")


@pytest.fixture(scope="module")
def softmax_models():
    return dense_model(K, seed=1), dense_model(K, seed=2)


@pytest.fixture(scope="module")
def sigmoid_models():
    return dense_model(1, seed=3), dense_model(1, seed=4)


def model_outputs(models, x):
    """h1's predictions and h2's training-mode outputs, as NumPy arrays."""
    h1, h2 = models
    p1 = h1.predict(x, verbose=0)
    p2 = keras.ops.convert_to_numpy(h2(x, training=True))
    return p1, p2


@pytest.fixture(scope="module")
def softmax_outputs(softmax_models, x_batch):
    return model_outputs(softmax_models, x_batch)


@pytest.fixture(scope="module")
def sigmoid_outputs(sigmoid_models, x_batch):
    p1, p2 = model_outputs(sigmoid_models, x_batch)
    assert p1.shape == p2.shape == (N, 1)
    return p1, p2


def value(tensor):
    return float(keras.ops.convert_to_numpy(tensor))


# --------------------------------------------------------------------------
# objective(...) with fixed outputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
@pytest.mark.parametrize("fmt", ["int", "column", "float", "onehot"])
def test_objective_matches_numpy(cls, fmt, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=7)
    c = np_h1_correct(p1, y_idx)
    assert 0 < c.sum() < N  # a mix of h1-correct and h1-wrong samples
    loss = cls(h1, h2, lambda_c=0.7)
    got = value(loss.objective(as_label_format(y_idx, fmt, K), p1, p2))
    expected = np_objective(cls, y_idx, p1, p2, 0.7)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_objective_sample_weight(cls, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=8)
    w = np.random.default_rng(9).uniform(0, 3, size=N).astype("float32")
    loss = cls(h1, h2, lambda_c=1.3)
    got = value(loss.objective(y_idx, p1, p2, sample_weight=w))
    expected = np_objective(cls, y_idx, p1, p2, 1.3, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # The weights matter: the unweighted value is different.
    assert not np.isclose(got, np_objective(cls, y_idx, p1, p2, 1.3), rtol=1e-3)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_objective_all_correct_batch(cls, softmax_models):
    h1, h2 = softmax_models
    _, p1, p2 = random_outputs(K, seed=10)
    y_idx = p1.argmax(axis=1)  # h1 right everywhere
    loss = cls(h1, h2, lambda_c=0.5)
    got = value(loss.objective(y_idx, p1, p2))
    family, dissonance = SPEC[cls]
    task = np_task(family, y_idx, p2.astype(np.float64))
    d = task if dissonance == "new_error" else np_imitation(family, p1, p2)
    np.testing.assert_allclose(got, task.mean() + 0.5 * d.mean(), rtol=RTOL)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_objective_all_wrong_batch_is_pure_task_loss(cls, softmax_models):
    h1, h2 = softmax_models
    _, p1, p2 = random_outputs(K, seed=11)
    y_idx = (p1.argmax(axis=1) + 1) % K  # h1 wrong everywhere
    loss = cls(h1, h2, lambda_c=0.9)
    got = value(loss.objective(y_idx, p1, p2))
    family, _ = SPEC[cls]
    assert math.isfinite(got)
    expected = np_task(family, y_idx, p2.astype(np.float64)).mean()
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_objective_lambda_zero_is_pure_task_loss(cls, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=12)
    loss = cls(h1, h2, lambda_c=0)
    got = value(loss.objective(y_idx, p1, p2))
    family, _ = SPEC[cls]
    expected = np_task(family, y_idx, p2.astype(np.float64)).mean()
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # ...and a positive lambda_c adds something (h1 is right on some samples).
    assert value(cls(h1, h2, lambda_c=1.0).objective(y_idx, p1, p2)) > got


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
@pytest.mark.parametrize("fmt", ["int", "column", "float"])
def test_objective_single_sigmoid_unit(cls, fmt, sigmoid_models):
    h1, h2 = sigmoid_models
    y_idx, p1, p2 = random_outputs(1, seed=13)
    c = np_h1_correct(p1, y_idx)
    assert 0 < c.sum() < N
    loss = cls(h1, h2, lambda_c=0.8)
    got = value(loss.objective(as_label_format(y_idx, fmt, 1), p1, p2))
    expected = np_objective(cls, y_idx, p1, p2, 0.8)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_reference_sanity():
    """The NumPy reference itself: hand-checked numbers for one sample."""
    p1 = np.array([[0.7, 0.2, 0.1]])
    p2 = np.array([[0.5, 0.3, 0.2]])
    y = np.array([0])
    np.testing.assert_allclose(np_task("ce", y, p2), [-np.log(0.5)])
    np.testing.assert_allclose(np_task("nll", y, p2), [-np.log(0.5)])
    expected_bce = -(np.log(0.5) + np.log(0.7) + np.log(0.8)) / 3
    np.testing.assert_allclose(np_task("bce", y, p2), [expected_bce], rtol=1e-6)
    np.testing.assert_allclose(np_task("kld", y, p2), [-np.log(0.5)], rtol=1e-5)
    soft = -(0.7 * np.log(0.5) + 0.2 * np.log(0.3) + 0.1 * np.log(0.2))
    np.testing.assert_allclose(np_imitation("ce", p1, p2), [soft])
    kl = np.sum(p1 * np.log(p1 / p2))
    np.testing.assert_allclose(np_imitation("kld", p1, p2), [kl])
    # One sigmoid unit: p = 0.8, label 0 -> -log(0.2) for NLL.
    np.testing.assert_allclose(
        np_task("nll", np.array([0]), np.array([[0.8]])), [-np.log(0.2)]
    )


# --------------------------------------------------------------------------
# __call__ with Keras models
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
@pytest.mark.parametrize("fmt", ["int", "column", "float", "onehot"])
def test_call_matches_numpy(cls, fmt, softmax_models, softmax_outputs, x_batch):
    h1, h2 = softmax_models
    p1, p2 = softmax_outputs
    y_idx = np.random.default_rng(14).integers(0, K, size=N)
    loss = cls(h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, as_label_format(y_idx, fmt, K)))
    expected = np_objective(cls, y_idx, p1, p2, 0.6)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_call_with_sample_weight(cls, softmax_models, softmax_outputs, x_batch):
    h1, h2 = softmax_models
    p1, p2 = softmax_outputs
    y_idx = np.random.default_rng(15).integers(0, K, size=N)
    w = np.random.default_rng(16).uniform(0, 2, size=N).astype("float32")
    loss = cls(h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, y_idx, w))
    expected = np_objective(cls, y_idx, p1, p2, 0.6, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
@pytest.mark.parametrize("fmt", ["int", "column", "float"])
def test_call_single_sigmoid_models(cls, fmt, sigmoid_models, sigmoid_outputs, x_batch):
    h1, h2 = sigmoid_models
    p1, p2 = sigmoid_outputs
    y_idx = np.random.default_rng(17).integers(0, 2, size=N)
    loss = cls(h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, as_label_format(y_idx, fmt, 1)))
    expected = np_objective(cls, y_idx, p1, p2, 0.6)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


# --------------------------------------------------------------------------
# Gradients, calls and training flags
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_gradients_never_reach_h1(cls, x_batch):
    h1, h2 = dense_model(K, seed=5), dense_model(K, seed=6)
    assert h1.trainable
    y = np.random.default_rng(18).integers(0, K, size=N)
    loss = cls(h1, h2, lambda_c=1.0)
    with tf.GradientTape(persistent=True) as tape:
        value_ = loss(x_batch, y)
    h1_grads = tape.gradient(value_, h1.trainable_variables)
    h2_grads = tape.gradient(value_, h2.trainable_variables)
    assert len(h1_grads) == 2
    assert all(g is None for g in h1_grads)
    assert all(g is not None for g in h2_grads)
    assert any(np.any(keras.ops.convert_to_numpy(g) != 0) for g in h2_grads)


class CallRecorder(keras.layers.Layer):
    """Identity layer that records the ``training`` flag of every eager call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.log = {"calls": []}

    def call(self, inputs, training=None):
        if tf.executing_eagerly():
            self.log["calls"].append(training)
        return inputs


def recorded_model(width, seed):
    keras.utils.set_random_seed(seed)
    recorder = CallRecorder()
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            recorder,
            keras.layers.Dense(width, activation="softmax"),
        ]
    )
    return model, recorder


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_h2_called_once_in_training_mode_h1_in_inference(cls, x_batch):
    h1, h1_recorder = recorded_model(K, seed=1)
    h2, h2_recorder = recorded_model(K, seed=2)
    h1_recorder.log["calls"].clear()
    h2_recorder.log["calls"].clear()
    y = np.random.default_rng(19).integers(0, K, size=N)
    loss = cls(h1, h2, lambda_c=0.5)
    loss(x_batch, y)
    assert h2_recorder.log["calls"] == [True]
    assert h1_recorder.log["calls"] == [False]
    loss(x_batch, y, np.ones(N, dtype="float32"))
    assert h2_recorder.log["calls"] == [True, True]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
@pytest.mark.parametrize(
    "lambda_c", [-0.1, float("nan"), float("inf"), "0.5", True, None]
)
def test_bad_lambda_c(cls, lambda_c, softmax_models):
    h1, h2 = softmax_models
    with pytest.raises(ValueError, match="lambda_c"):
        cls(h1, h2, lambda_c=lambda_c)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_lambda_c_stored_as_float(cls, softmax_models):
    h1, h2 = softmax_models
    loss = cls(h1, h2, np.float32(0.25))
    assert loss.lambda_c == 0.25 and type(loss.lambda_c) is float
    assert cls(h1, h2, 2).lambda_c == 2.0


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_missing_h1(cls, softmax_models):
    _, h2 = softmax_models
    with pytest.raises(ValueError, match="h1"):
        cls(None, h2, 0.5)


@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=LOSS_IDS)
def test_output_width_mismatch(cls, x_batch):
    h1, h2 = dense_model(5, seed=1), dense_model(3, seed=2)
    y = np.zeros(N, dtype="int64")
    with pytest.raises(ValueError) as excinfo:
        loss = cls(h1, h2, 0.5)
        loss(x_batch, y)
    message = str(excinfo.value)
    assert "5" in message and "3" in message and "h1" in message


# --------------------------------------------------------------------------
# XLA
# --------------------------------------------------------------------------


def test_xla_matches_eager(softmax_models, softmax_outputs, x_batch):
    """The whole loss path compiles with XLA and gives the eager values."""
    h1, h2 = softmax_models
    losses = [cls(h1, h2, lambda_c=0.7) for cls in LOSS_CLASSES]
    y = np.random.default_rng(20).integers(0, K, size=N).astype("int32")
    w = np.random.default_rng(21).uniform(0, 2, size=N).astype("float32")

    def all_values(x, y, w):
        return tf.stack([loss(x, y, w) for loss in losses] + [losses[0](x, y)])

    eager = keras.ops.convert_to_numpy(all_values(x_batch, y, w))
    compiled = tf.function(all_values, jit_compile=True)
    xla = compiled(tf.constant(x_batch), tf.constant(y), tf.constant(w)).numpy()
    np.testing.assert_allclose(xla, eager, rtol=RTOL)
    p1, p2 = softmax_outputs
    expected = [
        np_objective(cls, y, p1, p2, 0.7, sample_weight=w) for cls in LOSS_CLASSES
    ]
    expected.append(np_objective(LOSS_CLASSES[0], y, p1, p2, 0.7))
    np.testing.assert_allclose(xla, expected, rtol=RTOL)
