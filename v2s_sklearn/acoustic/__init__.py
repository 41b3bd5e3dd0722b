"""Frozen source models: architectures, mel front end, checkpoints and the registry."""

from .registry import (
    DEFAULT_MODEL,
    FrozenAcousticModel,
    available_models,
    file_sha256,
    load_acoustic_model,
)

__all__ = ["DEFAULT_MODEL", "FrozenAcousticModel", "available_models", "file_sha256",
           "load_acoustic_model"]
