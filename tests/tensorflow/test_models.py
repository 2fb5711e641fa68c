"""Keras models trained by ``fit`` with the backward-compatibility objective.

Expected loss values come from the NumPy oracle ``tests/_reference.py``::

    L = mean_i[ s_i l(y_i, p2_i) ] + lambda_c * mean_i[ s_i w_i d_i ]

With a zero learning rate and one batch holding every sample, the loss that
``fit`` reports is the objective at the initial weights, and so is
``evaluate``'s.
"""

import json
import textwrap
import time
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from _reference import h1_correct, objective
from _subprocess import result_of, run_python
from sklearn.linear_model import LogisticRegression

from bcsk._keras import _models
from bcsk.objective import FocalDistillation, LogitDifference, StrictImitation
from bcsk.tensorflow import helpers as tf_helpers
from bcsk.tensorflow.loss import (
    BCCrossEntropyLoss,
    BCFocalDistillationLoss,
    BCLogitDifferenceLoss,
    BCStrictImitationBinaryCrossEntropyLoss,
    BCStrictImitationCrossEntropyLoss,
    BCStrictImitationKLDivLoss,
)
from bcsk.tensorflow.models import BCCompatibilityModel, BCNewErrorCompatibilityModel

RTOL = 1e-5


def outputs(model, X):
    """Inference-mode outputs as a NumPy array (cheaper than ``predict``)."""
    return keras.ops.convert_to_numpy(model(X, training=False))


N_EVAL = 128

# One object of each dissonance, with parameters off their defaults where that
# changes the value.
DISSONANCES = {
    "new_error": "new_error",
    "strict_imitation": "strict_imitation",
    "fd": FocalDistillation(beta=2.0, temperature=2.0),
    "fd_logits": FocalDistillation(alpha=0.5, divergence="logits"),
    "ldi": LogitDifference(margin=0.2),
}


# --------------------------------------------------------------------------
# Data and models
# --------------------------------------------------------------------------


def mlp(n_in, n_out, hidden=16, seed=0, activation=None):
    keras.utils.set_random_seed(seed)
    activation = activation or ("sigmoid" if n_out == 1 else "softmax")
    layers = [keras.Input((n_in,))]
    if hidden:
        layers.append(keras.layers.Dense(hidden, activation="relu"))
    layers.append(keras.layers.Dense(n_out, activation=activation))
    return keras.Sequential(layers)


def copy_of(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_weights(before, model):
    after = weights_of(model)
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def eval_data(digits):
    """128 digits h1 has not seen (h1 is wrong on some of them)."""
    X, y = digits
    return X[300 : 300 + N_EVAL], y[300 : 300 + N_EVAL]


@pytest.fixture
def h1(digits_h1):
    """A fresh copy of the session h1, trainable, so tests cannot leak changes."""
    model = copy_of(digits_h1)
    assert model.trainable
    return model


@pytest.fixture(scope="module")
def binary_h1(digits):
    X, y = digits
    h1 = mlp(64, 1, hidden=None, seed=3)
    h1.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.01))
    h1.fit(
        X[:300], (y[:300] >= 5).astype("float32"), epochs=5, batch_size=64, verbose=0
    )
    return h1


def zero_lr_compile(model, loss):
    model.compile(loss=loss, optimizer=keras.optimizers.SGD(0.0))


def evaluate_all(model, X, y, **kwargs):
    return float(model.evaluate(X, y, batch_size=len(X), verbose=0, **kwargs))


def first_epoch_loss(model, X, y, **kwargs):
    history = model.fit(
        X, y, batch_size=len(X), epochs=1, verbose=0, shuffle=False, **kwargs
    )
    return history.history["loss"][0]


# --------------------------------------------------------------------------
# The BCML seed snippet, verbatim
# --------------------------------------------------------------------------


def digit_images(X):
    """8x8 digits -> 28x28x1 images: each pixel becomes 3x3, then pad by 2."""
    images = np.kron(X.reshape(-1, 8, 8), np.ones((1, 3, 3), dtype="float32"))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return images[..., None].astype("float32")


