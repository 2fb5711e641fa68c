"""pytest plugin: scikeras' own tests with ``KerasClassifier`` swapped.

Loaded by ``benchmarks/scikeras_parity.py`` with ``-p _scikeras_swap``, before
pytest imports any test module, so that every ``from scikeras.wrappers import
KerasClassifier`` in scikeras' tests gets the class chosen by the environment
variable ``BCSK_PARITY_KIND``:

* ``scikeras``: a subclass of scikeras' ``KerasClassifier`` that changes
  nothing (it only records that a test used it);
* ``bcsk``: a :class:`bcsk.BCCompatibleClassifier` subclass with
  scikeras' defaults (``verbose=1``), a uniform h1 and ``lambda_c=0.5``.

Each test records in its report whether it built the swapped class, so the
runner can count the classifier tests alone.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import scikeras.wrappers

# scikeras 0.13's tests import a name that Keras 3.10 renamed.
from keras.src.backend.common import variables as _variables  # noqa: E402

if not hasattr(_variables, "KerasVariable"):
    _variables.KerasVariable = _variables.Variable

KIND = os.environ.get("BCSK_PARITY_KIND", "bcsk")
_used = {"value": False}


class UniformH1:
    """An h1 that gives every class the same probability.

    A callable h1 returns one column per class; how many depends on the
    target being fitted, which the estimator sets in ``widths`` (an int per
    output, a list for several outputs) before h1 runs.
    """

    def __init__(self) -> None:
        self.widths: int | list[int] = 2

    def __call__(self, X):
        n = len(X[0] if isinstance(X, (list, tuple)) else X)
        if isinstance(X, dict):
            n = len(next(iter(X.values())))
        if isinstance(self.widths, list):
            return [np.full((n, k), 1.0 / k) for k in self.widths]
        return np.full((n, self.widths), 1.0 / self.widths)

    def __deepcopy__(self, memo):
        return self


UNIFORM_H1 = UniformH1()


def _widths(classes) -> int | list[int]:
    if isinstance(classes, list):
        return [len(c) for c in classes]
    return len(classes)


if KIND == "bcsk":
    from bcsk import BCCompatibleClassifier
    from bcsk.estimator import _output_widths

    class KerasClassifier(BCCompatibleClassifier):
        """BCCompatibleClassifier with scikeras' defaults and a uniform h1."""

        def __init__(
            self,
            model=None,
            *,
            h1=UNIFORM_H1,
            lambda_c=0.5,
            dissonance="new_error",
            method="model",
            n_members=1,
            build_fn=None,
            warm_start=False,
            random_state=None,
            optimizer="rmsprop",
            loss=None,
            metrics=None,
            batch_size=None,
            validation_batch_size=None,
            verbose=1,
            callbacks=None,
            validation_split=0.0,
            shuffle=True,
            run_eagerly=False,
            epochs=1,
            class_weight=None,
            **kwargs,
        ):
            _used["value"] = True
            super().__init__(
                model,
                h1=h1,
                lambda_c=lambda_c,
                dissonance=dissonance,
                method=method,
                n_members=n_members,
                build_fn=build_fn,
                warm_start=warm_start,
                random_state=random_state,
                optimizer=optimizer,
                loss=loss,
                metrics=metrics,
                batch_size=batch_size,
                validation_batch_size=validation_batch_size,
                verbose=verbose,
                callbacks=callbacks,
                validation_split=validation_split,
                shuffle=shuffle,
                run_eagerly=run_eagerly,
                epochs=epochs,
                class_weight=class_weight,
                **kwargs,
            )

        def _train(self, X, y, sample_weight, **kwargs):
            if isinstance(self.h1, UniformH1):
                classes = self.classes_
                if self._multioutput:
                    try:  # a custom encoder's outputs may be wider
                        widths = _output_widths(self.model_, X)
                        classes = self._output_classes(widths)
                    except ValueError:  # bcsk's own check names the problem
                        pass
                self.h1.widths = _widths(classes)
            return super()._train(X, y, sample_weight, **kwargs)

else:

    class KerasClassifier(scikeras.wrappers.KerasClassifier):
        """scikeras' KerasClassifier, unchanged; records that a test used it."""

        def __init__(self, *args, **kwargs):
            _used["value"] = True
            super().__init__(*args, **kwargs)

    # scikit-learn reads the parameters off __init__'s signature.
    KerasClassifier.__init__.__signature__ = __import__("inspect").signature(
        scikeras.wrappers.KerasClassifier.__init__
    )

KerasClassifier.__module__ = __name__
KerasClassifier.__qualname__ = "KerasClassifier"
scikeras.wrappers.KerasClassifier = KerasClassifier


_results: dict[str, dict] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _used["value"] = False
    _results[item.nodeid] = {"outcome": "passed", "classifier": False, "error": ""}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    result = _results.setdefault(
        item.nodeid, {"outcome": "passed", "classifier": False, "error": ""}
    )
    result["classifier"] = result["classifier"] or _used["value"]
    if hasattr(report, "wasxfail"):
        if report.when == "call":
            result["outcome"] = "xfailed" if report.skipped else "xpassed"
    elif report.skipped and result["outcome"] == "passed":
        result["outcome"] = "skipped"
    elif report.failed:
        result["outcome"] = "failed"
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None and not result["error"]:
            result["error"] = crash.message.splitlines()[0][:300]


def _write() -> None:
    path = os.environ.get("BCSK_PARITY_OUT")
    if path:
        with open(path, "w") as file:
            json.dump(_results, file, indent=1, sort_keys=True)


def pytest_runtest_logfinish(nodeid, location):
    # After every test, so that a long run stopped early still tells.
    _write()


def pytest_sessionfinish(session, exitstatus):
    _write()
