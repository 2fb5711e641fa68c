"""Run a test's script in a fresh Python interpreter.

Several tests need a process of their own: logical devices must be set before
TensorFlow starts, a saved model must load where nothing was imported yet, a
seeded fit must be reproducible across processes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = str(Path(__file__).resolve().parent)


def run_python(source: str, folder: Path, *args: str, name: str = "script.py"):
    """Write ``source`` to ``folder/name``, run it, and assert it succeeded.

    The tests folder is on the child's ``PYTHONPATH`` (for ``_builders``), and
    TensorFlow's C++ logging is silenced. Returns the ``CompletedProcess``.
    """
    script = Path(folder) / name
    script.write_text(source)
    pythonpath = [TESTS_DIR, *filter(None, [os.environ.get("PYTHONPATH")])]
    completed = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": os.pathsep.join(pythonpath),
        },
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def result_of(completed) -> dict:
    """The JSON a script printed on its ``RESULT {...}`` line."""
    line = next(
        line for line in completed.stdout.splitlines() if line.startswith("RESULT ")
    )
    return json.loads(line[len("RESULT ") :])
