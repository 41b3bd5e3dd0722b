"""Per-time-point input scaling: what ``V2SClassifier(input_scaling=...)`` does to X.

The statistics come from scikit-learn's :class:`~sklearn.preprocessing.StandardScaler`
over the training rows only. NaN marks padding (the sktime adapter's
unequal-length series): it is left out of the statistics and placed as 0,
so padding stays silence after scaling.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler


def fit_input_scaling(X: np.ndarray, scaling: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-time-point mean and scale of ``X`` for ``scaling``.

    Parameters
    ----------
    X : ndarray of shape (n_series, n_channels, n_timepoints)
        The training rows (never validation rows: they choose the epoch).
    scaling : {None, "center", "standard"}

    Returns
    -------
    mean, scale : ndarray of shape (n_channels, n_timepoints), float32
        0 and 1 for None; ``scale`` is 1 for ``"center"`` and where a time
        point does not vary.
    """
    shape = X.shape[1:]
    if scaling is None:
        return np.zeros(shape, np.float32), np.ones(shape, np.float32)
    scaler = StandardScaler(with_std=scaling == "standard").fit(X.reshape(len(X), -1))
    mean = np.nan_to_num(scaler.mean_).reshape(shape)
    scale = (np.ones(shape) if scaler.scale_ is None
             else np.nan_to_num(scaler.scale_, nan=1.0).reshape(shape))
    return mean.astype(np.float32), scale.astype(np.float32)


def scale_series(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X - mean) / scale`` as float32, with NaN (padding) placed as 0."""
    scaled = (X - mean) / scale
    if np.isnan(scaled).any():
        scaled = np.where(np.isnan(X), 0.0, scaled)
    return scaled.astype(np.float32, copy=False)
