"""A compatibility report written out: its text, and its versioned JSON record.

``str(report)``, :meth:`CompatibilityReport.to_record` and
:meth:`~CompatibilityReport.from_record` call these, so that the report's
module holds the figures and this one the formats they are kept in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bcsk import _labels
from bcsk.metrics._slices import _HEADLINE, NewErrorExample, SliceRow, _Details

_SCORE_FIELDS = (*_HEADLINE, "relative_negative_flip_rate")
_COUNT_FIELDS = ("both_right", "new_errors", "fixed_errors", "both_wrong")

#: Version of the record :meth:`CompatibilityReport.to_record` writes; bumped
#: whenever a key changes meaning or goes away (new keys keep the version).
SCHEMA_VERSION = 1


_SCHEMA = "bcsk.compatibility_report"


_ROW_FLOATS = ("h1_accuracy", "h2_accuracy", "new_error_rate", "btc")


def _json_safe(value: Any) -> Any:
    """``value`` with NumPy values made Python ones and NaN or inf made None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(v) for v in value]
    value = _labels.to_python(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def to_record(report, checks: list[dict] | None) -> dict[str, Any]:
    """The record of ``report`` (see :meth:`CompatibilityReport.to_record`)."""
    scores = {name: getattr(report, name) for name in _SCORE_FIELDS}
    scores["accuracy_drop"] = report.accuracy_drop
    groups = None
    if report.groups is not None:
        groups = {
            "min_group_size": report.min_group_size,
            "rows": [row._asdict() for row in report.groups],
        }
    record = {
        "schema": _SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "n_samples": report.n_samples,
        "n_outputs": report.n_outputs,
        "average": report.average,
        "counts": {name: getattr(report, name) for name in _COUNT_FIELDS},
        "scores": scores,
        "intervals": report._intervals_record(),
        "new_errors_per_class": [
            {"label": label, "new_errors": count}
            for label, count in report.new_errors_per_class.items()
        ],
        "per_class": None
        if report.per_class is None
        else [row._asdict() for row in report.per_class],
        "groups": groups,
        "flips": None
        if report.flips is None
        else [{"label": a, "to": b, "count": c} for a, b, c in report.flips],
        "new_error_examples": None
        if report.new_error_examples is None
        else [example._asdict() for example in report.new_error_examples],
        "checks": checks,
    }
    return _json_safe(record)


def from_record(cls, record: Mapping[str, Any]):
    """A ``cls`` report from its record (:meth:`CompatibilityReport.from_record`)."""
    if not isinstance(record, Mapping) or record.get("schema") != _SCHEMA:
        raise ValueError(
            "record is not a bcsk compatibility report: its 'schema' key must "
            f"be {_SCHEMA!r}. Pass what CompatibilityReport.to_record or "
            "to_json wrote."
        )
    version = record.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"record has schema_version {version!r}; this bcsk reads version "
            f"{SCHEMA_VERSION}. Read it with the bcsk version that wrote it."
        )

    def score(value):
        if isinstance(value, list):
            return np.array([np.nan if v is None else v for v in value], float)
        return np.nan if value is None else float(value)

    report = cls(
        n_samples=record["n_samples"],
        **{name: record["counts"][name] for name in _COUNT_FIELDS},
        **{name: score(record["scores"][name]) for name in _SCORE_FIELDS},
        new_errors_per_class={
            item["label"]: item["new_errors"] for item in record["new_errors_per_class"]
        },
        n_outputs=record["n_outputs"],
        average=record["average"],
    )
    if record.get("per_class") is None:
        return report

    def rows(items):
        return tuple(
            SliceRow(**{**item, **{k: score(item[k]) for k in _ROW_FLOATS}})
            for item in items
        )

    groups = record.get("groups")
    intervals = record.get("intervals")
    details = _Details(
        per_class=rows(record["per_class"]),
        flips=tuple((f["label"], f["to"], f["count"]) for f in record["flips"]),
        examples=tuple(NewErrorExample(**e) for e in record["new_error_examples"]),
        groups=None if groups is None else rows(groups["rows"]),
        min_group_size=30 if groups is None else groups["min_group_size"],
        intervals=None
        if intervals is None
        else {k: tuple(map(score, v)) for k, v in intervals["scores"].items()},
        confidence_level=None if intervals is None else intervals["confidence_level"],
        n_bootstraps=0 if intervals is None else intervals["n_bootstraps"],
        random_state=None if intervals is None else intervals["random_state"],
    )
    object.__setattr__(report, "_details", details)
    return report


