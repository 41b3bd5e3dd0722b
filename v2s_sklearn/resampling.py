"""Resampling of long series before they are placed: ``V2SClassifier(resample_length=...)``.

A series of several hundred points placed as samples of a 16 kHz waveform
sits in a few dozen milliseconds and its content lies below the band the log-mel
front end resolves well; only a copy or two fit. Shrinking it to 128 points (area
interpolation: each new point is the mean of the old points it covers) raises its
content in frequency and lets ten copies fit. ``docs/benchmarks.md`` ("Issue 27")
has the measurements behind :data:`AUTO_ABOVE` and :data:`AUTO_LENGTH`: a gain on
series longer than 300 points, none on shorter ones.

NaN (padding of the sktime adapter's unequal-length series) spreads to every new
point whose span touches it, so padding stays padding.
"""

from __future__ import annotations

import numpy as np
import torch

#: ``resample_length="auto"`` resamples series longer than this many points ...
AUTO_ABOVE = 300
#: ... to this many.
AUTO_LENGTH = 128


def placed_length(n_timepoints: int, resample_length: int | str | None) -> int:
    """The length series are placed at: ``n_timepoints``, or shorter when resampled."""
    if resample_length is None:
        return n_timepoints
    if resample_length == "auto":
        return AUTO_LENGTH if n_timepoints > AUTO_ABOVE else n_timepoints
    return min(n_timepoints, int(resample_length))


def resample(X: np.ndarray | torch.Tensor, length: int) -> np.ndarray | torch.Tensor:
    """Series ``(n_series, n_channels, n_timepoints)`` at ``length`` points (area interpolation).

    Returns ``X`` itself when it already has ``length`` points; an array for an
    array (float32), a tensor (differentiable) for a tensor.
    """
    if X.shape[-1] == length:
        return X
    if isinstance(X, torch.Tensor):
        return torch.nn.functional.interpolate(X, size=length, mode="area")
    shrunk = torch.nn.functional.interpolate(torch.from_numpy(np.ascontiguousarray(X)),
                                             size=length, mode="area")
    return shrunk.numpy().astype(np.float32, copy=False)


def to_input_length(values: np.ndarray, n_timepoints: int, *, keep_sums: bool = False
                    ) -> np.ndarray:
    """Per-placed-point values ``(n_series, n_channels, length)`` spread back onto the
    series' own ``n_timepoints`` points (linear interpolation), for explanations.

    ``keep_sums`` rescales so that each series' values add up as before (for
    weights that share out a total, such as attention).
    """
    length = values.shape[-1]
    if length == n_timepoints:
        return values
    placed = (np.arange(length) + 0.5) * n_timepoints / length  # centres of the spans
    grid = np.arange(n_timepoints) + 0.5
    out = np.apply_along_axis(lambda row: np.interp(grid, placed, row), -1, values)
    return out * (length / n_timepoints) if keep_sums else out
