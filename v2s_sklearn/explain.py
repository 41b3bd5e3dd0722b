"""Which parts of a series drive a V2S prediction, mapped back onto the series.

Two views, both returned in the shape of the series (``(n_series, n_timepoints)``
or ``(n_series, n_channels, n_timepoints)``) so they can be drawn over them
(:func:`v2s_sklearn.plotting.plot_explanation`):

- :func:`saliency`: the gradient of the class log-probability with respect to
  every value of the series (summed over its copies in the source input),
  optionally times the input.
- :func:`attention`: for source models with an attention layer (the built-in
  V2Sa), the attention of the spectrogram frames each value falls in, summed
  over its copies; the paper's Fig. 4 view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .label_mapping import target_log_proba
from .scaling import scale_series

_BATCH = 64


def _targets(classifier: Any, n_series: int, target: Any) -> np.ndarray:
    """Encoded classes of ``target`` (one label, or one per series)."""
    wanted = np.broadcast_to(np.asarray(target, dtype=object), (n_series,))
    index = {cls: k for k, cls in enumerate(classifier.classes_.tolist())}
    missing = sorted({str(t) for t in wanted if t not in index})
    if missing:
        raise ValueError(f"target {missing} is not a class of the classifier; classes are "
                         f"{classifier.classes_.tolist()}")
    return np.array([index[t] for t in wanted])


def _shape_like_input(values: np.ndarray, X_input: Any) -> np.ndarray:
    return values[:, 0] if np.ndim(X_input) == 2 or hasattr(X_input, "columns") else values


def saliency(classifier: Any, X: Any, target: Any = None, *,
             times_input: bool = False) -> np.ndarray:
    """Gradient of ``log P(target | x)`` with respect to each value of each series.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Series to explain.
    target : class label, sequence of labels or None, default=None
        The class whose probability is explained; None explains each series'
        predicted class.
    times_input : bool, default=False
        Return gradient x input (attribution in the units of the log-probability)
        instead of the plain gradient.

    Returns
    -------
    ndarray
        Same shape as ``X``.

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.datasets import load_dataset
    >>> from v2s_sklearn.explain import saliency
    >>> X, y = load_dataset("ItalyPowerDemand", "train")
    >>> clf = V2SClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> saliency(clf, X[:3]).shape
    (3, 24)
    """
    check_is_fitted(classifier)
    series = classifier._check_X(X)
    targets = None if target is None else _targets(classifier, len(series), target)
    # The waveform path: the STFT-domain one does not differentiate w.r.t. x.
    network, matrix, device = classifier._fitted_network(spectral=False)
    # Gradients are taken w.r.t. the values as given, through the input scaling.
    dtype = matrix.dtype
    mean = torch.from_numpy(classifier.input_mean_).to(device, dtype)
    scale = torch.from_numpy(classifier.input_scale_).to(device, dtype)
    grads = []
    for start in range(0, len(series), _BATCH):
        x = torch.from_numpy(series[start : start + _BATCH]).to(device, dtype)
        x.requires_grad_()
        log_proba = target_log_proba(network((x - mean) / scale), matrix)
        # Without a target, the predicted class, read off this same forward pass.
        chosen = (log_proba.argmax(1) if targets is None else
                  torch.as_tensor(targets[start : start + _BATCH], device=device))
        log_proba.gather(1, chosen[:, None]).sum().backward()
        grad = x.grad.detach().cpu().numpy()
        grads.append(grad * series[start : start + _BATCH] if times_input else grad)
    return _shape_like_input(np.concatenate(grads), X)


def attention(classifier: Any, X: Any) -> np.ndarray:
    """Attention of the source model on each value of each series.

    The built-in V2Sa attends over spectrogram frames; each value of a series
    gets the attention of the frames around its position in the source input
    (interpolated between frame centres, per sample of a hop), summed over its
    copies. The weights of one series add up to about the share of attention
    that falls on its copies (at most 1), so values compare across series.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier whose source model records ``last_attention_``.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)

    Returns
    -------
    ndarray
        Same shape as ``X``.

    Raises
    ------
    ValueError
        If the source model has no attention layer.
    """
    check_is_fitted(classifier)
    series = scale_series(classifier._check_X(X), classifier.input_mean_,
                          classifier.input_scale_)
    network, matrix, device = classifier._fitted_network(spectral=False)
    module = network.model.module
    if not hasattr(module, "last_attention_"):
        raise ValueError(f"the source model ({type(module).__name__}) records no attention; "
                         "use saliency() instead")
    hop = module.frontend.hop_length
    reprogrammer = network.reprogrammer
    copies = reprogrammer.n_copies
    positions = reprogrammer.index.cpu().numpy().reshape(copies, *series.shape[1:])
    weights = []
    with torch.inference_mode():
        for start in range(0, len(series), _BATCH):
            network(torch.from_numpy(series[start : start + _BATCH]).to(device, matrix.dtype))
            frames = module.last_attention_.cpu().numpy()  # (batch, n_frames)
            centres = np.arange(frames.shape[1]) * hop
            # A frame's weight is spread over the hop of samples it owns, so the
            # weights of a series add up like the frames' do.
            per_value = np.stack([np.interp(positions, centres, row) / hop for row in frames])
            weights.append(per_value.sum(axis=1))
    return _shape_like_input(np.concatenate(weights), X)
