"""input_scaling: per-time-point centring or standardisation learned in fit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from v2s_sklearn import V2SClassifier
from v2s_sklearn.classifier import AUTO_SCALINGS
from v2s_sklearn.explain import saliency

from .conftest import FAST


def test_standard_scaling_is_a_standard_scaler_in_front(gunpoint):
    X, y, X_test, _ = gunpoint
    clf = V2SClassifier(input_scaling="standard", **FAST).fit(X, y)
    np.testing.assert_allclose(clf.input_mean_[0], X.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.input_scale_[0], X.std(axis=0), rtol=1e-5)

    pipeline = make_pipeline(StandardScaler(), V2SClassifier(input_scaling=None, **FAST)).fit(
        X.astype(np.float32), y)
    np.testing.assert_allclose(clf.predict_proba(X_test),
                               pipeline.predict_proba(X_test.astype(np.float32)), atol=1e-3)

    # Saliency is w.r.t. the values as given: the scaled input's gradient over the scale.
    inner = pipeline[-1]
    scaled = pipeline[0].transform(X_test.astype(np.float32))
    np.testing.assert_allclose(saliency(clf, X_test, times_input=False),
                               saliency(inner, scaled, times_input=False) / X.std(axis=0),
                               rtol=0.05, atol=1e-6)


def test_center_only_subtracts_the_mean_and_none_changes_nothing(italy):
    X, y = italy
    centred = V2SClassifier(input_scaling="center", **FAST).fit(X, y)
    np.testing.assert_allclose(centred.input_mean_[0], X.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert (centred.input_scale_ == 1).all()
    plain = V2SClassifier(input_scaling=None, **FAST).fit(X, y)
    assert (plain.input_mean_ == 0).all() and (plain.input_scale_ == 1).all()
    assert not np.allclose(centred.predict_proba(X), plain.predict_proba(X))


def test_unknown_scaling_is_refused(italy):
    X, y = italy
    with pytest.raises(ValueError, match="'input_scaling' parameter"):
        V2SClassifier(input_scaling="minmax", **FAST).fit(X, y)


@pytest.mark.parametrize("validation_fraction", [0.0, 0.25])
def test_auto_keeps_the_candidate_of_lower_monitored_loss(gunpoint, validation_fraction):
    X, y, X_test, _ = gunpoint
    params = {**FAST, "validation_fraction": validation_fraction}
    auto = V2SClassifier(**params).fit(X, y)
    assert auto.input_scaling == "auto"  # the parameter is left as given
    assert set(auto.input_scaling_losses_) == set(AUTO_SCALINGS)
    losses = auto.input_scaling_losses_
    assert auto.input_scaling_ == min(losses, key=losses.get)

    # The kept fit is the fit of that scaling alone, with the same seed.
    alone = V2SClassifier(input_scaling=auto.input_scaling_, **params).fit(X, y)
    np.testing.assert_array_equal(auto.theta_, alone.theta_)
    np.testing.assert_allclose(auto.predict_proba(X_test), alone.predict_proba(X_test))
    assert auto.best_epoch_ == alone.best_epoch_
    assert [r["train_loss"] for r in auto.history_] == [r["train_loss"] for r in alone.history_]
    other = next(s for s in AUTO_SCALINGS if s != auto.input_scaling_)
    rival = V2SClassifier(input_scaling=other, **params).fit(X, y)
    assert losses[other] == pytest.approx(rival.best_loss_)