@pytest.fixture(scope="module")
def image_data(digits):
    X, y = digits
    images = digit_images(X[:640])
    assert images.shape == (640, 28, 28, 1)
    return images[:512], y[:512], images[512:], y[512:640]


def test_bcml_seed_snippet_runs_verbatim(image_data):
    X_train, y_train, X_test, y_test = image_data
    dataset_train = tf.data.Dataset.from_tensor_slices((X_train, y_train)).batch(64)
    dataset_test = tf.data.Dataset.from_tensor_slices((X_test, y_test)).batch(64)
    keras.utils.set_random_seed(0)
    h1 = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    h1.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    h1.fit(dataset_train, epochs=2, verbose=0, shuffle=False)
    h1_before = weights_of(h1)

    # ---- BCML's README, unchanged ----
    # fmt: off
    with pytest.warns(UserWarning, match="input_shape"):
        h1.trainable = False
        h2 = BCNewErrorCompatibilityModel([
            tf.keras.layers.Flatten(input_shape=(28, 28, 1)),
            tf.keras.layers.Dense(128, activation='relu'),
            tf.keras.layers.Dense(10, activation='softmax')
        ], h1=h1, lambda_c=0.7)
    h2.compile(loss=tf.keras.losses.sparse_categorical_crossentropy,
               optimizer=tf.keras.optimizers.Adam(0.001), metrics=['accuracy'])
    # Keras warns that fit's default shuffle=True does nothing for a Dataset.
    with pytest.warns(UserWarning, match="shuffle=True"):
        history = h2.fit(dataset_train, epochs=6, validation_data=dataset_test)
    # fmt: on
    # ----------------------------------

    accuracy = history.history["accuracy"]
    assert len(accuracy) == 6 and len(history.history["val_accuracy"]) == 6
    assert accuracy[-1] > accuracy[0] + 0.1
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.7
    assert_same_weights(h1_before, h1)
    assert h2.lambda_c == 0.7 and h2.h1 is h1


# --------------------------------------------------------------------------
# The reported loss is the objective
# --------------------------------------------------------------------------


def test_new_error_model_reports_objective(h1, eval_data):
    X, y = eval_data
    p1 = outputs(h1, X)
    c = h1_correct(p1, y)
    assert 0 < c.sum() < len(y)
    model = BCNewErrorCompatibilityModel(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")],
        h1=h1,
        lambda_c=0.7,
    )
    zero_lr_compile(model, "sparse_categorical_crossentropy")
    p2 = outputs(model, X)
    expected = objective("new_error", "ce", y, p1, p2, 0.7)
    np.testing.assert_allclose(evaluate_all(model, X, y), expected, rtol=RTOL)
    np.testing.assert_allclose(first_epoch_loss(model, X, y), expected, rtol=RTOL)
    # Same value as the loss class on the same data.
    loss_class = float(BCCrossEntropyLoss(h1, model, 0.7)(X, y))
    np.testing.assert_allclose(loss_class, expected, rtol=RTOL)
    # lambda_c matters here: the plain task loss is smaller.
    assert expected > objective("new_error", "ce", y, p1, p2, 0.0) + 1e-3


