"""The datasets of a run: finding them, stratified subsets, synthetic warm-up data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def find_datasets(data_dir: str | os.PathLike | None) -> list[str]:
    """Dataset names in ``data_dir`` (folders holding NAME_TRAIN.tsv or .ts), sorted.

    Without ``data_dir``, the univariate datasets sktime ships.
    """
    from ..datasets import SKTIME_SHIPPED

    if data_dir is None:
        return list(SKTIME_SHIPPED)
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"--data-dir {root} is not a folder")
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and any(
        (p / f"{p.name}_TRAIN{ext}").exists() for ext in (".tsv", ".ts")))
    if not names:
        raise FileNotFoundError(f"no datasets (NAME/NAME_TRAIN.tsv or .ts) in {root}")
    return names


def stratified_subset(X: np.ndarray, y: np.ndarray, n: int | None,
                      random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` series, with the class proportions of ``y`` (all when ``n`` is None)."""
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    n_classes = len(np.unique(y))
    if n < n_classes:
        raise ValueError(f"a subset of {n} series cannot hold all {n_classes} classes")
    keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y,
                               random_state=random_state)
    keep = np.sort(keep)
    return X[keep], y[keep]


def _synthetic(n_channels: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """32 short noisy series of two classes, for warm-up fits (one full batch of V2S)."""
    rng = np.random.default_rng(random_state)
    t = np.linspace(0, 4 * np.pi, 48)
    y = np.repeat(["a", "b"], 16)
    base = np.where((y == "a")[:, None], np.sin(t), np.cos(t))
    X = base[:, None, :].repeat(n_channels, axis=1) + 0.1 * rng.standard_normal(
        (len(y), n_channels, len(t)))
    return (X[:, 0] if n_channels == 1 else X), y
