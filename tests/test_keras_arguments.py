"""Nothing silently dropped: every Keras argument reaches Keras or is refused.

A metric, a loss weight, a callback, a ``fit`` and a ``predict`` keyword, and
an execution setting of ``compile``, passed as a user passes them to scikeras'
``KerasClassifier``, must reach the Keras model bcsk trains (and the model it
ships), whatever wraps the estimator: the estimator itself, an ensemble
(``n_members``), the search (``BCCompatibleClassifierCV``) and the update
gates (``CompatibleUpdateClassifier`` and its CV variant). An argument that
``keras.Model.fit`` does not take raises an error that names it.
"""

import keras
import pytest

from bcsk import (
    BCCompatibleClassifier,
    BCCompatibleClassifierCV,
    CompatibleUpdateClassifier,
    CompatibleUpdateClassifierCV,
)

N = 120

# Events of the recording callback, across the copies that clone() makes.
EVENTS: list[str] = []


class Recorder(keras.callbacks.Callback):
    """Records that Keras called it while training and while predicting."""

    def on_train_begin(self, logs=None):
        EVENTS.append("train")

    def on_predict_begin(self, logs=None):
        EVENTS.append("predict")


def build(meta):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


# What the user passes, as scikeras' KerasClassifier takes it.
ARGUMENTS = dict(
    metrics=["accuracy"],
    compile__weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="w_acc")],
    compile__loss_weights=[2.0],
    callbacks=[Recorder],
    fit__validation_split=0.25,
    predict__batch_size=7,
    run_eagerly=True,
)

BASE = dict(
    model=build,
    loss="sparse_categorical_crossentropy",
    epochs=1,
    batch_size=32,
    random_state=0,
    verbose=0,
)


def estimator(h1, **params):
    return BCCompatibleClassifier(h1=h1, **{"lambda_c": 0.5, **BASE, **params})


# kind -> (make the container from the estimator's parameters, its trained h2)
CONTAINERS = {
    "estimator": (lambda h1, p: estimator(h1, **p), lambda c: c),
    "ensemble": (lambda h1, p: estimator(h1, n_members=2, **p), lambda c: c),
    "search": (
        lambda h1, p: BCCompatibleClassifierCV(
            h1=h1, lambda_cs=(0.0, 0.5), cv=2, flip_costs=(1.0,), **{**BASE, **p}
        ),
        lambda c: c.best_estimator_,
    ),
    # The default search serves the networks it trained on the kept rows.
    "search (held out)": (
        lambda h1, p: BCCompatibleClassifierCV(
            h1=h1, lambda_cs=(0.0, 0.5), flip_costs=(1.0,), **{**BASE, **p}
        ),
        lambda c: c.best_estimator_,
    ),
    "gate": (
        lambda h1, p: CompatibleUpdateClassifier(estimator(h1, **p), h1=h1),
        lambda c: c.estimator_,
    ),
    "gate CV": (
        lambda h1, p: CompatibleUpdateClassifierCV(
            estimator(h1, **p), h1=h1, flip_costs=(1.0, 2.0), cv=2
        ),
        lambda c: c.estimator_,
    ),
}


@pytest.fixture(scope="module")
def small(digits):
    X, y = digits
    return X[300 : 300 + N], y[300 : 300 + N]


@pytest.fixture
def predict_calls(monkeypatch):
    """Keyword arguments of every ``keras.Model.predict`` call."""
    calls = []
    predict = keras.Model.predict

    def recorded(model, *args, **kwargs):
        calls.append(kwargs)
        return predict(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "predict", recorded)
    return calls


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_every_keras_argument_reaches_keras(kind, small, h1, predict_calls):
    X, y = small
    make, trained = CONTAINERS[kind]
    EVENTS.clear()
    container = make(h1, dict(ARGUMENTS)).fit(X, y)
    h2 = trained(container)
    # metrics, weighted metrics and fit__validation_split: in history_.
    assert {"accuracy", "w_acc", "val_loss", "val_accuracy"} <= set(h2.history_)
    # h2 keeps what it was compiled with (the loss weight, run_eagerly).
    config = h2.model_.get_compile_config()
    assert config["loss_weights"] == [2.0]
    assert config["run_eagerly"] is True
    # The callback ran in training.
    assert "train" in EVENTS
    # predict__batch_size and the callback reach Model.predict.
    predict_calls.clear()
    EVENTS.clear()
    container.predict_proba(X[:10])
    assert [call.get("batch_size") for call in predict_calls] == [7]
    assert EVENTS == ["predict"]


def test_a_loss_weight_weighs_the_objective(small, h1):
    """loss_weights reaches the objective, not only the compile config."""
    X, y = small
    # At lambda_c=0 the objective is the task loss alone, which the weight scales.
    params = dict(
        optimizer=keras.optimizers.SGD, optimizer__learning_rate=0.0, lambda_c=0.0
    )
    plain = estimator(h1, **params).fit(X, y)
    weighted = estimator(h1, compile__loss_weights=[2.0], **params).fit(X, y)
    assert weighted.history_["loss"][0] == pytest.approx(
        2 * plain.history_["loss"][0], rel=1e-4
    )


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_an_argument_keras_does_not_take_is_named(kind, small, h1):
    X, y = small
    make, _ = CONTAINERS[kind]
    container = make(h1, {"fit__not_a_fit_argument": 1})
    with pytest.raises(ValueError, match="not_a_fit_argument"):
        container.fit(X, y)


@pytest.mark.parametrize("kind", ["estimator", "gate"])
def test_fit_keywords_reach_keras(kind, small, h1):
    """Keywords of fit itself (not routed parameters) reach Model.fit."""
    X, y = small
    make, trained = CONTAINERS[kind]
    container = make(h1, {}).fit(X, y, validation_split=0.25)
    assert "val_loss" in trained(container).history_
    with pytest.raises(ValueError, match="not_a_fit_argument"):
        make(h1, {}).fit(X, y, not_a_fit_argument=1)


def test_predict_keywords_reach_keras(small, h1, predict_calls):
    X, y = small
    clf = estimator(h1).fit(X, y)
    predict_calls.clear()
    clf.predict(X[:10], batch_size=3)
    clf.predict_proba(X[:10], batch_size=5)
    assert [call.get("batch_size") for call in predict_calls] == [3, 5]
