"""Analysis functions refuse an unfitted classifier, and figures check their inputs."""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from v2s_sklearn import V2SClassifier, diagnostics, explain, plotting


matplotlib.use("Agg")

#: Every public function that takes a classifier, with the rest of a valid call.
CALLS = {
    plotting.plot_history: lambda clf, X, y: plotting.plot_history(clf),
    plotting.plot_explanation: lambda clf, X, y: plotting.plot_explanation(clf, X),
    plotting.plot_alignment: lambda clf, X, y: plotting.plot_alignment(clf, X,
                                                                      n_projections=10),
    plotting.plot_embedding: lambda clf, X, y: plotting.plot_embedding(clf, X, y, "pca"),
    plotting.plot_source_input: lambda clf, X, y: plotting.plot_source_input(clf, X),
    explain.saliency: lambda clf, X, y: explain.saliency(clf, X),
    explain.attention: lambda clf, X, y: explain.attention(clf, X),
    explain.class_activation_map: lambda clf, X, y: explain.class_activation_map(clf, X),
    diagnostics.source_reference: lambda clf, X, y: diagnostics.source_reference(clf),
    diagnostics.wasserstein_alignment: lambda clf, X, y: diagnostics.wasserstein_alignment(
        clf, X),
    diagnostics.risk_bound: lambda clf, X, y: diagnostics.risk_bound(clf, X),
}


def _takes_a_classifier(module) -> set:
    return {function for name, function in inspect.getmembers(module, inspect.isfunction)
            if function.__module__ == module.__name__ and not name.startswith("_")
            and next(iter(inspect.signature(function).parameters), None)
            in ("classifier", "estimator_or_history")}


def test_every_public_function_that_takes_a_classifier_is_checked():
    found = set().union(*(_takes_a_classifier(m) for m in (plotting, explain, diagnostics)))
    assert found == set(CALLS)


@pytest.mark.parametrize("function", list(CALLS), ids=lambda f: f.__name__)
def test_an_unfitted_classifier_raises_not_fitted_error(function, italy):
    X, y = italy
    with pytest.raises(NotFittedError, match="not fitted"):
        CALLS[function](V2SClassifier(), X[:4], y[:4])


@pytest.fixture(scope="module")
def fitted(italy_one_epoch):
    return italy_one_epoch


def test_plot_embedding_says_when_y_is_not_one_label_per_series(fitted, italy):
    X, y = italy
    with pytest.raises(ValueError, match=rf"y has shape \({len(y) - 1},\) but X has {len(X)} "
                                         "series"):
        plotting.plot_embedding(fitted, X, y[:-1], method="pca")
    with pytest.raises(ValueError, match="one label per series"):
        plotting.plot_embedding(fitted, X, np.stack([y, y], axis=1), method="pca")
    figure = plotting.plot_embedding(fitted, X, y, method="pca")
    assert len(figure.axes[0].collections) == len(np.unique(y))


def test_plot_history_takes_a_fitted_estimator_or_its_history(fitted):
    from_estimator = plotting.plot_history(fitted)
    from_history = plotting.plot_history(fitted.history_)
    assert len(from_estimator.axes) == len(from_history.axes) == 2
    # The kept epoch is marked only when the estimator says which it is.
    assert len(from_estimator.axes[0].lines) == len(from_history.axes[0].lines) + 1
    with pytest.raises(ValueError, match="no epochs"):
        plotting.plot_history([])
