"""BCML code keeps working with only the package prefix changed."""

import json
import os
import subprocess
import sys

import pytest

LOSS_NAMES = {
    "new_error": [
        "BCCrossEntropyLoss",
        "BCNLLLoss",
        "BCBinaryCrossEntropyLoss",
        "BCKLDivLoss",
    ],
    "strict_imitation": [
        "BCStrictImitationCrossEntropyLoss",
        "BCStrictImitationNLLLoss",
        "BCStrictImitationBinaryCrossEntropyLoss",
        "BCStrictImitationKLDivLoss",
    ],
}


def test_bcml_scores_imports():
    from bcsk.scores import error_compatibility_score, trust_compatibility_score

    assert trust_compatibility_score([0, 1], [0, 0], [0, 1]) == 0.5
    assert error_compatibility_score([0, 0], [0, 0], [0, 1]) == 1.0


def test_bcml_tensorflow_imports():
    import keras

    from bcsk.tensorflow import helpers as tf_helpers
    from bcsk.tensorflow.models import BCNewErrorCompatibilityModel

    assert issubclass(BCNewErrorCompatibilityModel, keras.Sequential)
    assert callable(tf_helpers.bc_fit)


@pytest.mark.parametrize("module", list(LOSS_NAMES))
def test_bcml_loss_module_imports(module):
    namespace = {}
    names = ", ".join(LOSS_NAMES[module])
    exec(f"from bcsk.tensorflow.loss.{module} import {names}", namespace)
    for name in LOSS_NAMES[module]:
        cls = namespace[name]
        assert isinstance(cls, type) and cls.__name__ == name
    # Star imports give exactly these names.
    star = {}
    exec(f"from bcsk.tensorflow.loss.{module} import *", star)
    assert set(LOSS_NAMES[module]) <= set(star)


def test_top_level_reexports():
    import bcsk
    from bcsk import (
        BCCrossEntropyLoss,
        BCNewErrorCompatibilityModel,
        tf_helpers,
        trust_compatibility_score,
    )
    from bcsk.scores import trust_compatibility_score as scores_btc
    from bcsk.tensorflow import helpers
    from bcsk.tensorflow.loss.new_error import BCCrossEntropyLoss as loss_cls
    from bcsk.tensorflow.models import BCNewErrorCompatibilityModel as model_cls

    assert tf_helpers is helpers
    assert BCCrossEntropyLoss is loss_cls
    assert BCNewErrorCompatibilityModel is model_cls
    assert trust_compatibility_score is scores_btc
    assert bcsk.bc_fit is helpers.bc_fit
    for name in LOSS_NAMES["new_error"] + LOSS_NAMES["strict_imitation"]:
        assert getattr(bcsk, name).__name__ == name
    assert "BCNewErrorCompatibilityModel" in dir(bcsk)


def test_unknown_attribute():
    import bcsk

    with pytest.raises(AttributeError, match="no_such_name"):
        bcsk.no_such_name  # noqa: B018
    assert not hasattr(bcsk, "no_such_name")


def test_scores_do_not_import_tensorflow():
    code = (
        "import json, sys\n"
        "import bcsk\n"
        "score = bcsk.trust_compatibility_score([0, 1, 1], [0, 1, 0], [0, 1, 1])\n"
        "mods = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "print(json.dumps({'score': score, 'loaded': mods}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["score"] == pytest.approx(2 / 3)
    assert result["loaded"] == []


# --------------------------------------------------------------------------
# keras.models.load_model after a bare ``import bcsk``, in a fresh process
# --------------------------------------------------------------------------

SAVE_SCRIPT = """
import sys
import keras
import numpy as np
from bcsk.tensorflow.models import BCCompatibilityModel, BCNewErrorCompatibilityModel

folder = sys.argv[1]
keras.utils.set_random_seed(0)
X = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
y = np.arange(8) % 3
h1 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
wrapped = BCCompatibilityModel(
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")]),
    h1=h1,
    lambda_c=0.7,
    dissonance="strict_imitation",
)
sequential = BCNewErrorCompatibilityModel(
    [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")],
    h1=h1,
    lambda_c=0.3,
)
for name, model in (("wrapped", wrapped), ("sequential", sequential)):
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    model.fit(X, y, epochs=1, verbose=0)
    model.save(f"{folder}/{name}.keras")
    np.save(f"{folder}/{name}.npy", model.predict(X, verbose=0))
np.save(f"{folder}/X.npy", X)
"""

LOAD_SCRIPT = """
import json, sys
import bcsk

# The only bcsk import; keras comes after it, as in a user's script.
before = [m for m in ("keras", "tensorflow") if m in sys.modules]
import keras
import numpy as np

folder = sys.argv[1]
X = np.load(f"{folder}/X.npy")
out = {"imported_by_bcsk": before}
for name in ("wrapped", "sequential"):
    model = keras.models.load_model(f"{folder}/{name}.keras")
    same = np.allclose(model.predict(X, verbose=0), np.load(f"{folder}/{name}.npy"))
    out[name] = [type(model).__name__, model.lambda_c, bool(same)]
hooks = [type(f).__name__ for f in sys.meta_path if "Keras" in type(f).__name__]
out["hooks_left"] = hooks
print(json.dumps(out))
"""


# Warnings fail the scripts as they fail the tests (see pyproject.toml): a
# registration that went wrong warns. Keras' own NumPy 2 deprecation excepted.
WARNING_FLAGS = [
    "-W",
    "error",
    "-W",
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
]


def _python(code, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, *WARNING_FLAGS, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.slow
def test_load_model_after_bare_import_bcsk_in_a_fresh_process(tmp_path):
    saved = _python(SAVE_SCRIPT, tmp_path)
    assert saved.returncode == 0, saved.stderr[-3000:]
    loaded = _python(LOAD_SCRIPT, tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result == {
        "imported_by_bcsk": [],
        "wrapped": ["BCCompatibilityModel", pytest.approx(0.7), True],
        "sequential": ["BCNewErrorCompatibilityModel", pytest.approx(0.3), True],
        # The import hook removes itself once the classes are registered.
        "hooks_left": [],
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "first_import",
    [
        "import tensorflow",  # TensorFlow imports keras before it has finished
        "import bcsk.objective",  # a bcsk module imports keras first
        "from bcsk import BCCompatibleClassifier",
    ],
)
def test_classes_are_registered_whatever_imports_keras(first_import):
    code = (
        "import sys, bcsk\n"
        f"{first_import}\n"
        "from keras.saving import get_registered_object\n"
        "names = ['bcsk>BCCompatibilityModel', 'bcsk>BCNewErrorCompatibilityModel']\n"
        "assert all(get_registered_object(n) is not None for n in names), names\n"
        "assert not [f for f in sys.meta_path if 'Keras' in type(f).__name__]\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr[-3000:]
