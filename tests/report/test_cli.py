"""``bcsk report``: exit codes 0/1/2, the summary, and one line per bad input."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bcsk.report import main

# 8 rows counted by hand (see tests/metrics/test_report_groups.py): new errors
# on rows 1, 3 and 5; new-error rate 3/8; BTC 1/2; group b 2/3, a 1/3, c 0.
ROWS = [
    ("id", "y", "old", "new", "group"),
    ("r0", 0, 0, 0, "a"),
    ("r1", 1, 1, 0, "a"),
    ("r2", 1, 0, 1, "a"),
    ("r3", 0, 0, 1, "b"),
    ("r4", 2, 2, 2, "b"),
    ("r5", 2, 2, 1, "b"),
    ("r6", 1, 1, 1, "c"),
    ("r7", 0, 1, 0, "c"),
]
COLUMNS = ["--y", "y", "--h1", "old", "--h2", "new"]


def write_csv(path, rows=ROWS, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return str(path)


@pytest.fixture
def table(tmp_path):
    return write_csv(tmp_path / "preds.csv")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_passing_thresholds_exit_0(table, capsys):
    code, out, err = run(
        capsys, table, *COLUMNS, "--max-new-error-rate", "0.4", "--min-btc", "0.5"
    )
    assert code == 0, err
    assert err == ""
    assert "8 rows" in out and "BTC 0.5000" in out and "new-error rate 0.3750" in out
    assert "all 2 threshold checks passed" in out


def test_no_threshold_exit_0(table, capsys):
    code, out, _ = run(capsys, table, *COLUMNS)
    assert code == 0 and "threshold check" not in out


def test_failing_thresholds_exit_1_with_value_limit_and_group(table, capsys):
    code, out, err = run(
        capsys,
        table,
        *COLUMNS,
        "--groups",
        "group",
        "--min-group-size",
        "3",
        "--max-group-new-error-rate",
        "0.5",
        "--max-accuracy-drop",
        "0.1",
    )
    assert code == 1 and err == ""
    assert "FAIL max_accuracy_drop: 0.1250 (limit <= 0.1)" in out
    assert "FAIL max_group_new_error_rate on group 'b': 0.6667 (limit <= 0.5)" in out
    assert "ok   max_group_new_error_rate on group 'a': 0.3333 (limit <= 0.5)" in out
    assert "group 'c'" not in out.split("\n", 5)[-1]  # 2 rows: not gated
    assert "2 of 3 threshold checks failed" in out
    assert "worst group 'b'" in out


def test_writes_json_and_page(table, tmp_path, capsys):
    json_path, html_path = tmp_path / "r.json", tmp_path / "r.html"
    code, out, _ = run(
        capsys,
        table,
        *COLUMNS,
        "--groups",
        "group",
        "--id",
        "id",
        "--json",
        json_path,
        "--html",
        html_path,
        "--min-btc",
        "0.9",
        "--min-group-size",
        "3",
        "--no-plots",
    )
    assert code == 1
    record = json.loads(json_path.read_text())
    assert record["counts"]["new_errors"] == 3
    assert record["checks"] == [
        {
            "threshold": "min_btc",
            "value": 0.5,
            "limit": 0.9,
            "group": None,
            "passed": False,
        }
    ]
    assert [e["id"] for e in record["new_error_examples"]] == ["r1", "r3", "r5"]
    assert record["intervals"]["n_bootstraps"] == 1000
    page = html_path.read_text()
    assert "FAIL: 1 threshold(s) failed" in page and "r3" in page
    assert f"page: {html_path}" in out


def test_text_labels_and_tsv(tmp_path, capsys):
    names = {0: "cat", 1: "dog", 2: "bird"}
    rows = [ROWS[0]] + [
        (i, names[y], names[a], names[b], g) for i, y, a, b, g in ROWS[1:]
    ]
    path = write_csv(tmp_path / "preds.tsv", rows, delimiter="\t")
    code, out, err = run(capsys, path, *COLUMNS, "--max-new-error-rate", "0.375")
    assert code == 0, err
    assert "new errors 3" in out


def test_gzipped_csv(tmp_path, capsys):
    import gzip

    plain = Path(write_csv(tmp_path / "p.csv"))
    packed = tmp_path / "p.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    code, out, _ = run(capsys, packed, *COLUMNS)
    assert code == 0 and "8 rows" in out


def bad(tmp_path, name, rows=ROWS, text=None):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    else:
        write_csv(path, rows)
    return path


def replace_cell(row_index, column, value):
    rows = [list(r) for r in ROWS]
    rows[row_index][column] = value
    return rows


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda d: d / "missing.csv", [], "no such file"),
        (lambda d: bad(d, "t.xlsx", text="x"), [], "unknown file type '.xlsx'"),
        (lambda d: bad(d, "t", text="x"), [], "unknown file type '(no extension)'"),
        (lambda d: bad(d, "t.csv", text=""), [], "is empty"),
        (lambda d: bad(d, "t.csv", ROWS[:1]), [], "has a header but no rows"),
        (
            lambda d: bad(d, "t.csv"),
            ["--groups", "country"],
            "column 'country' is not in",
        ),
        (
            lambda d: bad(d, "t.csv", replace_cell(2, 1, "")),
            [],
            "has a missing label ('') at data row 1 (line 3)",
        ),
        (
            lambda d: bad(d, "t.csv", replace_cell(3, 3, "NaN")),
            [],
            "has a missing label ('NaN')",
        ),
        (lambda d: bad(d, "t.csv", replace_cell(3, 3, "inf")), [], "not finite"),
        (
            lambda d: bad(d, "t.csv", replace_cell(5, 4, "")),
            ["--groups", "group"],
            "column 'group' of",
        ),
        (
            lambda d: bad(
                d, "t.csv", [ROWS[0]] + [r[:3] + ("x",) + r[4:] for r in ROWS[1:]]
            ),
            [],
            "labels of mixed types between columns: 'y' holds numbers, 'old' holds "
            "numbers, 'new' holds text",
        ),
        (lambda d: bad(d, "t.csv", ROWS[:3] + [("r9", 1)]), [], "line 4 of"),
        (
            lambda d: bad(d, "t.csv"),
            ["--max-group-new-error-rate", "0.1"],
            "needs --groups COL",
        ),
        (
            lambda d: bad(d, "t.csv"),
            ["--html", "/no/such/folder/r.html"],
            "cannot write /no/such/folder/r.html",
        ),
        (
            lambda d: bad(d, "t.csv"),
            ["--json", "/no/such/folder/r.json"],
            "cannot write",
        ),
    ],
    ids=[
        "missing-file",
        "xlsx",
        "no-extension",
        "empty-file",
        "no-rows",
        "missing-column",
        "missing-label",
        "nan-label",
        "inf-label",
        "missing-group",
        "mixed-types",
        "ragged-line",
        "group-limit-no-groups",
        "unwritable-html",
        "unwritable-json",
    ],
)
def test_bad_input_exit_2_with_one_line(tmp_path, capsys, make, extra, message):
    code, out, err = run(capsys, make(tmp_path), *COLUMNS, *extra)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bcsk report: error: ")
    assert "Traceback" not in err
    assert message in err, err


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--max-new-error-rate", "1.5", "must be a share in [0, 1]"),
        ("--min-btc", "-0.1", "must be a share in [0, 1]"),
        ("--max-accuracy-drop", "nan", "must be a share in [0, 1]"),
        ("--max-group-new-error-rate", "lots", "expected a number"),
        ("--min-group-size", "0", "must be at least 1"),
        ("--bootstrap", "-5", "must be at least 0"),
    ],
)
def test_threshold_outside_its_range_exit_2(table, capsys, option, value, message):
    code, out, err = run(capsys, table, *COLUMNS, option, value)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and option in err
    assert "--help" in err


def test_missing_required_option_exit_2(table, capsys):
    code, _, err = run(capsys, table, "--y", "y", "--h1", "old")
    assert code == 2 and err.count("\n") == 1 and "--h2" in err


def test_parquet_without_pyarrow_says_how_to_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    code, _, err = run(capsys, path, *COLUMNS)
    assert code == 2 and "needs pyarrow" in err and "pip install pyarrow" in err


def test_parquet_with_pyarrow(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow")
    import pyarrow.parquet as pq

    header, *rows = ROWS
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(header)})
    pq.write_table(table, tmp_path / "t.parquet")
    code, out, _ = run(capsys, tmp_path / "t.parquet", *COLUMNS)
    assert code == 0 and "new errors 3" in out


def _script_env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_python_m_bcsk_report(table):
    completed = subprocess.run(
        [sys.executable, "-m", "bcsk.report", table, *COLUMNS, "--min-btc", "0.9"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_script_env(),
    )
    assert completed.returncode == 1, completed.stderr
    assert "FAIL min_btc: 0.5000 (limit >= 0.9)" in completed.stdout
    # The command imports neither TensorFlow nor Keras.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bcsk.report import main; main(sys.argv[1:]);"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))",
            table,
            *COLUMNS,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_script_env(),
    )
    assert check.stdout.strip().splitlines()[-1] == "[]", check.stderr


def test_console_script(table):
    script = shutil.which("bcsk") or str(Path(sys.executable).parent / "bcsk")
    if not Path(script).exists():
        pytest.skip("the bcsk console script is not installed (pip install -e .)")
    completed = subprocess.run(
        [script, "report", table, *COLUMNS, "--max-new-error-rate", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_script_env(),
    )
    assert completed.returncode == 0, completed.stderr
    unknown = subprocess.run(
        [script, "reprot"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_script_env(),
    )
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "bcsk report" in unknown.stderr


def test_help_exit_0(capsys):
    code, out, err = run(capsys, "--help")
    assert code == 0 and err == ""
    assert "exit status: 0 every threshold holds" in out
    assert "--max-group-new-error-rate" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        ([], 2, "bcsk: error: no command given; the command is 'bcsk report'"),
        (["demo"], 2, "bcsk: error: unknown command 'demo'; the command is"),
        (["--help"], 0, ""),
    ],
)
def test_console_script_without_the_report_command(
    argv, code, message, monkeypatch, capsys
):
    from bcsk.report._cli import entry

    monkeypatch.setattr(sys, "argv", ["bcsk", *argv])
    with pytest.raises(SystemExit) as exit_info:
        entry()
    out, err = capsys.readouterr()
    assert exit_info.value.code == code
    assert err.startswith(message) and err.count("\n") == (1 if message else 0)
    if code == 0:
        assert "bcsk report TABLE" in out


def test_console_script_runs_the_report_command(table, monkeypatch, capsys):
    from bcsk.report._cli import entry

    monkeypatch.setattr(sys, "argv", ["bcsk", "report", table, *COLUMNS])
    with pytest.raises(SystemExit) as exit_info:
        entry()
    assert exit_info.value.code == 0
    assert "8 rows" in capsys.readouterr().out


def test_several_h1_columns_report_the_chain(tmp_path, capsys):
    # v1 -> v2 -> v3 of tests/metrics/test_lineage.py: 1 new error per step,
    # 1 ever-right regression each; h2 (v3) is compared with v2.
    rows = [("y", "v1", "v2", "v3")] + list(
        zip(
            [0, 1, 1, 0, 2, 2],
            [0, 1, 1, 0, 2, 0],
            [0, 1, 0, 0, 2, 0],
            [0, 0, 1, 0, 2, 0],
            strict=True,
        )
    )
    table = write_csv(tmp_path / "chain.csv", rows)
    page, record = tmp_path / "chain.html", tmp_path / "chain.json"
    code, out, err = run(
        capsys,
        table,
        *["--y", "y", "--h1", "v1", "v2", "--h2", "v3", "--bootstrap", "0"],
        *["--html", page, "--json", record],
    )
    assert code == 0, err
    assert "6 rows; v2 -> v3" in out and "versions v1 -> v2 -> v3" in out
    assert "v3's 1 ever-right regressions" in out and "v2: 1" in out
    lineage = json.loads(record.read_text())["lineage"]
    assert lineage["new_errors"] == [1, 1]
    assert lineage["ever_right_regressions"] == [1, 1]
    html = page.read_text()
    assert "<h2>Versions</h2>" in html and 'id="lineage"' in html
    # One column for two versions, and labels outside y's: exit 2, one line.
    code, _, err = run(capsys, table, "--y", "y", "--h1", "v1", "v1", "--h2", "v3")
    assert code == 2 and "must differ" in err and err.count("\n") == 1
    rows[1] = (0, 7, 0, 0)
    table = write_csv(tmp_path / "bad.csv", rows)
    code, _, err = run(capsys, table, "--y", "y", "--h1", "v1", "v2", "--h2", "v3")
    assert code == 0  # a label y lacks is still a class of the table's columns
