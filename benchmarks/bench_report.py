"""``bcsk report`` on a large CSV of logged predictions: without and with the page.

Writes a CSV of ``--rows`` rows (an id, the true label, h1's and h2's labels
as class numbers and a group of 12 with one small one), then times the
command as CI runs it, in a fresh process each time: the summary and the
JSON record only, then with the page too (plots included). Targets on 2
cores for 1,000,000 rows: under 30 s without the page, under 60 s with it.

Run::

    python benchmarks/bench_report.py                  # 1,000,000 rows
    python benchmarks/bench_report.py --rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, rows)
    h1 = np.where(rng.random(rows) < 0.9, y, rng.integers(0, 10, rows))
    h2 = np.where(rng.random(rows) < 0.93, y, rng.integers(0, 10, rows))
    names = np.array([f"country_{i:02d}" for i in range(11)] + ["tiny"])
    shares = np.r_[np.full(11, 0.99999 / 11), 0.00001]
    groups = names[rng.choice(12, rows, p=shares / shares.sum())]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "label", "h1", "h2", "country"])
        columns = (range(rows), y.tolist(), h1.tolist(), h2.tolist(), groups.tolist())
        writer.writerows(zip(*columns, strict=True))


def run(table: Path, out: Path, page: bool) -> tuple[float, int]:
    command = [
        sys.executable,
        "-m",
        "bcsk.report",
        str(table),
        "--y",
        "label",
        "--h1",
        "h1",
        "--h2",
        "h2",
        "--groups",
        "country",
        "--id",
        "id",
        "--max-group-new-error-rate",
        "0.1",
        "--json",
        str(out / "report.json"),
    ]
    if page:
        command += ["--html", str(out / "report.html")]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        raise SystemExit(completed.stderr)
    return elapsed, completed.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        table = folder / "predictions.csv"
        start = time.perf_counter()
        write_table(table, args.rows)
        print(
            f"wrote {args.rows:,} rows ({table.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
        for page in (False, True):
            times = [run(table, folder, page)[0] for _ in range(args.repeat)]
            label = "with the page" if page else "summary + JSON"
            print(f"bcsk report, {label:15s}: best {min(times):.1f} s of {times}")


if __name__ == "__main__":
    main()
