"""Pinning a fitted estimator to its source model, and the working copy prediction uses.

A fit records what it reprogrammed (a built-in name, a file's absolute path, or a
frozen copy of a module) and the weights' sha256; prediction reloads exactly that
model, once per device and dtype, and refuses a file whose content changed.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import torch
from torch import nn

from .registry import FrozenAcousticModel, available_models, load_acoustic_model


def pin_acoustic_model(model: str | os.PathLike | nn.Module
                       ) -> tuple[FrozenAcousticModel, str | FrozenAcousticModel, str | None]:
    """Load a source model for fitting, and what pins it for prediction.

    Parameters
    ----------
    model : str, path or torch.nn.Module
        The estimator's ``acoustic_model``: a built-in name, a file or a module.

    Returns
    -------
    loaded : FrozenAcousticModel
        The model on the CPU.
    pin : str or FrozenAcousticModel
        What prediction reloads: a built-in name, a file's absolute path (so a
        change of working directory cannot change the model), or the frozen
        module itself.
    sha256 : str or None
        The weights' sha256 (None for an in-memory module).
    """
    if isinstance(model, (str, os.PathLike)) and not (isinstance(model, str)
                                                      and model in available_models()):
        model = str(Path(model).resolve())
    loaded = load_acoustic_model(model, device="cpu")
    pin = loaded if isinstance(model, nn.Module) else model
    return loaded, pin, loaded.sha256


def load_pinned_model(pin: str | FrozenAcousticModel, sha256: str | None,
                      device: torch.device, dtype: torch.dtype,
                      cache: dict) -> FrozenAcousticModel:
    """The pinned source model on ``device`` in ``dtype``, loaded once into ``cache``.

    Parameters
    ----------
    pin, sha256
        What :func:`pin_acoustic_model` returned.
    device, dtype
        Where and in what precision the model is wanted.
    cache : dict
        Holds one copy, of the latest device and dtype asked for (a model is a
        few MB to 100 MB); owned by the caller, so each estimator has its own.

    Raises
    ------
    ValueError
        When the file (or built-in) behind ``pin`` no longer has ``sha256``:
        whatever was trained for that model does not fit another.
    """
    key = (str(device), dtype)
    if key not in cache:
        if isinstance(pin, nn.Module):
            model = copy.deepcopy(pin)
        else:
            model = load_acoustic_model(pin, device="cpu")
            if sha256 is not None and model.sha256 != sha256:
                raise ValueError(
                    f"the acoustic model {pin!r} is not the one this estimator was fitted "
                    f"with (sha256 {str(model.sha256)[:12]}..., fitted with "
                    f"{sha256[:12]}...): restore that file or refit.")
        cache.clear()
        cache[key] = model.to(device=device, dtype=dtype)
    return cache[key]
