"""Figures: training curves, explanations, alignment and embeddings of a fitted ``V2SClassifier``.

Every function that takes a classifier raises scikit-learn's ``NotFittedError``
for one that is not fitted yet: fit it first.
"""

from __future__ import annotations

import math
from typing import Any

from sklearn.utils.validation import check_is_fitted

#: What ``plot_explanation`` can draw, and its colour bar's label.
EXPLANATIONS = {"saliency": "|gradient x input|", "attention": "attention",
                "cam": "Grad-CAM"}


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

    Raises
    ------
    sklearn.exceptions.NotFittedError
        For an estimator that is not fitted.
    """
    import matplotlib.pyplot as plt

    if isinstance(estimator_or_history, (list, tuple)):
        history, best = list(estimator_or_history), None
    else:
        check_is_fitted(estimator_or_history)
        history = estimator_or_history.history_
        best = getattr(estimator_or_history, "best_epoch_", None)
    if not history:
        raise ValueError("the history has no epochs to plot: pass a fitted estimator or "
                         "its history_")
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    else:
        fig = ax[0].figure
    epochs = [row["epoch"] for row in history]
    for axis, metric in zip(ax, ("loss", "accuracy")):
        for part, style in (("train", "-"), ("valid", "--")):
            values = [row[f"{part}_{metric}"] for row in history]
            if not all(math.isnan(v) for v in values):  # skip all-NaN (no validation)
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
                     max_series: int = 4, layer: Any = None):
    """Draw series with what drives their prediction shaded along them.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Series to explain; the first ``max_series`` are drawn, one panel each
        (channels of a multivariate series share the panel).
    kind : {"saliency", "attention", "cam"}, default="saliency"
        :func:`v2s_sklearn.explain.saliency` (absolute gradient x input),
        :func:`v2s_sklearn.explain.attention`, or
        :func:`v2s_sklearn.explain.class_activation_map` (Grad-CAM).
    target : class label or None
        Class explained by ``"saliency"`` and ``"cam"``; None explains the
        predicted class.
    max_series : int, default=4
    layer : int, str or None, default=None
        The convolution of ``"cam"`` (see ``class_activation_map``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .explain import attention, class_activation_map, saliency

    check_is_fitted(classifier)
    if kind not in EXPLANATIONS:
        raise ValueError(f"kind must be one of {sorted(EXPLANATIONS)}; got {kind!r}")
    X = np.asarray(X, dtype=float)[:max_series]
    predicted = classifier.predict(X)
    explained = predicted if target is None else target
    if kind == "saliency":
        weights = np.abs(saliency(classifier, X, explained, times_input=True))
    elif kind == "cam":
        weights = class_activation_map(classifier, X, explained, layer=layer)
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
    fig.colorbar(points, ax=axes[:, 0], label=EXPLANATIONS[kind], shrink=0.8)
    axes[-1, 0].set_xlabel("time point")
    fig.suptitle(f"V2S {'Grad-CAM' if kind == 'cam' else kind}")
    return fig


def plot_alignment(classifier: Any, X: Any, *, n_projections: int = 1000,
                   random_state: int = 0, source_outputs: Any = None):
    """The representation alignment of Theorem 1, before and after reprogramming.

    Left: :func:`v2s_sklearn.diagnostics.wasserstein_alignment` of ``X`` with
    ``theta = 0`` and with the fitted ``theta_`` (lower is better aligned with
    the source model's own data). Right, when ``history_`` holds an
    ``alignment`` column (fit with a
    :class:`~v2s_sklearn.diagnostics.AlignmentRecorder` callback): its curve
    over epochs beside the validation (or recorded evaluation) loss, as in the
    paper's Fig. 3, with their Spearman correlation.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like
        Target series.
    n_projections, random_state, source_outputs
        As for :func:`~v2s_sklearn.diagnostics.wasserstein_alignment`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    from .diagnostics import wasserstein_alignment

    check_is_fitted(classifier)
    kwargs = {"n_projections": n_projections, "random_state": random_state,
              "source_outputs": source_outputs}
    values = [wasserstein_alignment(classifier, X, reprogrammed=False, **kwargs),
              wasserstein_alignment(classifier, X, **kwargs)]
    history = getattr(classifier, "history_", [])
    curve = [row.get("alignment") for row in history]
    has_curve = bool(history) and all(value is not None for value in curve)
    fig, axes = plt.subplots(1, 2 if has_curve else 1, figsize=(10 if has_curve else 4.5, 3.6),
                             constrained_layout=True, squeeze=False)
    bars = axes[0, 0].bar(["theta = 0", "fitted theta"], values, color=["0.6", "C0"])
    axes[0, 0].bar_label(bars, fmt="%.3f", padding=2)
    axes[0, 0].margins(y=0.15)
    axes[0, 0].set_ylabel("sliced Wasserstein distance (logits)")
    axes[0, 0].set_title("alignment with source data")
    if has_curve:
        epochs = [row["epoch"] for row in history]
        loss_key = _held_out_loss_key(history)
        ax = axes[0, 1]
        ax.plot(epochs, curve, color="C0", label="alignment")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("sliced Wasserstein distance", color="C0")
        twin = ax.twinx()
        losses = [row[loss_key] for row in history]
        twin.plot(epochs, losses, color="C1", ls="--", label=loss_key)
        twin.set_ylabel(loss_key, color="C1")
        rho = spearmanr(curve, losses).statistic if len(epochs) > 2 else float("nan")
        ax.set_title(f"over training (Spearman {rho:.2f} with {loss_key})")
    fig.suptitle("V2S representation alignment (Theorem 1)")
    return fig


def _held_out_loss_key(history: list[dict]) -> str:
    """The loss to set beside the alignment: the recorder's evaluation loss, else the
    validation loss, else the training loss of each epoch's final theta."""
    first = history[0]
    if "eval_loss" in first:
        return "eval_loss"
    if first.get("valid_loss") == first.get("valid_loss"):  # not NaN: a validation split
        return "valid_loss"
    return "train_eval_loss" if "train_eval_loss" in first else "train_loss"


def plot_embedding(classifier: Any, X: Any, y: Any, method: str = "tsne", *,
                   random_state: int = 0, perplexity: float | None = None):
    """The source model's logits of ``X`` in two dimensions, before and after reprogramming.

    The paper's Fig. 5: each series' logits with ``theta = 0`` (left) and with
    the fitted ``theta_`` (right), embedded by scikit-learn's
    :class:`~sklearn.manifold.TSNE` (or ``method="pca"``), coloured by class.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like
        Series.
    y : array-like of shape (n_series,)
        Their classes (for colour only).
    method : {"tsne", "pca"}, default="tsne"
    random_state : int, default=0
    perplexity : float, optional
        t-SNE's perplexity; by default ``min(30, (n_series - 1) / 3)``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``y`` is not one label per series of ``X``.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    check_is_fitted(classifier)
    if method not in ("tsne", "pca"):
        raise ValueError(f"method must be 'tsne' or 'pca'; got {method!r}")
    logits = [classifier.source_logits(X, reprogrammed=reprogrammed)
              for reprogrammed in (False, True)]
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(logits[0]):
        raise ValueError(f"y has shape {y.shape} but X has {len(logits[0])} series: pass "
                         "their classes, one label per series")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), constrained_layout=True)
    for ax, values, title in zip(axes, logits, ("theta = 0", "fitted theta")):
        if method == "tsne":
            chosen = perplexity if perplexity is not None else min(30.0, (len(y) - 1) / 3)
            points = TSNE(2, perplexity=chosen, random_state=random_state,
                          init="pca").fit_transform(values)
        else:
            points = PCA(2, random_state=random_state).fit_transform(values)
        for cls in np.unique(y):
            keep = y == cls
            ax.scatter(points[keep, 0], points[keep, 1], s=12, label=str(cls), alpha=0.8)
        ax.set_title(f"source logits, {title}")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1].legend(title="class", fontsize=8, loc="best")
    fig.suptitle(f"V2S embedding of the source model's logits ({method})")
    return fig


def plot_source_input(classifier: Any, X: Any, *, max_series: int = 2):
    """Draw what the source model hears: the reprogrammed waveform and its log-mel features.

    For each series, the waveform ``x' = Pad(x) + M * theta`` with the placed
    series and the fitted ``theta`` apart, and the source model's normalised
    log-mel spectrogram of it. It shows how much of the one-second input the
    series fills.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier whose source model has a log-mel front end (the
        built-in ones).
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Series; the first ``max_series`` are drawn.
    max_series : int, default=2

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    check_is_fitted(classifier)
    series = classifier.network_input(X)[:max_series]
    network = classifier.reprogrammed_network()
    device = network.reprogrammer.theta.device
    frontend = getattr(network.model, "spectral_frontend", None)
    if frontend is None:
        raise ValueError("plot_source_input needs a source model with a log-mel front end "
                         f"(the built-in ones); {type(network.model.module).__name__} has "
                         "none")
    reprogrammer = network.reprogrammer.eval()
    with torch.inference_mode():
        x = torch.from_numpy(series).to(device, reprogrammer.theta.dtype)
        placed = reprogrammer.place(x)
        perturbation = reprogrammer.perturbation()
        features = frontend(placed + perturbation).cpu().numpy()
    placed, perturbation = placed.cpu().numpy(), perturbation.cpu().numpy()
    seconds = np.arange(placed.shape[1]) / frontend.mel.sample_rate
    fig, axes = plt.subplots(len(series), 2, figsize=(11, 2.4 * len(series)), squeeze=False,
                             constrained_layout=True)
    for i, (wave_ax, mel_ax) in enumerate(axes):
        wave_ax.plot(seconds, perturbation, color="tab:orange", lw=0.4, label="theta")
        wave_ax.plot(seconds, placed[i], color="0.2", lw=0.5, label="placed series")
        wave_ax.set_ylabel(f"series {i}")
        image = mel_ax.imshow(features[i].T, origin="lower", aspect="auto", cmap="magma",
                              extent=(0, seconds[-1], 0, features.shape[2]))
        mel_ax.set_ylabel("mel band")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[0, 0].set_title(f"source input (n_segments={classifier.n_segments_})",
                         fontsize=9, loc="left")
    axes[0, 1].set_title("log-mel features the source model sees", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("seconds")
    axes[-1, 1].set_xlabel("seconds")
    fig.colorbar(image, ax=axes[:, 1], shrink=0.8, label="standardised dB")
    return fig
