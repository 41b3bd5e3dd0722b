"""resample_length: long series are shrunk before they are scaled and placed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.explain import class_activation_map, saliency
from v2s_sklearn.resampling import (
    AUTO_ABOVE,
    AUTO_LENGTH,
    placed_length,
    resample,
    to_input_length,
)

from .conftest import FAST, _stratified_head


@pytest.fixture(scope="module")
def osuleaf():
    """OSULeaf (427 points, 6 classes): 3 training series per class."""
    return _stratified_head(*load_dataset("OSULeaf", "train"), 3)


def test_the_auto_rule():
    assert placed_length(AUTO_ABOVE, "auto") == AUTO_ABOVE
    assert placed_length(AUTO_ABOVE + 1, "auto") == AUTO_LENGTH
    assert placed_length(500, None) == 500
    assert placed_length(500, 64) == 64 and placed_length(50, 64) == 50


def test_long_series_are_resampled_and_predicted_at_their_own_length(osuleaf):
    X, y = osuleaf
    clf = V2SClassifier(**FAST).fit(X, y)
    assert (clf.n_timepoints_, clf.placed_length_) == (427, AUTO_LENGTH)
    assert clf.input_mean_.shape == (1, AUTO_LENGTH)
    assert clf.network_input(X[:2]).shape == (2, 1, AUTO_LENGTH)
    assert clf.network_input(X[:2], scale=False, resample=False).shape == (2, 1, 427)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="427"):
        clf.predict(X[:, :AUTO_LENGTH])
    # Explanations come back on the series' own points.
    assert saliency(clf, X[:2]).shape == class_activation_map(clf, X[:2]).shape == (2, 427)


def test_none_places_series_as_given_and_short_series_are_untouched(osuleaf, gunpoint):
    X, y = osuleaf
    clf = V2SClassifier(**FAST, resample_length=None).fit(X, y)
    assert clf.placed_length_ == clf.n_timepoints_ == 427
    X_train, y_train, _, _ = gunpoint
    auto = V2SClassifier(**FAST).fit(X_train, y_train)
    off = V2SClassifier(**FAST, resample_length=None).fit(X_train, y_train)
    assert auto.placed_length_ == 150
    np.testing.assert_array_equal(auto.predict_proba(X_train), off.predict_proba(X_train))


def test_an_int_length_applies_to_the_validation_series_too(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    clf = V2SClassifier(**{**FAST, "validation_fraction": 0.1}, resample_length=64).fit(
        X_train, y_train, X_val=X_test[:6], y_val=y_test[:6])
    assert clf.placed_length_ == 64 and np.isfinite(clf.best_loss_)
    assert clf.predict(X_test).shape == (len(X_test),)


def test_area_resampling_keeps_means_and_padding():
    X = np.arange(12, dtype=np.float32).reshape(1, 1, 12)
    np.testing.assert_array_equal(resample(X, 4)[0, 0], [1, 4, 7, 10])
    padded = X.copy()
    padded[..., 9:] = np.nan  # unequal-length padding (the sktime adapter)
    out = resample(padded, 4)[0, 0]
    assert np.isfinite(out[:3]).all() and np.isnan(out[3])
    x = torch.from_numpy(X).requires_grad_()
    resample(x, 4).sum().backward()  # differentiable, for explanations
    np.testing.assert_allclose(x.grad.numpy(), 1 / 3)


def test_maps_spread_back_keep_their_sums_when_asked():
    values = np.random.default_rng(0).random((2, 1, 16))
    back = to_input_length(values, 64, keep_sums=True)
    assert back.shape == (2, 1, 64)
    np.testing.assert_allclose(back.sum(axis=-1), values.sum(axis=-1), rtol=0.05)
    assert to_input_length(values, 16) is values
