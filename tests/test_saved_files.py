"""Files saved by an earlier release load and predict the same with this code.

``saved_files/0.1.0/`` holds what bcsk 0.1.0 wrote (before the package moved
to its scikit-learn layout; ``saved_files/make_saved_files.py`` wrote them):
pickles of the estimator, an ensemble, the one-call search, two
``GridSearchCV`` with bcsk's scorers and refit rules, both gates, and
``.keras`` files of BCML's model classes, a wrapper with a dissonance object
and an ensemble. A fresh interpreter (``import bcsk`` and nothing else of the
tests) loads each and predicts the rows the release predicted.
"""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _subprocess import run_python

SAVED = Path(__file__).resolve().parent / "saved_files"
RELEASES = ["0.1.0"]

LOAD_SCRIPT = textwrap.dedent(
    """
    import json, pickle, sys, warnings
    from pathlib import Path
    warnings.simplefilter("error")  # a load that warns fails, as in the tests
    warnings.filterwarnings(
        "ignore", "__array__ implementation doesn't accept a copy keyword"
    )
    import numpy as np
    import bcsk
    import keras

    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    X = np.load(folder / "X.npy")
    manifest = json.loads((folder / "manifest.json").read_text())
    loaded = {}
    for name, kind in manifest["files"].items():
        if kind == "pickle":
            with open(folder / f"{name}.pkl", "rb") as f:
                model = pickle.load(f)
            loaded[name + "/labels"] = model.predict(X)
            loaded[name + "/proba"] = model.predict_proba(X)
            loaded[name + "/type"] = np.array(type(model).__module__)
            # Parameters added since (budget, verbose) get their defaults.
            loaded[name + "/params"] = np.array(sorted(model.get_params(deep=False)))
        else:
            model = keras.models.load_model(folder / f"{name}.keras")
            loaded[name + "/proba"] = model.predict(X, verbose=0)
            loaded[name + "/type"] = np.array(type(model).__module__)
    np.savez(out, **loaded)
    """
)


@pytest.fixture(scope="module", params=RELEASES)
def loaded(request, tmp_path_factory):
    folder = SAVED / request.param
    out = tmp_path_factory.mktemp("loaded") / "loaded.npz"
    run_python(LOAD_SCRIPT, out.parent, str(folder), str(out), name="load.py")
    with np.load(folder / "expected.npz") as expected, np.load(out) as got:
        manifest = json.loads((folder / "manifest.json").read_text())
        return manifest, dict(expected), dict(got)


def test_every_saved_file_is_tested(loaded):
    manifest, expected, _ = loaded
    names = {key.split("/")[0] for key in expected}
    assert names == set(manifest["files"])
    assert manifest["bcsk"] == "0.1.0"
    # A search, both gates, the rule-holding GridSearchCV and a .keras ensemble
    # are among them: the objects whose classes moved.
    assert {"search", "gate", "gate_cv", "grid_search", "mean_ensemble"} <= names


def test_parameters_added_since_have_their_defaults(loaded):
    _, _, got = loaded
    assert {"budget", "verbose"} <= set(got["search/params"].tolist())
    assert "verbose" in got["gate_cv/params"].tolist()


def test_saved_files_predict_what_they_predicted(loaded):
    _, expected, got = loaded
    for key, value in expected.items():
        if value.dtype.kind == "f":
            # float32 forward passes: the same weights, the same arithmetic.
            np.testing.assert_allclose(
                got[key], value, rtol=1e-6, atol=1e-7, err_msg=key
            )
        else:
            np.testing.assert_array_equal(got[key], value, err_msg=key)


def test_loaded_objects_are_the_current_classes(loaded):
    # Old module paths resolve to the classes' new homes.
    _, _, got = loaded
    modules = {key.split("/")[0]: str(got[key]) for key in got if key.endswith("/type")}
    assert modules["search"] == "bcsk.model_selection._search"
    assert modules["gate"] == "bcsk.gate._gate"
    assert modules["mean_ensemble"] == "bcsk._keras._ensemble"
    assert modules["estimator"] == "bcsk.estimator"
