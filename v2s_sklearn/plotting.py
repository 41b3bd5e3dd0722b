"""Figures: training curves of a fitted ``V2SClassifier``."""

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
