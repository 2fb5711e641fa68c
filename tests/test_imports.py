"""BCML code keeps working with only the package prefix changed."""

import json
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
