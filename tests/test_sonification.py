"""``input_transform="fm"`` / ``"am"``: the series heard over the whole second."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.reprogram import Reprogrammer
from v2s_sklearn.sonification import Sonifier
from v2s_sklearn.spectral import ReprogrammedModel

from .conftest import FAST, assert_spectral_path_matches

RATE = 16000


def dominant_frequency(wave: torch.Tensor) -> float:
    spectrum = torch.fft.rfft(wave.double()).abs()
    return float(torch.argmax(spectrum)) * RATE / len(wave)


def test_fm_pitch_follows_the_series():
    sonify = Sonifier("fm", RATE, 1)
    low, zero, high = sonify(torch.tensor([[[-3.0] * 50], [[0.0] * 50], [[3.0] * 50]]))
    assert dominant_frequency(low) < dominant_frequency(zero) < dominant_frequency(high)
    assert dominant_frequency(zero) == pytest.approx(220.0, abs=2.0)
    # A rising series glides upward: the second half is higher than the first.
    (ramp,) = sonify(torch.linspace(-3, 3, 80).reshape(1, 1, -1))
    assert dominant_frequency(ramp[: RATE // 2]) < dominant_frequency(ramp[RATE // 2:])


def test_am_loudness_follows_the_series_at_a_fixed_pitch():
    sonify = Sonifier("am", RATE, 1)
    quiet, loud = sonify(torch.tensor([[[-3.0] * 50], [[3.0] * 50]]))
    assert quiet.square().mean() * 4 < loud.square().mean()
    assert dominant_frequency(quiet) == pytest.approx(dominant_frequency(loud), abs=2.0)


@pytest.mark.parametrize("kind", ["fm", "am"])
def test_no_harmonic_passes_max_frequency_and_the_peak_is_bounded(kind):
    sonify = Sonifier(kind, RATE, 3, max_frequency=5000.0)
    waves = sonify(torch.randn(4, 3, 60) * 10)  # outliers too: tanh keeps the pitch in range
    assert waves.shape == (4, RATE) and torch.isfinite(waves).all()
    assert waves.abs().max() <= sonify.amplitude + 1e-6
    spectrum = torch.fft.rfft(waves.double(), dim=-1).abs().square()
    above = spectrum[:, 5100:].sum() / spectrum.sum()  # one second: bin k is k Hz
    assert above < 1e-3


def test_channels_get_carriers_of_their_own():
    sonify = Sonifier("am", RATE, 2)
    silent_second = torch.tensor([[[3.0] * 40, [-30.0] * 40]])
    silent_first = torch.tensor([[[-30.0] * 40, [3.0] * 40]])
    assert dominant_frequency(sonify(silent_second)[0]) < dominant_frequency(
        sonify(silent_first)[0])


@pytest.mark.parametrize("kind", ["fm", "am"])
def test_spectral_path_matches_the_waveform_path(kind):
    straightforward, optimized = load_acoustic_model(optimize=False), load_acoustic_model()
    torch.manual_seed(0)
    reprogrammer = Reprogrammer(RATE, 90, 2, 1, False, dropout=0.0, input_transform=kind)
    reprogrammer.theta.data.normal_(0.0, 0.05)
    x = torch.randn(3, 2, 90)
    fast = ReprogrammedModel(optimized, reprogrammer)
    assert len(fast.spectral.active_frames) == optimized.spectral_frontend.n_frames(RATE)
    assert_spectral_path_matches(ReprogrammedModel(straightforward, reprogrammer, spectral=False),
                                 fast, x)


def test_the_estimator_fits_and_predicts_a_sonified_multivariate_series(basic_motions):
    X, y = basic_motions
    clf = V2SClassifier(**{**FAST, "max_epochs": 2}, input_transform="fm").fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4) and np.allclose(proba.sum(1), 1)
    assert (clf.input_transform_, clf.n_segments_) == ("fm", 1)
    # theta acts everywhere: no sample is kept for the series alone
    assert np.count_nonzero(clf.theta_) > 0.99 * clf.theta_.size
    clf.set_params(input_transform="pad")  # prediction reads the fitted transform
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_mask_with_a_sonification_is_refused_with_the_remedy(gunpoint):
    X, y, _, _ = gunpoint
    with pytest.raises(ValueError, match="mask=True leaves theta no sample.*mask=False"):
        V2SClassifier(**FAST, input_transform="am", mask=True).fit(X, y)


def test_an_unknown_transform_is_refused_before_any_work(gunpoint):
    X, y, _, _ = gunpoint
    with pytest.raises(ValueError, match="input_transform"):
        V2SClassifier(input_transform="chirp").fit(X, y)


@pytest.mark.parametrize("transform", ["pad", "fm"])
def test_plot_source_input_shows_the_waveform_and_what_the_model_sees(gunpoint, transform,
                                                                      tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from v2s_sklearn.plotting import plot_source_input

    X, y, _, _ = gunpoint
    clf = V2SClassifier(**FAST, input_transform=transform).fit(X, y)
    fig = plot_source_input(clf, X, max_series=2)
    wave_ax, mel_ax = fig.axes[0], fig.axes[1]
    placed = wave_ax.lines[1].get_ydata()
    # Pad(x) is silent outside the copies; S(x) sounds over the whole second.
    silent = np.mean(placed == 0)
    assert (silent > 0.5) if transform == "pad" else (silent < 0.01)
    n_mels = load_acoustic_model(clf.acoustic_model_).spectral_frontend.mel.n_mels
    assert mel_ax.images[0].get_array().shape == (n_mels, 126)  # mel bands x frames
    fig.savefig(tmp_path / "input.png")
