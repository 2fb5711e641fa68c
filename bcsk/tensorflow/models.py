"""BCML's Keras models that train with the backward-compatibility objective in ``fit``.

Both models override :meth:`keras.Model.compute_loss`, the Keras 3 hook for a
custom objective: ``train_step`` stays Keras' own, so metrics, callbacks,
``sample_weight``, ``class_weight``, distribution strategies and every backend
keep working. h1 is called once per step, in inference mode. They run on
every Keras backend; the module keeps BCML's name. The estimators' own models
(the reference-input and path models) are in ``bcsk._keras._models``.
"""

from __future__ import annotations

import keras

from bcsk._keras._models import BCObjectiveMixin
from bcsk.objective._dissonances import Dissonance

__all__ = ["BCCompatibilityModel", "BCNewErrorCompatibilityModel"]


@keras.saving.register_keras_serializable(package="bcsk")
class BCCompatibilityModel(BCObjectiveMixin, keras.Model):
    """Wrap any Keras model so that ``fit`` trains it to stay compatible with h1.

    In the manner of TF Model Remediation's ``MinDiffModel``: the wrapper calls
    the original model, forwards ``compile``/``fit``/``predict``, and adds the
    compatibility term to the loss given to ``compile``. The original model's
    weights are the ones trained; get it back with :attr:`original_model` or
    :meth:`save_original_model`.

    Parameters
    ----------
    original_model : keras.Model
        The new model h2 (functional, Sequential or subclassed). It must output
        class probabilities (or logits with a ``from_logits=True`` loss) in the
        same column order as h1.
    h1 : keras.Model
        The trained reference model. Never trained: its variables are not part
        of this model's weights.
    lambda_c : float, default=0.5
        Weight of the compatibility term, ``>= 0``.
    dissonance : str or Dissonance, default="new_error"
        What h2 pays for disagreeing with h1: a name (``"new_error"``,
        ``"strict_imitation"``, ``"focal_distillation"``,
        ``"logit_difference"``) or an object of :mod:`bcsk.objective` such as
        ``FocalDistillation(temperature=2)``. Saved with the model, parameters
        included.
    **kwargs
        Passed to :class:`keras.Model` (e.g. ``name``).

    Examples
    --------
    >>> import keras
    >>> h1 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> h2 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> model = BCCompatibilityModel(h2, h1=h1, lambda_c=0.7)
    >>> model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    >>> model.original_model is h2
    True
    """

    def __init__(
        self,
        original_model: keras.Model,
        h1: keras.Model | None = None,
        lambda_c: float = 0.5,
        dissonance: str | Dissonance = "new_error",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(original_model, keras.layers.Layer):
            raise TypeError(
                "original_model must be a Keras model, got "
                f"{type(original_model).__name__}."
            )
        self.original_model = original_model
        self._setup_compatibility(h1, lambda_c, dissonance)

    def call(self, inputs, training=None):
        """Run the original model."""
        return self.original_model(inputs, training=training)

    @property
    def outputs(self):
        """The original model's symbolic outputs (scikeras reads these)."""
        return getattr(self.original_model, "outputs", None)

    def save_original_model(self, filepath, **kwargs) -> None:
        """Save the trained model on its own, without h1 or the wrapper."""
        self.original_model.save(filepath, **kwargs)

    def get_config(self) -> dict:
        """Configuration for ``keras.saving`` (the original model and h1 included)."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "original_model": keras.saving.serialize_keras_object(self.original_model),
            "dissonance": keras.saving.serialize_keras_object(self._dissonance),
            **self._compatibility_config(),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the wrapper from :meth:`get_config`'s output."""
        config = dict(config)
        original_model = keras.saving.deserialize_keras_object(
            config.pop("original_model"), custom_objects=custom_objects
        )
        h1 = keras.saving.deserialize_keras_object(
            config.pop("h1"), custom_objects=custom_objects
        )
        dissonance = config.pop("dissonance", "new_error")
        if isinstance(dissonance, dict):  # a name (str) in files saved by bcsk 0.1
            dissonance = keras.saving.deserialize_keras_object(
                dissonance, custom_objects=custom_objects
            )
        return cls(original_model, h1=h1, dissonance=dissonance, **config)


@keras.saving.register_keras_serializable(package="bcsk")
class BCNewErrorCompatibilityModel(BCObjectiveMixin, keras.Sequential):
    """A ``keras.Sequential`` h2 trained with the new-error objective by ``fit``.

    BackwardCompatibilityML's model class, rebuilt on Keras 3: the compiled loss
    ``l`` becomes ``mean(l) + lambda_c * mean(c * l)``, where ``c`` marks the
    samples h1 predicts correctly. The reported ``loss`` is that objective.

    Parameters
    ----------
    layers : list of keras.layers.Layer, optional
        The layers of h2, as for :class:`keras.Sequential`.
    h1 : keras.Model
        The trained reference model. Required. Never trained.
    lambda_c : float, default=0.0
        Weight of the compatibility term, ``>= 0``. The default is BCML's; pass
        a positive value to get any compatibility.
    trainable : bool, default=True
        As for :class:`keras.Sequential`.
    name : str, optional
        As for :class:`keras.Sequential`.

    Examples
    --------
    >>> import keras
    >>> h1 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> h2 = BCNewErrorCompatibilityModel(
    ...     [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")],
    ...     h1=h1, lambda_c=0.7)
    >>> h2.lambda_c
    0.7
    """

    def __init__(
        self,
        layers=None,
        h1: keras.Model | None = None,
        lambda_c: float = 0.0,
        trainable: bool = True,
        name: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(layers=layers, trainable=trainable, name=name, **kwargs)
        self._setup_compatibility(h1, lambda_c, "new_error")

    def get_config(self) -> dict:
        """Configuration for ``keras.saving`` (h1 included)."""
        return {**super().get_config(), **self._compatibility_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the model from :meth:`get_config`'s output."""
        config = dict(config)
        h1 = keras.saving.deserialize_keras_object(
            config.pop("h1"), custom_objects=custom_objects
        )
        layers = [
            keras.saving.deserialize_keras_object(layer, custom_objects=custom_objects)
            for layer in config.pop("layers")
        ]
        build_input_shape = config.pop("build_input_shape", None)
        model = cls(
            layers,
            h1=h1,
            lambda_c=config["lambda_c"],
            trainable=config.get("trainable", True),
            name=config.get("name"),
        )
        if build_input_shape and not model.built:
            model.build(build_input_shape)
        return model
