"""Parity with scikeras: its own classifier tests, on stock scikeras and on bcsk.

bcsk promises that everything outside compatibility behaves as scikeras'
``KerasClassifier``. This script measures it: it runs scikeras 0.13's test
files twice, once with the stock ``KerasClassifier`` and once with a
:class:`bcsk.BCCompatibleClassifier` subclass (uniform h1, ``lambda_c=0.5``)
in its place (the swap is the pytest plugin ``_scikeras_swap.py`` beside this
script), and prints how many of the classifier tests that pass on stock
scikeras pass on bcsk, and which do not.

scikeras' tests are theirs and stay out of this repository: point
``--tests`` at the ``tests/`` folder of scikeras v0.13.0 (for instance
``git clone --branch v0.13.0 https://github.com/adriangb/scikeras`` and
``--tests scikeras/tests``).

Usage::

    python benchmarks/scikeras_parity.py --tests ../scikeras/tests
    python benchmarks/scikeras_parity.py --tests DIR --only bcsk -k test_loss
    python benchmarks/scikeras_parity.py --tests DIR --json parity.json
    python benchmarks/scikeras_parity.py --results results/scikeras_parity.json

A "classifier test" is one that built the swapped class; the tests of
``KerasRegressor`` or of scikeras' utilities alone are left out of the count.
The exit code is 0 when every stock-passing classifier test passes on bcsk
or is a documented difference (``DIFFERENCES`` below), 1 otherwise, 2 on bad
usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# scikeras' test files that exercise KerasClassifier.
# The quicker files first: test_api.py trains on whole datasets.
FILES = (
    "test_compile_kwargs.py",
    "test_errors.py",
    "test_param_routing.py",
    "test_parameters.py",
    "test_callbacks.py",
    "test_serialization.py",
    "test_random_state.py",
    "test_input_outputs.py",
    "test_api.py",
)

# Stock-passing tests that fail on bcsk on purpose: node id prefix -> reason.
# Each is a row of "Differences from KerasClassifier" in docs/estimator.rst.
DIFFERENCES: dict[str, str] = {
    "test_api.py::TestInitialize::test_prebuilt_model": (
        "predict_proba of a one-unit model for 3 classes: bcsk raises a "
        "ValueError naming the widths; scikeras returns the wrongly shaped array"
    ),
    "test_parameters.py::test_kwargs[KerasClassifier": (
        "the test counts calls of a mock of model_.fit: bcsk trains h2 inside "
        "a model of its own with keras.Model.fit (the keywords reach that fit)"
    ),
    "test_callbacks.py::test_callback_compiling_args_or_kwargs": (
        "y of one class: bcsk refuses it (nothing to be compatible with); "
        "scikeras trains a one-unit softmax"
    ),
    "test_callbacks.py::test_callbacks_prefixes": (
        "y of one class ([0] * 100): bcsk refuses it (nothing to be compatible "
        "with); scikeras trains a one-unit softmax"
    ),
    "test_api.py::test_subclassed_model_no_params": (
        "y of one class: bcsk refuses it (nothing to be compatible with); "
        "scikeras trains a one-unit softmax"
    ),
    # Not a difference of bcsk's: of the swap's h1. AdaBoost needs each
    # round's weighted error under 2/3 after one epoch on 100 iris rows. The
    # uniform h1's probabilities tie, so its label is class 0 for every row
    # and the new-error term weighs class 0's rows 1.5x: the one-epoch network
    # leans to class 0. With lambda_c=0 the same swap passes it (measured).
    "test_api.py::TestPrebuiltModel::test_ensemble[MLPClassifier]": (
        "the swap's uniform h1 (ties: label 0 everywhere) tilts a one-epoch "
        "network that AdaBoost needs better than chance; passes at lambda_c=0"
    ),
    "test_param_routing.py::test_parameter_precedence": (
        "fit__custom / fit(custom=...) for a Model subclass's own fit: bcsk "
        "refuses arguments keras.Model.fit does not take, naming them"
    ),
}


def run(kind: str, tests: Path, extra: list[str], out: Path) -> dict:
    """Run scikeras' tests with ``kind``'s class; return the per-test results."""
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")
        env = dict(os.environ)
        env["BCSK_PARITY_KIND"] = kind
        env["BCSK_PARITY_OUT"] = str(out)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(HERE), str(REPO), env.get("PYTHONPATH", "")]
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ini),
            "--rootdir",
            str(tests),
            "-p",
            "_scikeras_swap",
            "-p",
            "no:cacheprovider",
            "-q",
            "--tb=no",
            "-W",
            "ignore",
            *[str(tests / name) for name in FILES],
            *extra,
        ]
        subprocess.run(command, env=env, cwd=tests, check=False)
    return json.loads(out.read_text())


def difference(nodeid: str) -> str | None:
    """The documented reason a stock-passing test fails on bcsk, if any."""
    for prefix, reason in DIFFERENCES.items():
        if nodeid.startswith(prefix):
            return reason
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, help="scikeras' tests/")
    parser.add_argument(
        "--only",
        choices=("bcsk", "scikeras"),
        help="run one side only (the other side's results from --stock)",
    )
    parser.add_argument(
        "--stock", type=Path, help="results of an earlier stock run (JSON)"
    )
    parser.add_argument("--json", type=Path, help="write both sides' results here")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument(
        "--results",
        type=Path,
        help="summarize a run written by --json (runs nothing; --tests unused)",
    )
    args = parser.parse_args(argv)
    if args.results:
        return summarize(json.loads(args.results.read_text()))
    if args.tests is None:
        parser.error("--tests is required (the tests/ folder of scikeras v0.13.0)")
    tests = args.tests.resolve()
    missing = [name for name in FILES if not (tests / name).is_file()]
    if missing:
        print(
            f"error: {tests} lacks {', '.join(missing)}: pass --tests the tests/ "
            "folder of scikeras v0.13.0",
            file=sys.stderr,
        )
        return 2
    extra = ["-k", args.keyword] if args.keyword else []
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("scikeras", "bcsk"):
            if args.only and kind != args.only:
                continue
            # Each side's results go beside --json as the run goes (a run
            # stopped early still tells), else to a temporary file.
            out = (
                args.json.with_name(f"{args.json.stem}.{kind}.json")
                if args.json
                else Path(tmp) / f"{kind}.json"
            )
            results[kind] = run(kind, tests, extra, out)
    if "scikeras" not in results and args.stock:
        results["scikeras"] = json.loads(args.stock.read_text())["scikeras"]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    if set(results) != {"scikeras", "bcsk"}:
        side = next(iter(results))
        passed = sum(r["outcome"] == "passed" for r in results[side].values())
        print(f"{side}: {passed} of {len(results[side])} tests pass")
        return 0
    return summarize(results)


def summarize(results: dict) -> int:
    """Print both sides' counts and each stock-passing test bcsk fails."""
    stock, ours = results["scikeras"], results["bcsk"]
    counted = sorted(
        node
        for node, r in stock.items()
        if r["outcome"] == "passed" and r["classifier"]
    )
    failing = [
        node for node in counted if ours.get(node, {}).get("outcome") != "passed"
    ]
    every = [node for node, r in stock.items() if r["outcome"] == "passed"]
    kept = sum(ours.get(node, {}).get("outcome") == "passed" for node in every)
    print(f"stock-passing tests: {len(every)}; passing on bcsk: {kept}")
    print(
        f"stock-passing classifier tests: {len(counted)}; passing on bcsk: "
        f"{len(counted) - len(failing)}"
    )
    undocumented = 0
    for node in failing:
        reason = difference(node)
        undocumented += reason is None
        error = ours.get(node, {}).get("error", "not run")
        print(f"  {node}\n      {'difference: ' + reason if reason else error}")
    return 1 if undocumented else 0


if __name__ == "__main__":
    sys.exit(main())