# id -> (compiled loss, dissonance, labels, width, task family, matching loss
# class or None). Labels: "int" (n,), "column" (n, 1), "onehot" (n, 10), or
# "binary" 0.0/1.0 floats for a single sigmoid unit.
SCE_LOGITS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
BCE_LOGITS = keras.losses.BinaryCrossentropy(from_logits=True)
WRAPPER_CASES = {
    "new_error-sparse_ce": (
        "sparse_categorical_crossentropy",
        "new_error",
        "int",
        10,
        "ce",
        BCCrossEntropyLoss,
    ),
    "strict-sparse_ce": (
        keras.losses.SparseCategoricalCrossentropy(),
        "strict_imitation",
        "int",
        10,
        "ce",
        BCStrictImitationCrossEntropyLoss,
    ),
    "strict-categorical_ce": (
        "categorical_crossentropy",
        StrictImitation(),
        "onehot",
        10,
        "ce",
        BCStrictImitationCrossEntropyLoss,
    ),
    "strict-bce_sigmoid": (
        keras.losses.BinaryCrossentropy(),
        "strict_imitation",
        "binary",
        1,
        "bce",
        BCStrictImitationBinaryCrossEntropyLoss,
    ),
    "strict-kld": (
        keras.losses.KLDivergence(),
        "strict_imitation",
        "onehot",
        10,
        "kld",
        BCStrictImitationKLDivLoss,
    ),
    "fd-sparse_ce": (
        "sparse_categorical_crossentropy",
        DISSONANCES["fd"],
        "int",
        10,
        "ce",
        BCFocalDistillationLoss,
    ),
    "fd_logits-column": (
        keras.losses.SparseCategoricalCrossentropy(),
        DISSONANCES["fd_logits"],
        "column",
        10,
        "ce",
        BCFocalDistillationLoss,
    ),
    "fd-categorical_ce": (
        "categorical_crossentropy",
        "focal_distillation",
        "onehot",
        10,
        "ce",
        BCFocalDistillationLoss,
    ),
    "fd-bce_sigmoid": (
        "binary_crossentropy",
        FocalDistillation(temperature=3.0),
        "binary",
        1,
        "bce",
        BCFocalDistillationLoss,
    ),
    "fd-kld": (
        keras.losses.KLDivergence(),
        DISSONANCES["fd"],
        "onehot",
        10,
        "kld",
        None,
    ),
    "ldi-sparse_ce": (
        "sparse_categorical_crossentropy",
        "logit_difference",
        "int",
        10,
        "ce",
        BCLogitDifferenceLoss,
    ),
    "ldi-categorical_ce": (
        "categorical_crossentropy",
        LogitDifference(margin=0.1, power=1),
        "onehot",
        10,
        "ce",
        BCLogitDifferenceLoss,
    ),
    "ldi-bce_sigmoid": (
        keras.losses.BinaryCrossentropy(),
        DISSONANCES["ldi"],
        "binary",
        1,
        "bce",
        BCLogitDifferenceLoss,
    ),
    # from_logits=True: h2 ends with a linear layer, z2 are its centred outputs.
    "new_error-sparse_ce_logits": (SCE_LOGITS, "new_error", "int", 10, "ce", None),
    "strict-sparse_ce_logits": (
        SCE_LOGITS,
        "strict_imitation",
        "int",
        10,
        "ce",
        None,
    ),
    "fd-sparse_ce_logits": (SCE_LOGITS, DISSONANCES["fd"], "int", 10, "ce", None),
    "ldi-sparse_ce_logits": (SCE_LOGITS, DISSONANCES["ldi"], "int", 10, "ce", None),
    "fd_logits-bce_sigmoid_logits": (
        BCE_LOGITS,
        DISSONANCES["fd_logits"],
        "binary",
        1,
        "bce",
        None,
    ),
    "ldi-bce_sigmoid_logits": (
        BCE_LOGITS,
        DISSONANCES["ldi"],
        "binary",
        1,
        "bce",
        None,
    ),
}


def from_logits(loss):
    return isinstance(loss, keras.losses.Loss) and loss.get_config().get(
        "from_logits", False
    )


def wrapper_case(case, h1, binary_h1, eval_data):
    loss, dissonance, labels, width, _, _ = WRAPPER_CASES[case]
    X, y = eval_data
    if width == 1:
        y_idx = (y >= 5).astype(int)
        y_fit = y_idx.astype("float32")
        reference = binary_h1
    else:
        y_idx = y
        y_fit = {
            "int": y,
            "column": y.reshape(-1, 1).astype("int32"),
            "onehot": np.eye(10, dtype="float32")[y],
        }[labels]
        reference = h1
    activation = "linear" if from_logits(loss) else None
    original = mlp(64, width, seed=11, activation=activation)
    model = BCCompatibilityModel(
        original, h1=reference, lambda_c=0.8, dissonance=dissonance
    )
    zero_lr_compile(model, loss)
    return model, original, reference, X, y_idx, y_fit


