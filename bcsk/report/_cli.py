"""``bcsk report`` (``python -m bcsk.report``): report on logged predictions, gate CI.

Exit codes, as ``ruff check`` has them: **0** when every threshold holds (or
none was given), **1** when one fails, **2** on bad input or usage. Every
error is one line on stderr that names the problem and the fix, without a
traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from bcsk.report._table import InputError, read_columns

__all__ = ["build_parser", "entry", "main"]

PROG = "bcsk report"
_FRACTIONS = (
    ("max_new_error_rate", "highest share of rows h1 got right and h2 gets wrong"),
    ("min_btc", "lowest BTC: share of h1's right answers h2 keeps"),
    ("max_accuracy_drop", "highest h1 accuracy - h2 accuracy (0: h2 may not lose)"),
    (
        "max_group_new_error_rate",
        "highest new-error rate of any group of at "
        "least --min-group-size rows (needs --groups)",
    ),
)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line and exit status 2."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"{PROG}: error: {message}; see '{PROG} --help'\n")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # False for NaN
        raise argparse.ArgumentTypeError(
            f"must be a share in [0, 1] (0.02 for 2 %), got {text}"
        )
    return value


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its errors
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``bcsk report``."""
    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Compare an old model h1 and a new model h2 on a table of logged\n"
            "predictions (CSV, TSV, or Parquet with pyarrow): print a summary,\n"
            "write a page and a JSON record, and fail when a threshold fails."
        ),
        epilog=(
            "exit status: 0 every threshold holds (or none given), 1 a threshold "
            "failed, 2 bad input or usage.\n"
            "example: bcsk report preds.csv --y label --h1 old --h2 new "
            "--groups country --max-group-new-error-rate 0.05 --html report.html"
        ),
    )
    parser.add_argument("table", help="CSV/TSV (optionally .gz) or Parquet file")
    parser.add_argument("--y", required=True, metavar="COL", help="true labels")
    parser.add_argument(
        "--h1",
        required=True,
        nargs="+",
        metavar="COL",
        help="old model's labels; several columns: the earlier versions, oldest "
        "first (h2 is compared with the last; the chain gets its own section)",
    )
    parser.add_argument("--h2", required=True, metavar="COL", help="new model's labels")
    parser.add_argument("--groups", metavar="COL", help="group of each row")
    parser.add_argument("--id", metavar="COL", help="row ids shown for new errors")
    parser.add_argument("--html", metavar="FILE", help="write the page here")
    parser.add_argument("--json", metavar="FILE", help="write the JSON record here")
    parser.add_argument(
        "--title", default="Backward compatibility report", help="title of the page"
    )
    for name, text in _FRACTIONS:
        parser.add_argument(
            "--" + name.replace("_", "-"), type=_fraction, metavar="X", help=text
        )
    parser.add_argument(
        "--min-group-size",
        type=_whole_number(1),
        default=30,
        metavar="N",
        help="groups with fewer rows are flagged and not gated (default: 30)",
    )
    parser.add_argument(
        "--bootstrap",
        type=_whole_number(0),
        default=1000,
        metavar="N",
        help="bootstrap resamples for the intervals (default: 1000; 0 for none)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the bootstrap (default: 0)"
    )
    parser.add_argument(
        "--no-plots", action="store_true", help="leave the plots out of the page"
    )
    return parser


def _fmt(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.4f}"


def _summary(report, table: str) -> list[str]:
    lines = [
        f"{table}: {report.n_samples} rows; h1 -> h2",
        f"  accuracy      h1 {_fmt(report.h1_accuracy)}  h2 "
        f"{_fmt(report.h2_accuracy)}  (drop {_fmt(report.accuracy_drop)})",
        f"  BTC {_fmt(report.btc)}  BEC {_fmt(report.bec)}  new-error rate "
        f"{_fmt(report.negative_flip_rate)}  NFI "
        f"{_fmt(report.negative_flip_impact)}",
        f"  new errors {report.new_errors}  fixed errors {report.fixed_errors}",
    ]
    if report.groups:
        small = sum(row.small for row in report.groups)
        gated = [row for row in report.groups if not row.small]
        line = (
            f"  {len(report.groups)} groups ({small} under "
            f"{report.min_group_size} rows)"
        )
        if gated:
            worst = gated[0]
            line += (
                f"; worst group {worst.label!r}: new-error rate "
                f"{_fmt(worst.new_error_rate)} over {worst.n} rows"
            )
        lines.append(line)
    return lines


def _write_json(report, lineage, path, thresholds) -> None:
    """The report's record; with several --h1 columns, the chain under "lineage"."""
    if lineage is None:
        report.to_json(path, thresholds=thresholds)
        return
    import json

    record = json.loads(report.to_json(thresholds=thresholds))
    record["lineage"] = lineage.to_dict()
    with open(path, "w", encoding="utf-8") as file:
        file.write(json.dumps(record, indent=2, allow_nan=False) + "\n")


