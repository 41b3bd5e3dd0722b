"""Maps from source labels to target classes.

A many-to-one map is a list with one integer array per target class, holding
the source labels that serve it; no source label serves two classes. The
probability of a class is the mean of its source labels' probabilities.

A map is applied as a weight matrix ``W`` of shape (n_classes, n_source)
whose rows average each class's labels (:func:`mapping_matrix`): a class's
probability is ``sum_k W[c, k] P(k | x')``, renormalised.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

#: Names accepted by ``V2SClassifier(label_mapping=...)``.
LABEL_MAPPINGS = ("random", "frequency", "ot")


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
    affinity = class_affinity(source_proba, y, n_classes)
    chosen: list[list[int]] = [[] for _ in range(n_classes)]
    free = np.ones(n_source, dtype=bool)
    for _ in range(n_classes * labels_per_class):
        open_classes = np.array([len(ch) < labels_per_class for ch in chosen])
        scores = np.where(open_classes[:, None] & free[None, :], affinity, -np.inf)
        c, k = np.unravel_index(np.argmax(scores), scores.shape)
        chosen[c].append(int(k))
        free[k] = False
    return [np.sort(np.array(ch)) for ch in chosen]


def class_affinity(source_proba: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean source probability of each source label over each class's series.

    Parameters
    ----------
    source_proba : ndarray of shape (n_samples, n_source)
        Source-model probabilities of the padded training series.
    y : ndarray of shape (n_samples,)
        Encoded targets in ``range(n_classes)``.
    n_classes : int

    Returns
    -------
    ndarray of shape (n_classes, n_source)

    Raises
    ------
    ValueError
        If a class has no series or the shapes disagree.
    """
    source_proba = np.asarray(source_proba, dtype=np.float64)
    y = np.asarray(y)
    if source_proba.ndim != 2 or len(source_proba) != len(y):
        raise ValueError(f"source_proba must be (n_samples, n_source) with one row per "
                         f"label; got shape {source_proba.shape} and {len(y)} labels")
    counts = np.bincount(y, minlength=n_classes)[:n_classes]
    if (counts == 0).any():
        raise ValueError(f"classes {np.flatnonzero(counts == 0).tolist()} have no series; "
                         "every class needs at least one to map source labels to it")
    return np.stack([source_proba[y == c].mean(axis=0) for c in range(n_classes)])


def total_affinity(label_map: list[np.ndarray], affinity: np.ndarray) -> float:
    """Sum over classes of the affinity of the source labels mapped to them.

    The objective :func:`ot_label_map` maximises exactly and
    :func:`frequency_label_map` greedily.
    """
    return float(sum(affinity[c, labels].sum() for c, labels in enumerate(label_map)))


def ot_label_map(source_proba: np.ndarray, y: np.ndarray, n_classes: int,
                 labels_per_class: int) -> list[np.ndarray]:
    """The many-to-one map of largest total affinity, by optimal transport.

    Each class must receive ``labels_per_class`` source labels and each source
    label serves at most one class; among such maps this one maximises
    :func:`total_affinity` (the summed mean source probability of every
    class's labels over that class's series). It is an exact transport problem:
    source labels carry mass 1, classes demand ``labels_per_class``, a dummy
    class of zero affinity takes the unused labels, and the cost is minus the
    affinity; POT's network simplex (``ot.emd``) returns an optimal vertex,
    which is integral, i.e. an assignment. The greedy :func:`frequency_label_map`
    solves the same problem approximately, so this map's objective is never
    lower.

    Parameters
    ----------
    source_proba : ndarray of shape (n_samples, n_source)
        Source-model probabilities of the padded training series.
    y : ndarray of shape (n_samples,)
        Encoded targets in ``range(n_classes)``.
    n_classes : int
    labels_per_class : int

    Returns
    -------
    list of ndarray
        For each class, its sorted source labels.
    """
    import ot

    affinity = class_affinity(source_proba, y, n_classes)
    n_source = affinity.shape[1]
    unused = n_source - n_classes * labels_per_class
    if unused < 0:
        raise ValueError(f"{n_classes} classes x {labels_per_class} labels need "
                         f"{n_classes * labels_per_class} source labels; there are {n_source}")
    # (n_source, n_classes + 1) costs; shifting by the largest affinity keeps them
    # non-negative and, as every plan moves the same mass, changes no optimum.
    gain = np.concatenate([affinity.T, np.zeros((n_source, 1))], axis=1)
    cost = gain.max() - gain
    supply = np.ones(n_source)
    demand = np.r_[np.full(n_classes, float(labels_per_class)), float(unused)]
    if unused == 0:
        cost, demand = cost[:, :-1], demand[:-1]
    plan = ot.emd(supply, demand, np.ascontiguousarray(cost))
    chosen = [np.flatnonzero(plan[:, c] > 0.5) for c in range(n_classes)]
    integral = np.allclose(plan, np.round(plan), atol=1e-6)
    if not integral or any(len(labels) != labels_per_class for labels in chosen):
        raise RuntimeError("ot.emd returned a fractional transport plan; this should not "
                           "happen for integer capacities (please report it)")
    return [np.sort(labels) for labels in chosen]


