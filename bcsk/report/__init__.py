"""Review an update: the compatibility report as a page and a command for CI.

The layer above the estimators and :mod:`bcsk.metrics`: it turns a
:class:`~bcsk.metrics.CompatibilityReport` into one self-contained HTML page
(:func:`render_page`, used by :meth:`~bcsk.metrics.CompatibilityReport.to_html`)
and runs ``bcsk report``, the command that reports on a table of logged
predictions and gates a release on thresholds (:func:`main`; ``python -m
bcsk.report`` is the same command). Jinja2 and matplotlib are imported only
when a page is written.
"""

from bcsk.report._cli import main
from bcsk.report._page import render_page

__all__ = ["main", "render_page"]
