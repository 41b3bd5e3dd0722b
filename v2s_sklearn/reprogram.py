"""The Voice2Series input transformation ``x' = Pad(x) + M * dropout(theta)``."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


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
    theta : ndarray of shape (input_length,) or None, default=None
        Starting value of ``theta`` (a fitted one); None starts at zero.

    Attributes
    ----------
    theta : torch.nn.Parameter of shape (input_length,)
        The trainable additive signal.
    index : torch.Tensor of shape (n_copies * n_channels * series_length,)
        Sample where each point of each copy sits.
    support : torch.Tensor of shape (input_length,), bool
        Samples where the placed series can be non-zero.
    """

    def __init__(self, input_length: int, series_length: int, n_channels: int,
                 n_segments: int, mask: bool, dropout: float,
                 theta: np.ndarray | None = None) -> None:
        super().__init__()
        self.input_length = input_length
        self.dropout = dropout
        offsets = segment_offsets(input_length, series_length, n_channels, n_segments)
        # index[s, c, t]: sample where point t of channel c lands in copy s
        index = offsets[:, :, None] + np.arange(series_length)[None, None, :]
        support = np.zeros(input_length, dtype=bool)
        support[index.reshape(-1)] = True
        self.register_buffer("index", torch.as_tensor(index.reshape(-1), dtype=torch.long))
        self.register_buffer("support", torch.as_tensor(support), persistent=False)
        self.n_copies = n_segments
        keep = np.ones(input_length, dtype=np.float32)
        if mask:
            keep[support] = 0.0
        self.register_buffer("mask", torch.as_tensor(keep))
        start = torch.zeros(input_length) if theta is None else torch.tensor(theta)
        self.theta = nn.Parameter(start.float())

    def place(self, x: torch.Tensor) -> torch.Tensor:
        """``Pad(x)`` of ``x`` (batch, channels, length): (batch, input_length)."""
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
