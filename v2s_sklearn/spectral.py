"""The reprogrammed input evaluated in the STFT domain, where it is cheap.

The short-time Fourier transform is linear, so for ``x' = Pad(x) + p`` with
``p = M * dropout(theta)``::

    STFT(x') = STFT(Pad(x)) + STFT(p)

``p`` is the same for every series of a minibatch, so its STFT is taken once
per step, and ``Pad(x)`` is zero outside the few frames that reach a copy of
the series, so only those frames are transformed per series (and never need
a gradient). The frames no series reaches have the same spectrum for the
whole batch, so their mel energies are computed once too. What follows the
mel energies (decibels, per-example standardisation, the network) runs on the
full spectrogram exactly as before; the result equals the waveform path up to
float rounding (tested in ``tests/test_spectral.py``).

The series' spectra do not change while theta trains, so a fit computes them
once (:meth:`ReprogrammedModel.cache_series_spectra`) and reuses them every
epoch, memory permitting.
"""

from __future__ import annotations

import torch
from torch import nn

from .acoustic.frontend import LogMelFrontend
from .reprogram import Reprogrammer

#: Largest cache of series spectra a fit keeps (bytes); above it, the spectra
#: are recomputed per batch, as without a cache.
SPECTRA_CACHE_BYTES = 512 * 2**20


class SpectralReprogrammer(nn.Module):
    """``frontend(Pad(x) + M * dropout(theta))`` computed frame-sparsely.

    Parameters
    ----------
    reprogrammer : Reprogrammer
        Holds ``theta``, the placement, the mask and the dropout; shared, not
        copied, so training this module trains ``reprogrammer.theta``.
    frontend : LogMelFrontend
        The frozen model's log-mel front end.

    Attributes
    ----------
    active_frames : torch.Tensor
        Frames that reach a sample where a copy of the series sits.
    """

    def __init__(self, reprogrammer: Reprogrammer, frontend: LogMelFrontend) -> None:
        super().__init__()
        self.reprogrammer = reprogrammer
        self.frontend = frontend
        length = reprogrammer.input_length
        active = frontend.frames_touching(reprogrammer.support.cpu())
        is_active = torch.zeros(frontend.n_frames(length), dtype=torch.bool)
        is_active[active] = True
        shared = torch.nonzero(~is_active).flatten()
        # Mel energies are assembled as [shared frames, active frames]; this
        # permutation puts them back in time order.
        order = torch.argsort(torch.cat([shared, active]))
        device = reprogrammer.theta.device
        self.register_buffer("active_frames", active.to(device), persistent=False)
        self.register_buffer("shared_frames", shared.to(device), persistent=False)
        self.register_buffer("time_order", order.to(device), persistent=False)

    def series_spectra(self, x: torch.Tensor) -> torch.Tensor:
        """STFT of the padded series at the active frames, ``(batch, freq, n_active)``."""
        with torch.no_grad():
            return self.frontend.stft_frames(self.reprogrammer.place(x), self.active_frames)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                series_spectra: torch.Tensor | None = None) -> torch.Tensor:
        """Log-mel features of the reprogrammed series, ``(batch, frames, n_mels)``.

        ``series_spectra``, when given, is ``self.series_spectra(x)`` computed
        earlier (a cache); ``x`` then only gives the batch size.
        """
        # In the front end's dtype: a float64 model serves float32 training too.
        dtype = self.frontend.mel.spectrogram.window.dtype
        perturbation = self.reprogrammer.perturbation(generator).to(dtype)
        spectrum = self.frontend.stft_frames(perturbation[None])[0]  # (freq, frames)
        # index_select rather than advanced indexing: the same values, several
        # times faster forward and backward on the CPU for a gather along one axis.
        mel_shared = self.frontend.mel_from_magnitude(
            spectrum.index_select(1, self.shared_frames).abs())
        if series_spectra is None:
            series_spectra = self.series_spectra(x)
        elif series_spectra.shape[::2] != (len(x), len(self.active_frames)):
            raise ValueError(f"series_spectra of shape {tuple(series_spectra.shape)} do not "
                             f"match {len(x)} series and {len(self.active_frames)} active frames")
        active = spectrum.index_select(1, self.active_frames) + series_spectra.to(spectrum.dtype)
        mel_active = self.frontend.mel_from_magnitude(active.abs())
        mel = torch.cat([mel_shared.expand(len(x), -1, -1), mel_active], dim=2)
        return self.frontend.log_features(mel.index_select(2, self.time_order))


