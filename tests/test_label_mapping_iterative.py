"""The iterative label map: the OT assignment rebuilt while theta trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import v2s_sklearn.classifier as classifier_module
from v2s_sklearn import V2SClassifier
from v2s_sklearn.label_mapping import (
    ITERATIVE_MAPPINGS,
    label_weights,
    mapping_matrix,
    ot_label_map,
)

from .conftest import FAST


def test_iterative_map_is_the_ot_assignment():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(10), size=12)
    y = np.arange(12) % 3
    weights, label_map = label_weights("iterative", proba, y, 3, per_class=3)
    expected = ot_label_map(proba, y, 3, 3)
    assert [m.tolist() for m in label_map] == [m.tolist() for m in expected]
    torch.testing.assert_close(weights, mapping_matrix(expected, 10))


@pytest.mark.parametrize("mapping", ["ot", *ITERATIVE_MAPPINGS])
def test_iterative_maps_are_rebuilt_every_epoch_from_the_current_theta(
        gunpoint, monkeypatch, mapping):
    X, y, X_test, _ = gunpoint
    calls = []

    def spy(name, source_proba, *args):
        result = label_weights(name, source_proba, *args)
        calls.append((source_proba.copy(), result[0].clone()))
        return result

    monkeypatch.setattr(classifier_module, "label_weights", spy)
    params = {**FAST, "max_epochs": 4, "n_iter_no_change": None, "input_scaling": None}
    clf = V2SClassifier(label_mapping=mapping, **params).fit(X, y)
    if mapping == "ot":
        assert len(calls) == 1  # fixed before training
    else:
        assert len(calls) == params["max_epochs"]  # once up front, then every later epoch
        assert not np.allclose(calls[0][0], calls[-1][0])  # theta moved the probabilities
    # The kept map is the one in force at the kept epoch.
    kept = calls[clf.best_epoch_ - 1 if mapping != "ot" else 0][1]
    np.testing.assert_allclose(clf.label_weights_, kept.numpy(), rtol=1e-6)
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_fitted_weights_match_the_named_labels_of_a_many_to_one_map(italy):
    X, y = italy
    clf = V2SClassifier(label_mapping="iterative", labels_per_class=3, **FAST).fit(X, y)
    index = {name: k for k, name in enumerate(clf.source_classes_)}
    named = [np.array([index[n] for n in clf.label_map_[c]]) for c in clf.classes_]
    np.testing.assert_allclose(clf.label_weights_,
                               mapping_matrix(named, len(index)).numpy())


def test_prediction_applies_the_fitted_label_weights(italy):
    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    # Weights that give every source label to both classes equally say nothing.
    clf.label_weights_ = np.full_like(clf.label_weights_, 0.5)
    np.testing.assert_allclose(clf.predict_proba(X), 0.5, atol=1e-6)
