"""Sphinx configuration for bcsk's documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (or
``tox -e docs``). Nothing here imports TensorFlow; autodoc imports the bcsk
modules it documents. The examples gallery is rendered, not executed
(``plot_gallery = "False"``): CI runs the examples on their own.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# BCSK_DOCS_EXAMPLES points the gallery at another folder (to try the gallery
# on a scratch copy of the examples); by default it is the repository's examples/.
EXAMPLES = Path(os.environ.get("BCSK_DOCS_EXAMPLES", ROOT / "examples")).resolve()
sys.path.insert(0, str(ROOT))

# Keep TensorFlow's C++ start-up chatter out of the build log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import bcsk  # noqa: E402  (cheap: bcsk imports its submodules lazily)

# -- Project -------------------------------------------------------------------

project = "bcsk"
author = "bcsk developers"
copyright = "bcsk developers"
version = release = bcsk.__version__

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "code"
# intersphinx is deliberately not enabled: the build must work offline.

# -- autodoc / autosummary / numpydoc ---------------------------------------

# Stub pages go to docs/generated/ (git-ignored) and are rebuilt every time.
autosummary_generate = True
autosummary_generate_overwrite = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's parameter lists already give the types
autoclass_content = "class"

# The class template documents members itself; numpydoc's own member tables
# would point at stub pages that do not exist.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks: set[str] = set()  # ruff's pydocstyle checks docstrings

# -- HTML ----------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"bcsk {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Backward-compatible model updates for Keras and scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}

# -- Examples gallery ------------------------------------------------------------
#
# sphinx-gallery renders examples/plot_*.py into docs/auto_examples/ (git-ignored)
# without running them. It needs examples/README.txt as the gallery's header; if
# that file is missing (the examples are still being written), conf.py writes a
# plain page at the same place that shows whatever examples exist, so the
# toctree entry ``auto_examples/index`` always resolves.

GALLERY_DIR = DOCS / "auto_examples"
_GALLERY_README = [EXAMPLES / "README.txt", EXAMPLES / "README.rst"]


def _write_fallback_examples_page() -> None:
    """Write docs/auto_examples/index.rst listing examples/plot_*.py verbatim."""
    # The folder is generated and git-ignored: drop pages a former gallery
    # build left there, which no toctree would include any more.
    shutil.rmtree(GALLERY_DIR, ignore_errors=True)
    GALLERY_DIR.mkdir()
    lines = [
        "Examples",
        "========",
        "",
        "Runnable scripts from the ``examples/`` folder of the repository. Run one",
        'with ``python examples/<name>.py`` after ``pip install -e ".[examples]"``.',
        "",
    ]
    scripts = sorted(EXAMPLES.glob("plot_*.py")) if EXAMPLES.is_dir() else []
    if not scripts:
        lines += ["No examples have been added yet.", ""]
    for script in scripts:
        title = script.name
        relative = Path(os.path.relpath(script, GALLERY_DIR)).as_posix()
        lines += [
            title,
            "-" * len(title),
            "",
            f".. literalinclude:: {relative}",
            "   :language: python",
            "",
        ]
    (GALLERY_DIR / "index.rst").write_text("\n".join(lines), encoding="utf-8")


if any(path.is_file() for path in _GALLERY_README):
    extensions.append("sphinx_gallery.gen_gallery")
    sphinx_gallery_conf = {
        "examples_dirs": str(EXAMPLES),
        "gallery_dirs": "auto_examples",
        # Render only plot_*.py; helper modules in examples/ are left alone.
        "ignore_pattern": r"(^|[/\\])(?!plot_)[^/\\]*\.py$",
        "filename_pattern": r"[/\\]plot_",
        # Not executed here: CI runs the examples separately.
        "plot_gallery": "False",
        "download_all_examples": False,
        "write_computation_times": False,
        "remove_config_comments": True,
        "within_subsection_order": "sphinx_gallery.sorting.FileNameSortKey",
        "doc_module": ("bcsk",),
        "backreferences_dir": None,
        "reference_url": {"bcsk": None},
    }
else:
    _write_fallback_examples_page()


# -- Members left out of the API pages -----------------------------------------

# scikit-learn generates set_{fit,partial_fit,score}_request methods on every
# estimator (metadata routing); their docstrings link to scikit-learn's own
# glossary, which does not exist here. They are scikit-learn's, not bcsk's API.
_SKLEARN_ROUTING = re.compile(r"^set_\w+_request$")


def _defining_module(obj) -> str:
    """Module that defines a function, method or property (``""`` if unknown)."""
    for candidate in (obj, getattr(obj, "fget", None), getattr(obj, "__func__", None)):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str):
            return module
    return ""


def _skip_member(app, what, name, obj, skip, options):
    if _SKLEARN_ROUTING.match(name):
        return True
    # The Keras models' pages show what bcsk adds (h1, lambda_c, compute_loss,
    # ...), not the whole keras.Model API they inherit.
    if what == "class" and _defining_module(obj).startswith("keras"):
        return True
    return None


def _init_signature(app, what, name, obj, options, signature, return_annotation):
    """Show ``__init__``'s parameters for Keras models.

    ``keras.Model`` defines ``__new__(cls, *args, **kwargs)``, which autodoc
    prefers to ``__init__``; the signature users call is ``__init__``'s.
    """
    if what != "class" or signature != "(*args, **kwargs)":
        return None
    try:
        init = inspect.signature(obj.__init__)
    except (TypeError, ValueError):
        return None
    parameters = [
        p.replace(annotation=inspect.Parameter.empty)
        for p in list(init.parameters.values())[1:]
    ]
    signature = init.replace(
        parameters=parameters, return_annotation=inspect.Signature.empty
    )
    return str(signature), return_annotation


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-signature", _init_signature)
