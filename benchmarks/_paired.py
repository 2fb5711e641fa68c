"""Paired timing, shared by every benchmark: how bcsk's timings are measured.

Single runs on a 2-core machine vary by 30 % and more, so no benchmark here
compares two single runs. Each of them compares contenders the same way:

* **Paired, alternating runs.** In every pair (or repeat) each contender runs
  once, back to back with the run it is compared with, in an order that
  reverses from pair to pair (:func:`in_turn`) or is shuffled with a fixed
  seed (:func:`run_pairs`). Slow drifts of the machine's load then hit every
  contender alike.
* **The same reset before every run**, outside the timing (:func:`timed`):
  ``keras.backend.clear_session()``, ``gc.collect()``,
  ``keras.utils.set_random_seed``.
* **Garbage collector frozen per run** (``gc.freeze()`` after the reset,
  ``gc.unfreeze()`` after the run). Every fit triggers one full collection,
  and every fit leaves a few thousand Keras/TensorFlow objects behind (its
  traced graphs, even after ``clear_session()``), so unfrozen that collection
  scans the benchmark's whole history: over 16 repeats of digits it grew from
  0.2 s to 0.5 s per run (a third of a fit, the same for every contender: it
  diluted the ratios and made long runs drift). Frozen, a run's collections
  cost what the run allocates (about 7 ms on digits).
* **Wall time and CPU time.** ``time.perf_counter`` for wall time, the figure
  a user waits for; ``time.process_time`` (all threads of the process) as a
  second opinion. When other jobs share the machine, wall time stretches with
  their load far more than CPU time does; CPU time does not see costs that are
  pure waiting (thread hand-offs in ``tf.data``), which wall time does.
* **Median of the per-pair ratios** contender / baseline is the headline
  figure, with the interquartile range of those ratios.
* **95 % interval of the median** (:func:`median_interval`):
  ``scipy.stats.bootstrap``, 10,000 resamples of the pairs, percentile method,
  a fixed seed (the same timings give the same interval). NaN with a single
  pair or identical ratios, which give nothing to resample.
* **A/A control**: the baseline timed against itself through the same
  machinery (a contender that runs the baseline). Its median ratio should be
  1; how far it lands from 1, and its interval, say how much of a contender's
  figure the harness alone can produce.
* **Warm-up**: every contender runs once before the pairs (the first graph
  build in a process, lazy imports and TensorFlow's kernel caches are one-off
  costs that would otherwise land on whoever runs first).
* **The machine** (:func:`machine`): cores, versions, GPUs and the load
  average, stored with every result, since a figure means little without them.

Each benchmark's own choices (what it times, what it pairs with what, its
targets) are in its docstring; the figures in ``benchmarks/README.md`` and
``docs/performance.rst``.

Keras, TensorFlow and SciPy are imported where they are used:
``bench_lambda_path.py`` and ``bench_memory.py`` measure peak memory in child
processes, and their parent processes need none of them.
"""

from __future__ import annotations

import datetime
import functools
import gc
import json
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

N_RESAMPLES = 10_000


# -- running the pairs --------------------------------------------------------


def in_turn(keys: Sequence[str], turn: int) -> list[str]:
    """``keys`` in the order of pair ``turn``: as given if even, reversed if odd."""
    return list(keys) if turn % 2 == 0 else list(keys)[::-1]


