"""Speech-command classifiers used as frozen source models.

Every architecture maps a waveform ``(batch, samples)`` to logits
``(batch, n_classes)`` and carries the metadata the reprogramming layer needs:
``class_names``, ``sample_rate`` and ``input_length``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .frontend import LogMelFrontend
from .optimize import FoldedTimeConv


class AttRNN(nn.Module):
    """The attention-RNN speech-command model (V2Sa).

    De Andrade et al. (2018), "A neural attention model for speech command
    recognition", the source model Voice2Series reprograms best. About 0.2 M
    parameters with the default sizes.

    Parameters
    ----------
    class_names : sequence of str
        Names of the source classes, in logit order.
    sample_rate : int, default=16000
        Sampling rate of the input waveform.
    input_length : int, default=16000
        Number of samples of one input (one second at 16 kHz).
    n_mels : int, default=80
        Mel bands of the front end.
    rnn_units : int, default=64
        Units of each direction of the two bidirectional LSTM layers.

    Attributes
    ----------
    frontend : LogMelFrontend
        Waveform to normalised log-mel features.
    last_attention_ : torch.Tensor or None
        Attention weights over frames of the latest forward pass, shape
        ``(batch, frames)``; used for explanations.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        sample_rate: int = 16000,
        input_length: int = 16000,
        n_mels: int = 80,
        rnn_units: int = 64,
    ) -> None:
        super().__init__()
        self.class_names = list(class_names)
        self.sample_rate = int(sample_rate)
        self.input_length = int(input_length)
        self.frontend = LogMelFrontend(sample_rate=sample_rate, n_mels=n_mels)
        # Kernels of 5 frames by 1 mel band, as in the original Keras model.
        self.conv = nn.Sequential(
            nn.Conv2d(1, 10, kernel_size=(5, 1), padding=(2, 0)),
            nn.ReLU(),
            nn.BatchNorm2d(10),
            nn.Conv2d(10, 1, kernel_size=(5, 1), padding=(2, 0)),
            nn.ReLU(),
            nn.BatchNorm2d(1),
        )
        self.rnn = nn.LSTM(
            n_mels, rnn_units, num_layers=2, bidirectional=True, batch_first=True
        )
        width = 2 * rnn_units
        self.query = nn.Linear(width, width)
        self.head = nn.Sequential(
            nn.Linear(width, 64),
            nn.ReLU(),
            nn.Linear(64, 32),
            nn.Linear(32, len(self.class_names)),
        )
        self.last_attention_: torch.Tensor | None = None
        # Set by fold_frozen(): a faster, equivalent convolution block.
        self.conv_folded: FoldedTimeConv | None = None

    def fold_frozen(self) -> None:
        """Use a faster equivalent of the convolution block from now on.

        Only valid while the weights stay fixed (the folded copy does not follow
        later changes), which is what freezing guarantees.
        """
        if FoldedTimeConv.fits(self.conv):
            self.conv_folded = FoldedTimeConv(self.conv).to(next(self.parameters()).device)

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-mel features, ``(batch, frames, n_mels)``."""
        return self.frontend(waveform)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from log-mel features."""
        conv = self.conv if self.conv_folded is None else self.conv_folded
        x = conv(features.unsqueeze(1)).squeeze(1)  # (batch, frames, mels)
        seq, _ = self.rnn(x)  # (batch, frames, 2 * units)
        query = self.query(seq[:, -1])
        scores = torch.einsum("bf,btf->bt", query, seq)
        attention = torch.softmax(scores, dim=1)
        self.last_attention_ = attention.detach()
        context = torch.einsum("bt,btf->bf", attention, seq)
        return self.head(context)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(waveform))


ARCHITECTURES: dict[str, type[nn.Module]] = {"attrnn": AttRNN}
