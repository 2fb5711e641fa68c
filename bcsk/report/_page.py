"""The report as one self-contained HTML page: a Jinja2 template, plots as data URIs.

The template, ``templates/report.html.j2``, ships with the package. The page
loads nothing: its style is inline and its plots are PNG files embedded as
``data:`` URIs, so it opens from disk, from an artifact store or from an
e-mail. Jinja2 is imported when a page is rendered, matplotlib when a plot is
drawn; without matplotlib the page says its plots were left out.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import bcsk

__all__ = ["render_page"]

# Names, help and direction of the headline figures, in the page's order.
_HEADLINE = [
    ("h1_accuracy", "h1 accuracy", "old model"),
    ("h2_accuracy", "h2 accuracy", "new model"),
    ("btc", "BTC", "share of h1's right answers that h2 keeps"),
    ("bec", "BEC", "share of h2's errors that h1 made too"),
    ("negative_flip_rate", "new-error rate (NFR)", "new errors / rows"),
    ("negative_flip_impact", "NFI", "new errors / h2's errors"),
    ("positive_flip_rate", "fixed-error rate (PFR)", "fixed errors / rows"),
]
# Groups drawn in the plot; the table lists them all.
_MAX_PLOTTED_GROUPS = 30
_NO_MATPLOTLIB = (
    "Plots left out: matplotlib is not installed. Install it with "
    "pip install 'bcsk[plot]' to draw them."
)


def _number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _percent(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    return f"{100 * value:.2f} %"


def _data_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{encoded}"


def _plots(
    report, thresholds: Mapping[str, float], lineage=None
) -> list[dict[str, str]]:
    """The page's plots as ``{"title", "uri", "alt"}``; raises ImportError."""
    from matplotlib.figure import Figure  # no pyplot: no global state
    from matplotlib.ticker import MaxNLocator

    plots = []
    if lineage is not None:
        from bcsk.metrics import LineageDisplay

        figure = Figure(figsize=(7.0, 4.2), layout="constrained")
        LineageDisplay(lineage).plot(ax=figure.add_subplot())
        plots.append(
            {
                "title": "Versions: new errors, ever-right regressions, accuracy",
                "uri": _data_uri(figure),
                "alt": "Bar chart of each version's new errors and ever-right "
                "regressions, with its accuracy",
            }
        )
    intervals = report.intervals or {}
    names = [label for _, label, _ in _HEADLINE]
    values = [float(getattr(report, key)) for key, _, _ in _HEADLINE]
    figure = Figure(figsize=(6.4, 3.0))
    ax = figure.add_subplot()
    positions = list(range(len(names)))[::-1]
    colors = [
        "#8c8c8c",
        "#1f77b4",
        "#2ca02c",
        "#2ca02c",
        "#d62728",
        "#d62728",
        "#9467bd",
    ]
    ax.barh(positions, values, color=colors)
    for (key, _, _), y, value in zip(_HEADLINE, positions, values, strict=True):
        if key in intervals:
            low, high = intervals[key]
            if not (math.isnan(low) or math.isnan(high)):
                ax.errorbar(
                    [value],
                    [y],
                    xerr=[[value - low], [high - value]],
                    fmt="none",
                    ecolor="black",
                    capsize=3,
                )
    ax.set_yticks(positions, names)
    ax.set_xlim(0, 1)
    ax.set_xlabel("value" + (" (bars: bootstrap interval)" if intervals else ""))
    plots.append(
        {
            "title": "Headline figures",
            "uri": _data_uri(figure),
            "alt": "Bar chart of the headline figures: "
            + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, values, strict=True)),
        }
    )

    if report.groups:
        rows = list(report.groups[:_MAX_PLOTTED_GROUPS])
        figure = Figure(figsize=(6.4, 0.9 + 0.28 * len(rows)))
        ax = figure.add_subplot()
        positions = list(range(len(rows)))[::-1]
        ax.barh(
            positions,
            [row.new_error_rate for row in rows],
            color=["#bdbdbd" if row.small else "#d62728" for row in rows],
        )
        ax.set_yticks(positions, [str(row.label) for row in rows])
        limit = thresholds.get("max_group_new_error_rate")
        if limit is not None:
            ax.axvline(limit, color="black", linestyle="--", label=f"limit {limit}")
            ax.legend(loc="lower right")
        ax.set_xlabel(f"new-error rate (grey: fewer than {report.min_group_size} rows)")
        plots.append(
            {
                "title": "New-error rate per group",
                "uri": _data_uri(figure),
                "alt": "Bar chart of the new-error rate of each group",
            }
        )

    if report.per_class:
        rows = report.per_class
        figure = Figure(figsize=(6.4, 2.8))
        ax = figure.add_subplot()
        x = range(len(rows))
        ax.bar(
            [i - 0.2 for i in x],
            [r.new_errors for r in rows],
            0.4,
            label="new errors",
            color="#d62728",
        )
        ax.bar(
            [i + 0.2 for i in x],
            [r.fixed_errors for r in rows],
            0.4,
            label="fixed errors",
            color="#2ca02c",
        )
        ax.set_xticks(list(x), [str(r.label) for r in rows])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of rows
        ax.set_xlabel("true class")
        ax.set_ylabel("rows")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        plots.append(
            {
                "title": "New and fixed errors per class",
                "uri": _data_uri(figure),
                "alt": "Bar chart of new and fixed errors per true class",
            }
        )
    return plots


