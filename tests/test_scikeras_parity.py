"""Every scikeras feature, run on bcsk and on stock ``KerasClassifier``.

``BCCompatibleClassifier`` promises to behave as scikeras' ``KerasClassifier``
apart from the compatibility objective. Each test here runs one scikeras
feature on both (``kind`` is ``"bcsk"`` or ``"scikeras"``) and asserts the
same outcome, or, where they differ on purpose, each one's outcome:

* ``predict_proba`` of a model whose output width is not the number of
  classes: stock scikeras returns the wrongly shaped array; bcsk raises.
* ``predict_proba`` of one sample: stock scikeras squeezes it to 1-D; bcsk
  keeps ``(1, n_classes)`` as scikit-learn does.
* A subclassed ``keras.Model`` with its own ``call``: stock scikeras 0.13
  cannot fit it (it reads ``model_.outputs``); bcsk can.
* A list of targets: stock scikeras fails with an unrelated error; bcsk says
  to stack them as the columns of one y. A multiclass-multioutput 2-D y:
  stock scikeras refuses a model of one output per column without a target
  encoder of one's own; bcsk's is built in, and with it given to scikeras
  (its documented way) the two train the same weights at ``lambda_c=0``. A
  multilabel-indicator y trains on both (bcsk per label; with ``lambda_c=0``
  the weights are scikeras'). One-hot y trains on both with categorical
  cross-entropy (one label per sample); with another loss bcsk refuses it
  (a multilabel indicator or one-hot rows?) and names the choice.
* A target encoder of the user's own whose ``classes_`` is a list (one
  Keras output per entry, as scikeras' tests write them), even when an
  output is wider than its classes: both train it, and the compiled
  metrics are listed by ``model_.metrics`` on both.
* Arguments of a custom ``Model.fit`` (``fit__<name>`` that
  ``keras.Model.fit`` does not take): stock scikeras passes them to the
  model's own fit; bcsk trains h2 inside a model of its own and refuses them.

The same on both: multi-input models (a ``feature_encoder`` that splits X
into a list or dict; bcsk gives h1 the X before the encoder), losses and
metrics keyed by output name, a dynamic model's arguments, and the message
for a changed target shape in ``partial_fit``. With ``lambda_c=0`` the
weights are scikeras' bit for bit.
* ``class_weight=`` with ``sample_weight``: stock scikeras multiplies the
  class weights into the caller's array; bcsk leaves it untouched.
* A one-class y: stock scikeras trains a one-unit softmax; bcsk refuses.
"""

import keras
import numpy as np
import pytest
from _reference import objective
from scikeras.utils.transformers import ClassifierLabelEncoder
from scikeras.wrappers import KerasClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.class_weight import compute_sample_weight

from bcsk import BCCompatibleClassifier

N = 200
KINDS = ["bcsk", "scikeras"]
CLASS_WEIGHT = {label: 1.0 + label for label in range(10)}


def build(meta, hidden=8):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def build_wide(meta):
    """Two output units more than there are classes."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(meta["n_classes_"] + 2, activation="softmax"),
        ]
    )


def build_named(meta):
    """A functional model whose one output is named ``out1``."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    output = keras.layers.Dense(meta["n_classes_"], activation="softmax", name="out1")
    return keras.Model(inputs, output(hidden))


def build_two_inputs(meta):
    left, right = keras.Input((32,)), keras.Input((32,))
    joined = keras.layers.Concatenate()([left, right])
    output = keras.layers.Dense(meta["n_classes_"], activation="softmax")(joined)
    return keras.Model([left, right], output)


class CallModel(keras.Model):
    """A subclassed model with its own ``call`` (no symbolic outputs)."""

    def __init__(self, n_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(n_classes, activation="softmax")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


class FunctionalSubclass(keras.Model):
    """A subclass of keras.Model built the functional way."""

    def __init__(self, n_features, n_classes, **kwargs):
        inputs = keras.Input((n_features,))
        outputs = keras.layers.Dense(n_classes, activation="softmax")(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)


def _split(X):
    return [X[:, :32], X[:, 32:]]


def _split_dict(X):
    return {"left": X[:, :32], "right": X[:, 32:]}


ENCODERS = {"list": _split, "dict": _split_dict}


def build_two_inputs_dict(meta):
    left = keras.Input((32,), name="left")
    right = keras.Input((32,), name="right")
    joined = keras.layers.Concatenate()([left, right])
    hidden = keras.layers.Dense(8, activation="relu")(joined)
    output = keras.layers.Dense(meta["n_classes_"], activation="softmax")(hidden)
    return keras.Model({"left": left, "right": right}, output)


BUILD_TWO = {"list": build_two_inputs, "dict": build_two_inputs_dict}


class Recording:
    """A callable h1 that records the samples it is given."""

    def __init__(self, h1):
        self.h1, self.seen = h1, []

    def __call__(self, X):
        self.seen.append(np.array(X))
        return self.h1(X)


class TwoInputsKerasClassifier(KerasClassifier):
    """scikeras' documented way to multi-input models: split X in the encoder."""

    @property
    def feature_encoder(self):
        return FunctionTransformer(_split)


class TwoInputsBCClassifier(BCCompatibleClassifier):
    @property
    def feature_encoder(self):
        return FunctionTransformer(_split)


class DictInputsKerasClassifier(KerasClassifier):
    @property
    def feature_encoder(self):
        return FunctionTransformer(_split_dict)


class DictInputsBCClassifier(BCCompatibleClassifier):
    @property
    def feature_encoder(self):
        return FunctionTransformer(_split_dict)


TWO_INPUTS = {
    ("scikeras", "list"): TwoInputsKerasClassifier,
    ("bcsk", "list"): TwoInputsBCClassifier,
    ("scikeras", "dict"): DictInputsKerasClassifier,
    ("bcsk", "dict"): DictInputsBCClassifier,
}


DEFAULTS = dict(
    model=build,
    loss="sparse_categorical_crossentropy",
    optimizer="adam",
    epochs=1,
    batch_size=64,
    random_state=0,
    verbose=0,
    run_eagerly=True,
)


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:N], y[:N]