@pytest.mark.parametrize("case", list(WRAPPER_CASES))
def test_wrapper_reports_objective(case, h1, binary_h1, eval_data):
    loss, dissonance, _, _, family, loss_cls = WRAPPER_CASES[case]
    model, original, reference, X, y_idx, y_fit = wrapper_case(
        case, h1, binary_h1, eval_data
    )
    p1 = outputs(reference, X)
    p2 = outputs(original, X)
    c = h1_correct(p1, y_idx)
    assert 0 < c.sum() < len(y_idx)
    assert model.dissonance.name == getattr(dissonance, "name", dissonance)
    logits = from_logits(loss)
    expected = objective(
        model.dissonance, family, y_idx, p1, p2, 0.8, from_logits=logits
    )
    plain = objective(model.dissonance, family, y_idx, p1, p2, 0, from_logits=logits)
    assert expected > plain + 1e-4  # the term counts
    np.testing.assert_allclose(evaluate_all(model, X, y_fit), expected, rtol=RTOL)
    np.testing.assert_allclose(first_epoch_loss(model, X, y_fit), expected, rtol=RTOL)
    if loss_cls is None:  # no loss class for logits, or FD with KL
        return
    params = model.dissonance.get_params()
    loss_object = loss_cls(reference, original, 0.8, **params)
    np.testing.assert_allclose(float(loss_object(X, y_fit)), expected, rtol=RTOL)
    np.testing.assert_allclose(
        float(loss_object.objective(y_fit, p1, p2)), expected, rtol=RTOL
    )


@pytest.mark.parametrize("name", list(DISSONANCES))
def test_all_wrong_batch(name, h1, eval_data):
    """h1 is wrong on every sample: c_i = 0, a finite loss, w_i = alpha or 1."""
    X, _ = eval_data
    p1 = outputs(h1, X)
    y = (p1.argmax(axis=1) + 1) % 10
    assert not h1_correct(p1, y).any()
    original = mlp(64, 10, seed=21)
    dissonance = DISSONANCES[name]
    model = BCCompatibilityModel(original, h1=h1, lambda_c=2.0, dissonance=dissonance)
    zero_lr_compile(model, "sparse_categorical_crossentropy")
    p2 = outputs(original, X)
    expected = objective(dissonance, "ce", y, p1, p2, 2.0)
    got = evaluate_all(model, X, y)
    assert np.isfinite(got) and np.isfinite(first_epoch_loss(model, X, y))
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    np.testing.assert_allclose(first_epoch_loss(model, X, y), expected, rtol=RTOL)
    plain = objective(dissonance, "ce", y, p1, p2, 0.0)
    if name in ("new_error", "strict_imitation"):
        np.testing.assert_allclose(got, plain, rtol=RTOL)
    else:
        assert got > plain + 1e-3


