"""Built-in acoustic models and ``load_acoustic_model``.

Built-in weights ship inside the package (``weights/``) and are listed in
``weights/manifest.json`` with their sha256; nothing is ever downloaded.

A model loaded from a file is read once: the same bytes are hashed (the
model's :attr:`FrozenAcousticModel.sha256`), checked for corruption and
loaded. Unpickling a whole ``nn.Module`` runs code, so it needs
``trust_pickle=True``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import json
import os
import warnings
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import NotACheckpointError, checkpoint_from_bytes, sha256_of, verify_archive
from .frontend import LogMelFrontend

DEFAULT_MODEL = "tcresnet8-w1-synth"
_WEIGHTS = resources.files(__package__) / "weights"


def _manifest() -> dict[str, dict[str, Any]]:
    return json.loads((_WEIGHTS / "manifest.json").read_text())


def available_models() -> list[str]:
    """Names of the built-in acoustic models."""
    return sorted(_manifest())


def model_info(name: str) -> dict[str, Any]:
    """Manifest entry of a built-in model: file, sha256, architecture, metrics."""
    manifest = _manifest()
    if name not in manifest:
        raise ValueError(f"unknown built-in acoustic model {name!r}; "
                         f"available: {sorted(manifest)}")
    return dict(manifest[name])


def reference_outputs(name: str):
    """Logits of built-in model ``name`` on held-out source clips (its reference sample).

    Made by the pretraining recipe (:mod:`v2s_sklearn.pretrain.reference`) on
    clips of the corpus's test speakers, stratified by word, and checked
    against the sha256 in the manifest.

    Returns
    -------
    ndarray of shape (n_clips, n_source_classes), float32

    Raises
    ------
    ValueError
        If the model ships no reference sample, or the file does not match its
        checksum.
    """
    import numpy as np

    entry = model_info(name).get("reference_outputs")
    if entry is None:
        raise ValueError(f"built-in model {name!r} ships no reference sample of source "
                         "outputs; pass source_outputs= explicitly")
    path = Path(str(_WEIGHTS / entry["file"]))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{path} does not match the checksum of {name!r}'s reference sample: "
                         "the file is truncated or was modified; reinstall v2s-sklearn")
    return np.load(io.BytesIO(data))


class FrozenAcousticModel(nn.Module):
    """A source model that cannot be trained: eval mode, no gradients to its weights.

    Gradients still flow through it to its input, which is all reprogramming
    needs. ``train()`` keeps the wrapper and every submodule in eval mode, so
    batch-norm statistics never move.

    Attributes
    ----------
    module : torch.nn.Module
        The wrapped model, mapping ``(batch, samples)`` to ``(batch, K)`` logits.
    class_names : list of str
        Source class names (``class_<i>`` when the module has none).
    sample_rate : int
        Expected sampling rate in Hz.
    input_length : int
        Samples per input.
    name : str or None
        Built-in name or absolute path of the file the model came from.
    sha256 : str or None
        Hex sha256 of the file the weights were read from (a built-in's is
        checked against the manifest); None for an in-memory module.
        Compare it to pin a fitted estimator to its weights.

    Parameters
    ----------
    module : torch.nn.Module
        The source model (not copied).
    name : str or None
        Where it came from, for messages.
    optimize : bool, default=True
        Replace layers by faster equivalents that rely on the weights being
        fixed (``module.fold_frozen()`` where the module offers it).
    sha256 : str or None, default=None
        Hex sha256 of the file ``module`` was read from.
    """

    def __init__(self, module: nn.Module, name: str | None = None,
                 optimize: bool = True, *, sha256: str | None = None) -> None:
        super().__init__()
        self.module = module.eval()
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)
        if optimize and hasattr(module, "fold_frozen"):
            module.fold_frozen()
        # Modules created by folding and this wrapper itself start in training
        # mode; everything reports eval mode from now on (see train()).
        self.train(False)
        # cuDNN refuses to backpropagate through an RNN in eval mode. An RNN
        # without dropout computes the same in either mode, so those switch to
        # training mode for CUDA calls that need gradients (elsewhere eval
        # mode keeps the faster inference kernels); any other RNN makes those
        # calls avoid cuDNN.
        rnns = [m for m in self.module.modules() if isinstance(m, nn.RNNBase)]
        self._switchable_rnns = [m for m in rnns if m.dropout == 0]
        self._avoid_cudnn = len(self._switchable_rnns) < len(rnns)
        self.sample_rate = int(getattr(module, "sample_rate", 16000))
        self.input_length = int(getattr(module, "input_length", self.sample_rate))
        names: Sequence[str] | None = getattr(module, "class_names", None)
        if names is None:
            # Two waveforms, not one: a module that ignores the batch shows it here.
            with torch.no_grad():
                logits = self._run(module, torch.zeros(2, self.input_length,
                                                       device=_device_of(module)))
            if logits.ndim != 2:
                raise ValueError("an acoustic model must map (batch, samples) to "
                                 f"(batch, K) logits; got output shape {tuple(logits.shape)} "
                                 "for a batch of 2")
            names = [f"class_{i}" for i in range(logits.shape[1])]
        self.class_names = list(names)
        self.name = name
        self.sha256 = sha256

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def spectral_frontend(self) -> LogMelFrontend | None:
        """The log-mel front end when the model is ``classify(frontend(waveform))``.

        Such a model can be fed from the STFT domain
        (:class:`v2s_sklearn.spectral.SpectralReprogrammer`); None otherwise.
        """
        frontend = getattr(self.module, "frontend", None)
        if isinstance(frontend, LogMelFrontend) and callable(getattr(self.module, "classify",
                                                                     None)):
            return frontend
        return None

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from front-end features (models with a ``spectral_frontend``)."""
        return self._checked(self._run(self.module.classify, features), len(features))

    @property
    def offers_pooled(self) -> bool:
        """Whether the model exposes its pooled intermediate activations, which
        ``readout="features"`` reads: a module with ``features(waveform)`` and
        ``classify_pooled(features) -> (logits, pooled)`` (:meth:`classify_pooled`)."""
        return all(callable(getattr(self.module, name, None))
                   for name in ("features", "classify_pooled"))

    def classify_pooled(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and pooled activations from front-end features (models that
        :attr:`offer <offers_pooled>` them), both in the features' dtype."""
        dtype = _dtype_of(self.module)
        logits, pooled = self._call(self.module.classify_pooled,
                                    features if dtype is None else features.to(dtype))
        return (self._checked(logits.to(features.dtype), len(features)),
                pooled.to(features.dtype))

    def train(self, mode: bool = True) -> FrozenAcousticModel:
        """Keep the wrapper and every submodule in eval mode, whatever ``mode`` is.

        A parent's ``train()`` reaches here too, so batch-norm statistics never
        move and dropout never fires inside the source model.
        """
        return super().train(False)

    def _run(self, method, inputs: torch.Tensor) -> torch.Tensor:
        """``method(inputs)`` in the module's dtype, the result in the inputs' dtype
        (a float64 module serves float32 training; prediction may run in float64)."""
        dtype = _dtype_of(self.module)
        outputs = self._call(method, inputs if dtype is None else inputs.to(dtype))
        return outputs.to(inputs.dtype) if outputs.is_floating_point() else outputs

    def _call(self, method, inputs: torch.Tensor) -> torch.Tensor:
        backward = inputs.is_cuda and torch.is_grad_enabled()
        for rnn in self._switchable_rnns:
            rnn.training = backward
        try:
            if not inputs.is_cuda:
                return method(inputs)
            # Full float32 in cuDNN (no TF32 convolutions or RNNs), so a model
            # fitted on a GPU predicts on a CPU as it did on the GPU.
            cudnn = torch.backends.cudnn
            with cudnn.flags(enabled=not (backward and self._avoid_cudnn),
                             benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
                             allow_tf32=False):
                return method(inputs)
        finally:
            # Training mode is for this call only: the cuDNN RNN's autograd
            # node saved the mode at forward time, so backward still works and
            # between calls the model reports eval mode.
            for rnn in self._switchable_rnns:
                rnn.training = False

    def _checked(self, logits: torch.Tensor, batch: int) -> torch.Tensor:
        if logits.shape != (batch, self.n_classes):
            raise ValueError(
                f"the acoustic model {self.name or type(self.module).__name__} returned "
                f"logits of shape {tuple(logits.shape)} for a batch of {batch}; an acoustic "
                f"model must return (batch, {self.n_classes}), one row per waveform.")
        return logits

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self._checked(self._run(self.module, waveform), len(waveform))


def _device_of(module: nn.Module) -> torch.device:
    """Where a module's tensors live (the CPU for a module without any)."""
    tensor = next(iter(module.parameters()), None)
    if tensor is None:
        tensor = next(iter(module.buffers()), torch.zeros(()))
    return tensor.device


def _dtype_of(module: nn.Module) -> torch.dtype | None:
    """The floating dtype of a module's weights; None for a module without any."""
    # Lazily, stopping at the first: it runs on every forward of the source model.
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return None


def _builtin_bytes(name: str) -> tuple[Path, bytes]:
    """The path and content of a built-in model's file, checked against the manifest."""
    info = model_info(name)
    path = Path(str(_WEIGHTS / info["file"]))
    if not path.exists():
        raise FileNotFoundError(f"the weights of built-in model {name!r} are missing: {path}; "
                                "reinstall v2s-sklearn")
    data = path.read_bytes()  # hashed and loaded from the same bytes
    digest = hashlib.sha256(data).hexdigest()
    if digest != info["sha256"]:
        raise ValueError(
            f"{path} does not match the checksum of built-in model {name!r} "
            f"(sha256 {digest[:12]}... expected {info['sha256'][:12]}...): the file is "
            "truncated or was modified; reinstall v2s-sklearn or rerun `v2s pretrain`")
    return path, data


@lru_cache(maxsize=8)
def _load_builtin(name: str) -> tuple[nn.Module, str]:
    """A built-in model and the sha256 of the bytes it was read from."""
    # Cached on the CPU and copied per caller, so no caller can move or
    # change another's model.
    path, data = _builtin_bytes(name)
    verify_archive(data, path)
    return checkpoint_from_bytes(data, path), hashlib.sha256(data).hexdigest()


def _load_file(path: Path, trust_pickle: bool = False) -> tuple[nn.Module, str]:
    """The model stored at ``path`` and the sha256 of the bytes it was read from.

    Tried in turn: a v2s checkpoint, a TorchScript file, and only with
    ``trust_pickle`` a pickled ``nn.Module``.
    """
    data = path.read_bytes()  # read once: hashed, checked and loaded alike
    digest = hashlib.sha256(data).hexdigest()
    verify_archive(data, path)
    try:
        return checkpoint_from_bytes(data, path), digest
    except NotACheckpointError:
        pass
    try:
        with warnings.catch_warnings():  # TorchScript files still load; torch warns it is old
            warnings.simplefilter("ignore", FutureWarning)  # (a DeprecationWarning from 2.11)
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(io.BytesIO(data), map_location="cpu"), digest
    except Exception:  # noqa: BLE001, S110 - any failure only means "not TorchScript"
        pass
    if not trust_pickle:
        raise ValueError(
            f"{path} is neither a v2s acoustic-model checkpoint nor a TorchScript file. If "
            "it is a pickled torch.nn.Module from a source you trust, load it with "
            "trust_pickle=True: unpickling runs whatever code the file holds. Safer: save "
            "the model with v2s_sklearn.acoustic.checkpoint.save_checkpoint or "
            "torch.jit.save")
    # A whole pickled nn.Module: unpickling runs code, so only trusted files.
    try:
        module = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    except Exception as error:  # e.g. a plain pickle, which torch.load does not read
        raise ValueError(f"{path} could not be unpickled by torch.load: {error}") from error
    if not isinstance(module, nn.Module):
        raise ValueError(  # noqa: TRY004 - the argument is a path; its content is wrong
            f"{path} holds a {type(module).__name__}, not an acoustic model")
    return module, digest


def _existing_file(model: str | os.PathLike) -> Path:
    """``model`` as an absolute path to a file, or the error naming the valid choices."""
    path = Path(model)
    if not path.is_file():
        # A bare name (estimators pass it resolved against the working directory) is
        # shown as typed.
        shown = path.name if path.resolve().parent == Path.cwd().resolve() else str(model)
        raise ValueError(f"acoustic_model={shown!r} is neither a built-in model name "
                         f"({', '.join(available_models())}) nor an "
                         "existing file")
    return path.resolve()


def file_sha256(model: str | os.PathLike | nn.Module) -> str | None:
    """Hex sha256 of the file ``load_acoustic_model(model)`` reads its weights from.

    Cheap: nothing is loaded. To pin a fitted estimator to its weights, record
    the loaded model's :attr:`FrozenAcousticModel.sha256` at fit and compare
    this (or the reloaded model's ``sha256``) before predicting.

    Parameters
    ----------
    model : str, path or torch.nn.Module
        What :func:`load_acoustic_model` accepts.

    Returns
    -------
    str or None
        The manifest's sha256 for a built-in model (checked against the file
        when it is loaded), the file's sha256 for a path, the ``sha256`` of a
        :class:`FrozenAcousticModel`, and None for any other module.

    Raises
    ------
    ValueError
        If ``model`` is a string that names neither a known model nor a file.
    TypeError
        If ``model`` is of another type.
    """
    if isinstance(model, FrozenAcousticModel):
        return model.sha256
    if isinstance(model, nn.Module):
        return None
    if isinstance(model, str) and model in _manifest():
        return str(model_info(model)["sha256"])
    if isinstance(model, (str, os.PathLike)):
        return sha256_of(_existing_file(model))
    raise TypeError("acoustic_model must be a built-in name, a path or a torch.nn.Module; "
                    f"got {type(model).__name__}")


def load_acoustic_model(
    model: str | os.PathLike | nn.Module = DEFAULT_MODEL, device: str | torch.device = "cpu",
    optimize: bool = True, *, trust_pickle: bool = False,
) -> FrozenAcousticModel:
    """Load a frozen source model.

    Parameters
    ----------
    model : str, path or torch.nn.Module, default="tcresnet8-w1-synth"
        The name of a built-in model (see :func:`available_models`), the
        path of a saved model (a v2s checkpoint, a TorchScript file or, with
        ``trust_pickle=True``, a pickled ``nn.Module``), or a module mapping
        ``(batch, samples)`` waveforms to ``(batch, K)`` logits (it is
        copied, never modified).
    device : str or torch.device, default="cpu"
        Where the model lives.
    optimize : bool, default=True
        Use faster equivalents of frozen layers (same outputs up to float
        rounding); False keeps the model exactly as defined.
    trust_pickle : bool, default=False
        Allow a file that is neither a v2s checkpoint nor TorchScript to be
        unpickled as a whole ``nn.Module``. Unpickling runs any code the file
        holds, so only for files you trust; without it such a file is refused.

    Returns
    -------
    FrozenAcousticModel
        The model in eval mode with gradients disabled for its weights; its
        ``sha256`` names the file's content (None for an in-memory
        module) and ``name`` the built-in or the file's absolute path.

    Raises
    ------
    ValueError
        If ``model`` names neither a known model nor a file; if the file is
        empty, truncated or corrupted (a zip member fails its CRC-32 check) or
        does not match the manifest of a built-in; or if it needs unpickling
        without ``trust_pickle=True``.

    Examples
    --------
    >>> from v2s_sklearn import load_acoustic_model
    >>> model = load_acoustic_model("v2sa-synth")
    >>> len(model.class_names), model.sample_rate
    (35, 16000)
    """
    device = str(torch.device(device))
    if isinstance(model, FrozenAcousticModel):
        return copy.deepcopy(model).to(device)
    if isinstance(model, nn.Module):
        return FrozenAcousticModel(copy.deepcopy(model), optimize=optimize).to(device)
    if isinstance(model, str) and model in _manifest():
        module, digest = _load_builtin(model)
        return FrozenAcousticModel(copy.deepcopy(module), name=model, optimize=optimize,
                                   sha256=digest).to(device)
    if isinstance(model, (str, os.PathLike)):
        path = _existing_file(model)
        module, digest = _load_file(path, trust_pickle=trust_pickle)
        return FrozenAcousticModel(module, name=str(path), optimize=optimize,
                                   sha256=digest).to(device)
    raise TypeError("acoustic_model must be a built-in name, a path or a torch.nn.Module; "
                    f"got {type(model).__name__}")