def text(report) -> str:
    """The report as text: ``str(report)``."""
    multi = report.n_outputs > 1
    # For several outputs every count and share is of (sample, output)
    # cells; saying "samples" there would misread by a factor n_outputs.
    unit = "cells" if multi else "samples"
    n = report.n_samples * report.n_outputs
    regions = [
        ("both right", report.both_right, ""),
        ("new errors", report.new_errors, "h1 right, h2 wrong (negative flips)"),
        ("fixed errors", report.fixed_errors, "h1 wrong, h2 right (positive flips)"),
        ("both wrong", report.both_wrong, ""),
    ]
    scores = [
        ("h1 accuracy", report.h1_accuracy, "old model"),
        ("h2 accuracy", report.h2_accuracy, "new model"),
        ("BTC", report.btc, "share of h1's correct answers that h2 keeps"),
        ("BEC", report.bec, "share of h2's errors that h1 made too"),
        (
            "NFR",
            report.negative_flip_rate,
            f"negative flip rate = new errors / {unit}",
        ),
        (
            "PFR",
            report.positive_flip_rate,
            f"positive flip rate = fixed errors / {unit}",
        ),
        (
            "NFI",
            report.negative_flip_impact,
            "negative flip impact = new errors / h2's errors",
        ),
        (
            "relative NFR",
            report.relative_negative_flip_rate,
            "NFR / (h1 accuracy x h2 error rate)",
        ),
    ]
    name_width = max(len(name) for name, _, _ in regions + scores)
    count_width = max(len(unit), len(str(n)))

    title = "Backward compatibility report: h1 (old model) -> h2 (new model)"
    if multi:
        # Two lines: the title of a one-output report is kept as it was.
        lines = [
            title,
            f"{report.n_samples} samples x {report.n_outputs} outputs, "
            f"average={report.average!r}",
        ]
    else:
        lines = [f"{title}, {n} samples"]
    if getattr(report, "n_left_out", 0):
        lines.append(
            f"{report.n_left_out} more samples left out: their true class is "
            "one h1 does not know (h1_classes), so h1 could not get them right"
        )
    lines += [
        "",
        f"{'':<{name_width}}  {unit:>{count_width}}  {'share':>6}",
    ]
    for name, count, note in regions:
        row = f"{name:<{name_width}}  {count:>{count_width}}  {count / n:>6.1%}"
        lines.append(f"{row}   {note}".rstrip())
    lines.append("")
    if multi and report.average is None:
        lines += _per_output_lines(report, scores)
    else:
        for name, value, note in scores:
            row = f"{name:<{name_width}}  {value:>{count_width}.4f}"
            lines.append(f"{row}   {note}")

    kind = "output" if multi else "class"
    lines += ["", "New errors by output" if multi else "New errors by true class"]
    if report.new_errors_per_class:
        label_width = max(
            len(kind), *(len(str(c)) for c in report.new_errors_per_class)
        )
        header = "new errors"
        lines.append(f"{kind:>{label_width}}  {header}")
        for label, count in report.new_errors_per_class.items():
            lines.append(f"{label!s:>{label_width}}  {count:>{len(header)}}")
    else:
        lines.append(f"(no {kind}s)")
    return "\n".join(lines)


def _per_output_lines(report, scores: list[tuple[str, Any, str]]) -> list[str]:
    """One row per output and one column per score, for ``average=None``."""
    # One row per output rather than one column: a multilabel target can
    # have hundreds of labels, and rows keep the width fixed.
    # Short names keep the table within 80 columns.
    names = ["h1 acc", "h2 acc", "BTC", "BEC", "NFR", "PFR", "NFI", "rel NFR"]
    widths = [max(len(name), 6) for name in names]
    index_width = max(len("output"), len(str(report.n_outputs - 1)))
    header = "  ".join(f"{name:>{w}}" for name, w in zip(names, widths, strict=True))
    lines = [
        "Scores per output: h1 and h2 accuracy, BTC, BEC, NFR, PFR, NFI and "
        "relative NFR",
        f"{'output':>{index_width}}  {header}",
    ]
    for j in range(report.n_outputs):
        cells = "  ".join(
            f"{values[j]:>{w}.4f}"
            for (_, values, _), w in zip(scores, widths, strict=True)
        )
        lines.append(f"{j:>{index_width}}  {cells}")
    return lines
