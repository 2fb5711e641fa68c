"""The package's layers, as docs/architecture.rst draws them, hold in the code.

Each module imports at module level only modules of its own layer or of lower
layers; every module has a layer (a new module gets its row here and in the
architecture page). Imports inside functions may reach higher layers: a
convenience method whose work belongs above (a Display's ``from_estimator``).
"""

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import bcsk

# Module (or package prefix) -> layer; the longest matching prefix wins.
LAYERS = {
    "bcsk._labels": 0,
    "bcsk._lazy": 0,
    "bcsk._docstrings": 0,
    "bcsk._progress": 0,
    "bcsk.scores": 1,
    "bcsk.metrics._flips": 1,
    "bcsk.metrics._report": 1,
    "bcsk.metrics._slices": 1,
    "bcsk.metrics._formats": 1,
    "bcsk.metrics._lineage": 1,
    "bcsk._h1": 1,
    "bcsk.gate._predictions": 1,
    "bcsk.objective": 2,
    "bcsk.dissonances": 2,  # 0.1's path, re-exports bcsk.objective
    "bcsk._keras": 3,
    "bcsk.ensemble": 3,
    "bcsk.tensorflow": 3,
    "bcsk._scikeras": 4,
    "bcsk.estimator": 4,
    "bcsk.model_selection": 4,
    "bcsk.gate._gate": 4,
    "bcsk.metrics._scorer": 4,
    "bcsk.scorers": 4,  # 0.1's path
    "bcsk.lambda_path": 4,  # 0.1's path
    "bcsk.metrics._plot": 5,
    "bcsk.plotting": 5,  # 0.1's path
    "bcsk.report": 5,
    "bcsk.demo": 6,
}
# Packages whose __init__ only re-exports public names.
REEXPORTS = {"bcsk", "bcsk.metrics", "bcsk.gate"}


def layer_of(module: str) -> int | None:
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def all_modules() -> list[str]:
    names = ["bcsk"]
    for info in pkgutil.walk_packages(bcsk.__path__, "bcsk."):
        names.append(info.name)
    return sorted(names)


def defining_module(package: str, name: str) -> str:
    """The module that ``from package import name`` really reads."""
    parent = importlib.import_module(package)
    if name == "*":
        return package
    if hasattr(parent, "__path__") and importlib.util.find_spec(f"{package}.{name}"):
        return f"{package}.{name}"
    value = getattr(parent, name)
    if hasattr(value, "__path__") or type(value).__name__ == "module":
        return value.__name__
    return getattr(value, "__module__", package)


def module_level_imports(module: str) -> list[tuple[int, str]]:
    """(line, imported bcsk module) of the imports run when ``module`` loads."""
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.startswith("bcsk")
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "bcsk"
        ):
            found += [
                (node.lineno, defining_module(node.module, a.name)) for a in node.names
            ]
    return [(line, name) for line, name in found if not _in_function(tree, line)]


def _in_function(tree, line: int) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno < line <= node.end_lineno
        for node in ast.walk(tree)
    )


MODULES = all_modules()


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if m not in REEXPORTS and layer_of(m) is None]
    assert not missing, (
        f"{missing} have no layer: add them to LAYERS here and to the table of "
        "docs/architecture.rst."
    )


@pytest.mark.parametrize(
    "module", [m for m in MODULES if m not in REEXPORTS and layer_of(m) is not None]
)
def test_no_module_imports_a_higher_layer(module):
    own = layer_of(module)
    upward = [
        f"line {line}: {target} (layer {layer_of(target)})"
        for line, target in module_level_imports(module)
        if layer_of(target) is not None and layer_of(target) > own
    ]
    assert not upward, f"{module} (layer {own}) imports higher layers: {upward}"


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The checker itself: an import of layer 4 in a layer-1 module is found.
    (tmp_path / "bcsk_probe.py").write_text("from bcsk.estimator import member_seeds\n")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.setitem(LAYERS, "bcsk_probe", 1)
    imports = module_level_imports("bcsk_probe")
    assert imports == [(1, "bcsk.estimator")]
    assert layer_of(imports[0][1]) == 4 > layer_of("bcsk_probe")
