"""Speech-command classifiers used as frozen source models.

Every architecture maps a waveform ``(batch, samples)`` to logits
``(batch, n_classes)`` and carries the metadata the reprogramming layer needs:
``class_names``, ``sample_rate`` and ``input_length``.
"""

from __future__ import annotations

import copy
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


class _TemporalBlock(nn.Module):
    """Residual block of TC-ResNet: two ``k``-frame 1-D convolutions with batch norm.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels before and after the block.
    stride : int
        Stride of the first convolution (and of the shortcut when it is 2).
    kernel_size : int, default=9
        Frames each convolution spans.

    Notes
    -----
    ``conv(k, stride) BN ReLU conv(k) BN`` plus a shortcut (the identity,
    or a strided 1x1 convolution with BN and ReLU when the shape changes),
    then ReLU, as in Choi et al. (2019).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 kernel_size: int = 9) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv1d(in_channels, out_channels, kernel_size, stride, pad, bias=False),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Conv1d(out_channels, out_channels, kernel_size, 1, pad, bias=False),
            nn.BatchNorm1d(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm1d(out_channels),
                nn.ReLU(),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class TCResNet(nn.Module):
    """Temporal-convolution ResNet speech-command model, without recurrence.

    Choi et al. (2019), "Temporal Convolution for Real-time Keyword Spotting
    on Mobile Devices": the mel bands are the channels of 1-D convolutions
    along time, so every layer is a small dense product over a short,
    shrinking sequence (126 frames, then 63, 32, 16 with the default
    strides). The defaults are TC-ResNet14 with width multiplier 1.5
    (``channels=(24, 36, 36, 48, 48, 72, 72)``), on the same log-mel
    front end as :class:`AttRNN`.

    Parameters
    ----------
    class_names : sequence of str
        Names of the source classes, in logit order.
    sample_rate : int, default=16000
        Sampling rate of the input waveform.
    input_length : int, default=16000
        Number of samples of one input (one second at 16 kHz).
    n_mels : int, default=80
        Mel bands of the front end (the input channels of the first convolution).
    channels : sequence of int, default=(24, 36, 36, 48, 48, 72, 72)
        Channels of the first 3-frame convolution, then of each residual block.
    strides : sequence of int, default=(2, 1, 2, 1, 2, 1)
        Stride of each residual block (one per entry of ``channels[1:]``).
    kernel_size : int, default=9
        Frames spanned by the convolutions of the residual blocks.
    dropout : float, default=0.2
        Dropout before the final linear layer (training only).

    Attributes
    ----------
    frontend : LogMelFrontend
        Waveform to normalised log-mel features.

    Notes
    -----
    Batch norm runs in eval mode once the model is frozen
    (:class:`~v2s_sklearn.acoustic.registry.FrozenAcousticModel`), so it is a
    fixed affine map and the output of a series does not depend on the rest
    of its batch.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        sample_rate: int = 16000,
        input_length: int = 16000,
        n_mels: int = 80,
        channels: Sequence[int] = (24, 36, 36, 48, 48, 72, 72),
        strides: Sequence[int] = (2, 1, 2, 1, 2, 1),
        kernel_size: int = 9,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if len(strides) != len(channels) - 1:
            raise ValueError(f"need one stride per residual block: {len(channels) - 1} "
                             f"blocks, got {len(strides)} strides")
        self.class_names = list(class_names)
        self.sample_rate = int(sample_rate)
        self.input_length = int(input_length)
        self.frontend = LogMelFrontend(sample_rate=sample_rate, n_mels=n_mels)
        self.stem = nn.Conv1d(n_mels, channels[0], 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*[
            _TemporalBlock(c_in, c_out, s, kernel_size)
            for c_in, c_out, s in zip(channels[:-1], channels[1:], strides)])
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels[-1], len(self.class_names))
        # Set by fold_frozen(): stem and blocks with batch norm folded in.
        self.body_folded: nn.Module | None = None

    def fold_frozen(self) -> None:
        """Fold every batch norm into the convolution before it, from now on.

        Eval-mode batch norm is a fixed per-channel affine map, so
        ``BN(conv(x))`` is one convolution with rescaled weights and a bias
        (the same outputs up to float rounding, one pass less over the
        activations forward and backward). Only valid while the weights stay
        fixed (the folded copy does not follow later changes), which is what
        freezing guarantees.
        """
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        def fold(sequential: nn.Sequential) -> nn.Sequential:
            layers, modules = [], list(sequential)
            for i, module in enumerate(modules):
                if isinstance(module, nn.BatchNorm1d):
                    continue
                if (isinstance(module, nn.Conv1d) and i + 1 < len(modules)
                        and isinstance(modules[i + 1], nn.BatchNorm1d)):
                    module = fuse_conv_bn_eval(module.eval(), modules[i + 1].eval())
                layers.append(module)
            return nn.Sequential(*layers)

        blocks = []
        for block in self.blocks:
            folded = _TemporalBlock.__new__(_TemporalBlock)
            nn.Module.__init__(folded)
            folded.body = fold(block.body)
            folded.shortcut = (fold(block.shortcut) if isinstance(block.shortcut, nn.Sequential)
                               else nn.Identity())
            blocks.append(folded)
        with torch.no_grad():
            stem = copy.deepcopy(self.stem)
        body = nn.Sequential(stem, *blocks).eval()
        for parameter in body.parameters():
            parameter.requires_grad_(False)
        self.body_folded = body

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-mel features, ``(batch, frames, n_mels)``."""
        return self.frontend(waveform)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from log-mel features ``(batch, frames, n_mels)``."""
        x = features.transpose(1, 2)  # (batch, n_mels, frames)
        if self.body_folded is not None and not self.training:
            x = self.body_folded(x)
        else:
            x = self.blocks(self.stem(x))  # (batch, channels, frames)
        return self.head(self.dropout(x.mean(dim=2)))

    def classify_pooled(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits, and every layer's activations pooled over time.

        Parameters
        ----------
        features : torch.Tensor of shape (batch, frames, n_mels)
            Log-mel features.

        Returns
        -------
        logits : torch.Tensor of shape (batch, K)
        pooled : torch.Tensor of shape (batch, 2 * (n_mels + sum(channels)))
            The mean and the maximum over frames of the log-mel input, the
            stem's output and each residual block's output, channel by channel.
        """
        x = features.transpose(1, 2)  # (batch, n_mels, frames)
        folded = self.body_folded is not None and not self.training
        layers = list(self.body_folded) if folded else [self.stem, *self.blocks]
        pooled = [x.mean(dim=2), x.amax(dim=2)]
        for layer in layers:
            x = layer(x)
            pooled += [x.mean(dim=2), x.amax(dim=2)]
        return self.head(self.dropout(x.mean(dim=2))), torch.cat(pooled, dim=1)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(waveform))


class TCResNet8(TCResNet):
    """TC-ResNet8 (three residual blocks, width 1.5 by default): the smallest, fastest variant.

    Parameters
    ----------
    class_names, sample_rate, input_length, n_mels, kernel_size, dropout
        As for :class:`TCResNet`.
    channels : sequence of int, default=(24, 36, 48, 72)
        Channels of the stem, then of each of the three residual blocks
        (width multiplier 1.5 of the paper; ``(16, 24, 32, 48)`` is width 1).
    strides : sequence of int, default=(2, 2, 2)
        Stride of each residual block.
    """

    def __init__(self, class_names: Sequence[str], sample_rate: int = 16000,
                 input_length: int = 16000, n_mels: int = 80,
                 channels: Sequence[int] = (24, 36, 48, 72),
                 strides: Sequence[int] = (2, 2, 2), kernel_size: int = 9,
                 dropout: float = 0.2) -> None:
        super().__init__(class_names, sample_rate, input_length, n_mels, channels=channels,
                         strides=strides, kernel_size=kernel_size, dropout=dropout)


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "attrnn": AttRNN,
    "tcresnet": TCResNet,
    "tcresnet8": TCResNet8,
}
