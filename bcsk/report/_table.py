"""Read the columns of a table of logged predictions: CSV (standard library) or Parquet.

Every problem with the input raises :class:`InputError`, whose message names
the problem and the fix in one line; the command prints it and exits 2.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["InputError", "read_columns"]

# Cells that mean "no value" in CSV files written by pandas, R and spreadsheets.
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "<na>"})
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}


class InputError(Exception):
    """Bad input for ``bcsk report``: the message says what and how to fix it."""


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES or suffix in (".parquet", ".pq"):
        return suffix
    raise InputError(
        f"unknown file type {''.join(path.suffixes) or '(no extension)'!r} of "
        f"{path}: pass a .csv, .tsv (optionally .gz) or .parquet file"
    )


def _read_csv(path: Path, delimiter: str, names: Sequence[str]) -> list[list[str]]:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise InputError(
                    f"{path} is empty: it needs a header row naming the columns "
                    "and one row per prediction"
                )
            header = [name.strip() for name in header]
            indices = []
            for name in names:
                if name not in header:
                    raise InputError(
                        f"column {name!r} is not in {path}; its columns are "
                        f"{', '.join(map(repr, header))}: pass one of them"
                    )
                indices.append(header.index(name))
            columns: list[list[str]] = [[] for _ in names]
            width = len(header)
            for line, row in enumerate(reader, start=2):
                if len(row) != width:
                    if not row:  # a blank line
                        continue
                    raise InputError(
                        f"line {line} of {path} has {len(row)} fields but the "
                        f"header has {width}: fix or remove that line"
                    )
                for column, index in zip(columns, indices, strict=True):
                    column.append(row[index])
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text: save it as UTF-8 CSV") from None
    except (csv.Error, gzip.BadGzipFile, EOFError) as error:
        raise InputError(
            f"{path} is not a readable CSV file ({error}): save it again as "
            "UTF-8 CSV with a header row"
        ) from None
    return columns


def _read_parquet(path: Path, names: Sequence[str]) -> list[np.ndarray]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"reading {path} needs pyarrow, which is not installed: "
            "pip install pyarrow, or export the table to CSV"
        ) from None
    try:
        schema = pq.read_schema(path)
    except Exception as error:  # pyarrow raises its own errors for bad files
        raise InputError(
            f"{path} is not a readable Parquet file ({error}): write it again, "
            "or export the table to CSV"
        ) from None
    for name in names:
        if name not in schema.names:
            raise InputError(
                f"column {name!r} is not in {path}; its columns are "
                f"{', '.join(map(repr, schema.names))}: pass one of them"
            )
    table = pq.read_table(path, columns=list(dict.fromkeys(names)))
    columns = []
    for name in names:
        column = table.column(name)
        if column.null_count:
            raise InputError(
                f"column {name!r} of {path} has {column.null_count} missing "
                "value(s): drop those rows or fill them before reporting"
            )
        columns.append(np.asarray(column.to_pylist()))
    return columns


def _labels(values, name: str, path: Path) -> np.ndarray:
    """One column as labels: int64 or float64 if every cell is a number, else str."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        array = values
        if array.dtype.kind == "f":
            if np.isnan(array).any():
                row = int(np.flatnonzero(np.isnan(array))[0])
                raise InputError(
                    f"column {name!r} of {path} has NaN labels (first at data row "
                    f"{row}): drop those rows or fill them before reporting"
                )
    else:
        strings = [str(v).strip() for v in values]
        missing = next(
            (i for i, v in enumerate(strings) if v.lower() in _MISSING), None
        )
        if missing is not None:
            raise InputError(
                f"column {name!r} of {path} has a missing label "
                f"({strings[missing]!r}) at data row {missing} (line "
                f"{missing + 2}): drop those rows or fill them before reporting"
            )
        array = np.asarray(strings)
        try:
            array = array.astype(np.float64)
        except ValueError:
            return array  # text labels
        if not np.isfinite(array).all():
            row = int(np.flatnonzero(~np.isfinite(array))[0])
            raise InputError(
                f"column {name!r} of {path} has a label that is not finite at "
                f"data row {row}: drop that row or fix its value"
            )
    if array.dtype.kind == "f" and np.array_equal(array, np.round(array)):
        return array.astype(np.int64)
    return array


def read_columns(
    path: str | os.PathLike, names: Sequence[str], *, label_columns: int
) -> list[np.ndarray]:
    """Read the columns ``names`` of a CSV or Parquet file as label arrays.

    The first ``label_columns`` names are labels of the same kind (true
    labels and both models' predictions): all numbers or all text. The
    others (groups, row ids) may be of any kind.

    Raises
    ------
    InputError
        A missing file, an unknown file type, a missing column, an empty
        table, missing or NaN labels, or labels of mixed types between
        columns.
    """
    path = Path(path)
    kind = _kind(path)
    if not path.is_file():
        raise InputError(
            f"no such file: {path}"
            + (" (it is a folder)" if path.is_dir() else "")
            + "; pass the path of the table of logged predictions"
        )
    if kind in _CSV_SUFFIXES:
        raw = _read_csv(path, _CSV_SUFFIXES[kind], names)
    else:
        raw = _read_parquet(path, names)
    if len(raw[0]) == 0:
        raise InputError(
            f"{path} has a header but no rows: log at least one prediction"
        )
    columns = [
        _labels(values, name, path) for values, name in zip(raw, names, strict=True)
    ]
    kinds = {
        name: "text" if column.dtype.kind in "US" else "numbers"
        for name, column in zip(names[:label_columns], columns, strict=False)
    }
    if len(set(kinds.values())) > 1:
        described = ", ".join(f"{name!r} holds {kind}" for name, kind in kinds.items())
        raise InputError(
            f"labels of mixed types between columns: {described}; write the "
            "true labels and both models' predictions the same way (all class "
            "names or all class numbers)"
        )
    return columns