def render_page(
    report,
    *,
    title: str = "Backward compatibility report",
    thresholds: Mapping[str, float] | None = None,
    plots: bool = True,
    lineage=None,
) -> str:
    """Render a compatibility report as one self-contained HTML page.

    Parameters
    ----------
    report : CompatibilityReport
        The report, of one label per sample.
    title : str, default="Backward compatibility report"
        Title of the page.
    thresholds : dict, optional
        Keyword arguments of :meth:`~bcsk.metrics.CompatibilityReport.check`;
        the page shows the verdict of each.
    plots : bool, default=True
        Draw the plots (when matplotlib is installed).
    lineage : LineageReport, optional
        The chain of versions whose last two ``report`` compares (from
        :func:`bcsk.metrics.lineage_report`): the page adds a section and a
        plot of each version's new errors and ever-right regressions.

    Returns
    -------
    str
        The HTML text.

    Raises
    ------
    ValueError
        If the report has several outputs (report on one output at a time).
    ImportError
        If Jinja2 is not installed.

    Examples
    --------
    >>> from bcsk.metrics import compatibility_report
    >>> report = compatibility_report([0, 1, 1], h1_pred=[0, 1, 0], h2_pred=[0, 0, 1])
    >>> html = render_page(report, plots=False)
    >>> html.startswith("<!DOCTYPE html>"), "http" in html.split("<body")[0]
    (True, False)
    """
    import jinja2

    if report.per_class is None:
        raise ValueError(
            "The page shows a report of one label per sample, built by "
            "compatibility_report; this one has several outputs or was built "
            "directly. Report on one output at a time."
        )
    thresholds = dict(thresholds or {})
    verdicts = report._threshold_results(**thresholds)
    intervals = report.intervals
    headline = []
    for key, label, note in _HEADLINE:
        interval = None if intervals is None else intervals[key]
        headline.append(
            {
                "key": key,
                "label": label,
                "note": note,
                "value": _number(getattr(report, key)),
                "interval": None
                if interval is None
                else f"[{_number(interval[0])}, {_number(interval[1])}]",
            }
        )
    plot_list: list[dict[str, str]] = []
    plot_note = None
    if plots:
        try:
            plot_list = _plots(report, thresholds, lineage)
        except ImportError:
            plot_note = _NO_MATPLOTLIB
    else:
        plot_note = "Plots not drawn (plots=False)."

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("bcsk.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    environment.filters["percent"] = _percent
    template = environment.get_template("report.html.j2")
    n = report.n_samples
    return template.render(
        title=title,
        report=report,
        lineage=lineage,
        n=n,
        headline=headline,
        confidence_label=None
        if report.confidence_level is None
        else f"{100 * report.confidence_level:g} %",
        n_bootstraps=None if intervals is None else report._details.n_bootstraps,
        regions=[
            ("both right", report.both_right, "both models right"),
            ("new errors", report.new_errors, "h1 right, h2 wrong"),
            ("fixed errors", report.fixed_errors, "h1 wrong, h2 right"),
            ("both wrong", report.both_wrong, "both models wrong"),
        ],
        accuracy_drop=_number(report.accuracy_drop),
        verdicts=verdicts,
        passed=all(v.passed for v in verdicts),
        plots=plot_list,
        plot_note=plot_note,
        version=bcsk.__version__,
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
