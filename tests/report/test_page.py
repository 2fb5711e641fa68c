"""The report's page: self-contained HTML, and what headless Chromium shows of it."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from bcsk.metrics import compatibility_report
from bcsk.report import render_page

# The 8 rows of tests/metrics/test_report_groups.py: new-error rate 0.3750,
# BTC 0.5000, h1 accuracy 0.7500, h2 accuracy 0.6250; group b worst (0.6667).
Y = [0, 1, 1, 0, 2, 2, 1, 0]
H1 = [0, 1, 0, 0, 2, 2, 1, 1]
H2 = [0, 0, 1, 1, 2, 1, 1, 0]
G = ["a", "a", "a", "b", "b", "b", "c", "c"]
THRESHOLDS = {"min_btc": 0.4, "max_group_new_error_rate": 0.5}


def report(**kwargs):
    return compatibility_report(
        Y,
        h1_pred=H1,
        h2_pred=H2,
        groups=G,
        min_group_size=3,
        ids=[f"row-{i}" for i in range(8)],
        n_bootstraps=200,
        **kwargs,
    )


def test_page_is_self_contained_and_has_the_figures():
    pytest.importorskip("matplotlib")
    html = render_page(report(), thresholds=THRESHOLDS)
    # Nothing fetched: no remote URL anywhere, every image a data URI.
    assert not re.search(r"https?://", html)
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert len(sources) == 3
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert "<script" not in html and "<link" not in html
    for text in ("0.7500", "0.6250", "0.5000", "0.3750", "0.6667"):
        assert text in html
    assert "FAIL: 1 threshold(s) failed" in html
    # Groups sorted by new-error rate, c flagged small; examples by row id.
    table = html.split('id="groups"')[1].split("</table>")[0]
    assert table.index(">b<") < table.index(">a<") < table.index(">c<")
    assert table.count('class="flag">small') == 1
    assert "row-1" in html and "row-3" in html and "row-5" in html


def test_labels_are_escaped():
    html = render_page(
        compatibility_report(
            ["<b>x</b>", "y"], h1_pred=["<b>x</b>", "y"], h2_pred=["y", "y"]
        ),
        plots=False,
    )
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_page_without_matplotlib_says_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    html = report().to_html(tmp_path / "page.html")
    assert "<img" not in html
    assert "matplotlib is not installed" in html
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == html


def test_page_needs_one_label_per_sample():
    y = [[0, 1], [1, 1]]
    with pytest.raises(ValueError, match="one output at a time"):
        render_page(compatibility_report(y, h1_pred=y, h2_pred=y, zero_division=1.0))


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "headless Chromium is not installed (Debian: apt-get install chromium); "
        "the browser test of the report page needs it"
    )


def _browse(chromium, tmp_path, *flags):
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={tmp_path / 'profile'}",
            *flags,
            (tmp_path / "page.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def _pixels_near(image, rgb, tolerance=0.06):
    return int((np.abs(image[..., :3] - np.array(rgb) / 255) < tolerance).all(-1).sum())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("matplotlib")
    folder = tmp_path_factory.mktemp("page")
    report().to_html(folder / "page.html", thresholds=THRESHOLDS)
    return folder


def test_chromium_renders_the_page(page):
    import matplotlib.image

    chromium = _chromium()
    shot = page / "page.png"
    _browse(chromium, page, "--window-size=1000,2600", f"--screenshot={shot}")
    image = matplotlib.image.imread(shot)
    assert image.shape[:2] == (2600, 1000)
    not_white = (image[..., :3] < 0.95).any(-1).mean()
    assert not_white > 0.03, "the page rendered (nearly) blank"
    # The red FAIL badge (style applied) and the blue h2 bar of the first plot
    # (the embedded PNG decoded and drawn).
    assert _pixels_near(image, (0xC6, 0x28, 0x28)) > 500
    assert _pixels_near(image, (0x1F, 0x77, 0xB4)) > 500


def test_chromium_dom_has_the_headline_values(page):
    chromium = _chromium()
    dom = _browse(chromium, page, "--dump-dom").stdout
    card = dom.split('id="card-btc"')[1].split("</div></div>")[0]
    assert '<div class="value">0.5000</div>' in dom.split('id="card-btc"')[1]
    assert "BTC" in card
    for key, value in [
        ("h1_accuracy", "0.7500"),
        ("h2_accuracy", "0.6250"),
        ("negative_flip_rate", "0.3750"),
    ]:
        assert f'<div class="value">{value}</div>' in dom.split(f'id="card-{key}"')[1]
    assert "FAIL: 1 threshold(s) failed" in dom


def test_imports_stay_light():
    code = (
        "import sys, bcsk, bcsk.metrics, bcsk.report\n"
        "heavy = ('jinja2', 'matplotlib', 'tensorflow', 'keras')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
