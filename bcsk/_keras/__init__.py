"""The Keras side of bcsk's own training: models, state, backends, registration.

Private: the models bcsk's estimators train (:mod:`._models`), training state
(:mod:`._state`), the differences between Keras backends (:mod:`._backend`),
the ensemble model (:mod:`._ensemble`, public as :class:`bcsk.MeanEnsemble`)
and the registration that lets ``keras.models.load_model`` find bcsk's classes
(:mod:`._registration`). This ``__init__`` imports nothing: ``import bcsk``
imports the registration without importing Keras.
"""
