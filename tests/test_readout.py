"""The readout: classes through the label map alone, or through the map and a feature head."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.label_mapping import target_log_proba
from v2s_sklearn.readout import (
    FEATURES_LEARNING_RATE,
    FEATURES_MIN_CLASSES,
    FEATURES_WEIGHT_DECAY,
    FeatureHead,
    class_log_proba,
)

from .conftest import FAST, _stratified_head


@pytest.fixture(scope="module")
def acsf1():
    """ACSF1 (10 classes, length 1,460): 3 training series per class."""
    X, y = _stratified_head(*load_dataset("ACSF1", "train"), 3)
    return X, y


def test_auto_adds_the_feature_head_from_ten_classes(acsf1):
    X, y = acsf1
    assert len(np.unique(y)) == FEATURES_MIN_CLASSES
    clf = V2SClassifier(**FAST).fit(X, y)
    assert clf.readout_ == "features"
    n_classes, n_pooled = clf.feature_weights_.shape
    assert n_classes == 10 and n_pooled > 0
    assert clf.feature_intercept_.shape == (10,)
    assert clf.feature_mean_.shape == clf.feature_scale_.shape == (n_pooled,)
    assert (clf.feature_scale_ > 0).all()
    # The head starts at zero and trains with theta.
    assert np.abs(clf.feature_weights_).max() > 0
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Batch-invariant, as the map alone is.
    np.testing.assert_array_equal(clf.predict_proba(X[:4]), proba[:4])


def test_auto_below_ten_classes_is_the_papers_readout(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    auto = V2SClassifier(**FAST).fit(X_train, y_train)
    labels = V2SClassifier(**FAST, readout="labels").fit(X_train, y_train)
    assert auto.readout_ == labels.readout_ == "labels"
    assert auto.feature_weights_ is None and auto.feature_mean_ is None
    np.testing.assert_array_equal(auto.predict_proba(X_test), labels.predict_proba(X_test))


def test_features_can_be_asked_for_with_two_classes(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**FAST, readout="features").fit(X_train, y_train)
    assert clf.readout_ == "features" and clf.feature_weights_.shape[0] == 2
    proba = clf.predict_proba(X_test)
    # The head moves the probabilities away from what the map alone gives.
    logits = torch.from_numpy(clf.source_logits(X_test))
    map_only = target_log_proba(logits, torch.tensor(clf.label_weights_)).exp().numpy()
    assert np.abs(proba - map_only).max() > 1e-6
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), proba)


def test_features_need_a_model_that_exposes_pooled_activations(gunpoint, acsf1):
    X_train, y_train, _, _ = gunpoint
    with pytest.raises(ValueError, match="pooled activations.*readout='labels'"):
        V2SClassifier(**FAST, acoustic_model="v2sa-synth", readout="features").fit(
            X_train, y_train)
    # "auto" falls back to the map for such a model, whatever the number of classes.
    X, y = acsf1
    clf = V2SClassifier(**{**FAST, "max_epochs": 1}, acoustic_model="v2sa-synth",
                        n_segments=1).fit(X[:, :1000], y)
    assert clf.readout_ == "labels" and clf.feature_weights_ is None


def test_a_zero_head_leaves_the_maps_probabilities():
    torch.manual_seed(0)
    logits, pooled = torch.randn(5, 35), torch.randn(5, 12)
    matrix = torch.zeros(3, 35)
    matrix[0, :11], matrix[1, 11:22], matrix[2, 22:33] = 1 / 11, 1 / 11, 1 / 11
    head = FeatureHead(12, 3).eval()
    head.set_standardisation(pooled)
    torch.testing.assert_close(class_log_proba(logits, pooled, matrix, head),
                               target_log_proba(logits, matrix))
    # A constant activation is standardised with a floor on its scale, not by zero.
    flat = torch.ones(5, 12)
    head.set_standardisation(flat)
    assert torch.isfinite(head.scale).all() and (head.scale > 0).all()


def test_the_head_trains_with_its_own_step(acsf1):
    X, y = acsf1
    made = []

    class Spy(V2SClassifier):
        def initialize_optimizer(self, parameters):
            made.append(super().initialize_optimizer(parameters))
            return made[-1]

    Spy(**FAST, input_scaling=None, learning_rate=0.05).fit(X, y)
    (optimizer,) = made
    theta_group, head_group = optimizer.param_groups
    assert theta_group["params"][0].shape == (16000,) and theta_group["lr"] == 0.05
    assert head_group["lr"] == FEATURES_LEARNING_RATE
    assert head_group["weight_decay"] == FEATURES_WEIGHT_DECAY


def test_analysis_sees_the_probabilities_prediction_gives(gunpoint):
    """The analysis network (float64, waveform path) with the fitted head gives what
    predict_log_proba gives, and explanations differentiate through the head."""
    import copy

    from v2s_sklearn.explain import saliency

    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**FAST, readout="features").fit(X_train, y_train)
    network = clf.reprogrammed_network()
    x = torch.from_numpy(clf.network_input(X_test[:6])).double()
    with torch.no_grad():
        logits, pooled = network(x, pooled=True)
        log_proba = class_log_proba(logits, pooled, torch.tensor(clf.label_weights_),
                                    clf.readout_head())
    np.testing.assert_allclose(log_proba.numpy(), clf.predict_log_proba(X_test[:6]),
                               atol=1e-4)
    without_head = copy.deepcopy(clf)
    without_head.feature_weights_ = None
    assert without_head.readout_head() is None
    assert not np.allclose(saliency(clf, X_test[:3]), saliency(without_head, X_test[:3]))


class PooledModule(torch.nn.Module):
    """A tiny custom source that exposes pooled activations (``features`` and
    ``classify_pooled``), as ``examples/silero_source.py`` does for silero-vad."""

    class_names = [f"word_{i}" for i in range(6)]
    input_length = 16000

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, 4, 400, stride=160)
        self.head = torch.nn.Linear(4, 6)

    def features(self, waveform):
        return waveform

    def classify_pooled(self, waveform):
        h = torch.relu(self.conv(waveform[:, None, :]))
        return self.head(h.mean(2)), torch.cat([h.mean(2), h.amax(2)], dim=1)

    def forward(self, waveform):
        return self.classify_pooled(waveform)[0]


def test_a_custom_module_with_pooled_activations_gets_the_head(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**FAST, acoustic_model=PooledModule(), readout="features").fit(
        X_train, y_train)
    assert clf.readout_ == "features" and clf.feature_weights_.shape == (2, 8)
    np.testing.assert_allclose(clf.predict_proba(X_test).sum(axis=1), 1.0)