def _run(args: argparse.Namespace) -> int:
    thresholds = {
        name: getattr(args, name)
        for name, _ in _FRACTIONS
        if getattr(args, name) is not None
    }
    if "max_group_new_error_rate" in thresholds and args.groups is None:
        raise InputError(
            "--max-group-new-error-rate needs --groups COL, the column naming "
            "each row's group"
        )
    names = [args.y, *args.h1, args.h2]
    if len(set(names)) != len(names):
        raise InputError(
            f"the columns of --y, --h1 and --h2 must differ; got {names}: name "
            "each version's column once"
        )
    extra = [name for name in (args.groups, args.id) if name is not None]
    n_labels = len(names)
    columns = read_columns(args.table, names + extra, label_columns=n_labels)
    y, versions, h2 = columns[0], columns[1 : n_labels - 1], columns[n_labels - 1]
    h1 = versions[-1]
    rest = iter(columns[n_labels:])
    groups = next(rest) if args.groups is not None else None
    ids = next(rest) if args.id is not None else None

    from bcsk.metrics import compatibility_report, lineage_report

    lineage = None
    if len(versions) > 1:
        try:
            lineage = lineage_report(
                y,
                [*versions, h2],
                names=[*args.h1, args.h2],
                labels=sorted({*y.tolist(), *h2.tolist()}.union(*map(set, versions))),
            )
        except ValueError as error:
            raise InputError(str(error)) from None
    report = compatibility_report(
        y,
        h1_pred=h1,
        h2_pred=h2,
        groups=groups,
        ids=ids,
        min_group_size=args.min_group_size,
        n_bootstraps=args.bootstrap,
        random_state=args.seed,
        zero_division=float("nan"),
    )
    results = report._threshold_results(**thresholds)
    failed = [r for r in results if not r.passed]
    for output, write in (
        (args.json, lambda path: _write_json(report, lineage, path, thresholds)),
        (
            args.html,
            lambda path: report.to_html(
                path,
                title=args.title,
                thresholds=thresholds,
                plots=not args.no_plots,
                lineage=lineage,
            ),
        ),
    ):
        if output is None:
            continue
        try:
            write(output)
        except OSError as error:
            raise InputError(
                f"cannot write {output} ({error.strerror or error}): pass a path "
                "in a folder that exists and that you can write to"
            ) from None

    lines = _summary(report, args.table)
    if lineage is not None:
        lines[0] = f"{args.table}: {report.n_samples} rows; {args.h1[-1]} -> {args.h2}"
        lines.append(f"  versions {' -> '.join(lineage.names)}")
        lines.extend("  " + line for line in str(lineage).splitlines())
    for result in results:
        where = "" if result.group is None else f" on group {result.group!r}"
        relation = {"max": "<=", "min": ">="}[result.threshold[:3]]
        status = "ok  " if result.passed else "FAIL"
        lines.append(
            f"{status} {result.threshold}{where}: {_fmt(result.value)} "
            f"(limit {relation} {result.limit})"
        )
    if thresholds:
        lines.append(
            f"{len(failed)} of {len(results)} threshold checks failed"
            if failed
            else f"all {len(results)} threshold checks passed"
        )
    if args.html:
        lines.append(f"page: {args.html}")
    if args.json:
        lines.append(f"JSON: {args.json}")
    print("\n".join(lines))
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run ``bcsk report``; return its exit status (0 pass, 1 fail, 2 bad input).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name; by default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 when every threshold holds (or none was given), 1 when one fails,
        2 on bad input (the error is printed on stderr, on one line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "preds.csv"
    >>> _ = table.write_text("y,old,new\n0,0,0\n1,1,0\n1,0,1\n2,2,2\n")
    >>> main([str(table), "--y", "y", "--h1", "old", "--h2", "new",
    ...       "--bootstrap", "0", "--max-new-error-rate", "0.1"])
    ... # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    /.../preds.csv: 4 rows; h1 -> h2
      accuracy h1 0.7500 h2 0.7500 (drop 0.0000)
      BTC 0.6667 BEC 0.0000 new-error rate 0.2500 NFI 1.0000
      new errors 1 fixed errors 1
    FAIL max_new_error_rate: 0.2500 (limit <= 0.1)
    1 of 1 threshold checks failed
    1
    >>> main([str(table), "--y", "label", "--h1", "old", "--h2", "new"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2)
        return int(exit_.code or 0)
    try:
        return _run(args)
    except InputError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:  # Jinja2 missing for --html
        print(
            f"{PROG}: error: {error}; install it with pip install jinja2",
            file=sys.stderr,
        )
        return 2


def entry() -> None:
    """The ``bcsk`` console script: ``bcsk report ...`` runs :func:`main`.

    ``report`` is its one command for now; the others will sit beside it.
    """
    argv = sys.argv[1:]
    if argv[:1] == ["report"]:
        raise SystemExit(main(argv[1:]))
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: bcsk report TABLE --y COL --h1 COL --h2 COL [options]")
        print("commands: report  compare h1 and h2 on logged predictions")
        raise SystemExit(0)
    problem = f"unknown command {argv[0]!r}" if argv else "no command given"
    print(
        f"bcsk: error: {problem}; the command is 'bcsk report' "
        "(see 'bcsk report --help')",
        file=sys.stderr,
    )
    raise SystemExit(2)
