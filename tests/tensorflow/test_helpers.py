"""``bc_fit``, BCML's custom training loop (``tf_helpers.bc_fit``)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from _reference import objective

from bcsk.objective import (
    FocalDistillation,
    LogitDifference,
    NewError,
    StrictImitation,
)
from bcsk.scores import error_compatibility_score, trust_compatibility_score
from bcsk.tensorflow import helpers as tf_helpers
from bcsk.tensorflow.loss import BCFocalDistillationLoss, BCLogitDifferenceLoss
from bcsk.tensorflow.loss.new_error import BCBinaryCrossEntropyLoss, BCCrossEntropyLoss
from bcsk.tensorflow.loss.strict_imitation import BCStrictImitationKLDivLoss

RTOL = 1e-5


def outputs(model, X):
    """Inference-mode outputs as a NumPy array (cheaper than ``predict``)."""
    return keras.ops.convert_to_numpy(model(X, training=False))


# id -> (loss class, task family, dissonance with the parameters given to it)
LOSS_KINDS = {
    "ce": (BCCrossEntropyLoss, "ce", NewError()),
    "bce": (BCBinaryCrossEntropyLoss, "bce", NewError()),
    "kld": (BCStrictImitationKLDivLoss, "kld", StrictImitation()),
    "fd": (BCFocalDistillationLoss, "ce", FocalDistillation(temperature=2.0)),
    "fd_logits": (
        BCFocalDistillationLoss,
        "ce",
        FocalDistillation(beta=2.0, divergence="logits"),
    ),
    "ldi": (BCLogitDifferenceLoss, "ce", LogitDifference(margin=0.2)),
}


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def digit_images(X):
    """8x8 digits -> 28x28x1 images: each pixel becomes 3x3, then pad by 2."""
    images = np.kron(X.reshape(-1, 8, 8), np.ones((1, 3, 3), dtype="float32"))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return images[..., None].astype("float32")


@pytest.fixture(scope="module")
def images(digits):
    X, y = digits
    X_img = digit_images(X[:640])
    return X_img[:512], y[:512], X_img[512:640], y[512:640]


@pytest.fixture(scope="module")
def image_h1(images):
    X_train, y_train, _, _ = images
    keras.utils.set_random_seed(0)
    h1 = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    h1.compile(
        loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01)
    )
    h1.fit(X_train[:256], y_train[:256], epochs=2, batch_size=64, verbose=0)
    return h1


def small_model(seed, n_in=64, n_out=10):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((n_in,)), keras.layers.Dense(n_out, activation="softmax")]
    )


@pytest.fixture(scope="module")
def small_data(digits, digits_h1):
    X, y = digits
    return X[300:428], y[300:428], digits_h1


def batches_of(*arrays, size=32):
    n = len(arrays[0])
    return [tuple(a[i : i + size] for a in arrays) for i in range(0, n, size)]


# --------------------------------------------------------------------------
# The BCML seed, verbatim
# --------------------------------------------------------------------------


def test_bcml_seed_runs_verbatim(images, image_h1, capsys):
    X_train, y_train, X_test, y_test = images
    h1 = image_h1
    h1_before = [np.array(w) for w in h1.get_weights()]
    ds_train = tf.data.Dataset.from_tensor_slices((X_train, y_train)).batch(64)
    ds_test = tf.data.Dataset.from_tensor_slices((X_test, y_test)).batch(64)
    keras.utils.set_random_seed(1)

    # ---- BCML's README, unchanged (bc_fit now returns a History) ----
    # fmt: off
    lambda_c = 0.9
    h1.trainable = False
    with pytest.warns(UserWarning, match="input_shape"):
        h2 = tf.keras.models.Sequential([
            tf.keras.layers.Flatten(input_shape=(28, 28, 1)),
            tf.keras.layers.Dense(128, activation='relu'),
            tf.keras.layers.Dense(10, activation='softmax')
        ])
    bc_loss = BCCrossEntropyLoss(h1, h2, lambda_c)
    optimizer = tf.keras.optimizers.Adam(0.001)
    history = tf_helpers.bc_fit(h2, training_set=ds_train, testing_set=ds_test, epochs=6, bc_loss=bc_loss, optimizer=optimizer)  # noqa: E501
    # fmt: on
    # ------------------------------------------------------------------

    out = capsys.readouterr().out
    assert "Epoch 1/6" in out and "Epoch 6/6" in out
    assert isinstance(history, keras.callbacks.History)
    logs = history.history
    for key in ("loss", "test_loss", "test_accuracy", "test_btc", "test_bec"):
        assert len(logs[key]) == 6, key
    assert history.epoch == list(range(6))
    assert logs["loss"][-1] < logs["loss"][0]
    assert logs["test_accuracy"][-1] > logs["test_accuracy"][0]

    # The last epoch's scores are those of the trained models, computed by hand.
    p1 = outputs(h1, X_test)
    p2 = outputs(h2, X_test)
    h1_labels, h2_labels = p1.argmax(axis=1), p2.argmax(axis=1)
    assert logs["test_btc"][-1] == pytest.approx(
        trust_compatibility_score(h1_labels, h2_labels, y_test), rel=1e-12
    )
    assert logs["test_bec"][-1] == pytest.approx(
        error_compatibility_score(h1_labels, h2_labels, y_test), rel=1e-12
    )
    assert logs["test_accuracy"][-1] == pytest.approx(np.mean(h2_labels == y_test))
    np.testing.assert_allclose(
        logs["test_loss"][-1],
        objective("new_error", "ce", y_test, p1, p2, 0.9),
        rtol=RTOL,
    )
    for w_before, w_after in zip(h1_before, h1.get_weights(), strict=True):
        np.testing.assert_array_equal(w_before, w_after)


# --------------------------------------------------------------------------
# Python lists of batches; reported loss equals the objective
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LOSS_KINDS))
@pytest.mark.parametrize("weighted", [False, True], ids=["xy", "xyw"])
def test_list_of_batches_reports_objective(kind, weighted, small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=2)
    w = np.random.default_rng(3).uniform(0, 2, size=len(y)).astype("float32")
    p1 = outputs(h1, X)
    p2 = outputs(h2, X)
    assert 0 < np.sum(p1.argmax(axis=1) == y) < len(y)
    sample_weight = w if weighted else None
    cls, family, dissonance = LOSS_KINDS[kind]
    expected = objective(dissonance, family, y, p1, p2, 0.8, sample_weight)
    train = batches_of(X, y, w) if weighted else batches_of(X, y)
    test = batches_of(X, y, w) if weighted else batches_of(X, y)
    bc_loss = cls(h1, h2, 0.8, **dissonance.get_params())
    history = tf_helpers.bc_fit(
        h2,
        training_set=train,
        testing_set=test,
        epochs=1,
        bc_loss=bc_loss,
        optimizer=keras.optimizers.SGD(0.0),
        verbose=0,
    )
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=RTOL)
    np.testing.assert_allclose(history.history["test_loss"][0], expected, rtol=RTOL)


def test_list_of_batches_trains(small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=4)
    before = [np.array(v) for v in h2.get_weights()]
    history = tf_helpers.bc_fit(
        h2,
        training_set=batches_of(X, y, np.ones(len(y), "float32")),
        epochs=3,
        bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
        optimizer=keras.optimizers.Adam(0.01),
        verbose=0,
    )
    assert len(history.history["loss"]) == 3
    assert "test_loss" not in history.history
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(before[0], h2.get_weights()[0])


def test_verbose_zero_prints_nothing(small_data, capsys):
    X, y, h1 = small_data
    h2 = small_model(seed=5)
    capsys.readouterr()
    tf_helpers.bc_fit(
        h2,
        training_set=batches_of(X, y),
        testing_set=batches_of(X, y),
        epochs=2,
        bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
        optimizer="adam",
        verbose=0,
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [0, -1, 1.5, True, None, "2"])
def test_bad_epochs(epochs, small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=6)
    with pytest.raises(ValueError, match="epochs"):
        tf_helpers.bc_fit(
            h2,
            training_set=batches_of(X, y),
            epochs=epochs,
            bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
            optimizer="adam",
            verbose=0,
        )


def test_missing_optimizer(small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=7)
    with pytest.raises(ValueError, match="optimizer"):
        tf_helpers.bc_fit(
            h2,
            training_set=batches_of(X, y),
            epochs=1,
            bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
            verbose=0,
        )


def test_unknown_optimizer_name(small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=7)
    with pytest.raises(ValueError):
        tf_helpers.bc_fit(
            h2,
            training_set=batches_of(X, y),
            epochs=1,
            bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
            optimizer="no_such_optimizer",
            verbose=0,
        )


def test_bc_loss_built_for_another_h2(small_data):
    X, y, h1 = small_data
    h2, other = small_model(seed=8), small_model(seed=9)
    before = [np.array(v) for v in h2.get_weights()]
    with pytest.raises(ValueError, match="another model"):
        tf_helpers.bc_fit(
            h2,
            training_set=batches_of(X, y),
            epochs=1,
            bc_loss=BCCrossEntropyLoss(h1, other, 0.5),
            optimizer="adam",
            verbose=0,
        )
    for a, b in zip(before, h2.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_missing_bc_loss_and_bad_h2(small_data):
    X, y, h1 = small_data
    h2 = small_model(seed=10)
    with pytest.raises(ValueError, match="bc_loss"):
        tf_helpers.bc_fit(
            h2, training_set=batches_of(X, y), epochs=1, optimizer="adam", verbose=0
        )
    with pytest.raises(TypeError, match="h2"):
        tf_helpers.bc_fit(
            "not a model",
            training_set=batches_of(X, y),
            epochs=1,
            bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
            optimizer="adam",
            verbose=0,
        )
    with pytest.raises(ValueError, match="training_set"):
        tf_helpers.bc_fit(
            h2,
            training_set=None,
            epochs=1,
            bc_loss=BCCrossEntropyLoss(h1, h2, 0.5),
            optimizer="adam",
            verbose=0,
        )
