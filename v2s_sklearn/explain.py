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

from .readout import class_log_proba
from .resampling import resample, to_input_length

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
    # The series as given: gradients reach each of its values through the
    # resampling (resample_length) and the input scaling.
    series = classifier.network_input(X, scale=False, resample=False)
    length = getattr(classifier, "placed_length_", series.shape[-1])
    targets = None if target is None else _targets(classifier, len(series), target)
    # The waveform path: the STFT-domain one does not differentiate w.r.t. x.
    network, matrix, device = _network(classifier)
    head = _head(classifier, matrix.dtype, device)
    # Gradients are taken w.r.t. the values as given, through the input scaling.
    dtype = matrix.dtype
    mean = torch.tensor(classifier.input_mean_).to(device, dtype)  # copies: may be read-only
    scale = torch.tensor(classifier.input_scale_).to(device, dtype)
    grads = []
    for start in range(0, len(series), _BATCH):
        x = torch.from_numpy(series[start : start + _BATCH]).to(device, dtype)
        x.requires_grad_()
        log_proba = _log_proba(network, (resample(x, length) - mean) / scale, matrix, head)
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
    series = classifier.network_input(X)
    network, matrix, device = _network(classifier)
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
    weights = to_input_length(np.concatenate(weights), classifier.n_timepoints_, keep_sums=True)
    return _shape_like_input(weights, X)


#: Fast paths an architecture's ``fold_frozen()`` sets: folded copies that run in
#: place of its convolutions (batch norm folded in), so their activations are not
#: the layers'. Grad-CAM runs a private copy of the model without them.
FOLDED_PATHS = ("conv_folded", "body_folded")
CONVOLUTIONS = (torch.nn.Conv1d, torch.nn.Conv2d)


def _conv_layers(module: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(name, m) for name, m in module.named_modules() if isinstance(m, CONVOLUTIONS)]


def _convolutions_run(network: Any, x: torch.Tensor) -> list[tuple[str, torch.nn.Module]]:
    """The source model's convolutions that a forward pass of ``x`` runs, in module order."""
    ran: set[int] = set()
    convs = _conv_layers(network.model.module)
    handles = [conv.register_forward_hook(lambda m, _i, _o: ran.add(id(m)))
               for _, conv in convs]
    try:
        with torch.no_grad():
            network(x)
    finally:
        for handle in handles:
            handle.remove()
    return [(name, conv) for name, conv in convs if id(conv) in ran]


def _resolve_layer(original: torch.nn.Module, module: torch.nn.Module,
                   convs: list[tuple[str, torch.nn.Module]], layer: Any) -> torch.nn.Module:
    """The convolution of ``module`` (a copy of ``original``) that ``layer`` names.

    ``layer``: None (the last convolution run), an index into the convolutions
    run, in module order, a submodule name, or a submodule of ``original``.
    """
    names = [name for name, _ in convs]
    if not convs:
        raise ValueError(f"the source model ({type(module).__name__}) has no convolution "
                         "layer for a class activation map; use saliency() instead")
    if layer is None:
        return convs[-1][1]
    if isinstance(layer, torch.nn.Module):
        # The map is taken on a copy of the model: find the layer by its name.
        found = [name for name, m in original.named_modules() if m is layer]
        if not found:
            raise ValueError(f"layer is a {type(layer).__name__} that is not part of the "
                             f"source model; pass one of its convolutions by name: {names}")
        layer = found[0]
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if not -len(convs) <= layer < len(convs):
            raise ValueError(f"layer={layer} but the source model runs {len(convs)} "
                             f"convolution layers ({names}): pass an int from {-len(convs)} "
                             f"to {len(convs) - 1}, one of these names, or None for the last")
        return convs[int(layer)][1]
    if not isinstance(layer, str):
        raise TypeError("layer must be None, an int, the name of a convolution or the "
                        f"convolution itself; got {type(layer).__name__}")
    named = dict(module.named_modules())
    if layer not in named:
        raise ValueError(f"no layer named {layer!r}; convolution layers are {names}")
    chosen = named[layer]
    if not isinstance(chosen, CONVOLUTIONS):  # a wrong value of the name, like an index
        raise ValueError(  # noqa: TRY004
            f"layer {layer!r} is a {type(chosen).__name__}, not a convolution (Conv1d or "
            f"Conv2d), so it has no activation maps for Grad-CAM; pass one of {names}")
    if all(chosen is not conv for _, conv in convs):
        raise ValueError(f"the convolution {layer!r} does not run when the source model "
                         f"predicts; pass one of {names}")
    return chosen


def _per_frame(cam: torch.Tensor, n_frames: int) -> torch.Tensor:
    """A Grad-CAM map ``(batch, *spatial)`` reduced to ``(batch, time)``.

    ``Conv1d`` maps are already over time. For ``Conv2d`` maps the time axis is
    the spatial axis whose size is nearest the front end's frame count (frames
    by mel bands in V2Sa); the other is summed.
    """
    if cam.ndim == 2:
        return cam
    sizes = cam.shape[1:]
    time_axis = 1 + int(np.argmin([abs(size - n_frames) for size in sizes]))
    return cam.sum(dim=3 if time_axis == 2 else 2)