def label_map_from_affinity(name: str, source_proba: np.ndarray, y: np.ndarray,
                            n_classes: int, per_class: int) -> list[np.ndarray]:
    """The label map called ``name`` from the frozen model's training-set probabilities.

    Parameters
    ----------
    name : {"frequency", "ot"}
        ``"frequency"``: :func:`frequency_label_map` (greedy); ``"ot"``:
        :func:`ot_label_map` (optimal).
    source_proba : ndarray of shape (n_samples, n_source)
        Source-model probabilities of the padded training series.
    y : ndarray of shape (n_samples,)
        Encoded targets in ``range(n_classes)``.
    n_classes, per_class : int
        Classes, and source labels each class receives.

    Returns
    -------
    list of ndarray
        For each class, its sorted source labels.
    """
    builders = {"frequency": frequency_label_map, "ot": ot_label_map}
    if name not in builders:
        hint = (" ('random' needs no probabilities: use random_label_map)"
                if name == "random" else "")
        raise ValueError(f"no affinity-based label map {name!r}; choose from "
                         f"{sorted(builders)}{hint}")
    return builders[name](source_proba, y, n_classes, per_class)


def label_weights(name: str, source_proba: np.ndarray, y: np.ndarray, n_classes: int,
                  per_class: int) -> tuple[torch.Tensor, list[np.ndarray]]:
    """The weight matrix of the map called ``name``, and the labels serving each class.

    Parameters are those of :func:`label_map_from_affinity`.

    Returns
    -------
    weights : torch.Tensor of shape (n_classes, n_source)
        :func:`mapping_matrix` of the map.
    label_map : list of ndarray
        For each class, its sorted source labels.
    """
    label_map = label_map_from_affinity(name, source_proba, y, n_classes, per_class)
    return mapping_matrix(label_map, source_proba.shape[1]), label_map


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


def initial_label_map(name: str, labels_per_class: int | str, n_source: int, n_classes: int,
                      y: np.ndarray, rng: np.random.Generator,
                      source_proba: Callable[[], np.ndarray]
                      ) -> tuple[torch.Tensor, list[np.ndarray]]:
    """The map a fit starts from: its weight matrix and the labels serving each class.

    Parameters
    ----------
    name : {"random", "frequency", "ot"}
    labels_per_class : int or "auto"
    n_source, n_classes : int
    y : ndarray of shape (n_series,)
        Encoded classes of the training series.
    rng : numpy.random.Generator
        Draws the random map.
    source_proba : callable
        Returns the source model's probabilities of the placed training
        series, (n_series, n_source); called only by the maps that need them.
    """
    per_class = resolve_labels_per_class(labels_per_class, n_source, n_classes)
    if name == "random":
        label_map = random_label_map(n_source, n_classes, per_class, rng)
        return mapping_matrix(label_map, n_source), label_map
    return label_weights(name, source_proba(), y, n_classes, per_class)
