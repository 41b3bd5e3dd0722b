"""Log-mel front end shared by the built-in acoustic models."""

from __future__ import annotations

import torch
import torchaudio
from torch import nn


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

    # The pieces below let callers evaluate the same features in the STFT
    # domain (see ``v2s_sklearn.spectral``): forward() is
    # ``log_features(mel(|stft_frames(waveform)|))`` up to float rounding.
    @property
    def n_fft(self) -> int:
        return self.mel.spectrogram.n_fft

    @property
    def hop_length(self) -> int:
        return self.mel.spectrogram.hop_length

    def n_frames(self, n_samples: int) -> int:
        """STFT frames of a waveform of ``n_samples`` (centred frames)."""
        return 1 + n_samples // self.hop_length

    def frames_touching(self, support: torch.Tensor) -> torch.Tensor:
        """Indices of the frames whose window reaches a sample where ``support`` is True.

        ``support`` is a boolean vector over the input samples; frames that see
        only samples outside it (reflection at the edges included) have an
        exactly zero spectrum for any signal that is zero outside it.
        """
        padded = self._pad(support.float()[None])[0]
        reached = padded.unfold(0, self.n_fft, self.hop_length).amax(dim=1) > 0
        return torch.nonzero(reached).flatten()

    def _pad(self, waveform: torch.Tensor) -> torch.Tensor:
        half = self.n_fft // 2
        return torch.nn.functional.pad(waveform[:, None], (half, half),
                                       mode=self.mel.spectrogram.pad_mode)[:, 0]

    def stft_frames(self, waveform: torch.Tensor,
                    frames: torch.Tensor | None = None) -> torch.Tensor:
        """Complex STFT of ``(batch, samples)``, only at ``frames`` when given.

        Returns
        -------
        torch.Tensor of shape (batch, n_fft // 2 + 1, n_selected_frames), complex
        """
        windows = self._pad(waveform).unfold(1, self.n_fft, self.hop_length)
        if frames is not None:
            windows = windows[:, frames]
        spectra = torch.fft.rfft(windows * self.mel.spectrogram.window, dim=-1)
        return spectra.transpose(1, 2)

    def mel_from_magnitude(self, magnitude: torch.Tensor) -> torch.Tensor:
        """``(..., freq, frames)`` magnitude -> ``(..., n_mels, frames)`` mel energies."""
        return self.mel.mel_scale(magnitude)

    def log_features(self, mel: torch.Tensor) -> torch.Tensor:
        """``(batch, n_mels, frames)`` mel energies -> normalised ``(batch, frames, n_mels)``."""
        # A channel axis makes top_db clip per example; on (batch, mels, frames)
        # torchaudio would clip against the loudest example in the batch.
        spec = self.to_db(mel.unsqueeze(1)).squeeze(1)
        mean = spec.mean(dim=(1, 2), keepdim=True)
        centred = spec - mean
        # The unbiased standard deviation (what ``Tensor.std`` gives) from the
        # centred values already at hand: on the CPU several times faster than
        # ``std`` forward, and equal up to float rounding.
        n = spec.shape[1] * spec.shape[2]
        std = (centred.square().sum(dim=(1, 2), keepdim=True) / (n - 1)).sqrt()
        return (centred / (std + 1e-5)).transpose(1, 2)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.log_features(self.mel(waveform))