def class_activation_map(classifier: Any, X: Any, target: Any = None,
                         layer: Any = None) -> np.ndarray:
    """Grad-CAM of a convolution layer of the source model, mapped back onto the series.

    Grad-CAM (Selvaraju et al., 2017): the layer's activation maps weighted by
    the mean gradient of the explained class's log-probability with respect to
    each, summed and passed through a ReLU; the paper's Fig. 4 shows it for
    V2Sa's first and second convolutions on the mel spectrogram of the
    reprogrammed input. The map over spectrogram frames is then spread onto the
    series like :func:`attention`: each value gets the map of the frames
    around its place in the source input, summed over its copies.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier whose source model has convolutions.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Series to explain.
    target : class label, sequence of labels or None, default=None
        The class explained; None explains each series' predicted class.
    layer : int, str, torch.nn.Module or None, default=None
        Which convolution: None is the last one (Grad-CAM's usual choice); an
        int indexes the convolutions the source model runs, in module order
        (V2Sa: 0 and 1, the paper's two; TC-ResNet: 0 is its stem); a str
        names a submodule (``"conv.0"``), and a module is one of the source
        model's (``clf.reprogrammed_network().model.module``).

    Returns
    -------
    ndarray
        Same shape as ``X``, non-negative.

    Raises
    ------
    ValueError
        If ``layer`` is out of range, names no submodule, or is not a
        convolution (``Conv1d`` or ``Conv2d``) that the model runs; the message
        lists the valid ones.
    TypeError
        If ``layer`` is none of None, an int, a str or a module.

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.datasets import load_dataset
    >>> from v2s_sklearn.explain import class_activation_map
    >>> X, y = load_dataset("ItalyPowerDemand", "train")
    >>> clf = V2SClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> class_activation_map(clf, X[:3], layer=0).shape
    (3, 24)
    """
    import copy

    check_is_fitted(classifier)
    series = classifier.network_input(X)
    targets = None if target is None else _targets(classifier, len(series), target)
    network, matrix, device = _network(classifier)
    head = _head(classifier, matrix.dtype, device)
    original = network.model.module
    # A private copy without the folded fast paths, whose products skip the
    # convolutions' own activations.
    network.model = copy.deepcopy(network.model)
    module = network.model.module
    for path in FOLDED_PATHS:
        if getattr(module, path, None) is not None:
            setattr(module, path, None)
    first = torch.from_numpy(series[:1]).to(device, matrix.dtype)
    conv = _resolve_layer(original, module, _convolutions_run(network, first), layer)
    frontend = getattr(module, "frontend", None)
    hop = getattr(frontend, "hop_length", None)
    if hop is None:
        raise ValueError("class_activation_map needs a source model with a spectrogram front "
                         "end (frontend.hop_length)")
    n_frames = frontend.n_frames(network.reprogrammer.input_length)
    captured: list[torch.Tensor] = []
    handle = conv.register_forward_hook(lambda _m, _i, output: captured.append(output))
    reprogrammer = network.reprogrammer
    positions = reprogrammer.index.cpu().numpy().reshape(reprogrammer.n_copies,
                                                         *series.shape[1:])
    maps = []
    try:
        for start in range(0, len(series), _BATCH):
            captured.clear()
            x = torch.from_numpy(series[start : start + _BATCH]).to(device, matrix.dtype)
            log_proba = _log_proba(network, x.requires_grad_(), matrix, head)
            chosen = (log_proba.argmax(1) if targets is None else
                      torch.as_tensor(targets[start : start + _BATCH], device=device))
            activation = captured[-1]
            gradient, = torch.autograd.grad(log_proba.gather(1, chosen[:, None]).sum(),
                                            activation)
            spatial = tuple(range(2, activation.ndim))
            weights = gradient.mean(dim=spatial, keepdim=True)
            cam = torch.relu((weights * activation).sum(dim=1)).detach()
            frames = _per_frame(cam, n_frames).double().cpu().numpy()  # (batch, time)
            # Frame centres in samples; a strided layer's frames spread over the same span.
            centres = np.linspace(0, (n_frames - 1) * hop, frames.shape[1])
            per_value = np.stack([np.interp(positions, centres, row) for row in frames])
            maps.append(per_value.sum(axis=1))
    finally:
        handle.remove()
    return _shape_like_input(to_input_length(np.concatenate(maps), classifier.n_timepoints_), X)


def _head(classifier: Any, dtype: torch.dtype, device: torch.device) -> Any:
    """The fitted feature head (None for ``readout_="labels"``), beside the network."""
    head = classifier.readout_head()
    return None if head is None else head.to(device, dtype)


def _log_proba(network: Any, x: torch.Tensor, matrix: torch.Tensor, head: Any) -> torch.Tensor:
    """The class log-probabilities prediction gives, differentiable with respect to ``x``:
    through the label map, and the feature head when the classifier has one."""
    if head is None:
        return class_log_proba(network(x), None, matrix, None)
    logits, pooled = network(x, pooled=True)
    return class_log_proba(logits, pooled, matrix, head)


def _network(classifier: Any) -> tuple[Any, torch.Tensor, torch.device]:
    """The fitted reprogrammed network, its label matrix and its device."""
    network = classifier.reprogrammed_network()
    device = network.reprogrammer.theta.device
    matrix = torch.tensor(classifier.label_weights_, dtype=network.reprogrammer.theta.dtype,
                          device=device)  # a copy: a loaded model's arrays may be read-only
    return network, matrix, device
