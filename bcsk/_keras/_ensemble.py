"""``MeanEnsemble``: several trained networks served as one Keras model.

An ensemble of h2 (``BCCompatibleClassifier(n_members=5)``) is trained in one
Keras model (the path model of :mod:`bcsk._keras._models`), each member
with its own objective; what is kept and served afterwards is this model: the
mean of the members' probabilities. Each member stays a plain Keras model,
reachable as :attr:`MeanEnsemble.members`, to inspect it or to serve it alone.

Backend-neutral (``keras.ops`` only), and registered with Keras, so one
``.keras`` file holds the members and loads after a bare ``import bcsk``.
"""

from __future__ import annotations

import keras

from bcsk.objective import _outputs

__all__ = ["MeanEnsemble"]


@keras.saving.register_keras_serializable(package="bcsk")
class MeanEnsemble(keras.Model):
    """The mean of several models' outputs.

    Parameters
    ----------
    members : list of keras.Model
        Models with the same input and the same output width, each giving
        class probabilities (softmax rows, or one sigmoid unit).
    **kwargs
        Passed to :class:`keras.Model` (e.g. ``name``).

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> members = [
    ...     keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    ...     for _ in range(2)
    ... ]
    >>> ensemble = MeanEnsemble(members)
    >>> x = np.ones((2, 4), dtype="float32")
    >>> mean = (members[0].predict(x, verbose=0) + members[1].predict(x, verbose=0)) / 2
    >>> bool(np.allclose(ensemble.predict(x, verbose=0), mean))
    True
    """

    def __init__(self, members, **kwargs) -> None:
        super().__init__(**kwargs)
        members = list(members)
        if not members or not all(isinstance(m, keras.layers.Layer) for m in members):
            raise TypeError(
                "members must be a non-empty list of Keras models; got "
                f"{[type(m).__name__ for m in members]}."
            )
        self.members = members
        # compile(loss={"out1": ...}) matches the members' output names.
        _outputs.share_output_names(self, members[0])

    def call(self, inputs, training=None):
        """The mean of the members' outputs on ``inputs`` (output by output)."""
        outputs = [member(inputs, training=training) for member in self.members]
        return _outputs.mean_of_outputs(outputs)

    def build(self, input_shape) -> None:
        """Build the members that are not built yet."""
        for member in self.members:
            if not member.built:
                member.build(input_shape)
        self.built = True

    # scikeras replaces keras.Model.__reduce__ and __deepcopy__ process-wide,
    # and its versions re-register the class under another name ("" + ">" +
    # the class name) before saving, so that a pickled ensemble, and every
    # later save in the process, names a class that no other process knows.
    # Keras' own pickling (that of every Layer) keeps the registered name.
    def __reduce__(self):
        return keras.layers.Layer.__reduce__(self)

    def __deepcopy__(self, memo):
        function, args = self.__reduce__()
        copy = function(*args)
        memo[id(self)] = copy
        return copy

    def get_config(self) -> dict:
        """Configuration for ``keras.saving`` (the members included)."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "members": [keras.saving.serialize_keras_object(m) for m in self.members],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the ensemble from :meth:`get_config`'s output."""
        config = dict(config)
        members = [
            keras.saving.deserialize_keras_object(m, custom_objects=custom_objects)
            for m in config.pop("members")
        ]
        return cls(members, **config)
