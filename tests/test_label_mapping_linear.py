"""The linear label map: class logits a trained linear function of the source logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier
from v2s_sklearn.explain import saliency
from v2s_sklearn.label_mapping import (
    class_log_proba,
    label_weights,
    mapping_matrix,
    ot_label_map,
    target_log_proba,
)

from .conftest import FAST


def test_class_log_proba_without_bias_is_the_averaging_map():
    logits = torch.randn(5, 8)
    matrix = mapping_matrix([np.array([0, 3]), np.array([1, 2, 7])], 8)
    torch.testing.assert_close(class_log_proba(logits, matrix), target_log_proba(logits, matrix))


def test_class_log_proba_with_bias_is_a_softmax_of_linear_logits():
    logits = torch.randn(5, 8)
    weights, bias = torch.randn(3, 8), torch.randn(3)
    log_proba = class_log_proba(logits, weights, bias)
    expected = torch.log_softmax(logits @ weights.T + bias, dim=1)
    torch.testing.assert_close(log_proba, expected)
    torch.testing.assert_close(log_proba.exp().sum(1), torch.ones(5))


def test_linear_map_starts_from_the_ot_assignment():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(10), size=12)
    y = np.arange(12) % 3
    weights, label_map = label_weights("linear", proba, y, 3, per_class=2)
    expected = ot_label_map(proba, y, 3, 2)
    assert [m.tolist() for m in label_map] == [m.tolist() for m in expected]
    torch.testing.assert_close(weights, mapping_matrix(expected, 10))


def test_linear_map_trains_with_theta_and_predicts_with_what_it_learned(gunpoint):
    X, y, X_test, _ = gunpoint
    params = {**FAST, "input_scaling": None}
    fixed = V2SClassifier(label_mapping="ot", **params).fit(X, y)
    learned = V2SClassifier(label_mapping="linear", **params).fit(X, y)
    assert fixed.label_bias_ is None
    assert learned.label_bias_.shape == (2,)
    # Same seed, same start (the OT map); training moved the map's weights.
    start = mapping_matrix([np.array([fixed.source_classes_.index(name) for name in labels])
                            for labels in fixed.label_map_.values()],
                           len(fixed.source_classes_)).numpy()
    assert fixed.label_map_ == learned.label_map_
    assert np.abs(learned.label_weights_ - start).max() > 1e-3
    assert np.abs(learned.label_bias_).max() > 1e-4
    assert np.abs(learned.theta_).max() > 0

    # Prediction applies the learned weights and bias to the reprogrammed logits.
    network, _, _ = learned._fitted_network(spectral=False)
    with torch.inference_mode():
        logits = network(torch.from_numpy(learned._scale(learned._check_X(X_test))))
    expected = torch.softmax(
        logits.double() @ torch.from_numpy(learned.label_weights_).T
        + torch.from_numpy(learned.label_bias_), dim=1).numpy()
    np.testing.assert_allclose(learned.predict_proba(X_test), expected, atol=1e-5)


def test_linear_map_bias_changes_predictions(italy):
    X, y = italy
    clf = V2SClassifier(label_mapping="linear", **FAST).fit(X, y)
    clf.label_weights_ = np.zeros_like(clf.label_weights_)
    clf.label_bias_ = np.array([0.0, np.log(3.0)])  # class 1 three times as likely
    np.testing.assert_allclose(clf.predict_proba(X), np.tile([0.25, 0.75], (len(X), 1)),
                               atol=1e-6)
    assert (clf.predict(X) == clf.classes_[1]).all()


def test_saliency_goes_through_the_linear_map(italy):
    X, y = italy
    clf = V2SClassifier(label_mapping="linear", **FAST).fit(X, y)
    grads = saliency(clf, X[:4])
    assert grads.shape == (4, X.shape[1])
    assert np.isfinite(grads).all() and np.abs(grads).max() > 0


@pytest.mark.parametrize("bad", ["Linear", "learned"])
def test_unknown_mapping_names_list_linear(italy, bad):
    X, y = italy
    with pytest.raises(ValueError, match="linear"):
        V2SClassifier(label_mapping=bad, **FAST).fit(X, y)
