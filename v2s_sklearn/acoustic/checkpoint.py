"""Saving and loading acoustic models as plain tensors plus a small config.

The file is read with ``torch.load(weights_only=True)``, so opening it never
executes code, unlike a pickled ``nn.Module``. ``torch.save`` writes a zip
archive whose members carry CRC-32 checksums that ``torch.load`` never checks;
:func:`verify_archive` checks them first, so a corrupted file is refused
instead of loading wrong weights.
"""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .architectures import ARCHITECTURES

FORMAT = "v2s-acoustic/1"

# The first bytes of a zip archive: every torch.save (since torch 1.6) and
# torch.jit.save file starts with them.
_ZIP_MAGIC = b"PK\x03\x04"


class NotACheckpointError(ValueError):
    """The file is intact but is not a v2s checkpoint; another format may read it."""


def save_checkpoint(
    model: nn.Module, path: str | Path, architecture: str, config: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> str:
    """Write ``model``'s weights with what is needed to rebuild it; return its sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save({"format": FORMAT, "architecture": architecture, "config": config,
                "metadata": metadata or {}, "state_dict": state}, path)
    return sha256_of(path)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of the file at ``path``, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_archive(data: bytes, path: str | Path) -> None:
    """Refuse the bytes of a model file that are truncated or corrupted.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path
        Where ``data`` came from, for messages.

    Raises
    ------
    ValueError
        If ``data`` is empty, or is a zip archive (a ``torch.save`` or
        TorchScript file) that cannot be read or whose member fails its CRC-32
        check. Other files (legacy ``torch.save`` format, plain pickles) carry
        no checksums and pass unchecked.
    """
    if not data:
        raise ValueError(f"{path} is empty")
    if not data.startswith(_ZIP_MAGIC):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as error:
        # A truncated archive has lost its central directory (the zip's index).
        raise ValueError(f"{path} is truncated or corrupted: it starts as a zip archive "
                         f"(torch.save / TorchScript) but cannot be read as one ({error})"
                         ) from error
    if bad is not None:
        raise ValueError(f"{path} is corrupted: archive member {bad!r} fails its CRC-32 "
                         "check (the file was damaged or modified after it was saved)")


def checkpoint_from_bytes(data: bytes, path: str | Path) -> nn.Module:
    """Rebuild the model of a checkpoint's bytes (on the CPU, in eval mode).

    The caller has checked ``data`` with :func:`verify_archive`; ``path`` only
    names the file in messages. Reading the bytes once lets the caller hash,
    check and load the very same content.

    Raises
    ------
    NotACheckpointError
        If ``data`` is not a v2s checkpoint (another format may read it).
    ValueError
        If it is one whose architecture is unknown.
    """
    try:
        with warnings.catch_warnings():  # a TorchScript file is tried next, on purpose
            warnings.filterwarnings("ignore", message=".*TorchScript archive", category=UserWarning)
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # foreign files fail inside torch
        raise NotACheckpointError(f"{path} is not a readable acoustic-model checkpoint: "
                                  f"{error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise NotACheckpointError(f"{path} is not a v2s acoustic-model checkpoint ({FORMAT})")
    architecture = payload["architecture"]
    if architecture not in ARCHITECTURES:
        raise ValueError(f"{path}: unknown architecture {architecture!r}; "
                         f"known: {sorted(ARCHITECTURES)}")
    model = ARCHITECTURES[architecture](**payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.metadata = payload.get("metadata", {})
    return model.eval()


def load_checkpoint(path: str | Path) -> nn.Module:
    """Rebuild the model stored at ``path`` (on the CPU, in eval mode).

    Raises
    ------
    ValueError
        If the file is truncated or corrupted (:func:`verify_archive`), or is
        not a v2s checkpoint (:class:`NotACheckpointError`).
    """
    path = Path(path)
    data = path.read_bytes()
    verify_archive(data, path)
    return checkpoint_from_bytes(data, path)


def publish_checkpoint(source: str | Path, name: str, weights_dir: str | Path,
                       description: str = "") -> dict[str, Any]:
    """Copy a checkpoint into the package's weights folder and list it in the manifest.

    The manifest entry records the file, its sha256, the architecture and the
    metrics the checkpoint carries, so ``load_acoustic_model(name)`` can verify it.
    """
    import json
    import shutil

    weights_dir = Path(weights_dir)
    model = load_checkpoint(source)  # refuse to publish an unreadable file
    filename = name.replace("-", "_") + ".pt"
    shutil.copyfile(source, weights_dir / filename)
    manifest_path = weights_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[name] = {
        "file": filename,
        "sha256": sha256_of(weights_dir / filename),
        "architecture": type(model).__name__,
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "description": description,
        "metadata": getattr(model, "metadata", {}),
    }
    reference = Path(str(source) + ".reference.npy")  # pretrain.reference.reference_path
    if reference.exists():
        shutil.copyfile(reference, weights_dir / (filename + ".reference.npy"))
        manifest[name]["reference_outputs"] = reference_entry(weights_dir, filename)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest[name]


def reference_entry(weights_dir: str | Path, filename: str) -> dict[str, Any]:
    """Manifest entry of the reference logits shipped beside the weights ``filename``."""
    import numpy as np

    path = Path(weights_dir) / (filename + ".reference.npy")
    outputs = np.load(path)
    return {"file": path.name, "sha256": sha256_of(path), "n_clips": int(len(outputs)),
            "split": "test speakers, stratified by word (pretrain/reference.py)"}
