"""The backend-neutral part of bcsk, run under whatever ``KERAS_BACKEND`` is set.

CI runs this module three times: in the default (TensorFlow) suite, then with
``KERAS_BACKEND=jax`` and ``KERAS_BACKEND=torch`` (``pytest -m backend
tests/test_backends.py``). Keras fixes its backend at import, so each backend
is a pytest process of its own. Each test is cheap: digits, a tiny network, a
few epochs, one large batch.
"""

import pickle
import textwrap

import keras
import numpy as np
import pytest
from _builders import holdout_rows, narrow_search
from _subprocess import run_python
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from bcsk import BCCompatibleClassifier
from bcsk.gate import CompatibleUpdateClassifier
from bcsk.metrics import btc_scorer
from bcsk.objective import FocalDistillation, LogitDifference

pytestmark = pytest.mark.backend

BACKEND = keras.backend.backend()
DISSONANCES = [
    "new_error",
    "strict_imitation",
    FocalDistillation(),
    LogitDifference(margin=0.2),
]


def linear(meta):
    """A softmax regression: h2's probabilities are softmax(X W + b)."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


# How every estimator of this file trains: few, large, fast steps.
TRAINING = dict(
    loss="sparse_categorical_crossentropy",
    optimizer="adam",
    optimizer__learning_rate=0.05,
    epochs=3,
    batch_size=512,
    random_state=0,
    verbose=0,
)


def make(h1, **params):
    defaults = dict(model=linear, h1=h1, lambda_c=0.5, **TRAINING)
    return BCCompatibleClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:600], y[:600]


@pytest.fixture(scope="module")
def sk_h1(data):
    X, y = data
    return LogisticRegression(max_iter=50).fit(X[:200], y[:200])


def softmax_oracle(clf, X):
    """NumPy's softmax of the fitted network's own weights."""
    W, b = (np.asarray(w, dtype=np.float64) for w in clf.model_.get_weights())
    z = X.astype(np.float64) @ W + b
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dissonance", DISSONANCES, ids=str)
def test_every_dissonance_fits_and_predicts(data, sk_h1, dissonance):
    X, y = data
    clf = make(sk_h1, dissonance=dissonance).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, softmax_oracle(clf, X), atol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    # Trained: three Adam steps at 0.05 take a softmax regression well past chance.
    assert (clf.predict(X) == y).mean() > 0.5


def test_keras_h1(data, digits_h1):
    X, y = data
    clf = make(digits_h1, dissonance="strict_imitation").fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), softmax_oracle(clf, X), atol=1e-5)


def test_lambda_c_moves_h2_towards_h1(data, sk_h1):
    # lambda_c = 0 is plain training; a large one (strict imitation) pulls h2's
    # predictions to h1's: agreement with h1 must grow.
    X, y = data
    h1_pred = sk_h1.predict(X)
    agree = [
        (
            make(sk_h1, lambda_c=lam, dissonance="strict_imitation", epochs=10)
            .fit(X, y)
            .predict(X)
            == h1_pred
        ).mean()
        for lam in (0.0, 0.95)
    ]
    assert agree[1] > agree[0]


def test_cv_path_and_scorer(data, sk_h1):
    X, y = data
    path = narrow_search(
        linear,
        h1=sk_h1,
        lambda_cs=[0.0, 0.5],
        cv=2,
        **{**TRAINING, "epochs": 2},
    ).fit(X, y)
    assert isinstance(path.best_estimator_, BCCompatibleClassifier)
    # The BTC scorer against a hand count: of the rows h1 gets right, the
    # share that h2 gets right too.
    h1_right = sk_h1.predict(X) == y
    h2_right = path.predict(X) == y
    expected = (h1_right & h2_right).sum() / h1_right.sum()
    assert btc_scorer(path.best_estimator_, X, y) == pytest.approx(expected)


def test_served_search_network_reports_its_own_history(data, sk_h1):
    """The held-out search's served h2: its own loss and metrics per epoch.

    Its per-candidate trackers update inside ``compute_loss``, which on JAX
    runs in a stateless, differentiated step: the figures must still equal
    those of a separate fit of that candidate on the kept rows.
    """
    from bcsk import BCCompatibleClassifierCV

    X, y = data
    params = {**TRAINING, "epochs": 2, "metrics": ["accuracy"]}
    search = BCCompatibleClassifierCV(
        linear,
        h1=sk_h1,
        dissonance="new_error",
        lambda_cs=(0.0, 0.5),
        flip_costs=(1.0,),
        refit="accuracy",
        **params,
    ).fit(X, y)
    kept, _ = holdout_rows(X, y, random_state=0)
    alone = BCCompatibleClassifier(
        linear, h1=sk_h1, lambda_c=search.lambda_c_, **params
    ).fit(X[kept], y[kept])
    served = search.best_estimator_.history_
    assert set(served) == {"loss", "accuracy"}
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(served[key], alone.history_[key], rtol=1e-4)


def test_gate(data, sk_h1):
    X, y = data
    gate = CompatibleUpdateClassifier(make(sk_h1), h1=sk_h1).fit(X, y)
    pred = gate.predict(X)
    assert pred.shape == y.shape and set(pred) <= set(gate.classes_)


def test_save_load_keras_and_pickle(data, sk_h1, tmp_path):
    X, y = data
    clf = make(sk_h1).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), expected, atol=1e-6
    )
    path = tmp_path / "h2.keras"
    clf.model_.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, atol=1e-6)


def test_seeded_fit_is_reproducible_in_process(data, sk_h1):
    X, y = data
    a = make(sk_h1, random_state=3).fit(X, y)
    b = make(sk_h1, random_state=3).fit(X, y)
    c = make(sk_h1, random_state=4).fit(X, y)
    for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.model_.get_weights()[0], c.model_.get_weights()[0])


@pytest.mark.slow
def test_seeded_fit_is_reproducible_in_a_fresh_process(data, sk_h1, tmp_path):
    X, y = data
    here = make(sk_h1, random_state=3).fit(X, y).predict_proba(X)
    source = textwrap.dedent(
        f"""
        import sys
        import keras, numpy as np
        from sklearn.datasets import load_digits
        from sklearn.linear_model import LogisticRegression
        from bcsk import BCCompatibleClassifier
        assert keras.backend.backend() == {BACKEND!r}
        X, y = load_digits(return_X_y=True)
        X, y = (X / 16.0).astype("float32")[:600], y.astype("int64")[:600]
        h1 = LogisticRegression(max_iter=50).fit(X[:200], y[:200])

        def linear(meta):
            return keras.Sequential([
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Dense(meta["n_classes_"], activation="softmax"),
            ])

        clf = BCCompatibleClassifier(
            model=linear, h1=h1, lambda_c=0.5,
            loss="sparse_categorical_crossentropy", optimizer="adam",
            optimizer__learning_rate=0.05, epochs=3, batch_size=512,
            random_state=3, verbose=0,
        ).fit(X, y)
        np.save(sys.argv[1], clf.predict_proba(X))
        """
    )
    out = tmp_path / "proba.npy"
    run_python(source, tmp_path, str(out))
    np.testing.assert_array_equal(np.load(out), here)


@pytest.mark.skipif(BACKEND == "tensorflow", reason="bc_fit runs on TensorFlow")
def test_tensorflow_only_parts_refuse_clearly(data, sk_h1, digits_h1):
    from bcsk.tensorflow.helpers import bc_fit
    from bcsk.tensorflow.loss import BCCrossEntropyLoss

    X, y = data
    with pytest.raises(RuntimeError, match=rf"method='bc_fit'.*'{BACKEND}'.*'model'"):
        make(digits_h1, method="bc_fit").fit(X, y)
    with pytest.raises(RuntimeError, match=rf"BCCrossEntropyLoss.*'{BACKEND}'"):
        BCCrossEntropyLoss(digits_h1, digits_h1, 0.5)
    with pytest.raises(RuntimeError, match=rf"bc_fit.*'{BACKEND}'"):
        bc_fit(digits_h1, training_set=[], epochs=1, bc_loss=None, optimizer=None)


def test_bad_input_gets_the_same_error(data, sk_h1):
    # The messages of tests/test_estimator.py::test_bad_data, on this backend.
    X, y = data
    clf = make(sk_h1)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    bad = X.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X[y == 3], y[y == 3])
    with pytest.raises(ValueError, match="at least one non-zero"):
        clf.fit(X, y, sample_weight=np.zeros(len(y)))


def test_strict_imitation_needs_probabilities(data):
    X, y = data
    svc = LinearSVC().fit(X[:200], y[:200])
    with pytest.raises(ValueError, match="needs h1's probabilities.*LinearSVC"):
        make(svc, dissonance="strict_imitation").fit(X, y)


def test_bcml_model_trains_the_objective(data, digits_h1):
    """BCML's BCCompatibilityModel on this backend: compute_loss is Keras' own
    hook, so the first epoch's loss (no update) is the objective's oracle."""
    from _reference import objective

    from bcsk.tensorflow.models import BCCompatibilityModel

    X, y = data
    keras.utils.set_random_seed(0)
    h2 = linear({"n_features_in_": X.shape[1], "n_classes_": 10})
    model = BCCompatibilityModel(h2, h1=digits_h1, lambda_c=0.7)
    model.compile(
        loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(0.0)
    )
    history = model.fit(X, y, epochs=1, batch_size=len(X), shuffle=False, verbose=0)
    p1 = keras.ops.convert_to_numpy(digits_h1(X))
    p2 = keras.ops.convert_to_numpy(h2(X))
    expected = objective("new_error", "ce", y, p1, p2, 0.7)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_multilabel_y(data, sk_h1):
    """A multilabel indicator trains per label on this backend too."""
    from sklearn.multioutput import MultiOutputClassifier

    X, y = data
    Y = np.column_stack([y % 2, y > 4]).astype(int)
    h1 = MultiOutputClassifier(LogisticRegression(max_iter=50)).fit(X[:200], Y[:200])

    def sigmoid(meta):
        return keras.Sequential(
            [
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Dense(meta["n_classes_"], activation="sigmoid"),
            ]
        )

    clf = make(h1, model=sigmoid, loss="binary_crossentropy").fit(X, Y)
    W, b = (np.asarray(w, dtype=np.float64) for w in clf.model_.get_weights())
    expected = 1.0 / (1.0 + np.exp(-(X.astype(np.float64) @ W + b)))
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), (expected > 0.5).astype(int))


def test_display_reads_the_fitted_estimator(data, sk_h1):
    import matplotlib  # in the test extra

    matplotlib.use("Agg")
    from bcsk.metrics import CompatibilityDisplay, compatibility_report

    X, y = data
    clf = make(sk_h1).fit(X, y)
    display = CompatibilityDisplay.from_estimator(clf, X, y)
    expected = compatibility_report(y, h1_pred=sk_h1.predict(X), h2_pred=clf.predict(X))
    assert list(display.reports.values()) == [expected]


def test_multiclass_multioutput_y(data):
    """A multi-output y: one output per column; at a zero learning rate the
    reported loss is the oracle's objective, summed over the outputs."""
    from _reference import multioutput_objective
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    Y = np.column_stack([y, y % 3])
    h1 = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    h1.fit(X[:200], Y[:200])

    def heads(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        outputs = [
            keras.layers.Dense(n, activation="softmax")(inputs)
            for n in meta["n_classes_"]
        ]
        return keras.Model(inputs, outputs)

    frozen = dict(
        optimizer=keras.optimizers.SGD,
        optimizer__learning_rate=0.0,
        epochs=1,
        batch_size=len(X),
        shuffle=False,
    )
    clf = make(h1, model=heads, lambda_c=0.7, dissonance="focal_distillation", **frozen)
    clf.fit(X, Y)
    P2 = [keras.ops.convert_to_numpy(p) for p in clf.model_(X)]
    expected = multioutput_objective(
        "focal_distillation", ["ce", "ce"], Y, h1.predict_proba(X), P2, 0.7
    )
    assert clf.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    assert clf.predict(X).shape == Y.shape


class _TracedCount:
    """Counts the calls of a training model's ``compute_loss``.

    Inside a compiled step (``jit_compile=True``) it runs once per trace, that
    is per batch shape, however many steps the fit takes; a step that ran the
    objective in Python would call it once per batch.
    """

    def __init__(self, model):
        self.calls = 0
        compute_loss = model.compute_loss

        def counted(*args, **kwargs):
            self.calls += 1
            return compute_loss(*args, **kwargs)

        object.__setattr__(model, "compute_loss", counted)


@pytest.mark.skipif(
    BACKEND == "torch",
    reason="jit_compile=True means torch.compile (Dynamo) on PyTorch, not XLA; "
    "Keras runs PyTorch steps eagerly by default",
)
@pytest.mark.parametrize("paths", [1, 2], ids=["one copy", "path model"])
@pytest.mark.parametrize("dissonance", DISSONANCES, ids=str)
def test_objective_compiles_under_xla(data, sk_h1, dissonance, paths):
    """With ``jit_compile=True`` the objective is part of one XLA program.

    Guards against per-step Python work in the objective (a branch on a
    tensor's value, a host round trip, an op XLA cannot compile): on JAX it
    would raise while tracing, on TensorFlow XLA would refuse the step. The
    objective is traced once per batch shape, not run once per batch.
    """
    from bcsk._keras._models import ReferenceInputModel, ReferenceInputPathModel

    X, y = data
    keras.utils.set_random_seed(0)
    meta = {"n_features_in_": X.shape[1], "n_classes_": 10}
    proba = sk_h1.predict_proba(X).astype("float32")
    correct = (proba.argmax(1) == y).astype("float32")
    loss = "sparse_categorical_crossentropy"
    if paths == 1:
        model = ReferenceInputModel(linear(meta), 0.5, dissonance)
        model.compile(loss=loss, optimizer="adam", jit_compile=True)
    else:
        model = ReferenceInputPathModel(
            [linear(meta), linear(meta)], [(0.5, dissonance), (0.0, dissonance)], loss
        )
        model.compile(loss=None, optimizer="adam", jit_compile=True)
    traces = _TracedCount(model)
    # 600 rows in batches of 64: 9 full batches and one of 24, per epoch.
    history = model.fit(
        (X, proba, correct), y, epochs=3, batch_size=64, shuffle=False, verbose=0
    )
    assert model.jit_compile is True  # Keras did not fall back to a plain step
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    # Two batch shapes: a trace each (TensorFlow may trace the first twice).
    assert traces.calls <= 4, f"compute_loss ran {traces.calls} times in 30 steps"
