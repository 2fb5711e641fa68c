"""Every gallery example runs, in quick mode, as its own process."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# Deprecations fail the examples as they fail the tests (see pyproject.toml),
# except the one NumPy 2 deprecation Keras triggers when saving models.
WARNING_FLAGS = [
    "-W",
    "error::DeprecationWarning",
    "-W",
    "error::FutureWarning",
    "-W",
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
]


def test_the_gallery_is_there():
    names = {path.name for path in EXAMPLES}
    assert {
        "plot_tensorflow_mnist.py",
        "plot_tensorflow_bc_fit.py",
        "plot_sklearn_grid_search.py",
        "plot_sklearn_h1.py",
    } <= names
    readme = (EXAMPLES_DIR / "README.txt").read_text().splitlines()
    assert readme[0] == "Examples" and set(readme[1]) == {"="}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_is_in_gallery_format(path):
    source = path.read_text()
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring, f"{path.name} needs a module docstring with a title"
    title, underline = docstring.strip().splitlines()[:2]
    assert title and set(underline) == {"="} and len(underline) >= len(title)
    assert "\n# %%\n" in source
    assert "BCSK_EXAMPLES_QUICK" in source


def _run(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "BCSK_EXAMPLES_QUICK": "1",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    return subprocess.run(
        [sys.executable, *WARNING_FLAGS, str(path)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path):
    # One process per example; pytest-xdist (``-n 2`` in pyproject.toml) runs
    # two at a time.
    result = _run(path, tmp_path)
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- stdout (end) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (end) ---\n{result.stderr[-6000:]}"
    )
