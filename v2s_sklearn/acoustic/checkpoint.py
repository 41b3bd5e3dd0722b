"""Saving and loading acoustic models as plain tensors plus a small config.

The file is read with ``torch.load(weights_only=True)``, so opening it never
executes code, unlike a pickled ``nn.Module``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .architectures import ARCHITECTURES

FORMAT = "v2s-acoustic/1"


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
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_checkpoint(path: str | Path) -> nn.Module:
    """Rebuild the model stored at ``path`` (on the CPU, in eval mode)."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated or foreign files fail inside torch
        raise ValueError(f"{path} is not a readable acoustic-model checkpoint: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a v2s acoustic-model checkpoint ({FORMAT})")
    architecture = payload["architecture"]
    if architecture not in ARCHITECTURES:
        raise ValueError(f"{path}: unknown architecture {architecture!r}; "
                         f"known: {sorted(ARCHITECTURES)}")
    model = ARCHITECTURES[architecture](**payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.metadata = payload.get("metadata", {})
    return model.eval()


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
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest[name]
