"""The Voice2Series input transformation ``x' = Pad(x) + M * dropout(theta)``.

With ``input_transform="fm"`` or ``"am"``, ``Pad(x)`` gives way to a
sonification ``S(x)`` over the whole input (``v2s_sklearn.sonification``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .sonification import INPUT_TRANSFORMS, Sonifier


def segment_offsets(input_length: int, series_length: int, n_channels: int,
                    n_segments: int) -> np.ndarray:
    """Start sample of every (segment, channel) copy of the series.

    The source input is cut into ``n_segments`` equal spans from the start;
    each span holds the channels of the series back to back.

    Returns
    -------
    ndarray of shape (n_segments, n_channels)

    Raises
    ------
    ValueError
        When the copies do not fit into ``input_length`` samples.
    """
    span = input_length // n_segments
    needed = n_channels * series_length
    if needed > span:
        most_segments = input_length // needed
        # One copy that does not fit leaves shortening as the only remedy.
        if most_segments >= 1:
            remedy = (f"Use n_segments <= {most_segments} or shorten the series to at most "
                      f"{span // n_channels} points (e.g. by resampling)")
        else:
            remedy = (f"Even one copy does not fit: shorten the series to at most "
                      f"{input_length // n_channels} points (e.g. by resampling)")
        raise ValueError(
            f"{n_segments} segment(s) of a {n_channels}-channel series of length "
            f"{series_length} need {n_segments * needed} samples, but the acoustic model "
            f"takes {input_length}. {remedy}."
        )
    return (np.arange(n_segments)[:, None] * span
            + np.arange(n_channels)[None, :] * series_length)


class Reprogrammer(nn.Module):
    """Places series into the source input and adds the trainable signal ``theta``.

    Parameters
    ----------
    input_length : int
        Samples of the source model's input (16,000 for one second at 16 kHz).
    series_length : int
        Time points of each target series.
    n_channels : int
        Channels of each target series.
    n_segments : int
        Copies of the series, at equal spacing from the start.
    mask : bool
        If True, ``theta`` only acts where no copy of the series sits.
    dropout : float
        Dropout rate on ``theta`` while training.
    input_transform : {"pad", "fm", "am"}, default="pad"
        How a series becomes a waveform: zero-padded copies (the paper's) or a
        sonification over the whole input (then ``n_segments`` is 1 and
        ``mask`` must be False: no sample is free of the series).

    Attributes
    ----------
    theta : torch.nn.Parameter of shape (input_length,)
        The trainable additive signal, initialised to zero.
    index : torch.Tensor of shape (n_copies * n_channels * series_length,)
        Sample where each point of each copy sits (for a sonification: the
        sample its value is heard at, per channel).
    support : torch.Tensor of shape (input_length,), bool
        Samples where the placed series can be non-zero.
    """

    def __init__(self, input_length: int, series_length: int, n_channels: int,
                 n_segments: int, mask: bool, dropout: float,
                 input_transform: str = "pad") -> None:
        super().__init__()
        self.input_length = input_length
        self.dropout = dropout
        if input_transform not in INPUT_TRANSFORMS:
            raise ValueError(f"input_transform={input_transform!r}; use one of "
                             f"{INPUT_TRANSFORMS}")
        self.sonifier = None
        if input_transform == "pad":
            offsets = segment_offsets(input_length, series_length, n_channels, n_segments)
            # index[s, c, t]: sample where point t of channel c lands in copy s
            index = offsets[:, :, None] + np.arange(series_length)[None, None, :]
            support = np.zeros(input_length, dtype=bool)
            support[index.reshape(-1)] = True
        else:
            if mask:
                raise ValueError(f"mask=True leaves theta no sample to act on: "
                                 f"input_transform={input_transform!r} fills the whole "
                                 "input. Use mask=False.")
            if n_segments != 1:
                raise ValueError(f"input_transform={input_transform!r} spreads one copy of "
                                 f"the series over the whole input; n_segments must be 1, "
                                 f"not {n_segments}")
            self.sonifier = Sonifier(input_transform, input_length, n_channels)
            where = np.rint(np.linspace(0, input_length - 1, series_length)).astype(np.int64)
            index = np.broadcast_to(where, (1, n_channels, series_length))
            support = np.ones(input_length, dtype=bool)
        self.input_transform = input_transform
        self.register_buffer("index", torch.as_tensor(index.reshape(-1), dtype=torch.long))
        self.register_buffer("support", torch.as_tensor(support), persistent=False)
        self.n_copies = n_segments
        keep = np.ones(input_length, dtype=np.float32)
        if mask:
            keep[support] = 0.0
        self.register_buffer("mask", torch.as_tensor(keep))
        self.theta = nn.Parameter(torch.zeros(input_length))

    def place(self, x: torch.Tensor) -> torch.Tensor:
        """``Pad(x)`` (or ``S(x)``) of ``x`` (batch, channels, length): (batch, input_length)."""
        if self.sonifier is not None:
            return self.sonifier(x)
        batch = x.shape[0]
        values = x.reshape(batch, 1, -1).expand(batch, self.n_copies, -1).reshape(batch, -1)
        out = x.new_zeros(batch, self.input_length)
        return out.index_copy(1, self.index, values)

    def perturbation(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """``M * dropout(theta)``; dropout only in training mode."""
        theta = self.theta
        if self.training and self.dropout > 0:
            keep = torch.rand(theta.shape, generator=generator, device=theta.device)
            theta = theta * (keep >= self.dropout) / (1 - self.dropout)
        return self.mask * theta

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.place(x) + self.perturbation(generator)
