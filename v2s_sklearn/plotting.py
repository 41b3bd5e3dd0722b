"""Figures: training curves and explanations of a fitted ``V2SClassifier``."""

from __future__ import annotations

from typing import Any


def plot_history(estimator_or_history: Any, ax: Any = None):
    """Plot loss and accuracy per epoch, train and validation, marking the kept epoch.

    Parameters
    ----------
    estimator_or_history : V2SClassifier or list of dict
        A fitted estimator or its ``history_``.
    ax : pair of matplotlib Axes, optional
        Where to draw loss and accuracy; new axes when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    history = getattr(estimator_or_history, "history_", estimator_or_history)
    best = getattr(estimator_or_history, "best_epoch_", None)
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    else:
        fig = ax[0].figure
    epochs = [row["epoch"] for row in history]
    for axis, metric in zip(ax, ("loss", "accuracy")):
        for part, style in (("train", "-"), ("valid", "--")):
            values = [row[f"{part}_{metric}"] for row in history]
            if any(v == v for v in values):  # skip all-NaN (no validation)
                axis.plot(epochs, values, style, label=part)
        if best is not None:
            axis.axvline(best, color="grey", lw=0.8, ls=":", label=f"kept (epoch {best})")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend()
    ax[0].set_title("V2S training loss")
    ax[1].set_title("V2S accuracy")
    return fig


def plot_explanation(classifier: Any, X: Any, kind: str = "saliency", target: Any = None,
                     max_series: int = 4):
    """Draw series with what drives their prediction shaded along them.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Series to explain; the first ``max_series`` are drawn, one panel each
        (channels of a multivariate series share the panel).
    kind : {"saliency", "attention"}, default="saliency"
        :func:`v2s_sklearn.explain.saliency` (absolute gradient x input) or
        :func:`v2s_sklearn.explain.attention`.
    target : class label or None
        Class explained by ``"saliency"``; None explains the predicted class.
    max_series : int, default=4

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .explain import attention, saliency

    if kind not in ("saliency", "attention"):
        raise ValueError(f"kind must be 'saliency' or 'attention'; got {kind!r}")
    X = np.asarray(X, dtype=float)[:max_series]
    predicted = classifier.predict(X)
    if kind == "saliency":
        explained = predicted if target is None else target
        weights = np.abs(saliency(classifier, X, explained, times_input=True))
    else:
        weights = attention(classifier, X)
    series = X[:, None] if X.ndim == 2 else X
    weights = weights[:, None] if weights.ndim == 2 else weights
    fig, axes = plt.subplots(len(series), 1, figsize=(8, 1.9 * len(series)), squeeze=False,
                             sharex=True, constrained_layout=True)
    top = float(weights.max()) or 1.0
    for i, ax in enumerate(axes[:, 0]):
        for c in range(series.shape[1]):
            t = np.arange(series.shape[2])
            ax.plot(t, series[i, c], color="0.3", lw=0.9)
            points = ax.scatter(t, series[i, c], c=weights[i, c], cmap="magma_r", vmin=0,
                                vmax=top, s=9, zorder=3)
        ax.set_ylabel(f"series {i}")
        ax.set_title(f"predicted {predicted[i]!s}", fontsize=9, loc="left")
    fig.colorbar(points, ax=axes[:, 0], label="|gradient x input|" if kind == "saliency"
                 else "attention", shrink=0.8)
    axes[-1, 0].set_xlabel("time point")
    fig.suptitle(f"V2S {kind}")
    return fig
