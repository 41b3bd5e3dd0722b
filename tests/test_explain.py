"""Explanations are shaped like the series and respond to what matters."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from v2s_sklearn import V2SClassifier
from v2s_sklearn.explain import attention, saliency
from v2s_sklearn.plotting import plot_explanation

from .conftest import FAST

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fitted(italy):
    X, y = italy
    # V2Sa: attention is a view of its attention layer (the default TC-ResNet has none).
    clf = V2SClassifier(**{**FAST, "n_segments": 2}, acoustic_model="v2sa-synth")
    return clf.fit(X, y), X, y


def test_saliency_is_the_gradient_of_the_explained_log_probability(fitted):
    clf, X, _ = fitted
    grad = saliency(clf, X[:2], target=clf.classes_[0])
    assert grad.shape == (2, X.shape[1]) and np.isfinite(grad).all()
    # A small step along the gradient raises the explained log-probability
    # by about the gradient's squared norm.
    step = 1e-2 / np.abs(grad).max()
    before = clf.predict_log_proba(X[:2])[:, 0]
    after = clf.predict_log_proba(X[:2] + step * grad)[:, 0]
    np.testing.assert_allclose(after - before, step * (grad**2).sum(axis=1), rtol=0.2)
    # Explaining the other class of two flips the gradient's direction.
    other = saliency(clf, X[:2], target=clf.classes_[1])
    assert (np.sign(other) != np.sign(grad))[np.abs(grad) > 1e-6].mean() > 0.9


def test_saliency_defaults_to_the_predicted_class_and_rejects_unknown_targets(fitted):
    clf, X, _ = fitted
    predicted = clf.predict(X[:3])
    np.testing.assert_allclose(saliency(clf, X[:3]), saliency(clf, X[:3], target=predicted))
    with pytest.raises(ValueError, match="not a class"):
        saliency(clf, X[:3], target="no such class")


def test_attention_sums_to_at_most_one_and_sits_on_the_series(fitted):
    clf, X, _ = fitted
    weights = attention(clf, X[:4])
    assert weights.shape == (4, X.shape[1])
    assert (weights >= 0).all()
    total = weights.sum(axis=1)
    assert (total > 0).all() and (total <= 1 + 1e-6).all()


def test_multichannel_explanations_keep_the_channels(basic_motions):
    X, y = basic_motions
    clf = V2SClassifier(**FAST, acoustic_model="v2sa-synth").fit(X, y)
    assert saliency(clf, X[:2]).shape == (2,) + X.shape[1:]
    assert attention(clf, X[:2]).shape == (2,) + X.shape[1:]


def test_plot_explanation_draws_one_panel_per_series(fitted, tmp_path):
    clf, X, _ = fitted
    for kind in ("saliency", "attention"):
        figure = plot_explanation(clf, X, kind=kind, max_series=3)
        assert len([ax for ax in figure.axes if ax.get_label() != "<colorbar>"]) == 3
        figure.savefig(tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 0
    with pytest.raises(ValueError, match="kind"):
        plot_explanation(clf, X, kind="shap")
