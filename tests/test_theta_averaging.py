"""theta_averaging: a per-epoch moving average of theta for validation and prediction."""

from __future__ import annotations

import numpy as np
import pytest

from v2s_sklearn import V2SClassifier

from .conftest import FAST

# A validation split, a fixed step size and no early stop, so that fits with and
# without the average train identically and differ only in what they keep.
SETTINGS = {**FAST, "validation_fraction": 0.25, "learning_rate_schedule": "constant",
            "n_iter_no_change": None, "input_scaling": None}


def test_an_average_that_never_moves_keeps_the_first_epochs_theta(gunpoint):
    X, y, X_test, _ = gunpoint
    first_epoch = V2SClassifier(**{**SETTINGS, "max_epochs": 1}).fit(X, y)
    frozen = V2SClassifier(theta_averaging=1 - 1e-9, **SETTINGS).fit(X, y)
    assert len(frozen.history_) == SETTINGS["max_epochs"] > 1
    np.testing.assert_allclose(frozen.theta_, first_epoch.theta_, rtol=1e-5, atol=1e-7)
    # Training itself is untouched: the same training losses as without an average.
    plain = V2SClassifier(**SETTINGS).fit(X, y)
    np.testing.assert_allclose([r["train_loss"] for r in frozen.history_],
                               [r["train_loss"] for r in plain.history_], rtol=1e-5)
    # ... while validation scored the average, which stayed at epoch 1.
    valid = [r["valid_loss"] for r in frozen.history_]
    np.testing.assert_allclose(valid, valid[0], rtol=1e-5)
    assert not np.allclose([r["valid_loss"] for r in plain.history_], valid[0])


def test_the_kept_theta_is_the_average_of_the_epochs(gunpoint):
    X, y, _, _ = gunpoint
    # Without a validation split the kept epoch is the one of lowest training
    # loss, which both fits share; a small step makes it the last one.
    settings = {**SETTINGS, "validation_fraction": 0.0, "learning_rate": 0.001, "batch_size": 4}
    one, two = (V2SClassifier(**{**settings, "max_epochs": k}).fit(X, y) for k in (1, 2))
    averaged = V2SClassifier(theta_averaging=0.25, **{**settings, "max_epochs": 2}).fit(X, y)
    assert two.best_epoch_ == averaged.best_epoch_ == 2
    expected = 0.25 * one.theta_ + 0.75 * two.theta_
    np.testing.assert_allclose(averaged.theta_, expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(averaged.theta_, two.theta_, rtol=1e-3)


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.5"])
def test_averaging_outside_zero_to_one_is_refused(italy, value):
    X, y = italy
    with pytest.raises(ValueError, match="theta_averaging must be a number in"):
        V2SClassifier(theta_averaging=value, **FAST).fit(X, y)
