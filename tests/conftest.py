"""Shared fixtures: small slices of real datasets that sktime ships."""

from __future__ import annotations

import numpy as np
import pytest

from v2s_sklearn.datasets import load_dataset

# Small but real settings: few epochs on the built-in acoustic model.
FAST = dict(max_epochs=3, batch_size=16, validation_fraction=0.0, random_state=0)


def _stratified_head(X, y, per_class):
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    return X[keep], y[keep]


@pytest.fixture(scope="session")
def gunpoint():
    """12 training and 20 test series of GunPoint (length 150, 2 classes)."""
    X_train, y_train = _stratified_head(*load_dataset("GunPoint", "train"), 6)
    X_test, y_test = _stratified_head(*load_dataset("GunPoint", "test"), 10)
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="session")
def italy():
    """ItalyPowerDemand (length 24, 2 classes): 20 training series."""
    X, y = _stratified_head(*load_dataset("ItalyPowerDemand", "train"), 10)
    return X, y


@pytest.fixture(scope="session")
def basic_motions():
    """BasicMotions (6 channels, length 100, 4 classes): 8 training series."""
    X, y = _stratified_head(*load_dataset("BasicMotions", "train"), 2)
    return X, y
