"""How class scores are read from the frozen model: the label map, or the label map and features.

The paper reads a class's probability off the source model's word
probabilities only (the many-to-one label map of :mod:`v2s_sklearn.label_mapping`).
With 35 source words, 12 or more classes get two words or one each, and the
map has little to choose from. ``readout="features"`` adds a linear head on
the source model's intermediate activations, pooled over time (the log-mel
input, the stem and each block; mean and maximum): its scores are added to
the map's log-probabilities, and it trains with ``theta``. It starts at zero,
so training starts from the paper's model. ``docs/benchmarks.md`` ("Issue 27")
has the measurements behind :data:`FEATURES_MIN_CLASSES`.
"""

from __future__ import annotations

import torch
from torch import nn

from .label_mapping import target_log_proba

#: ``readout="auto"`` adds the feature head from this many classes on.
FEATURES_MIN_CLASSES = 10
#: Step size, L2 penalty and dropout of the feature head.
FEATURES_LEARNING_RATE = 0.01
FEATURES_WEIGHT_DECAY = 1e-4
FEATURES_DROPOUT = 0.2
#: Smallest standard deviation used to standardise an activation (flat ones stay finite).
MIN_FEATURE_SCALE = 1e-3

READOUTS = ("auto", "labels", "features")


def resolve_readout(readout: str, n_classes: int, offers_pooled: bool) -> str:
    """``"labels"`` or ``"features"``: what ``readout`` means for this fit.

    Raises
    ------
    ValueError
        For ``"features"`` with an acoustic model that exposes no pooled activations.
    """
    if readout == "features" and not offers_pooled:
        raise ValueError("readout='features' needs an acoustic model that exposes its pooled "
                         "activations (features() and classify_pooled(); the built-in "
                         "TC-ResNet models do, v2sa-synth does not). Use readout='labels' or "
                         "'auto'.")
    if readout == "auto":
        return "features" if offers_pooled and n_classes >= FEATURES_MIN_CLASSES else "labels"
    return readout


class FeatureHead(nn.Module):
    """A linear head on standardised pooled activations, added to the label map's scores.

    Parameters
    ----------
    n_features : int
        Pooled activations per series.
    n_classes : int
        Target classes.
    dropout : float, default=FEATURES_DROPOUT
        Dropout on the standardised activations while training.

    Attributes
    ----------
    mean, scale : torch.Tensor of shape (n_features,)
        Standardisation of the activations (set by :meth:`set_standardisation`).
    linear : torch.nn.Linear
        The head; zero at the start, so the first scores are the map's.
    """

    def __init__(self, n_features: int, n_classes: int,
                 dropout: float = FEATURES_DROPOUT) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.dropout = dropout
        self.linear = nn.Linear(n_features, n_classes)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def set_standardisation(self, pooled: torch.Tensor) -> None:
        """Centre and scale by the activations of the training series (at ``theta = 0``)."""
        with torch.no_grad():
            self.mean.copy_(pooled.mean(0))
            scale = pooled.std(0, unbiased=False) if len(pooled) > 1 else torch.ones_like(
                self.scale)
            self.scale.copy_(scale.clamp_min(MIN_FEATURE_SCALE))

    def forward(self, map_log_proba: torch.Tensor, pooled: torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Class log-probabilities: ``log_softmax(map_log_proba + head(z))``.

        Dropout (training mode only) draws from ``generator``, so a seeded fit
        repeats.
        """
        z = (pooled - self.mean) / self.scale
        if self.training and self.dropout > 0:
            keep = torch.rand(z.shape, generator=generator, device=z.device) >= self.dropout
            z = z * keep / (1 - self.dropout)
        return torch.log_softmax(map_log_proba + self.linear(z), dim=1)


def class_log_proba(logits: torch.Tensor, pooled: torch.Tensor | None, matrix: torch.Tensor,
                    head: FeatureHead | None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Class log-probabilities from source logits (and pooled activations with a head)."""
    log_proba = target_log_proba(logits, matrix)
    return log_proba if head is None else head(log_proba, pooled, generator)