@pytest.fixture(scope="module")
def logreg_h1(data):
    """A scikit-learn h1 on the 64 features (h2 sees them as two inputs)."""
    X, y = data
    return LogisticRegression(C=0.1, max_iter=1000).fit(X[::2], y[::2])


@pytest.fixture
def make(digits_h1):
    """``make(kind, **params)``: bcsk (h1, lambda_c=0.5) or stock scikeras."""

    def make(kind, cls=None, **params):
        params = {**DEFAULTS, **params}
        if kind == "bcsk":
            cls = cls or BCCompatibleClassifier
            return cls(**{"h1": digits_h1, "lambda_c": 0.5, **params})
        return (cls or KerasClassifier)(**params)

    return make


def zero_lr(make, kind, **params):
    """One full batch, no update: the reported loss is the initial objective."""
    return make(
        kind,
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        batch_size=N,
        shuffle=False,
        **params,
    )


@pytest.fixture
def model_calls(monkeypatch):
    """Keyword arguments of every ``keras.Model.fit`` and ``predict`` call."""
    calls = {"fit": [], "predict": []}
    for name in calls:
        method = getattr(keras.Model, name)

        def recorded(model, *args, _method=method, _name=name, **kwargs):
            calls[_name].append(kwargs)
            return _method(model, *args, **kwargs)

        monkeypatch.setattr(keras.Model, name, recorded)
    return calls


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_weights(model, other):
    ours, theirs = weights_of(model), weights_of(other)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


