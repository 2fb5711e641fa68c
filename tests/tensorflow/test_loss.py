"""The loss classes against the NumPy oracle of the objective (``_reference``).

Every loss class computes ``L = mean_i[ s_i l_i ] + lambda_c * mean_i[ s_i w_i d_i ]``
with its task-loss family and dissonance (``c_i = 1`` where h1 is right, ``s_i``
the sample weight); ``tests/_reference.py`` computes the same from the
formulas, in float64.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from _reference import h1_correct, objective, sigmoid, softmax, task_loss

from bcsk.objective import (
    FocalDistillation,
    LogitDifference,
    NewError,
    StrictImitation,
)
from bcsk.tensorflow.loss import (
    BCBinaryCrossEntropyLoss,
    BCCrossEntropyLoss,
    BCFocalDistillationLoss,
    BCKLDivLoss,
    BCLogitDifferenceLoss,
    BCNLLLoss,
    BCStrictImitationBinaryCrossEntropyLoss,
    BCStrictImitationCrossEntropyLoss,
    BCStrictImitationKLDivLoss,
    BCStrictImitationNLLLoss,
)

RTOL = 1e-5
N, K, N_FEATURES = 32, 4, 5

# id -> (class, task family, dissonance with the parameters given to the class)
LOSSES = {
    "BCCrossEntropyLoss": (BCCrossEntropyLoss, "ce", NewError()),
    "BCNLLLoss": (BCNLLLoss, "nll", NewError()),
    "BCBinaryCrossEntropyLoss": (BCBinaryCrossEntropyLoss, "bce", NewError()),
    "BCKLDivLoss": (BCKLDivLoss, "kld", NewError()),
    "BCStrictImitationCrossEntropyLoss": (
        BCStrictImitationCrossEntropyLoss,
        "ce",
        StrictImitation(),
    ),
    "BCStrictImitationNLLLoss": (BCStrictImitationNLLLoss, "nll", StrictImitation()),
    "BCStrictImitationBinaryCrossEntropyLoss": (
        BCStrictImitationBinaryCrossEntropyLoss,
        "bce",
        StrictImitation(),
    ),
    "BCStrictImitationKLDivLoss": (
        BCStrictImitationKLDivLoss,
        "kld",
        StrictImitation(),
    ),
    "BCFocalDistillationLoss": (BCFocalDistillationLoss, "ce", FocalDistillation()),
    "BCFocalDistillationLoss-T3": (
        BCFocalDistillationLoss,
        "ce",
        FocalDistillation(alpha=0.5, beta=2.0, temperature=3.0),
    ),
    "BCFocalDistillationLoss-logits": (
        BCFocalDistillationLoss,
        "ce",
        FocalDistillation(beta=3.0, divergence="logits"),
    ),
    "BCLogitDifferenceLoss": (BCLogitDifferenceLoss, "ce", LogitDifference()),
    "BCLogitDifferenceLoss-m0.1-p1.5": (
        BCLogitDifferenceLoss,
        "ce",
        LogitDifference(margin=0.1, power=1.5),
    ),
}
CASES = list(LOSSES)


def make_loss(case, h1, h2, lambda_c):
    """The loss object of a case, built as BCML code builds it."""
    cls, _, dissonance = LOSSES[case]
    return cls(h1, h2, lambda_c, **dissonance.get_params())


def expected_objective(case, y_idx, p1, p2, lambda_c, sample_weight=None):
    _, family, dissonance = LOSSES[case]
    return objective(dissonance, family, y_idx, p1, p2, lambda_c, sample_weight)


def task_mean(case, y_idx, p2):
    return task_loss(LOSSES[case][1], y_idx, p2).mean()


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def random_outputs(width, seed, n=N):
    rng = np.random.default_rng(seed)
    if width == 1:
        p1 = sigmoid(2 * rng.normal(size=(n, 1)))
        p2 = sigmoid(2 * rng.normal(size=(n, 1)))
        y = rng.integers(0, 2, size=n)
    else:
        p1 = softmax(rng.normal(size=(n, width)))
        p2 = softmax(rng.normal(size=(n, width)))
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


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["int", "column", "float", "onehot"])
def test_objective_matches_numpy(case, fmt, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=7)
    c = h1_correct(p1, y_idx)
    assert 0 < c.sum() < N  # a mix of h1-correct and h1-wrong samples
    loss = make_loss(case, h1, h2, lambda_c=0.7)
    got = value(loss.objective(as_label_format(y_idx, fmt, K), p1, p2))
    expected = expected_objective(case, y_idx, p1, p2, 0.7)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # The term is there: lambda_c = 0 gives the plain task loss, less.
    assert expected > task_mean(case, y_idx, p2) + 1e-4


@pytest.mark.parametrize("case", CASES)
def test_objective_sample_weight(case, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=8)
    w = np.random.default_rng(9).uniform(0, 3, size=N).astype("float32")
    loss = make_loss(case, h1, h2, lambda_c=1.3)
    got = value(loss.objective(y_idx, p1, p2, sample_weight=w))
    expected = expected_objective(case, y_idx, p1, p2, 1.3, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # The weights matter: the unweighted value is different.
    unweighted = expected_objective(case, y_idx, p1, p2, 1.3)
    assert not np.isclose(got, unweighted, rtol=1e-3)


@pytest.mark.parametrize("case", CASES)
def test_objective_all_correct_batch(case, softmax_models):
    h1, h2 = softmax_models
    _, p1, p2 = random_outputs(K, seed=10)
    y_idx = p1.argmax(axis=1)  # h1 right everywhere
    assert h1_correct(p1, y_idx).all()
    loss = make_loss(case, h1, h2, lambda_c=0.5)
    got = value(loss.objective(y_idx, p1, p2))
    np.testing.assert_allclose(
        got, expected_objective(case, y_idx, p1, p2, 0.5), rtol=RTOL
    )


@pytest.mark.parametrize("case", CASES)
def test_objective_all_wrong_batch(case, softmax_models):
    """c_i = 0 everywhere: BCML's two dissonances vanish, the others keep w = alpha
    (focal distillation) or 1 (LDI)."""
    h1, h2 = softmax_models
    _, p1, p2 = random_outputs(K, seed=11)
    y_idx = (p1.argmax(axis=1) + 1) % K  # h1 wrong everywhere
    assert not h1_correct(p1, y_idx).any()
    loss = make_loss(case, h1, h2, lambda_c=0.9)
    got = value(loss.objective(y_idx, p1, p2))
    assert math.isfinite(got)
    np.testing.assert_allclose(
        got, expected_objective(case, y_idx, p1, p2, 0.9), rtol=RTOL
    )
    pure_task = task_mean(case, y_idx, p2)
    if LOSSES[case][2].name in ("new_error", "strict_imitation"):
        np.testing.assert_allclose(got, pure_task, rtol=RTOL)
    else:
        assert got > pure_task + 1e-4


@pytest.mark.parametrize("case", CASES)
def test_saturated_all_wrong_batch_is_finite(case, softmax_models):
    """One-hot h1 outputs and h2 probabilities of exactly 0 and 1: the clipping
    keeps the value (and h2's gradient) finite, and equal to the oracle's."""
    h1, h2 = softmax_models
    y_idx = np.arange(N) % K
    p1 = np.eye(K, dtype="float32")[(y_idx + 1) % K]  # confidently wrong
    p2 = np.eye(K, dtype="float32")[(y_idx + 2) % K]
    p2[::2] = np.eye(K, dtype="float32")[y_idx[::2]]  # right on half the rows
    loss = make_loss(case, h1, h2, lambda_c=0.9)
    p2_variable = tf.Variable(p2)
    with tf.GradientTape() as tape:
        got = loss.objective(y_idx, p1, p2_variable)
    gradient = tape.gradient(got, p2_variable)
    assert math.isfinite(value(got))
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(gradient)))
    # Loosely: float32 rounds the clip bound 1 - 1e-7 to 1 - 1.19e-7, and
    # log(1 - p) of a clipped p = 1 depends on that last digit.
    np.testing.assert_allclose(
        value(got), expected_objective(case, y_idx, p1, p2, 0.9), rtol=1e-2
    )


@pytest.mark.parametrize("case", CASES)
def test_objective_lambda_zero_is_pure_task_loss(case, softmax_models):
    h1, h2 = softmax_models
    y_idx, p1, p2 = random_outputs(K, seed=12)
    loss = make_loss(case, h1, h2, lambda_c=0)
    got = value(loss.objective(y_idx, p1, p2))
    np.testing.assert_allclose(got, task_mean(case, y_idx, p2), rtol=RTOL)
    # ...and a positive lambda_c adds something (h1 is right on some samples).
    assert value(make_loss(case, h1, h2, lambda_c=1.0).objective(y_idx, p1, p2)) > got


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["int", "column", "float"])
def test_objective_single_sigmoid_unit(case, fmt, sigmoid_models):
    h1, h2 = sigmoid_models
    y_idx, p1, p2 = random_outputs(1, seed=13)
    c = h1_correct(p1, y_idx)
    assert 0 < c.sum() < N
    loss = make_loss(case, h1, h2, lambda_c=0.8)
    got = value(loss.objective(as_label_format(y_idx, fmt, 1), p1, p2))
    expected = expected_objective(case, y_idx, p1, p2, 0.8)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_single_sigmoid_unit_tie_is_class_zero(sigmoid_models):
    """p1 = 0.5 predicts class 0: new error counts label 0, not label 1."""
    h1, h2 = sigmoid_models
    p1 = np.full((4, 1), 0.5, dtype="float32")
    p2 = np.array([[0.3], [0.3], [0.6], [0.6]], dtype="float32")
    y = np.array([0, 1, 0, 1])
    got = value(BCCrossEntropyLoss(h1, h2, 1.0).objective(y, p1, p2))
    task = task_loss("ce", y, p2)
    np.testing.assert_allclose(got, task.mean() + (task[0] + task[2]) / 4, rtol=RTOL)


# --------------------------------------------------------------------------
# __call__ with Keras models
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["int", "column", "float", "onehot"])
def test_call_matches_numpy(case, fmt, softmax_models, softmax_outputs, x_batch):
    h1, h2 = softmax_models
    p1, p2 = softmax_outputs
    y_idx = np.random.default_rng(14).integers(0, K, size=N)
    loss = make_loss(case, h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, as_label_format(y_idx, fmt, K)))
    expected = expected_objective(case, y_idx, p1, p2, 0.6)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("case", CASES)
def test_call_with_sample_weight(case, softmax_models, softmax_outputs, x_batch):
    h1, h2 = softmax_models
    p1, p2 = softmax_outputs
    y_idx = np.random.default_rng(15).integers(0, K, size=N)
    w = np.random.default_rng(16).uniform(0, 2, size=N).astype("float32")
    loss = make_loss(case, h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, y_idx, w))
    expected = expected_objective(case, y_idx, p1, p2, 0.6, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["int", "column", "float"])
def test_call_single_sigmoid_models(
    case, fmt, sigmoid_models, sigmoid_outputs, x_batch
):
    h1, h2 = sigmoid_models
    p1, p2 = sigmoid_outputs
    y_idx = np.random.default_rng(17).integers(0, 2, size=N)
    loss = make_loss(case, h1, h2, lambda_c=0.6)
    got = value(loss(x_batch, as_label_format(y_idx, fmt, 1)))
    expected = expected_objective(case, y_idx, p1, p2, 0.6)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


# --------------------------------------------------------------------------
# Gradients, calls and training flags
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_gradients_never_reach_h1(case, x_batch):
    h1, h2 = dense_model(K, seed=5), dense_model(K, seed=6)
    assert h1.trainable
    y = np.random.default_rng(18).integers(0, K, size=N)
    loss = make_loss(case, h1, h2, lambda_c=1.0)
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


@pytest.mark.parametrize("case", CASES)
def test_h2_called_once_in_training_mode_h1_in_inference(case, x_batch):
    h1, h1_recorder = recorded_model(K, seed=1)
    h2, h2_recorder = recorded_model(K, seed=2)
    h1_recorder.log["calls"].clear()
    h2_recorder.log["calls"].clear()
    y = np.random.default_rng(19).integers(0, K, size=N)
    loss = make_loss(case, h1, h2, lambda_c=0.5)
    loss(x_batch, y)
    assert h2_recorder.log["calls"] == [True]
    assert h1_recorder.log["calls"] == [False]
    loss(x_batch, y, np.ones(N, dtype="float32"))
    assert h2_recorder.log["calls"] == [True, True]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "lambda_c", [-0.1, float("nan"), float("inf"), "0.5", True, None]
)
def test_bad_lambda_c(case, lambda_c, softmax_models):
    h1, h2 = softmax_models
    with pytest.raises(ValueError, match="lambda_c"):
        make_loss(case, h1, h2, lambda_c=lambda_c)


@pytest.mark.parametrize("case", CASES)
def test_lambda_c_stored_as_float(case, softmax_models):
    h1, h2 = softmax_models
    loss = make_loss(case, h1, h2, np.float32(0.25))
    assert loss.lambda_c == 0.25 and type(loss.lambda_c) is float
    assert make_loss(case, h1, h2, 2).lambda_c == 2.0


@pytest.mark.parametrize("case", CASES)
def test_missing_h1(case, softmax_models):
    _, h2 = softmax_models
    with pytest.raises(ValueError, match="h1"):
        make_loss(case, None, h2, 0.5)


@pytest.mark.parametrize("case", CASES)
def test_output_width_mismatch(case, x_batch):
    h1, h2 = dense_model(5, seed=1), dense_model(3, seed=2)
    y = np.zeros(N, dtype="int64")
    with pytest.raises(ValueError) as excinfo:
        loss = make_loss(case, h1, h2, 0.5)
        loss(x_batch, y)
    message = str(excinfo.value)
    assert "5" in message and "3" in message and "h1" in message


# --------------------------------------------------------------------------
# XLA
# --------------------------------------------------------------------------


def test_xla_matches_eager(softmax_models, softmax_outputs, x_batch):
    """The whole loss path compiles with XLA and gives the eager values."""
    h1, h2 = softmax_models
    losses = [make_loss(case, h1, h2, lambda_c=0.7) for case in CASES]
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
        expected_objective(case, y, p1, p2, 0.7, sample_weight=w) for case in CASES
    ]
    expected.append(expected_objective(CASES[0], y, p1, p2, 0.7))
    np.testing.assert_allclose(xla, expected, rtol=RTOL)


@pytest.mark.parametrize("case", CASES)
def test_loss_class_holds_its_dissonance(case, softmax_models):
    h1, h2 = softmax_models
    loss = make_loss(case, h1, h2, 0.5)
    assert loss.dissonance == LOSSES[case][2]
    assert repr(loss) == (
        f"{LOSSES[case][0].__name__}(lambda_c=0.5, dissonance={LOSSES[case][2]!r})"
    )
