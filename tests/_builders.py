"""Model builders for estimators that are fitted or loaded in another process.

A dask worker or a fresh interpreter unpickles the estimator and finds its
builder by module and name, so the builder must live at module level in a
module that process can import. The tests put this folder on ``sys.path``
(dask's spawned workers inherit the parent's ``sys.path``; a subprocess gets
``PYTHONPATH``).
"""

import keras


def build_mlp(meta, hidden=16, seed=None):
    """One hidden ReLU layer and a softmax output, sized from scikeras' ``meta``.

    With ``seed=None`` the initializers are unseeded: the initial weights come
    from Python's global ``random`` module, which scikeras seeds from
    ``random_state``. On a dask worker, other threads draw from that same
    generator while the model is built (the worker's communication samples
    data with ``random.randint`` to decide on compression), so the initial
    weights depend on timing there; pass a ``seed`` (``model__seed=0``) for
    fits that must be reproducible on a cluster.
    """
    initializers = [
        keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)
        for i in range(2)
    ]
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(
                hidden, activation="relu", kernel_initializer=initializers[0]
            ),
            keras.layers.Dense(
                meta["n_classes_"],
                activation="softmax",
                kernel_initializer=initializers[1],
            ),
        ]
    )