@pytest.mark.parametrize("name", list(DISSONANCES))
def test_sample_weight_and_class_weight(name, h1, eval_data):
    X, y = eval_data
    dissonance = DISSONANCES[name]
    original = mlp(64, 10, seed=12)
    model = BCCompatibilityModel(original, h1=h1, lambda_c=1.5, dissonance=dissonance)
    zero_lr_compile(model, "sparse_categorical_crossentropy")
    p1 = outputs(h1, X)
    p2 = outputs(original, X)
    w = np.random.default_rng(0).uniform(0, 3, size=len(y)).astype("float32")
    expected = objective(dissonance, "ce", y, p1, p2, 1.5, sample_weight=w)
    unweighted = objective(dissonance, "ce", y, p1, p2, 1.5)
    assert not np.isclose(expected, unweighted, rtol=1e-3)
    got = evaluate_all(model, X, y, sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    np.testing.assert_allclose(
        first_epoch_loss(model, X, y, sample_weight=w), expected, rtol=RTOL
    )

    class_weight = {k: 0.5 + 0.25 * k for k in range(10)}
    s = np.array([class_weight[k] for k in y])
    expected_cw = objective(dissonance, "ce", y, p1, p2, 1.5, sample_weight=s)
    got_cw = first_epoch_loss(model, X, y, class_weight=class_weight)
    np.testing.assert_allclose(got_cw, expected_cw, rtol=RTOL)


@pytest.mark.parametrize("model_class", ["new_error_model", "wrapper_strict"])
def test_lambda_c_change_takes_effect(model_class, h1, eval_data):
    X, y = eval_data
    if model_class == "new_error_model":
        model = BCNewErrorCompatibilityModel(
            [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")],
            h1=h1,
            lambda_c=0.5,
        )
        dissonance = "new_error"
    else:
        model = BCCompatibilityModel(
            mlp(64, 10, seed=13), h1=h1, lambda_c=0.5, dissonance="strict_imitation"
        )
        dissonance = "strict_imitation"
    zero_lr_compile(model, "sparse_categorical_crossentropy")
    p1 = outputs(h1, X)
    p2 = outputs(model, X)

    def expected(lam):
        return objective(dissonance, "ce", y, p1, p2, lam)

    np.testing.assert_allclose(first_epoch_loss(model, X, y), expected(0.5), rtol=RTOL)
    np.testing.assert_allclose(evaluate_all(model, X, y), expected(0.5), rtol=RTOL)
    model.lambda_c = 3.0
    assert model.lambda_c == 3.0
    np.testing.assert_allclose(evaluate_all(model, X, y), expected(3.0), rtol=RTOL)
    np.testing.assert_allclose(first_epoch_loss(model, X, y), expected(3.0), rtol=RTOL)
    model.lambda_c = 0
    np.testing.assert_allclose(first_epoch_loss(model, X, y), expected(0.0), rtol=RTOL)
    for bad in (-1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="lambda_c"):
            model.lambda_c = bad
    assert model.lambda_c == 0.0


def test_reported_dissonance_is_the_one_the_loss_uses(h1, eval_data):
    """Changing the parameters of a dissonance object after the model was built
    must not leave ``model.dissonance`` saying one thing and the compiled loss
    computing another (as lambda_c's setter takes care of for lambda_c)."""
    X, y = eval_data
    fd = FocalDistillation(temperature=1.0)
    original = mlp(64, 10, seed=24)
    model = BCCompatibilityModel(original, h1=h1, lambda_c=0.8, dissonance=fd)
    zero_lr_compile(model, "sparse_categorical_crossentropy")
    p1, p2 = outputs(h1, X), outputs(original, X)
    first = evaluate_all(model, X, y)
    np.testing.assert_allclose(first, objective(fd, "ce", y, p1, p2, 0.8), rtol=RTOL)
    fd.set_params(temperature=4.0)
    model.dissonance.set_params(temperature=4.0)
    reported = model.dissonance
    np.testing.assert_allclose(
        evaluate_all(model, X, y), objective(reported, "ce", y, p1, p2, 0.8), rtol=RTOL
    )
    np.testing.assert_allclose(
        first_epoch_loss(model, X, y),
        objective(reported, "ce", y, p1, p2, 0.8),
        rtol=RTOL,
    )


# --------------------------------------------------------------------------
# h1 is never trained
# --------------------------------------------------------------------------


@pytest.mark.parametrize("h1_trainable", [True, False])
def test_h1_never_modified(h1_trainable, h1, digits):
    X, y = digits
    X, y = X[:128], y[:128]
    h1.trainable = h1_trainable
    before = weights_of(h1)
    h1_ids = {id(v) for v in h1.weights}

    new_error = BCNewErrorCompatibilityModel(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")],
        h1=h1,
        lambda_c=1.0,
    )
    strict = BCCompatibilityModel(
        mlp(64, 10, seed=14), h1=h1, lambda_c=1.0, dissonance="strict_imitation"
    )
    wrapper_new_error = BCCompatibilityModel(mlp(64, 10, seed=15), h1=h1, lambda_c=1.0)
    for model in (new_error, strict, wrapper_new_error):
        model.compile(
            loss="sparse_categorical_crossentropy",
            optimizer=keras.optimizers.Adam(0.05),
        )
        model_before = weights_of(model)
        model.fit(X, y, epochs=1, batch_size=64, verbose=0)
        assert_same_weights(before, h1)
        assert not all(
            np.array_equal(a, b)
            for a, b in zip(model_before, weights_of(model), strict=True)
        )
        assert not h1_ids & {id(v) for v in model.trainable_weights}
        assert not h1_ids & {id(v) for v in model.weights}
        assert not h1_ids & {id(v) for v in model.variables}
    assert h1.trainable is h1_trainable

    h2 = mlp(64, 10, seed=16)
    bc_loss = BCCrossEntropyLoss(h1, h2, 1.0)
    batches = [(X[i : i + 64], y[i : i + 64]) for i in range(0, len(X), 64)]
    tf_helpers.bc_fit(
        h2,
        training_set=batches,
        epochs=1,
        bc_loss=bc_loss,
        optimizer=keras.optimizers.Adam(0.05),
        verbose=0,
    )
    assert_same_weights(before, h1)


# --------------------------------------------------------------------------
# Wrapping functional and subclassed models; saving
# --------------------------------------------------------------------------


class SubclassedClassifier(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(10, activation="softmax")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def functional_classifier(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("kind", ["functional", "subclassed"])
def test_wrapper_trains_original_model(kind, h1, digits, tmp_path):
    X, y = digits
    X, y = X[:256], y[:256]
    if kind == "functional":
        original = functional_classifier(seed=17)
    else:
        keras.utils.set_random_seed(18)
        original = SubclassedClassifier()
        original(X[:1])
    before = weights_of(original)
    model = BCCompatibilityModel(original, h1=h1, lambda_c=0.5)
    assert model.original_model is original
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(0.01),
        metrics=["accuracy"],
    )
    history = model.fit(X, y, epochs=4, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = weights_of(original)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    np.testing.assert_allclose(outputs(model, X), outputs(original, X), rtol=1e-6)
    if kind == "functional":
        path = tmp_path / "original.keras"
        model.save_original_model(path)
        restored = keras.models.load_model(path)
        assert not isinstance(restored, BCCompatibilityModel)
        np.testing.assert_array_equal(
            restored.predict(X, verbose=0), original.predict(X, verbose=0)
        )


SAVED_FD = FocalDistillation(temperature=3, divergence="logits")


@pytest.mark.parametrize("model_class", ["new_error_model", "wrapper", "wrapper_fd"])
def test_save_load_round_trip(model_class, h1, digits, tmp_path):
    X, y = digits
    X, y = X[:256], y[:256]
    if model_class == "new_error_model":
        model = BCNewErrorCompatibilityModel(
            [
                keras.Input((64,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ],
            h1=h1,
            lambda_c=0.3,
        )
    else:
        model = BCCompatibilityModel(
            functional_classifier(seed=19),
            h1=h1,
            lambda_c=0.3,
            dissonance="strict_imitation" if model_class == "wrapper" else SAVED_FD,
        )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(X, y, epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.lambda_c == 0.3
    assert loaded.dissonance == model.dissonance
    assert type(loaded.dissonance) is type(model.dissonance)
    np.testing.assert_array_equal(
        loaded.predict(X, verbose=0), model.predict(X, verbose=0)
    )
    np.testing.assert_array_equal(outputs(loaded.h1, X), outputs(h1, X))
    # The loaded model computes the same objective (h1 and lambda_c restored).
    np.testing.assert_allclose(
        evaluate_all(loaded, X, y), evaluate_all(model, X, y), rtol=RTOL
    )


def test_from_config_accepts_a_dissonance_name(h1):
    """Files saved by bcsk 0.1 hold the dissonance as a string."""
    model = BCCompatibilityModel(mlp(64, 10), h1=h1, dissonance=SAVED_FD)
    config = model.get_config()
    assert config["dissonance"]["config"] == SAVED_FD.get_params()
    for name in ("new_error", "strict_imitation", "logit_difference"):
        rebuilt = BCCompatibilityModel.from_config({**config, "dissonance": name})
        assert rebuilt.dissonance.name == name
    del config["dissonance"]
    assert BCCompatibilityModel.from_config(config).dissonance.name == "new_error"


def run_script(source, folder, *args):
    """Run ``source`` in a fresh interpreter; return the JSON of its RESULT line."""
    return result_of(run_python(source, folder, *args))


# Saved here; loaded, evaluated and described in a fresh interpreter.
FRESH_LOAD_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import numpy as np
    import bcsk.tensorflow  # registers bcsk's Keras classes for load_model

    folder = sys.argv[1]
    X = np.load(os.path.join(folder, "X.npy"))
    y = np.load(os.path.join(folder, "y.npy"))
    out = {}
    for name in ("current", "string_config"):
        model = keras.models.load_model(os.path.join(folder, name + ".keras"))
        d = model.dissonance
        out[name] = {
            "class": type(d).__name__,
            "params": d.get_params(),
            "lambda_c": model.lambda_c,
            "loss": float(model.evaluate(X, y, batch_size=len(X), verbose=0)),
        }
    print("RESULT " + json.dumps(out))
    """
)


def with_string_dissonance(source, target, name):
    """Copy a .keras file, its dissonance written as bcsk 0.1 wrote it: a name."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["dissonance"] = name
                data = json.dumps(config).encode()
            zout.writestr(item, data)


@pytest.mark.slow
def test_fresh_process_load_keeps_the_dissonance(h1, eval_data, tmp_path):
    X, y = eval_data
    model = BCCompatibilityModel(
        mlp(64, 10, seed=22), h1=h1, lambda_c=0.6, dissonance=SAVED_FD
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    here = evaluate_all(model, X, y)  # builds the model
    model.save(tmp_path / "current.keras")
    with_string_dissonance(
        tmp_path / "current.keras", tmp_path / "string_config.keras", "new_error"
    )
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    result = run_script(FRESH_LOAD_SCRIPT, tmp_path, str(tmp_path))
    p1, p2 = outputs(h1, X), outputs(model, X)

    current = result["current"]
    assert current["class"] == "FocalDistillation"
    assert FocalDistillation(**current["params"]) == SAVED_FD
    assert current["lambda_c"] == 0.6
    expected = objective(SAVED_FD, "ce", y, p1, p2, 0.6)
    np.testing.assert_allclose(current["loss"], here, rtol=RTOL)
    np.testing.assert_allclose(current["loss"], expected, rtol=RTOL)

    old = result["string_config"]
    assert old["class"] == "NewError" and old["params"] == {}
    np.testing.assert_allclose(
        old["loss"], objective("new_error", "ce", y, p1, p2, 0.6), rtol=RTOL
    )


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_missing_h1():
    with pytest.raises(ValueError, match="h1"):
        BCNewErrorCompatibilityModel([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="h1"):
        BCCompatibilityModel(mlp(4, 3))


@pytest.mark.parametrize("bad_h1", [LogisticRegression(), lambda x: x, "model"])
def test_non_keras_h1(bad_h1):
    with pytest.raises(TypeError, match="h1 must be a Keras model"):
        BCNewErrorCompatibilityModel(
            [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")], h1=bad_h1
        )
    with pytest.raises(TypeError, match="h1 must be a Keras model"):
        BCCompatibilityModel(mlp(4, 3), h1=bad_h1)


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), "0.5", True, None])
def test_bad_lambda_c(bad):
    h1 = mlp(4, 3, hidden=None)
    with pytest.raises(ValueError, match="lambda_c"):
        BCNewErrorCompatibilityModel(
            [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")],
            h1=h1,
            lambda_c=bad,
        )
    with pytest.raises(ValueError, match="lambda_c"):
        BCCompatibilityModel(mlp(4, 3), h1=h1, lambda_c=bad)


def test_bad_dissonance():
    with pytest.raises(ValueError, match="dissonance"):
        BCCompatibilityModel(mlp(4, 3), h1=mlp(4, 3), dissonance="imitation")


@pytest.mark.parametrize("model_class", ["new_error_model", "wrapper"])
def test_width_mismatch_raises_at_first_fit(model_class):
    X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.arange(16) % 3
    h1 = mlp(4, 5, hidden=None)
    if model_class == "new_error_model":
        model = BCNewErrorCompatibilityModel(
            [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")],
            h1=h1,
            lambda_c=0.5,
        )
    else:
        model = BCCompatibilityModel(mlp(4, 3), h1=h1, lambda_c=0.5)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.raises(ValueError, match=r"h1 outputs 5 column\(s\) but h2 outputs 3"):
        model.fit(X, y, epochs=1, verbose=0)


# --------------------------------------------------------------------------
# tf.distribute.MirroredStrategy on two logical CPUs
# --------------------------------------------------------------------------

MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np
    from bcsk import objective
    from bcsk.tensorflow.models import BCCompatibilityModel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, size=64)

    def build(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(3, activation="softmax")]
        )

    def reported(dissonance, strategy):
        with strategy.scope():
            h1 = build(1)
            model = BCCompatibilityModel(
                build(2), h1=h1, lambda_c=0.9, dissonance=dissonance
            )
            model.compile(
                loss="sparse_categorical_crossentropy",
                optimizer=keras.optimizers.SGD(0.0),
            )
        history = model.fit(X, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        p1 = keras.ops.convert_to_numpy(h1(X, training=False)).tolist()
        p2 = keras.ops.convert_to_numpy(model(X, training=False)).tolist()
        return history.history["loss"][0], p1, p2

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = {"replicas": mirrored.num_replicas_in_sync}
    # name -> a dissonance name, or [class name, parameters]
    for key, spec in json.loads(sys.argv[1]).items():
        if isinstance(spec, list):
            spec = getattr(objective, spec[0])(**spec[1])
        result[key] = {
            "single": reported(spec, tf.distribute.get_strategy()),
            "mirrored": reported(spec, mirrored),
        }
    result["y"] = y.tolist()
    print("RESULT " + json.dumps(result))
    """
)


@pytest.mark.slow
def test_mirrored_strategy_reports_single_device_loss(tmp_path):
    specs = {
        key: d if isinstance(d, str) else [type(d).__name__, d.get_params()]
        for key, d in DISSONANCES.items()
    }
    started = time.perf_counter()
    result = run_script(MIRRORED_SCRIPT, tmp_path, json.dumps(specs))
    elapsed = time.perf_counter() - started
    assert result["replicas"] == 2
    y = np.array(result["y"])
    assert set(result) == {"replicas", "y", *DISSONANCES}
    for key, dissonance in DISSONANCES.items():
        single_loss, p1, p2 = result[key]["single"]
        mirrored_loss, _, _ = result[key]["mirrored"]
        p1, p2 = np.array(p1), np.array(p2)
        expected = objective(dissonance, "ce", y, p1, p2, 0.9)
        assert expected > objective(dissonance, "ce", y, p1, p2, 0.0) + 1e-4
        np.testing.assert_allclose(single_loss, expected, rtol=RTOL)
        np.testing.assert_allclose(mirrored_loss, single_loss, rtol=RTOL)
    print(f"mirrored subprocess took {elapsed:.1f} s")


def new_error_model(h1, seed=0):
    keras.utils.set_random_seed(seed)
    model = BCNewErrorCompatibilityModel(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        h1=h1,
        lambda_c=0.7,
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_fit_traces_the_training_step_once(h1, eval_data, train_step_calls):
    """fit builds the optimizer first, so TensorFlow traces ``train_step`` once.

    A plain Keras model traces it twice: its optimizer's slots are created in
    the first trace.
    """
    X, y = eval_data
    new_error_model(h1).fit(X, y, epochs=2, batch_size=100, verbose=0)
    assert train_step_calls == ["BCNewErrorCompatibilityModel"]


def test_building_the_optimizer_first_leaves_training_unchanged(
    h1, eval_data, monkeypatch
):
    X, y = eval_data
    ours = new_error_model(h1)
    ours_history = ours.fit(X, y, epochs=2, batch_size=100, verbose=0).history
    monkeypatch.setattr(_models, "build_training_state", lambda *args: None)
    lazy = new_error_model(h1)
    lazy_history = lazy.fit(X, y, epochs=2, batch_size=100, verbose=0).history
    for a, b in zip(weights_of(ours), weights_of(lazy), strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours_history == lazy_history
