"""scikit-learn's common checks on ``BCCompatibleClassifier`` and its CV path.

The checks build their own small datasets (2 or 3 classes, integer or string
labels, any number of features), so h1 here is a tiny fitted scikit-learn
classifier that works on every one of them: it knows the labels 0, 1 and 2,
always predicts the same prior, and has no ``n_features_in_`` (so it accepts
any width).
"""

import functools

import keras
import pytest
from _builders import PRIOR_H1, narrow_search
from sklearn.utils.estimator_checks import parametrize_with_checks

from bcsk import BCCompatibleClassifier, BCCompatibleClassifierCV


def build_tiny(meta):
    """One softmax layer, sized from the data scikeras saw."""
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


class Named(functools.partial):
    """A builder whose repr has no memory address.

    The test ids come from the estimator's repr; a function's repr holds its
    address, which differs between pytest-xdist workers (they then refuse to
    run). scikeras accepts functions and ``functools.partial`` objects only.
    """

    def __repr__(self):
        return f"{self.func.__name__}()"


def _estimator():
    return BCCompatibleClassifier(
        Named(build_tiny),
        h1=PRIOR_H1,
        lambda_c=0.5,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        batch_size=1024,
        random_state=0,
        run_eagerly=True,
    )


_POOR_LEARNER = (
    "the cheap configuration (one epoch, one batch of a one-layer network) is a "
    "deliberately poor learner and stays below the check's accuracy threshold; "
    "training quality, sample_weight and class_weight are tested exactly in "
    "test_estimator.py"
)

# Checks that fail for a reason that is not a bcsk bug. Known bcsk bugs are NOT
# listed here, so their checks fail until fixed: check_estimator_sparse_array
# and check_estimator_sparse_matrix (bcsk/_h1.py calls len() on a sparse X) and
# check_fit2d_1sample (the single-class message does not say "one class").
EXPECTED_FAILED_CHECKS = {
    "check_estimator_tags_renamed": (
        "inherited: scikeras' BaseWrapper defines _more_tags without "
        "__sklearn_tags__; the check walks the whole MRO, so bcsk's own "
        "__sklearn_tags__ cannot silence it"
    ),
    "check_mixin_order": (
        "inherited: KerasClassifier lists BaseWrapper (a BaseEstimator) before "
        "ClassifierMixin, and a subclass cannot put ClassifierMixin first "
        "(inconsistent MRO); bcsk sets the classifier tags in __sklearn_tags__ "
        "instead (is_classifier and stratified CV are tested in test_estimator.py)"
    ),
    "check_n_features_in_after_fitting": (
        "inherited: scikeras rejects a wrong width at predict with its own "
        "message ('X has shape (1,), but ... is expecting X of shape (4,)') "
        "instead of scikit-learn's 'X has 1 features'; the error is raised, only "
        "the wording differs"
    ),
    "check_supervised_y_2d": (
        "inherited: scikeras accepts a column y of shape (n, 1) and ravels it "
        "without a DataConversionWarning"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "Keras divides the weighted loss by the number of rows "
        "('sum_over_batch_size'), not by the sum of the weights, so a weight of 2 "
        "and a repeated row scale the gradient differently; after RMSprop (its "
        "epsilon) in float32 the probabilities differ by ~1e-4"
    ),
    "check_methods_sample_order_invariance": (
        "float32 inference: predicting a permuted batch can change the last bit "
        "(~6e-8) of some probabilities in some runs, above the check's "
        "rtol=1e-7; in other runs the check passes"
    ),
    "check_classifiers_train": _POOR_LEARNER,
    "check_class_weight_classifiers": _POOR_LEARNER,
    "check_classifiers_classes": (
        "the check trains on string labels ('one', 'two', 'three') that h1 has "
        "never seen, which is a documented ValueError ('None of the labels in y "
        "... is a class h1 knows'); string labels are tested in test_estimator.py"
    ),
}


def _path():
    return narrow_search(
        Named(build_tiny),
        h1=PRIOR_H1,
        lambda_cs=(0.0, 1.0),
        cv=2,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        batch_size=1024,
        random_state=0,
        run_eagerly=True,
    )


# BCCompatibleClassifierCV trains and refits BCCompatibleClassifier, so it
# inherits these of its expected failures, for the same reasons.
_INHERITED_BY_THE_PATH = (
    "check_n_features_in_after_fitting",
    "check_supervised_y_2d",
    "check_sample_weight_equivalence_on_dense_data",
    "check_classifiers_train",
    "check_classifiers_classes",
)
EXPECTED_FAILED_PATH_CHECKS = {
    name: "as for BCCompatibleClassifier, whose fits it runs: "
    + EXPECTED_FAILED_CHECKS[name]
    for name in _INHERITED_BY_THE_PATH
}


def _expected_failures(estimator):
    if isinstance(estimator, BCCompatibleClassifierCV):
        return EXPECTED_FAILED_PATH_CHECKS
    return EXPECTED_FAILED_CHECKS


# scikit-learn's sparse checks build a DOK matrix, which check_array warns about.
@pytest.mark.filterwarnings("ignore:Can't check dok sparse matrix:UserWarning")
@parametrize_with_checks(
    [_estimator(), _path()], expected_failed_checks=_expected_failures
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
