"""Batched waveform augmentation that narrows the gap between TTS and real speech.

Real Speech Commands clips are recorded on phones and laptops: words sit
anywhere in the second, speakers talk at their own speed and pitch, rooms
reverberate, microphones colour the spectrum and there is background noise.
Each transform below imitates one of these and runs on a whole batch at once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def speed_perturb(x: torch.Tensor, g: torch.Generator, low: float = 0.85,
                  high: float = 1.25) -> torch.Tensor:
    """Play each clip faster or slower by a factor in [low, high].

    Duration, pitch and formants change together, like a shorter or longer
    vocal tract. The range leans upward because the only female natural voice
    (slt) is held out: faster playback lets the male natural voices stand in.
    """
    n, length = x.shape
    factor = _uniform(n, low, high, g)
    grid = torch.linspace(-1, 1, length).expand(n, length) * factor[:, None]
    grid = torch.stack([grid, torch.zeros_like(grid)], dim=-1)[:, None]  # (n,1,L,2)
    out = F.grid_sample(x[:, None, None, :], grid, align_corners=True, padding_mode="zeros")
    return out[:, 0, 0]


def time_shift(x: torch.Tensor, g: torch.Generator, max_shift: int = 4000) -> torch.Tensor:
    """Move the word by up to ``max_shift`` samples, filling with silence."""
    n, length = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n,), generator=g)
    index = torch.arange(length)[None, :] - shifts[:, None]
    valid = (index >= 0) & (index < length)
    return torch.where(valid, x.gather(1, index.clamp(0, length - 1)), torch.zeros(()))


def random_eq(x: torch.Tensor, g: torch.Generator, max_db: float = 12.0) -> torch.Tensor:
    """Colour the spectrum with a random smooth curve (microphone and channel)."""
    n, length = x.shape
    spectrum = torch.fft.rfft(x)
    bins = spectrum.shape[1]
    knots = (torch.rand(n, 1, 8, generator=g) * 2 - 1) * max_db
    curve_db = F.interpolate(knots, size=bins, mode="linear", align_corners=True)[:, 0]
    tilt = _uniform(n, -1, 1, g)[:, None] * torch.linspace(-max_db / 2, max_db / 2, bins)
    gain = 10 ** ((curve_db + tilt) / 20)
    return torch.fft.irfft(spectrum * gain, n=length)


def reverberate(x: torch.Tensor, g: torch.Generator, sample_rate: int = 16000) -> torch.Tensor:
    """Convolve with a synthetic room impulse response (decaying noise, RT60 0.1-0.7 s)."""
    n, length = x.shape
    rir_len = sample_rate // 2
    t = torch.arange(rir_len) / sample_rate
    rt60 = _uniform(n, 0.1, 0.7, g)[:, None]
    rir = torch.randn(n, rir_len, generator=g) * torch.exp(-6.9 * t[None] / rt60)
    rir[:, 0] = 1.0 + rir[:, 0].abs()  # direct path
    rir = rir / rir.norm(dim=1, keepdim=True)
    size = length + rir_len
    wet = torch.fft.irfft(torch.fft.rfft(x, n=size) * torch.fft.rfft(rir, n=size), n=size)
    return wet[:, :length]


def coloured_noise(n: int, length: int, g: torch.Generator) -> torch.Tensor:
    """White, pink or brown noise (1/f^a spectrum, a in [0, 2])."""
    white = torch.randn(n, length, generator=g)
    exponent = _uniform(n, 0.0, 2.0, g)[:, None]
    freqs = torch.fft.rfftfreq(length).clamp(min=1.0 / length)
    shaped = torch.fft.irfft(torch.fft.rfft(white) / freqs[None] ** (exponent / 2), n=length)
    return shaped / shaped.std(dim=1, keepdim=True)


def add_noise(x: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Mix ``noise`` into ``x`` at the given signal-to-noise ratios."""
    signal_power = x.pow(2).mean(dim=1, keepdim=True).clamp(min=1e-10)
    noise_power = noise.pow(2).mean(dim=1, keepdim=True).clamp(min=1e-10)
    scale = torch.sqrt(signal_power / (noise_power * 10 ** (snr_db[:, None] / 10)))
    return x + scale * noise


def augment_batch(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The full recipe: each transform applied to a random part of the batch."""
    n, length = x.shape

    def some(p: float) -> torch.Tensor:
        return (torch.rand(n, generator=g) < p)[:, None]

    x = torch.where(some(0.8), speed_perturb(x, g), x)
    x = time_shift(x, g)
    x = torch.where(some(0.6), random_eq(x, g), x)
    x = torch.where(some(0.5), reverberate(x, g), x)
    # Babble: another clip of the batch, quieter, stands in for background talk.
    other = x.roll(1, dims=0)
    x = torch.where(some(0.2), add_noise(x, other, _uniform(n, 8, 25, g)), x)
    x = torch.where(some(0.8), add_noise(x, coloured_noise(n, length, g),
                                         _uniform(n, 0, 30, g)), x)
    gain_db = _uniform(n, -20, 6, g)[:, None]
    return (x * 10 ** (gain_db / 20)).clamp(-1, 1)


def spec_augment(features: torch.Tensor, g: torch.Generator, max_time: int = 20,
                 max_freq: int = 12) -> torch.Tensor:
    """Mask one random band of frames and one of mel bins per example (SpecAugment)."""
    n, frames, mels = features.shape
    t0 = torch.randint(0, frames, (n, 1), generator=g)
    tw = torch.randint(0, max_time + 1, (n, 1), generator=g)
    f0 = torch.randint(0, mels, (n, 1), generator=g)
    fw = torch.randint(0, max_freq + 1, (n, 1), generator=g)
    t = torch.arange(frames)[None]
    f = torch.arange(mels)[None]
    time_mask = ((t >= t0) & (t < t0 + tw))[:, :, None]
    freq_mask = ((f >= f0) & (f < f0 + fw))[:, None, :]
    return features.masked_fill(time_mask | freq_mask, 0.0)