def run_pairs(
    runs: dict[str, Callable[[], Any]],
    pairs: int,
    *,
    shuffle_seed: int | None = None,
    on_pair: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Every contender of ``runs`` once per pair, in an order that changes.

    The order alternates (:func:`in_turn`), or is shuffled afresh for each
    pair by ``random.Random(shuffle_seed)`` when a seed is given. Returns one
    record per pair: ``{"pair": i, "order": [...], "load_average": [...],
    key: what runs[key]() returned, ...}``; ``on_pair`` sees each record as
    soon as its pair is done (for progress lines).
    """
    rng = random.Random(shuffle_seed)
    records = []
    for pair in range(pairs):
        if shuffle_seed is None:
            order = in_turn(list(runs), pair)
        else:
            order = list(runs)
            rng.shuffle(order)
        record = {"pair": pair, "order": order, "load_average": load_average()}
        for key in order:
            record[key] = runs[key]()
        records.append(record)
        if on_pair is not None:
            on_pair(record)
    return records


def print_pair(record: dict, keys: Sequence[str]) -> None:
    """One progress line: the seconds of each contender of a pair."""
    print(
        f"  pair {record['pair']}: "
        + ", ".join(f"{k} {record[k]['seconds']:.1f} s" for k in keys),
        flush=True,
    )


# -- timing one run -----------------------------------------------------------


class Timing(NamedTuple):
    """Wall and CPU seconds of one run, and what the run returned."""

    seconds: float
    cpu_seconds: float
    result: Any


class MethodClock:
    """Counts the calls of ``keras.Model.<method>`` and the seconds spent in them.

    Says how much of a run one part takes: ``Model.fit`` (the training loop;
    what lies outside it is a wrapper's own work) or ``Model.predict`` (whose
    fixed cost per call adds up when a search scores many new models).
    :func:`timed` sets both figures to zero before each run.
    """

    def __init__(self, method: str) -> None:
        self.method = method
        self.calls = 0
        self.seconds = 0.0

    def install(self) -> MethodClock:
        """Wrap the method, for the rest of the process."""
        import keras

        original = getattr(keras.Model, self.method)

        # functools.wraps keeps the signature visible: bcsk reads
        # keras.Model.fit's to check the arguments it passes on.
        @functools.wraps(original)
        def clocked(model, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(model, *args, **kwargs)
            finally:
                self.calls += 1
                self.seconds += time.perf_counter() - start

        setattr(keras.Model, self.method, clocked)
        return self

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0


def timed(
    run: Callable[..., Any],
    seed: int = 0,
    *,
    setup: Callable[[], Any] | None = None,
    freeze_gc: bool = True,
    clocks: Sequence[MethodClock] = (),
) -> Timing:
    """Wall and CPU seconds of ``run()``, after the same reset as every run.

    ``setup``, if given, runs after the Keras session is cleared and before
    the collection, outside the timing; ``run`` receives what it returns (a
    fresh copy of a model, say, which then gets frozen with the rest).
    ``freeze_gc=False`` lets the run's collections scan every object the
    process holds (how the earliest fit-cost runs were timed).
    """
    import keras

    keras.backend.clear_session(free_memory=False)
    args = () if setup is None else (setup(),)
    gc.collect()
    if freeze_gc:
        gc.freeze()
    keras.utils.set_random_seed(seed)
    for clock in clocks:
        clock.reset()
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        result = run(*args)
        wall = time.perf_counter() - start
        return Timing(wall, time.process_time() - cpu, result)
    finally:
        if freeze_gc:
            gc.unfreeze()


def timed_record(run: Callable[[], dict | None], **options) -> dict:
    """:func:`timed` as a pair's entry: ``{"seconds", "cpu_seconds", **run()}``.

    ``options`` go to :func:`timed`; ``run`` returns a dict of what it
    wants recorded beside its times, or None.
    """
    timing = timed(run, **options)
    return {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        **(timing.result or {}),
    }


# -- the summary --------------------------------------------------------------


def ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    """The per-pair ratios ``top[i] / bottom[i]``."""
    return [float(a / b) for a, b in zip(top, bottom, strict=True)]


def median_interval(
    values: Sequence[float], level: float = 0.95
) -> tuple[float, float]:
    """Bootstrap interval of the median of ``values`` (percentile method, seeded).

    NaN with fewer than two values or identical ones: nothing to resample.
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2 or np.ptp(values) == 0:
        return float("nan"), float("nan")
    import scipy.stats

    interval = scipy.stats.bootstrap(
        (values,),
        np.median,
        confidence_level=level,
        n_resamples=N_RESAMPLES,
        method="percentile",
        random_state=np.random.default_rng(0),
    ).confidence_interval
    return float(interval.low), float(interval.high)


def ratio_summary(
    top: Sequence[float], bottom: Sequence[float], target: float | None = None
) -> dict:
    """Median of the per-pair ratios ``top / bottom`` and its 95 % interval.

    ``{"median", "low", "high", "target", "met", "ratios"}``; ``met`` says
    whether the median is at most ``target`` (None without a target).
    """
    values = ratios(top, bottom)
    median = float(np.median(values))
    low, high = median_interval(values)
    return {
        "median": median,
        "low": low,
        "high": high,
        "target": target,
        "met": None if target is None else bool(median <= target),
        "ratios": values,
    }


def pair_summary(
    records: list[dict], top: str, bottom: str, target: float | None = None
) -> dict:
    """:func:`ratio_summary` of ``top / bottom`` over the pairs of :func:`run_pairs`.

    Each entry of a record holds ``"seconds"`` and ``"cpu_seconds"`` (as
    :func:`timed_record` makes them); ``cpu_median`` is the median ratio of
    CPU seconds.
    """
    summary = ratio_summary(
        [r[top]["seconds"] for r in records],
        [r[bottom]["seconds"] for r in records],
        target,
    )
    cpu = ratios(
        [r[top]["cpu_seconds"] for r in records],
        [r[bottom]["cpu_seconds"] for r in records],
    )
    summary["cpu_median"] = float(np.median(cpu))
    return summary


# -- the machine --------------------------------------------------------------


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages; None where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine(**extra) -> dict:
    """Date, machine, versions and load average, stored with every result."""
    import keras
    import scipy
    import sklearn
    import tensorflow as tf

    import bcsk

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
        "scikeras": __import__("scikeras").__version__,
        "bcsk": getattr(bcsk, "__version__", "?"),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "load_average_start": load_average(),
        **extra,
    }


def closing_line(info: dict, started: float) -> str:
    """The load average at the start and end of a run, and its length."""
    return (
        f"load average start {info['load_average_start']}, end "
        f"{info['load_average_end']}; {time.perf_counter() - started:.0f} s in all"
    )


def write_json(path: Path, args, info: dict, **results) -> dict:
    """``{"args", "machine", **results}`` as JSON at ``path``; returns it."""
    report = {
        "args": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
        "machine": info,
        **results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float))
    print(f"wrote {path}")
    return report
