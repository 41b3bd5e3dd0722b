"""Sonification: a series turned into a sound that fills the whole source input.

``Pad(x)`` puts a 150-point series into 150 of 16,000 samples: about eight
spectrogram frames, in the lowest mel bands. A sonification ``S(x)`` spreads
the series over the whole second instead, so that its shape becomes a
time-frequency pattern the source model can hear; theta is then added as in
the paper, ``x' = S(x) + dropout(theta)``:

- ``"fm"``: a pitch contour. The series sets the fundamental frequency of a
  harmonic carrier (frequency modulation).
- ``"am"``: an energy envelope. The series sets the loudness of a harmonic
  carrier at a fixed pitch (amplitude modulation).

Each channel of a multivariate series gets a carrier of its own, at base
pitches spread over an octave, and the carriers are summed. ``S(x)`` does not
depend on theta, so a fit computes its spectra once and caches them, as it
does for ``Pad(x)``.

Values are squashed with ``tanh(x / 2)`` before they set pitch or loudness,
so a z-normalised series (the UCR convention, and what
``input_scaling="standard"`` gives) spans most of the range without any
fitted statistics, and outliers cannot push a harmonic past the Nyquist
frequency.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: Values of ``V2SClassifier(input_transform=...)``: the paper's zero-padding first.
INPUT_TRANSFORMS = ("pad", "fm", "am")


class Sonifier(nn.Module):
    """``S(x)``: series ``(batch, channels, length)`` to waveforms ``(batch, input_length)``.

    Parameters
    ----------
    kind : {"fm", "am"}
        Pitch contour or energy envelope (see the module docstring).
    input_length : int
        Samples of the source input.
    n_channels : int
        Channels of each series; one carrier each.
    sample_rate : float, default=16000
        Sampling rate of the source input, in Hz.
    base_frequency : float, default=220.0
        Fundamental of the first channel's carrier, in Hz: the pitch of a
        series at 0 (``"fm"``) or of every series (``"am"``). Later channels
        sit at higher pitches, spread over one octave.
    octaves : float, default=2.0
        ``"fm"`` only: the pitch range, in octaves, that the squashed series
        spans (one octave each side of ``base_frequency`` at the default).
    n_harmonics : int, default=16
        Harmonics of each carrier, with amplitudes ``1/k``, like a voiced
        sound; those above ``max_frequency`` are left out sample by sample.
    max_frequency : float, default=7000.0
        Highest frequency a harmonic may reach, in Hz (below Nyquist, so no
        harmonic aliases).
    amplitude : float, default=1.0
        Bound on the peak amplitude of the summed carriers: full scale, as
        the speech clips the source models learnt from are.
    """

    def __init__(self, kind: str, input_length: int, n_channels: int, *,
                 sample_rate: float = 16000.0, base_frequency: float = 220.0,
                 octaves: float = 2.0, n_harmonics: int = 16,
                 max_frequency: float = 7000.0, amplitude: float = 1.0) -> None:
        super().__init__()
        if kind not in INPUT_TRANSFORMS[1:]:
            raise ValueError(f"unknown sonification {kind!r}; use one of "
                             f"{INPUT_TRANSFORMS[1:]}")
        if not 0 < max_frequency < sample_rate / 2:
            raise ValueError(f"max_frequency={max_frequency} must lie between 0 and the "
                             f"Nyquist frequency {sample_rate / 2}")
        self.kind = kind
        self.input_length = input_length
        self.sample_rate = float(sample_rate)
        self.octaves = float(octaves)
        self.max_frequency = float(max_frequency)
        self.amplitude = float(amplitude)
        # One base pitch per channel, spread over an octave so that carriers
        # of different channels do not share harmonics.
        spread = torch.arange(n_channels, dtype=torch.float64) / max(n_channels, 1)
        self.register_buffer("base_frequencies", base_frequency * 2.0 ** spread,
                             persistent=False)
        self.register_buffer("harmonics", torch.arange(1, n_harmonics + 1, dtype=torch.float64),
                             persistent=False)

    def contour(self, x: torch.Tensor) -> torch.Tensor:
        """The squashed series, linearly stretched over the input: ``(batch, channels, samples)``."""
        squashed = torch.tanh(x / 2)
        return nn.functional.interpolate(squashed, size=self.input_length, mode="linear",
                                         align_corners=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        contour = self.contour(x)
        base = self.base_frequencies.to(x.dtype)[None, :, None]
        if self.kind == "fm":
            frequency = base * 2.0 ** (self.octaves / 2 * contour)
            envelope = torch.ones_like(contour)
        else:
            frequency = base.expand_as(contour)
            # Never fully silent: a zero envelope would leave -80 dB frames
            # whose level says nothing about the series.
            envelope = 0.05 + 0.95 * (contour + 1) / 2
        # Phase by a running sum of the frequency, so the pitch glides
        # without jumps; accumulated in float64 because it grows to ~1e4 rad.
        phase = (2 * math.pi / self.sample_rate) * torch.cumsum(frequency.double(), dim=-1)
        frequency = frequency.double()
        tone = torch.zeros_like(phase)
        for k in self.harmonics.tolist():  # a loop, not a harmonic axis: K times less memory
            tone += torch.sin(k * phase) * (k * frequency < self.max_frequency) / k
        scale = self.amplitude / (float((1 / self.harmonics).sum()) * contour.shape[1])
        return (scale * envelope * tone.to(x.dtype)).sum(dim=1)
