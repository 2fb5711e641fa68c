"""Peak memory of one fit on 100,000 x 784 float32: plain Keras against bcsk.

Each contender runs in a fresh Python process, which imports TensorFlow, makes
``X`` (float32, made in place: no float64 copy) and ``y``, builds h1, and then
fits once (1 epoch, batch 256, one hidden layer of 64). Reported per contender:

* ``peak``: ``ru_maxrss`` of the process at the end (MiB);
* ``before``: the resident set just before the fit (TensorFlow, X, y, h1);
* ``fit``: ``peak - before``, the fit's own increase.

The ratios compare each contender with plain Keras (build + compile + fit).
A sampling thread records the resident set every 5 ms with a label for the
phase the fit is in (scikeras validation, h1's inference, Keras' fit), so the
report says where a contender's extra memory goes.

Run::

    python benchmarks/bench_memory.py                 # all contenders
    python benchmarks/bench_memory.py --n 20000       # smaller, faster
    python benchmarks/bench_memory.py --only keras bcsk-model-new_error
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import threading
import time

TARGET_RATIO = 1.2
N_FEATURES, N_CLASSES, HIDDEN, BATCH = 784, 10, 64, 256
CONTENDERS = {
    "keras": "plain Keras: build, compile, fit",
    "scikeras": "scikeras KerasClassifier.fit (no h1)",
    "bcsk-model-new_error": "BCCompatibleClassifier, new_error, Keras h1",
    "bcsk-model-strict_imitation": "BCCompatibleClassifier, strict_imitation",
    "bcsk-bc_fit-new_error": "BCCompatibleClassifier, method='bc_fit'",
}


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Sampler(threading.Thread):
    """Polls the resident set; ``phase`` labels the samples taken under it."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval, self.phase, self.peaks = interval, "setup", {}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            value = rss_mib()
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), value)
            time.sleep(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def child(name: str, n: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    from _data import build_mlp

    # Every contender builds the same network, from these sizes.
    build = functools.partial(
        build_mlp, {"n_features_in_": N_FEATURES, "n_classes_": N_CLASSES}, HIDDEN
    )

    after_import = rss_mib()
    rng = np.random.default_rng(0)
    X = rng.random((n, N_FEATURES), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, size=n)
    keras.utils.set_random_seed(1)
    h1 = build()  # untrained: its outputs are probabilities, that is enough
    h1(X[:1])
    sampler = Sampler()
    wrap_phases(sampler)
    before, peak_before = rss_mib(), peak_mib()
    sampler.start()
    sampler.phase = "other"  # whatever the wrapped functions below do not label
    start = time.perf_counter()
    if name == "keras":
        model = build()
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        sampler.phase = "keras fit"
        model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
    elif name == "scikeras":
        from scikeras.wrappers import KerasClassifier

        KerasClassifier(
            build,
            loss="sparse_categorical_crossentropy",
            optimizer="adam",
            batch_size=BATCH,
            epochs=1,
            verbose=0,
        ).fit(X, y)
    else:
        from bcsk import BCCompatibleClassifier

        _, method, dissonance = name.split("-")
        BCCompatibleClassifier(
            build,
            h1=h1,
            lambda_c=0.5,
            dissonance=dissonance,
            method=method,
            loss="sparse_categorical_crossentropy",
            optimizer="adam",
            batch_size=BATCH,
            epochs=1,
        ).fit(X, y)
    seconds = time.perf_counter() - start
    sampler.stop()
    return {
        "name": name,
        "n": n,
        "after_import": after_import,
        "before": before,
        "peak_before_fit": peak_before,
        "peak": peak_mib(),
        "seconds": seconds,
        "phases": sampler.peaks,
        "X_mib": X.nbytes / 2**20,
    }


def wrap_phases(sampler: Sampler) -> None:
    """Label the sampler's phases by wrapping the functions a fit goes through.

    Instrumentation for this benchmark only; nothing is changed in behaviour.
    """
    import keras

    def labelled(owner, attribute, phase):
        original = getattr(owner, attribute)

        # functools.wraps keeps the signature visible: bcsk reads
        # keras.Model.fit's to check the arguments it passes on.
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            previous, sampler.phase = sampler.phase, phase
            try:
                return original(*args, **kwargs)
            finally:
                sampler.phase = previous

        setattr(owner, attribute, wrapper)

    labelled(keras.Model, "fit", "keras fit")
    try:
        from scikeras.wrappers import BaseWrapper

        from bcsk import _h1
        from bcsk.tensorflow import helpers

        labelled(BaseWrapper, "_validate_data", "scikeras validation")
        labelled(BaseWrapper, "_build_keras_model", "build h2")
        labelled(_h1, "h1_outputs", "h1 inference")
        labelled(helpers, "bc_fit", "bc_fit loop")
    except ImportError:
        pass


def run_child(name: str, n: int) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", name, "--n", str(n)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
    line = completed.stdout.strip().splitlines()[-1]
    return json.loads(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", choices=sorted(CONTENDERS))
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n)))
        return

    names = args.only or list(CONTENDERS)
    if "keras" not in names:
        names = ["keras", *names]
    results = {name: run_child(name, args.n) for name in names}
    base = results["keras"]
    base_fit = base["peak"] - base["before"]
    print(
        f"X: {args.n:,} x {N_FEATURES} float32 = {base['X_mib']:.0f} MiB; "
        f"1 epoch, batch {BATCH}, Dense({HIDDEN}); MiB, fresh process each"
    )
    print(
        f"{'contender':30} {'before':>7} {'peak':>7} {'fit':>7} "
        f"{'peak/keras':>10} {'fit/keras':>9} {'time s':>7}"
    )
    for name, r in results.items():
        fit = r["peak"] - r["before"]
        print(
            f"{name:30} {r['before']:7.0f} {r['peak']:7.0f} {fit:7.0f} "
            f"{r['peak'] / base['peak']:10.2f} {fit / base_fit:9.2f} "
            f"{r['seconds']:7.1f}"
        )
    print("\nresident-set peak by phase (MiB above 'before'):")
    for name, r in results.items():
        phases = ", ".join(
            f"{phase} {value - r['before']:+.0f}"
            for phase, value in sorted(r["phases"].items(), key=lambda kv: kv[1])
        )
        print(f"  {name:28} {phases}")
    main_ratio = (
        results["bcsk-model-new_error"]["peak"] / base["peak"]
        if "bcsk-model-new_error" in results
        else None
    )
    if main_ratio is not None:
        verdict = "within" if main_ratio <= TARGET_RATIO else "OVER"
        print(
            f"\nbcsk (new_error) peak / plain Keras peak = {main_ratio:.2f}x "
            f"({verdict} the {TARGET_RATIO}x target)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
