"""benchmarks/scikeras_parity.py's counting, on hand-made results (no scikeras run)."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "scikeras_parity.py"


@pytest.fixture(scope="module")
def parity():
    spec = importlib.util.spec_from_file_location("scikeras_parity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcome(passed, classifier=True, error=None):
    return {
        "outcome": "passed" if passed else "failed",
        "classifier": classifier,
        "error": error,
    }


DOCUMENTED = "test_callbacks.py::test_callbacks_prefixes"


def results(**bcsk_overrides):
    stock = {
        "test_a.py::test_kept": outcome(True),
        "test_a.py::test_regressor": outcome(True, classifier=False),
        "test_a.py::test_stock_fails": outcome(False),
        DOCUMENTED: outcome(True),
    }
    ours = {
        "test_a.py::test_kept": outcome(True),
        "test_a.py::test_regressor": outcome(True, classifier=False),
        "test_a.py::test_stock_fails": outcome(False),
        DOCUMENTED: outcome(False, error="ValueError: one class"),
    }
    ours.update(bcsk_overrides)
    return {"scikeras": stock, "bcsk": ours}


def test_documented_differences_pass_the_run(parity, capsys, tmp_path):
    path = tmp_path / "parity.json"
    path.write_text(json.dumps(results()))
    assert parity.main(["--results", str(path)]) == 0
    out = capsys.readouterr().out
    # 3 stock-passing tests (the stock failure is not counted), 2 kept;
    # 2 of them classifier tests, 1 kept.
    assert "stock-passing tests: 3; passing on bcsk: 2" in out
    assert "stock-passing classifier tests: 2; passing on bcsk: 1" in out
    assert "difference: y of one class" in out


def test_an_undocumented_failure_fails_the_run(parity, capsys, tmp_path):
    path = tmp_path / "parity.json"
    broken = outcome(False, error="AttributeError: 'list' object has no attribute")
    path.write_text(json.dumps(results(**{"test_a.py::test_kept": broken})))
    assert parity.main(["--results", str(path)]) == 1
    assert "AttributeError" in capsys.readouterr().out


def test_tests_folder_is_checked(parity, tmp_path, capsys):
    assert parity.main(["--tests", str(tmp_path)]) == 2
    assert "scikeras v0.13.0" in capsys.readouterr().err