def changed(before, after):
    return any(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


# --------------------------------------------------------------------------
# initialize, warm_start, partial_fit
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_initialize_then_fit(kind, make, data):
    X, y = data
    clf = make(kind).initialize(X, y)
    initialized = clf.model_
    assert clf.predict(X[:5]).shape == (5,)
    assert clf.predict_proba(X[:5]).shape == (5, 10)
    clf.fit(X, y)
    # Without warm_start, fit builds a new model.
    assert clf.model_ is not initialized
    assert len(clf.history_["loss"]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_initialize_then_warm_fit_trains_the_initialized_model(kind, make, data):
    X, y = data
    clf = make(kind, warm_start=True).initialize(X, y)
    model, before = clf.model_, weights_of(clf.model_)
    clf.fit(X, y)
    assert clf.model_ is model
    assert changed(before, weights_of(clf.model_))


@pytest.mark.parametrize("kind", KINDS)
def test_warm_start_continues(kind, make, data):
    X, y = data
    clf = make(kind, warm_start=True, run_eagerly=False).fit(X, y)
    model, after_first = clf.model_, weights_of(clf.model_)
    clf.fit(X, y)
    assert clf.model_ is model
    assert changed(after_first, weights_of(clf.model_))
    # scikeras starts history_ again at epoch 0, and continues it from a
    # later initial_epoch.
    assert len(clf.history_["loss"]) == 1
    clf.fit(X, y, initial_epoch=1, epochs=1)
    assert len(clf.history_["loss"]) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_with_classes(kind, make, data):
    X, y = data
    first = y < 5
    clf = make(kind).partial_fit(X[first], y[first], classes=np.arange(10))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.predict_proba(X[:3]).shape == (3, 10)
    model = clf.model_
    clf.partial_fit(X, y)
    assert clf.model_ is model
    assert clf.current_epoch == 2
    assert set(clf.predict(X)) <= set(range(10))


# --------------------------------------------------------------------------
# Routed parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_routed_fit_parameters(kind, make, data, model_calls):
    X, y = data
    clf = make(kind, fit__batch_size=16, fit__shuffle=False, fit__validation_split=0.25)
    clf.fit(X, y)
    (call,) = model_calls["fit"]
    assert (call["batch_size"], call["shuffle"], call["validation_split"]) == (
        16,
        False,
        0.25,
    )
    assert len(clf.history_["val_loss"]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_batch_size_minus_one_is_all_samples(kind, make, data, model_calls):
    X, y = data
    make(kind, batch_size=-1).fit(X, y).predict(X)
    assert model_calls["fit"][0]["batch_size"] == N
    assert model_calls["predict"][0]["batch_size"] == N


@pytest.mark.parametrize("kind", KINDS)
def test_predict_batch_size(kind, make, data, model_calls):
    X, y = data
    clf = make(kind, predict__batch_size=7).fit(X, y)
    clf.predict(X[:20])
    clf.predict_proba(X[:20])
    assert [call["batch_size"] for call in model_calls["predict"]] == [7, 7]
    assert model_calls["fit"][0]["batch_size"] == 64


@pytest.mark.parametrize("kind", KINDS)
def test_predict_callbacks(kind, make, data):
    X, y = data

    class CountBatches(keras.callbacks.Callback):
        batches = 0

        def on_predict_batch_end(self, batch, logs=None):
            CountBatches.batches += 1

    clf = make(kind, predict__callbacks=[CountBatches()], predict__batch_size=50)
    clf.fit(X, y).predict(X)
    assert CountBatches.batches == N // 50


@pytest.mark.parametrize("kind", KINDS)
def test_compile_and_optimizer_parameters(kind, make, data):
    X, y = data
    clf = make(
        kind,
        compile__metrics=["accuracy"],
        optimizer=keras.optimizers.Adam,
        optimizer__learning_rate=0.125,
        loss=keras.losses.SparseCategoricalCrossentropy,
        loss__from_logits=False,
    ).fit(X, y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.Adam)
    assert float(clf.model_.optimizer.learning_rate) == 0.125
    assert isinstance(clf.model_.loss, keras.losses.SparseCategoricalCrossentropy)
    assert set(clf.history_) == {"loss", "accuracy"}


@pytest.mark.parametrize("kind", KINDS)
def test_validation_data(kind, make, data):
    X, y = data
    clf = make(kind).fit(X[:150], y[:150], validation_data=(X[150:], y[150:]))
    assert len(clf.history_["val_loss"]) == 1
    clf = make(kind, fit__validation_data=(X[150:], y[150:])).fit(X[:150], y[:150])
    assert len(clf.history_["val_loss"]) == 1


# --------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------


def _early_stopping():
    # Stops after the second epoch: no epoch improves the loss by 100.
    return keras.callbacks.EarlyStopping(monitor="loss", min_delta=100, patience=0)


CALLBACKS = {
    "instance": lambda: dict(callbacks=[_early_stopping()]),
    "routed": lambda: dict(
        callbacks=keras.callbacks.EarlyStopping,
        callbacks__monitor="loss",
        callbacks__min_delta=100,
        callbacks__patience=0,
    ),
    "fit__callbacks": lambda: dict(fit__callbacks=[_early_stopping()]),
    "dict": lambda: dict(callbacks={"stop": _early_stopping()}),
}


@pytest.mark.parametrize("how", list(CALLBACKS))
@pytest.mark.parametrize("kind", KINDS)
def test_early_stopping(kind, how, make, data):
    X, y = data
    clf = make(kind, epochs=5, **CALLBACKS[how]()).fit(X, y)
    assert len(clf.history_["loss"]) == 2


# --------------------------------------------------------------------------
# Class weights
# --------------------------------------------------------------------------

CLASS_WEIGHTS = {
    "param": (dict(class_weight=CLASS_WEIGHT), {}),
    "fit__class_weight": (dict(fit__class_weight=CLASS_WEIGHT), {}),
    "fit_kwarg": ({}, dict(class_weight=CLASS_WEIGHT)),
}


@pytest.mark.parametrize("how", list(CLASS_WEIGHTS))
@pytest.mark.parametrize("kind", KINDS)
def test_class_weight_weighs_the_loss_as_sample_weights(kind, how, make, data):
    X, y = data
    params, fit_kwargs = CLASS_WEIGHTS[how]
    weighted = zero_lr(make, kind, **params).fit(X, y, **fit_kwargs)
    as_samples = zero_lr(make, kind).fit(
        X, y, sample_weight=compute_sample_weight(CLASS_WEIGHT, y)
    )
    plain = zero_lr(make, kind).fit(X, y)
    np.testing.assert_allclose(
        weighted.history_["loss"], as_samples.history_["loss"], rtol=1e-6
    )
    assert weighted.history_["loss"][0] > 2 * plain.history_["loss"][0]


@pytest.mark.parametrize("kind", KINDS)
def test_class_weight_param_with_sample_weight(kind, make, data):
    X, y = data
    sample_weight = np.linspace(0.5, 2.0, N)
    mine = sample_weight.copy()
    clf = zero_lr(make, kind, class_weight=CLASS_WEIGHT).fit(X, y, sample_weight=mine)
    both = sample_weight * compute_sample_weight(CLASS_WEIGHT, y)
    expected = zero_lr(make, kind).fit(X, y, sample_weight=both)
    np.testing.assert_allclose(
        clf.history_["loss"], expected.history_["loss"], rtol=1e-6
    )
    if kind == "bcsk":
        np.testing.assert_array_equal(mine, sample_weight)
    else:  # stock scikeras multiplies the class weights into the caller's array
        np.testing.assert_allclose(mine, both)


@pytest.mark.parametrize("kind", KINDS)
def test_keras_class_weight_with_sample_weight_is_refused(kind, make, data):
    # Keras' own class_weight cannot be combined with sample weights.
    X, y = data
    clf = make(kind, fit__class_weight=CLASS_WEIGHT)
    with pytest.raises(ValueError, match="class_weight.*sample_weight"):
        clf.fit(X, y, sample_weight=np.ones(N))


# --------------------------------------------------------------------------
# Models: prebuilt, subclassed, multi-input, output width
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_prebuilt_compiled_model(kind, make, data):
    X, y = data
    model = build({"n_features_in_": 64, "n_classes_": 10})
    optimizer = keras.optimizers.SGD(0.1)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer)
    before = weights_of(model)
    clf = make(kind, model=model, loss=None, optimizer=None).fit(X, y)
    # The model is used as it is: trained in place, with its own optimizer.
    assert clf.model_ is model
    assert clf.model_.optimizer is optimizer
    assert changed(before, weights_of(model))
    assert clf.predict_proba(X[:4]).shape == (4, 10)


@pytest.mark.parametrize("kind", KINDS)
def test_subclassed_model_with_call(kind, make, data):
    X, y = data
    clf = make(kind, model=lambda meta: CallModel(meta["n_classes_"]))
    if kind == "scikeras":
        # scikeras 0.13 counts model_.outputs, which such a model lacks.
        with pytest.raises(AttributeError, match="outputs"):
            clf.fit(X, y)
        return
    clf.fit(X, y, epochs=2)
    assert len(clf.history_["loss"]) == 2
    assert clf.predict_proba(X[:4]).shape == (4, 10)


@pytest.mark.parametrize("kind", KINDS)
def test_functional_subclass_model(kind, make, data):
    X, y = data
    model = lambda meta: FunctionalSubclass(64, meta["n_classes_"])  # noqa: E731
    clf = make(kind, model=model).fit(X, y)
    assert isinstance(clf.model_, FunctionalSubclass)
    assert clf.predict_proba(X[:4]).shape == (4, 10)


@pytest.mark.parametrize("inputs", ["list", "dict"])
@pytest.mark.parametrize("kind", KINDS)
def test_multi_input_model_through_a_feature_encoder(kind, inputs, make, data):
    X, y = data
    clf = make(kind, cls=TWO_INPUTS[kind, inputs], model=BUILD_TWO[inputs])
    if kind == "bcsk":
        h1 = Recording(clf.h1)
        clf.set_params(h1=h1)
    clf.fit(X, y)
    assert clf.predict_proba(X[:4]).shape == (4, 10)
    assert len(clf.model_.inputs) == 2
    if kind == "bcsk":
        # h1 gets X before the feature encoder: the 64 features, every row.
        np.testing.assert_array_equal(np.concatenate(h1.seen), X)


@pytest.mark.parametrize("inputs", ["list", "dict"])
def test_multi_input_at_lambda_c_zero_is_scikeras(inputs, make, data):
    X, y = data
    params = dict(model=BUILD_TWO[inputs], epochs=2)
    stock = make("scikeras", cls=TWO_INPUTS["scikeras", inputs], **params).fit(X, y)
    ours = make("bcsk", cls=TWO_INPUTS["bcsk", inputs], lambda_c=0, **params)
    ours.fit(X, y)
    assert ours.history_ == stock.history_
    assert_same_weights(ours.model_, stock.model_)


@pytest.mark.parametrize("dissonance", ["new_error", "strict_imitation"])
@pytest.mark.parametrize("h1_kind", ["keras", "sklearn"])
@pytest.mark.parametrize("inputs", ["list", "dict"])
def test_multi_input_objective_is_the_oracles(
    inputs, h1_kind, dissonance, make, data, digits_h1, logreg_h1
):
    X, y = data
    h1 = digits_h1 if h1_kind == "keras" else logreg_h1
    # Zero-weight rows are dropped by scikeras: h1's rows must follow.
    weights = np.where(np.arange(N) % 7 == 0, 0.0, 1.0 + (np.arange(N) % 3))
    clf = zero_lr(
        make,
        "bcsk",
        cls=TWO_INPUTS["bcsk", inputs],
        model=BUILD_TWO[inputs],
        h1=h1,
        dissonance=dissonance,
    ).fit(X, y, sample_weight=weights)
    kept = weights > 0
    p1 = np.asarray(h1.predict_proba(X) if h1_kind == "sklearn" else h1(X))[kept]
    p2 = clf.model_.predict(ENCODERS[inputs](X[kept]), verbose=0)
    expected = objective(dissonance, "ce", y[kept], p1, p2, 0.5, weights[kept])
    np.testing.assert_allclose(clf.history_["loss"][0], expected, rtol=2e-5)
    plain = zero_lr(
        make, "bcsk", cls=TWO_INPUTS["bcsk", inputs], model=BUILD_TWO[inputs]
    )
    plain.set_params(lambda_c=0).fit(X, y, sample_weight=weights)
    assert clf.history_["loss"][0] > plain.history_["loss"][0]


@pytest.mark.parametrize("inputs", ["list", "dict"])
def test_multi_input_validation_data(inputs, make, data):
    X, y = data
    clf = make("bcsk", cls=TWO_INPUTS["bcsk", inputs], model=BUILD_TWO[inputs])
    h1 = Recording(clf.h1)
    clf.set_params(h1=h1).fit(X[:150], y[:150], validation_data=(X[150:], y[150:]))
    assert len(clf.history_["val_loss"]) == 1
    # Once on the training rows, once on the validation rows, as given.
    seen = sorted(h1.seen, key=len)
    assert [len(part) for part in seen] == [50, 150]
    np.testing.assert_array_equal(seen[0], X[150:])
    np.testing.assert_array_equal(seen[1], X[:150])


def test_multi_input_with_bc_fit_is_refused(make, data):
    X, y = data
    clf = make("bcsk", cls=TWO_INPUTS["bcsk", "list"], model=BUILD_TWO["list"])
    with pytest.raises(
        ValueError, match="method='bc_fit'.*multi-input.*method='model'"
    ):
        clf.set_params(method="bc_fit").fit(X, y)
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize("X_kind", ["list", "dict"])
@pytest.mark.parametrize("kind", KINDS)
def test_list_or_dict_X_is_refused_by_both(kind, X_kind, make, data):
    X, y = data
    parts = _split(X)
    X_in = parts if X_kind == "list" else {"left": parts[0], "right": parts[1]}
    with pytest.raises(ValueError):
        make(kind, model=build_two_inputs).fit(X_in, y)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_proba_with_a_wider_output(kind, make, data):
    X, y = data
    clf = make(kind, model=build_wide).initialize(X, y)
    if kind == "scikeras":
        # Stock scikeras returns 12 columns for 10 classes, silently.
        assert clf.predict_proba(X[:5]).shape == (5, 12)
        return
    with pytest.raises(
        ValueError, match="12 probabilities per sample but there are 10"
    ):
        clf.predict_proba(X[:5])
    # fit says so too, before training.
    with pytest.raises(ValueError, match="h2 outputs 12"):
        make(kind, model=build_wide).fit(X, y)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_proba_of_one_sample(kind, make, data):
    X, y = data
    proba = make(kind).fit(X, y).predict_proba(X[:1])
    # scikit-learn's shape on bcsk; stock scikeras squeezes it.
    assert proba.shape == ((1, 10) if kind == "bcsk" else (10,))


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_of_targets(kind, make, data):
    X, y = data
    clf = make(kind)
    if kind == "bcsk":
        with pytest.raises(ValueError, match="got a list of targets.*column_stack"):
            clf.fit(X, [y, y[::-1]])
        return
    # Stock scikeras fails too, with an error about something else
    # ("inconsistent numbers of samples").
    with pytest.raises(ValueError):
        clf.fit(X, [y, y[::-1]])


@pytest.mark.parametrize("kind", KINDS)
def test_one_hot_y_with_categorical_crossentropy(kind, make, data):
    """One-hot rows and categorical cross-entropy: one label per sample."""
    X, y = data
    one_hot = np.eye(10)[y]
    clf = make(kind, loss="categorical_crossentropy").fit(X, one_hot)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    # Both answer in the form of y: one-hot rows.
    predicted = clf.predict(X[:3])
    assert predicted.shape == (3, 10)
    np.testing.assert_array_equal(predicted.sum(axis=1), np.ones(3))
    assert clf.predict_proba(X[:3]).shape == (3, 10)


def test_one_hot_y_at_lambda_c_zero_is_scikeras(make, data):
    X, y = data
    one_hot = np.eye(10)[y]
    stock = make("scikeras", loss="categorical_crossentropy").fit(X, one_hot)
    plain = make("bcsk", loss="categorical_crossentropy", lambda_c=0).fit(X, one_hot)
    assert plain.history_ == stock.history_
    assert_same_weights(plain.model_, stock.model_)


@pytest.mark.parametrize(
    "loss", ["sparse_categorical_crossentropy", "binary_crossentropy"]
)
def test_one_hot_y_with_another_loss_names_the_choice(loss, make, data):
    """One 1 per row without categorical cross-entropy is ambiguous: refused."""
    X, y = data
    with pytest.raises(ValueError, match="one-hot rows.*categorical_crossentropy"):
        make("bcsk", loss=loss).fit(X, np.eye(10)[y])


@pytest.mark.parametrize("kind", KINDS)
def test_column_y(kind, make, data):
    X, y = data
    clf = make(kind).fit(X, y[:, None])
    assert clf.predict(X[:3]).shape == (3, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_string_labels(kind, make, data):
    X, y = data
    names = np.array(list("abcdefghij"))
    clf = make(kind).fit(X, names[y])
    np.testing.assert_array_equal(clf.classes_, names)
    assert set(clf.predict(X)) <= set(names)


@pytest.mark.parametrize("kind", KINDS)
def test_one_class_y(kind, make, data):
    X, y = data
    clf = make(kind)
    if kind == "bcsk":
        with pytest.raises(ValueError, match="at least 2 classes"):
            clf.fit(X[y == 0], y[y == 0])
        return
    with pytest.warns(UserWarning, match="softmax"):  # one unit: always 1
        clf.fit(X[y == 0], y[y == 0])
        assert set(clf.predict(X[:5])) == {0}


# --------------------------------------------------------------------------
# Losses and metrics as Keras takes them: keyed by output name
# --------------------------------------------------------------------------

SCCE = "sparse_categorical_crossentropy"

# form -> (parameters, made fresh per fit; the history_ keys KerasClassifier gives)
KEYED = {
    "loss dict": (lambda: dict(loss={"out1": SCCE}), {"loss"}),
    "loss list": (lambda: dict(loss=[SCCE]), {"loss"}),
    "metrics list of lists": (
        lambda: dict(metrics=[["accuracy"]]),
        {"loss", "accuracy"},
    ),
    "metrics dict of lists": (
        lambda: dict(metrics={"out1": ["accuracy", SCCE]}),
        {"loss", "accuracy", SCCE},
    ),
    "metrics dict": (lambda: dict(metrics={"out1": "accuracy"}), {"loss", "accuracy"}),
    "both dicts, metric objects": (
        lambda: dict(
            loss={"out1": keras.losses.SparseCategoricalCrossentropy()},
            metrics={"out1": [keras.metrics.SparseCategoricalAccuracy(name="acc")]},
        ),
        {"loss", "acc"},
    ),
    "routed metric class": (
        lambda: dict(
            metrics=[keras.metrics.SparseCategoricalAccuracy], metrics__0__name="acc"
        ),
        {"loss", "acc"},
    ),
}


@pytest.mark.parametrize("form", list(KEYED))
def test_losses_and_metrics_keyed_by_output_name(form, make, data):
    X, y = data
    params, keys = KEYED[form]
    stock = make("scikeras", model=build_named, epochs=2, **params()).fit(X, y)
    plain = make("bcsk", model=build_named, epochs=2, lambda_c=0, **params()).fit(X, y)
    assert set(stock.history_) == keys
    assert set(plain.history_) == keys
    # lambda_c=0 is scikeras' fit, bit for bit.
    assert plain.history_ == stock.history_
    assert_same_weights(plain.model_, stock.model_)
    # bcsk's objective applies to the loss inside the dict or list: the same
    # weights as with the loss given plainly.
    keyed = make("bcsk", model=build_named, epochs=2, **params()).fit(X, y)
    flat = make("bcsk", model=build_named, epochs=2).fit(X, y)
    assert set(keyed.history_) == keys
    assert keyed.history_["loss"] == flat.history_["loss"] != plain.history_["loss"]
    assert_same_weights(keyed.model_, flat.model_)


@pytest.mark.parametrize("kind", KINDS)
def test_keyed_losses_and_metrics_on_an_ensemble(kind, make, data):
    X, y = data
    params, keys = KEYED["both dicts, metric objects"]
    extra = dict(n_members=2) if kind == "bcsk" else {}
    clf = make(kind, model=build_named, **params(), **extra).fit(X, y)
    assert set(clf.history_) == keys
    assert clf.predict_proba(X[:3]).shape == (3, 10)


def test_several_losses_for_one_output_are_refused(make, data):
    X, y = data
    clf = make("bcsk", model=build_named, loss=[SCCE, SCCE])
    with pytest.raises(ValueError, match="2 losses.*one output and one loss"):
        clf.fit(X, y)
    assert not hasattr(clf, "history_")


# --------------------------------------------------------------------------
# Dynamic models, changed targets: scikeras' arguments and messages
# --------------------------------------------------------------------------

# bcsk's own parameters: in get_params(), so in a builder's ``params`` too.
BCSK_PARAMS = {"h1", "lambda_c", "dissonance", "method", "n_members"}


def test_dynamic_model_gets_the_arguments_it_gets_on_scikeras(make, data):
    X, y = data
    seen = []

    def build_any(**kwargs):
        seen.append(kwargs)
        return build(kwargs["meta"], hidden=kwargs["hidden"])

    params = dict(model=build_any, hidden=4, model__depth=2, compile__metrics=["acc"])
    make("scikeras", **params).fit(X, y)
    make("bcsk", **params).fit(X, y)
    stock, ours = seen
    assert (
        set(ours)
        == set(stock)
        == {"meta", "compile_kwargs", "params"}
        | {
            "hidden",
            "depth",
        }
    )
    assert (
        (ours["hidden"], ours["depth"]) == (stock["hidden"], stock["depth"]) == (4, 2)
    )
    assert ours["meta"].keys() == stock["meta"].keys()
    for key, value in stock["meta"].items():
        if key == "target_encoder_":
            # bcsk's encoder is scikeras' (a subclass, the same parameters),
            # which also splits a multi-output y.
            assert isinstance(ours["meta"][key], type(value))
            assert ours["meta"][key].get_params() == value.get_params()
            continue
        assert repr(ours["meta"][key]) == repr(value), key
    # The same compile arguments (each fit has an optimizer object of its own).
    assert ours["compile_kwargs"].keys() == stock["compile_kwargs"].keys()
    assert type(ours["compile_kwargs"]["optimizer"]) is type(
        stock["compile_kwargs"]["optimizer"]
    )
    for key in stock["compile_kwargs"].keys() - {"optimizer"}:
        assert ours["compile_kwargs"][key] == stock["compile_kwargs"][key], key
    # get_params(): scikeras' parameters with the same values, and bcsk's own.
    assert set(ours["params"]) == set(stock["params"]) | BCSK_PARAMS
    for key, value in stock["params"].items():
        if key != "model":
            assert ours["params"][key] == value, key


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_with_a_changed_target_shape(kind, make, data):
    X, y = data
    clf = make(kind).partial_fit(X, y)
    name = type(clf).__name__
    message = f"y has 2 dimensions, but this {name} is expecting 1 dimensions in y"
    for target in (y[:, None], np.column_stack([y, y])):
        with pytest.raises(ValueError, match=message):
            clf.partial_fit(X, target)
    assert clf.current_epoch == 1


def test_warm_fit_with_a_changed_target_shape(make, data):
    X, y = data
    clf = make("bcsk", warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="y has 2 dimensions, but this BCCompat"):
        clf.fit(X, np.column_stack([y, y]))
    # A first fit with such a y trains a multi-output model, whose builder gets
    # one n_classes_ per output (this single-output builder then fails in Keras).
    with pytest.raises(ValueError, match=r"units=\[10, 10\]"):
        make("bcsk").fit(X, np.column_stack([y, y]))


class CustomFitModel(keras.Model):
    """A functional model whose own ``fit`` takes an argument of its own."""

    def __init__(self, n_classes, **kwargs):
        inputs = keras.Input((64,))
        outputs = keras.layers.Dense(n_classes, activation="softmax")(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.seen = None

    def fit(self, *args, custom_argument=None, **kwargs):
        self.seen = custom_argument
        return super().fit(*args, **kwargs)


@pytest.mark.parametrize("how", ["routed", "fit kwarg"])
@pytest.mark.parametrize("kind", KINDS)
def test_arguments_of_a_custom_model_fit(kind, how, make, data):
    # A deliberate difference: scikeras calls the model's own fit; bcsk trains
    # h2 inside a model of its own with keras.Model.fit, and says so.
    X, y = data
    params, kwargs = (
        (dict(fit__custom_argument="given"), {})
        if how == "routed"
        else ({}, dict(custom_argument="given"))
    )
    clf = make(kind, model=lambda meta: CustomFitModel(meta["n_classes_"]), **params)
    if kind == "scikeras":
        assert clf.fit(X, y, **kwargs).model_.seen == "given"
        return
    with pytest.raises(ValueError, match="custom_argument.*CustomFitModel's own fit"):
        clf.fit(X, y, **kwargs)
    assert not hasattr(clf, "model_")


# --------------------------------------------------------------------------
# Multilabel and multiclass-multioutput y: trained by both
# --------------------------------------------------------------------------


def build_sigmoid(meta):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="sigmoid"),
        ]
    )


def tags_of(y):
    return np.column_stack([y % 2, y > 4, y == 3]).astype(int)


class LabelProbabilities:
    """A multilabel h1: probabilities of each tag from the digit h1."""

    def __init__(self, h1):
        self.h1 = h1

    def __call__(self, X):
        p = keras.ops.convert_to_numpy(self.h1(X))
        digits = np.arange(10)
        return np.column_stack(
            [p[:, digits % 2 == 1].sum(1), p[:, digits > 4].sum(1), p[:, 3]]
        )


@pytest.mark.parametrize("kind", KINDS)
def test_multilabel_y(kind, make, data, digits_h1):
    X, y = data
    Y = tags_of(y)
    params = dict(model=build_sigmoid, loss="binary_crossentropy")
    ours = dict(h1=LabelProbabilities(digits_h1), lambda_c=0.0)
    clf = make(kind, **params, **(ours if kind == "bcsk" else {})).fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    assert clf.predict_proba(X).shape == Y.shape
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    if kind == "bcsk":  # lambda_c=0: scikeras' weights, bit for bit
        other = make("scikeras", **params).fit(X, Y)
        assert_same_weights(clf.model_, other.model_)


def build_heads(meta):
    """One softmax output per column of a multi-output y."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = [
        keras.layers.Dense(n, activation="softmax", name=f"out{k}")(hidden)
        for k, n in enumerate(meta["n_classes_"])
    ]
    return keras.Model(inputs, outputs)


class MultiOutputKerasClassifier(KerasClassifier):
    """Stock scikeras with bcsk's target encoder: scikeras' documented way to a
    multi-output y (override ``target_encoder``), and subset accuracy."""

    @property
    def target_encoder(self):
        from bcsk._scikeras import ClassifierTargetEncoder

        return ClassifierTargetEncoder(loss=self.loss)

    @staticmethod
    def scorer(y_true, y_pred, **kwargs):
        return float(np.mean(np.all(y_true == y_pred, axis=1)))


class DigitAndResidue:
    """A multi-output h1: the digit h1's probabilities, and of the digit mod 3."""

    def __init__(self, h1):
        self.h1 = h1

    def __call__(self, X):
        p = keras.ops.convert_to_numpy(self.h1(X))
        residues = np.arange(10) % 3
        return [p, np.column_stack([p[:, residues == r].sum(1) for r in range(3)])]


@pytest.mark.parametrize("kind", KINDS)
def test_multiclass_multioutput_y(kind, make, data, digits_h1):
    """Trained by both when scikeras is given a target encoder that splits y;
    with lambda_c=0 bcsk's weights and predictions are scikeras' bit for bit."""
    X, y = data
    Y = np.column_stack([y, y % 3])
    params = dict(model=build_heads)
    ours = dict(h1=DigitAndResidue(digits_h1), lambda_c=0.0)
    cls = BCCompatibleClassifier if kind == "bcsk" else MultiOutputKerasClassifier
    clf = make(kind, cls=cls, **params, **(ours if kind == "bcsk" else {})).fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    assert [p.shape for p in clf.predict_proba(X)] == [(N, 10), (N, 3)]
    assert [c.tolist() for c in clf.classes_] == [list(range(10)), [0, 1, 2]]
    assert 0 <= clf.score(X, Y) <= 1
    if kind == "bcsk":
        other = make("scikeras", cls=MultiOutputKerasClassifier, **params).fit(X, Y)
        assert_same_weights(clf.model_, other.model_)
        np.testing.assert_array_equal(clf.predict(X), other.predict(X))
        assert clf.score(X, Y) == other.score(X, Y)


def test_stock_scikeras_cannot_fit_a_multiclass_multioutput_y(make, data, digits_h1):
    """Stock scikeras, without a target encoder of one's own, expects one output
    and refuses the model of one output per column; bcsk's encoder is built in."""
    X, y = data
    Y = np.column_stack([y, y % 3])
    # Its meta has n_classes_=None here: build the two heads by hand.
    stock = make(
        "scikeras",
        model=lambda meta: build_heads({**meta, "n_classes_": [10, 3]}),
    )
    with pytest.raises(ValueError, match="input of size 1, but .* has 2 outputs"):
        stock.fit(X, Y)
    ours = make("bcsk", model=build_heads, h1=DigitAndResidue(digits_h1))
    assert ours.fit(X, Y).predict(X).shape == Y.shape


# --------------------------------------------------------------------------
# A target encoder of the user's own: classes_ as a list, one Keras output each
# --------------------------------------------------------------------------


class ColumnsEncoder(ClassifierLabelEncoder):
    """Each column of a 2-D y is one Keras output's target, as it is.

    ``classes_`` lists ``[0, 1]`` for every column, whatever the column
    holds: scikeras' own tests write multi-output encoders this way, and
    then ``meta["n_classes_"]`` does not give the outputs' widths.
    """

    def fit(self, y):
        y = np.asarray(y)
        if y.ndim == 1:
            return super().fit(y)
        self._target_type = "columns"
        self._y_dtype = y.dtype
        self.n_outputs_ = self.n_outputs_expected_ = y.shape[1]
        self.classes_ = [np.array([0, 1])] * y.shape[1]
        self.n_classes_ = [2] * y.shape[1]
        return self

    def transform(self, y):
        y = np.asarray(y)
        if getattr(self, "_target_type", None) != "columns":
            return super().transform(y)
        return [y[:, [k]].astype("float32") for k in range(y.shape[1])]

    def inverse_transform(self, y, return_proba=False):
        if getattr(self, "_target_type", None) != "columns":
            return super().inverse_transform(y, return_proba=return_proba)
        if return_proba:
            return list(y)
        columns = [
            (p[:, 0] > 0.5).astype(int) if p.shape[1] == 1 else p.argmax(axis=1)
            for p in y
        ]
        return np.column_stack(columns).astype(self._y_dtype)


class ColumnsKerasClassifier(KerasClassifier):
    @property
    def target_encoder(self):
        return ColumnsEncoder()


class ColumnsBCClassifier(BCCompatibleClassifier):
    @property
    def target_encoder(self):
        return ColumnsEncoder()


COLUMNS = {"scikeras": ColumnsKerasClassifier, "bcsk": ColumnsBCClassifier}


def build_outputs(meta, units=(1, 1), compile_kwargs=None):
    """One output per column of y (``units[k]`` units), compiled as given."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = [
        keras.layers.Dense(
            n, activation="sigmoid" if n == 1 else "softmax", name=f"out{k + 1}"
        )(hidden)
        for k, n in enumerate(units)
    ]
    model = keras.Model(inputs, outputs)
    model.compile(**compile_kwargs)
    return model


def metric_names(clf):
    """The compiled metrics' names, as scikeras' tests read them."""
    return [metric.name for metric in clf.model_.metrics[1].metrics]


def uniform_h1(kind, *widths):
    """For bcsk, an h1 giving each output's columns the same probability."""
    if kind != "bcsk":
        return {}
    return {"h1": lambda X: [np.full((len(X), k), 1 / k) for k in widths]}


def two_binary_columns(data):
    X, y = data
    return X, np.column_stack([y % 2, (y > 4).astype(int)])


@pytest.mark.parametrize("kind", KINDS)
def test_custom_encoder_with_a_list_of_classes(kind, make, data):
    """classes_ a list: one output per entry (raw AttributeError before)."""
    X, Y = two_binary_columns(data)
    clf = make(
        kind,
        cls=COLUMNS[kind],
        model=build_outputs,
        loss="binary_crossentropy",
        metrics=[["binary_accuracy"], ["binary_accuracy"]],
        **uniform_h1(kind, 2, 2),
    ).fit(X, Y)
    assert isinstance(clf.classes_, list)
    assert clf.predict(X[:3]).shape == (3, 2)
    assert metric_names(clf) == ["binary_accuracy"] * 2
    assert {"out1_binary_accuracy", "out2_binary_accuracy"} <= set(clf.history_)


@pytest.mark.parametrize(
    "metrics",
    [
        ["binary_accuracy"],
        [keras.metrics.BinaryAccuracy(name="custom_name")],
        [keras.metrics.BinaryAccuracy(name="1"), keras.metrics.BinaryAccuracy("2")],
    ],
    ids=["string", "named object", "two"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_compiled_metrics_are_listed_and_in_history(kind, metrics, make, data):
    """One output, metrics compiled by the builder: model_.metrics lists them.

    bcsk trains h2 inside a model of its own; h2's compiled metrics used to
    stay unbuilt, so model_.metrics listed none of them.
    """
    X, y = data
    names = [m if isinstance(m, str) else m.name for m in metrics]
    clf = make(
        kind,
        cls=COLUMNS[kind],
        model=build_outputs,
        model__units=(10,),
        loss="sparse_categorical_crossentropy",
        metrics=[
            type(m).from_config(m.get_config()) if not isinstance(m, str) else m
            for m in metrics
        ],
    ).fit(X, y)
    assert metric_names(clf) == names
    assert set(names) <= set(clf.history_)
    # The listed metrics hold the trained model's last values.
    reported = {m.name: float(m.result()) for m in clf.model_.metrics[1].metrics}
    for name in names:
        assert reported[name] == pytest.approx(clf.history_[name][-1], rel=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_custom_encoder_with_outputs_wider_than_its_classes(kind, make, data):
    """An output of 3 units where the encoder says 2 classes: scikeras trains it.

    The targets are then column indices; bcsk aligns h1 with them.
    """
    X, y = data
    Y = np.column_stack([y % 3, (y > 4).astype(int)])
    clf = make(
        kind,
        cls=COLUMNS[kind],
        model=build_outputs,
        model__units=(3, 2),
        loss="sparse_categorical_crossentropy",
        **uniform_h1(kind, 3, 2),
    ).fit(X, Y)
    predicted = clf.predict(X)
    assert predicted.shape == (len(X), 2)
    assert set(np.unique(predicted[:, 0])) <= {0, 1, 2}


def test_own_encoder_still_refuses_a_wrong_width(make, data):
    """bcsk's own encoder knows the classes: a wider output is a mistake."""
    X, y = data
    Y = np.column_stack([(y % 2) * 2, y % 3])  # classes [0, 2] and [0, 1, 2]
    clf = make(
        "bcsk",
        model=build_outputs,
        model__units=(3, 3),
        loss="sparse_categorical_crossentropy",
        **uniform_h1("bcsk", 2, 3),
    )
    with pytest.raises(ValueError, match="Output 0 of h2 has 3 unit"):
        clf.fit(X, Y)


class CallOnlyLoss(keras.losses.Loss):
    """A loss that overrides ``__call__`` alone, as scikeras' tests write one."""

    def __init__(self, reduce=False, **kwargs):
        super().__init__(**kwargs)
        self.reduce = reduce

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return keras.ops.mean(values) if self.reduce else values


@pytest.mark.parametrize("kind", KINDS)
def test_a_loss_that_overrides_call_dunder(kind, make, data):
    X, y = data
    clf = make(kind, loss=CallOnlyLoss).fit(X, y)
    assert np.isfinite(clf.history_["loss"][0])


def test_a_loss_that_reduces_in_call_dunder_is_refused(make, data):
    X, y = data
    clf = make("bcsk", loss=CallOnlyLoss, loss__reduce=True)
    with pytest.raises(ValueError, match="CallOnlyLoss.*one value per batch"):
        clf.fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize("kind", KINDS)
def test_unfitted_estimator_raises_not_fitted(kind, method, make, data):
    X, _ = data
    with pytest.raises(NotFittedError):
        getattr(make(kind), method)(X[:3])