class ReprogrammedModel(nn.Module):
    """Source logits of reprogrammed series: ``f_S(Pad(x) + M * dropout(theta))``.

    Parameters
    ----------
    model : FrozenAcousticModel
        The frozen source model.
    reprogrammer : Reprogrammer
        The trainable input transformation.
    spectral : bool, default=True
        Evaluate the front end in the STFT domain when the model allows it
        (:attr:`FrozenAcousticModel.spectral_frontend`); otherwise, or when
        False, build every reprogrammed waveform and run the model on it
        (which is differentiable with respect to the series). Both give the
        same logits up to float rounding; ``docs/benchmarks.md`` has the speeds.
    """

    def __init__(self, model: nn.Module, reprogrammer: Reprogrammer,
                 spectral: bool = True) -> None:
        super().__init__()
        self.model = model
        self.reprogrammer = reprogrammer
        frontend = getattr(model, "spectral_frontend", None) if spectral else None
        self.spectral = (SpectralReprogrammer(reprogrammer, frontend)
                         if frontend is not None else None)

    def cache_series_spectra(self, X: torch.Tensor, max_bytes: int | None = None,
                             batch_size: int = 64) -> torch.Tensor | None:
        """Spectra of all series of ``X`` at the active frames, to pass to :meth:`forward`.

        Returns None when the model does not run in the STFT domain or the
        cache would exceed ``max_bytes`` (default :data:`SPECTRA_CACHE_BYTES`);
        callers then pass nothing.
        """
        if max_bytes is None:
            max_bytes = SPECTRA_CACHE_BYTES
        if self.spectral is None:
            return None
        shape = (len(X), self.spectral.frontend.n_fft // 2 + 1,
                 len(self.spectral.active_frames))
        dtype = X.dtype.to_complex()
        n_bytes = shape[0] * shape[1] * shape[2] * dtype.itemsize
        if n_bytes > max_bytes:
            return None
        # Filled in place, chunk by chunk, so the peak stays near the cache's own size.
        cache = torch.empty(shape, dtype=dtype, device=X.device)
        for i in range(0, len(X), batch_size):
            cache[i : i + batch_size] = self.spectral.series_spectra(X[i : i + batch_size])
        return cache

    @property
    def offers_pooled(self) -> bool:
        """Whether :meth:`forward` can return pooled activations (``pooled=True``)."""
        return bool(getattr(self.model, "offers_pooled", False))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                series_spectra: torch.Tensor | None = None, pooled: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Source logits of the series ``x`` (batch, channels, length).

        ``series_spectra`` are the rows of :meth:`cache_series_spectra` for
        ``x``; only the STFT-domain path reads them. With ``pooled=True`` (for
        models that :attr:`offer <offers_pooled>` it), also the source model's
        pooled intermediate activations: ``(logits, pooled)``.
        """
        if pooled:
            if not self.offers_pooled:
                raise ValueError("this acoustic model does not expose pooled activations")
            if self.spectral is not None:
                features = self.spectral(x, generator, series_spectra)
            else:
                features = self.model.module.features(self.reprogrammer(x, generator))
            logits, activations = self.model.classify_pooled(features)
            return logits.to(x.dtype), activations.to(x.dtype)
        if self.spectral is not None:
            logits = self.model.classify(self.spectral(x, generator, series_spectra))
        else:
            logits = self.model(self.reprogrammer(x, generator))
        return logits.to(x.dtype)  # a model in another dtype still answers in x's
