"""Let ``keras.models.load_model`` find bcsk's classes after a bare ``import bcsk``.

Why this module exists
----------------------
Keras 3 finds the class of an object saved in a ``.keras`` file by its
registered name, ``"bcsk>BCCompatibilityModel"``, in the registry that
``@keras.saving.register_keras_serializable`` fills when the class is *defined*
(``keras/src/saving/object_registration.py``). Failing that, it imports the
saved ``module`` only for Keras' own packages (keras, keras_hub, keras_cv,
keras_nlp), for safety (``_retrieve_class_or_fn`` in
``keras/src/saving/serialization_lib.py``), and Keras has no plugin entry point
for serializables. So bcsk's classes must be defined before ``load_model``
runs. Defining them means importing TensorFlow, which ``import bcsk`` must not
do for someone who only wants the scores (tests/test_imports.py).

The least magical mechanism that always works, and the one used here:

* if keras is already imported when bcsk is, TensorFlow is already paid for:
  import the module that defines the classes at once;
* otherwise wait for keras: :class:`_KerasImportHook` on ``sys.meta_path``
  answers for no module itself; when keras is imported it hands back keras' own
  spec with the loader's ``exec_module`` wrapped so that, once keras has run,
  bcsk's classes are registered. Then the hook removes itself. (This is the
  "post-import hook" of PEP 369, which Python never adopted; ``wrapt`` offers
  the same.)

The registration imports ``bcsk.tensorflow.models`` (which defines the two
model classes and imports :mod:`bcsk.objective`, which defines the
dissonances) and :mod:`bcsk._keras._ensemble` (``MeanEnsemble``). When keras is
first imported by a bcsk module (say ``bcsk.objective``), that module has
not finished, and the models may need it: so the hook also follows the imports
of bcsk's own submodules and registers right after the bcsk import that
brought keras in. Nothing here ever makes ``import keras`` fail: an unexpected
error becomes a warning that says what to import instead.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys
import threading
import warnings
from typing import Any

# The modules whose import registers every bcsk class that can be in a .keras
# file (the models, their dissonances, their h1 wrappers).
MODULES = ("bcsk.tensorflow.models", "bcsk._keras._ensemble")

_lock = threading.RLock()


def _initializing(name: str) -> bool:
    """Whether module ``name`` is being imported right now.

    ``__spec__._initializing`` is the flag importlib itself sets while a module
    runs, and reads to report "partially initialized module" errors.
    """
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def register() -> None:
    """Import the modules that register bcsk's Keras classes."""
    for name in MODULES:
        importlib.import_module(name)


def _register_or_warn() -> None:
    try:
        register()
    except Exception as exc:  # never let `import keras` or `import bcsk` fail
        with contextlib.suppress(Exception):  # a warning is an error under -W error
            warnings.warn(
                f"bcsk could not register its Keras classes ({exc!r}); import "
                "bcsk.tensorflow before keras.models.load_model.",
                RuntimeWarning,
                stacklevel=3,
            )


def _bcsk_import_under_way(finished: str) -> bool:
    return any(
        _initializing(name)
        for name in list(sys.modules)
        if (name == "bcsk" or name.startswith("bcsk.")) and name != finished
    )


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Register bcsk's Keras classes as soon as keras is imported.

    That is right after keras' own import, or, when a bcsk module imported
    keras, right after that bcsk module (its import chain may not be able to
    import the models before it has finished). So the hook follows the
    imports of keras and of bcsk's submodules; it answers for none of them.
    """

    def __init__(self) -> None:
        self._busy = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        """Return the spec other finders give, its ``exec_module`` wrapped."""
        if self._busy or not (fullname == "keras" or fullname.startswith("bcsk.")):
            return None
        spec = self._spec_from_other_finders(fullname, path, target)
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_register(module):
            exec_module(module)
            self.try_register(finished=module.__name__)

        # The loader is the fresh object the path finder made for this spec:
        # the module keeps its own loader class (``__loader__``); one method of
        # that one object is wrapped.
        loader.exec_module = exec_then_register
        return spec

    def _spec_from_other_finders(self, fullname, path, target):
        self._busy = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    return spec
            return None
        finally:
            self._busy = False

    def try_register(self, finished: str) -> None:
        """Register, unless keras is not imported yet or a bcsk import is running.

        ``finished`` is the module whose code has just run: importlib still
        flags it as initialising until this hook returns.
        """
        with _lock:
            if (
                self._busy
                or "keras" not in sys.modules
                or (_initializing("keras") and finished != "keras")
                or _bcsk_import_under_way(finished)
            ):
                return
            self._busy = True
            try:
                uninstall()
                _register_or_warn()
            finally:
                self._busy = False


_hook: _KerasImportHook | None = None


def install() -> None:
    """Register now if keras is imported, else register when it is."""
    global _hook
    with _lock:
        if "keras" in sys.modules and not _initializing("keras"):
            _register_or_warn()
            return
        if _hook is None:
            _hook = _KerasImportHook()
            sys.meta_path.insert(0, _hook)


def uninstall() -> None:
    """Remove the import hook (once the classes are registered)."""
    global _hook
    with _lock:
        if _hook is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(_hook)
            _hook = None
