"""The README's set-up commands are what CI runs, and the package metadata agrees."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set up\s+```bash\n(.*?)```", readme, re.S)
    assert block, "README.md must open its set-up section with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_exactly_two_setup_commands():
    commands = _setup_commands()
    assert len(commands) == 2
    assert "python -m bcsk.demo" in commands[0]
    assert "[test]" in commands[1] and commands[1].rstrip().endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _setup_commands()[1] in [line.strip() for line in ci_lines]


def test_ci_builds_a_fresh_virtual_environment():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv" in ci and "set -euo pipefail" in ci
