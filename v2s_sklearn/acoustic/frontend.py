"""Log-mel front end shared by the built-in acoustic models."""

from __future__ import annotations

import torch
from torch import nn
import torchaudio


class LogMelFrontend(nn.Module):
    """Waveform -> per-example normalised log-mel spectrogram.

    Mirrors the Kapre front end of de Andrade et al. (2018) used by Voice2Series:
    magnitude mel spectrogram, decibels, then each example standardised to zero
    mean and unit variance (which makes the models insensitive to input gain).

    Parameters
    ----------
    sample_rate : int
        Sampling rate of the waveform in Hz.
    n_fft, hop_length, n_mels, f_min : int or float
        STFT and mel filter-bank settings.

    Notes
    -----
    Input shape ``(batch, samples)``; output shape ``(batch, frames, n_mels)``.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 128,
        n_mels: int = 80,
        f_min: float = 40.0,
    ) -> None:
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            f_min=f_min,
            power=1.0,
        )
        self.to_db = torchaudio.transforms.AmplitudeToDB(stype="magnitude", top_db=80.0)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # A channel axis makes top_db clip per example; on (batch, mels, frames)
        # torchaudio would clip against the loudest example in the batch.
        spec = self.to_db(self.mel(waveform).unsqueeze(1)).squeeze(1)
        mean = spec.mean(dim=(1, 2), keepdim=True)
        std = spec.std(dim=(1, 2), keepdim=True)
        spec = (spec - mean) / (std + 1e-5)
        return spec.transpose(1, 2)
