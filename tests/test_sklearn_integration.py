"""V2SClassifier inside scikit-learn: clone, params, Pipeline, search, CV, conformance."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from v2s_sklearn import V2SClassifier
from v2s_sklearn.acoustic import DEFAULT_MODEL

from .conftest import FAST


def z_normalise(X):
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=1, keepdims=True)) / (X.std(axis=1, keepdims=True) + 1e-8)


def test_clone_and_params_round_trip():
    clf = V2SClassifier(n_segments=3, dropout=0.2, random_state=4)
    params = clf.get_params()
    assert params["n_segments"] == 3 and params["acoustic_model"] == DEFAULT_MODEL
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    assert twin.set_params(n_segments=5).n_segments == 5 and clf.n_segments == 3


def test_pipeline(italy):
    X, y = italy
    pipe = make_pipeline(FunctionTransformer(z_normalise), V2SClassifier(**FAST))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == y.shape
    # The pipeline's estimator saw the transformed series: fitted alone on them, with
    # the same seed, it predicts the same.
    alone = V2SClassifier(**FAST).fit(z_normalise(X), y)
    np.testing.assert_array_equal(pipe.predict_proba(X), alone.predict_proba(z_normalise(X)))
    assert pipe.score(X, y) == np.mean(alone.predict(z_normalise(X)) == y)


def test_grid_search_over_the_papers_hyperparameters(italy):
    X, y = italy
    search = GridSearchCV(V2SClassifier(**{**FAST, "max_epochs": 1}),
                          {"dropout": [0.0, 0.2], "n_segments": [1, 2]},
                          cv=StratifiedKFold(2), refit=True)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["dropout"] in (0.0, 0.2)
    assert search.best_estimator_.n_segments == search.best_params_["n_segments"]


def test_cross_val_score_in_two_processes(italy):
    X, y = italy
    scores = cross_val_score(V2SClassifier(**{**FAST, "max_epochs": 1}), X, y,
                             cv=StratifiedKFold(2), n_jobs=2)
    # Two processes give what one gives: seeded fits do not depend on where they run.
    serial = cross_val_score(V2SClassifier(**{**FAST, "max_epochs": 1}), X, y,
                             cv=StratifiedKFold(2), n_jobs=1)
    assert scores.shape == (2,)
    np.testing.assert_array_equal(scores, serial)


# Small but real settings for scikit-learn's conformance suite: every check
# passes, none is declared an expected failure. The two batch-invariance checks
# (rtol=1e-7) pass because prediction scores fixed-size chunks (v2s_sklearn.inference).
# input_scaling=None: one fit per check rather than the two of "auto" (tested on its own).
CHECKED = V2SClassifier(max_epochs=1, batch_size=128, validation_fraction=0.0,
                        input_scaling=None, random_state=0)


# The feature head (readout="features") is its own path to the probabilities: checked too.
CHECKED_FEATURES = V2SClassifier(max_epochs=1, batch_size=128, validation_fraction=0.0,
                                 input_scaling=None, readout="features", random_state=0)


@parametrize_with_checks([CHECKED, CHECKED_FEATURES])
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_predictions_do_not_depend_on_the_batch(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**FAST).fit(X_train, y_train)
    full = clf.predict_proba(X_test)
    order = np.random.default_rng(0).permutation(len(X_test))
    pieces = np.concatenate([clf.predict_proba(X_test[order[i:i + 3]])
                             for i in range(0, len(X_test), 3)])
    # float64 prediction: the batch a series is scored in moves it by ~1e-16.
    np.testing.assert_allclose(pieces, full[order], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(clf.predict(X_test[order]), clf.predict(X_test)[order])
