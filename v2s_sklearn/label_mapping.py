"""Many-to-one maps from source labels to target classes.

A map is a list with one integer array per target class, holding the source
labels that serve it; no source label serves two classes. The probability of
a class is the mean of its source labels' probabilities.
"""

from __future__ import annotations

import numpy as np
import torch

LABEL_MAPPINGS = ("random", "frequency")


def resolve_labels_per_class(labels_per_class: int | str, n_source: int,
                             n_classes: int) -> int:
    """``"auto"`` is ``floor(K / C)``; an integer is checked against K."""
    if n_classes > n_source:
        raise ValueError(
            f"the data has {n_classes} classes but the acoustic model has only "
            f"{n_source} source labels, so some class would get none. Use an acoustic "
            f"model with at least {n_classes} classes or merge classes.")
    if isinstance(labels_per_class, str):
        if labels_per_class != "auto":
            raise ValueError(f"labels_per_class must be 'auto' or a positive int; "
                             f"got {labels_per_class!r}")
        return n_source // n_classes
    if labels_per_class * n_classes > n_source:
        raise ValueError(
            f"labels_per_class={labels_per_class} with {n_classes} classes needs "
            f"{labels_per_class * n_classes} source labels, but the acoustic model has "
            f"{n_source}. Use labels_per_class <= {n_source // n_classes} or 'auto'.")
    return int(labels_per_class)


def random_label_map(n_source: int, n_classes: int, labels_per_class: int,
                     rng: np.random.Generator) -> list[np.ndarray]:
    """Disjoint random source labels for each class (the paper's mapping)."""
    order = rng.permutation(n_source)
    return [np.sort(order[c * labels_per_class : (c + 1) * labels_per_class])
            for c in range(n_classes)]


def frequency_label_map(source_proba: np.ndarray, y: np.ndarray, n_classes: int,
                        labels_per_class: int) -> list[np.ndarray]:
    """Give each class the source labels the frozen model already favours for it.

    Frequency label mapping (Tsai et al., 2020), with mean probabilities instead
    of hard counts: repeatedly take the (class, source label) pair of highest
    mean source probability among classes that still need labels and labels
    still free.

    Parameters
    ----------
    source_proba : ndarray of shape (n_samples, n_source)
        Source-model probabilities of the padded training series.
    y : ndarray of shape (n_samples,)
        Encoded targets in ``range(n_classes)``.
    """
    n_source = source_proba.shape[1]
    affinity = np.stack([source_proba[y == c].mean(axis=0) for c in range(n_classes)])
    chosen: list[list[int]] = [[] for _ in range(n_classes)]
    free = np.ones(n_source, dtype=bool)
    for _ in range(n_classes * labels_per_class):
        open_classes = np.array([len(ch) < labels_per_class for ch in chosen])
        scores = np.where(open_classes[:, None] & free[None, :], affinity, -np.inf)
        c, k = np.unravel_index(np.argmax(scores), scores.shape)
        chosen[c].append(int(k))
        free[k] = False
    return [np.sort(np.array(ch)) for ch in chosen]


def mapping_matrix(label_map: list[np.ndarray], n_source: int) -> torch.Tensor:
    """(n_classes, n_source) matrix averaging each class's source probabilities."""
    matrix = torch.zeros(len(label_map), n_source)
    for c, labels in enumerate(label_map):
        matrix[c, torch.as_tensor(labels)] = 1.0 / len(labels)
    return matrix


def target_log_proba(source_logits: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of the target classes, renormalised to sum to one."""
    class_proba = torch.softmax(source_logits, dim=1) @ matrix.T
    class_proba = class_proba.clamp_min(torch.finfo(class_proba.dtype).tiny)
    return torch.log(class_proba) - torch.log(class_proba.sum(dim=1, keepdim=True))
