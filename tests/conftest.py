"""Shared fixtures: small slices of real datasets that sktime ships."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from v2s_sklearn.datasets import load_dataset

# Small but real settings: few epochs on the built-in acoustic model.
FAST = dict(max_epochs=3, batch_size=16, validation_fraction=0.0, random_state=0)


def _stratified_head(X, y, per_class):
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    return X[keep], y[keep]


@pytest.fixture(scope="session")
def gunpoint():
    """12 training and 20 test series of GunPoint (length 150, 2 classes)."""
    X_train, y_train = _stratified_head(*load_dataset("GunPoint", "train"), 6)
    X_test, y_test = _stratified_head(*load_dataset("GunPoint", "test"), 10)
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="session")
def italy():
    """ItalyPowerDemand (length 24, 2 classes): 20 training series."""
    X, y = _stratified_head(*load_dataset("ItalyPowerDemand", "train"), 10)
    return X, y


@pytest.fixture(scope="session")
def basic_motions():
    """BasicMotions (6 channels, length 100, 4 classes): 8 training series."""
    X, y = _stratified_head(*load_dataset("BasicMotions", "train"), 2)
    return X, y


def assert_spectral_path_matches(slow, fast, x, *, logit_atol=1e-4, grad_rtol=1e-4):
    """The STFT-domain network ``fast`` gives the logits and theta gradient of the
    waveform network ``slow`` (both over the same reprogrammer), with and without
    the cache of series spectra."""
    import torch

    reprogrammer = fast.reprogrammer
    assert slow.reprogrammer is reprogrammer
    assert slow.spectral is None and fast.spectral is not None
    reprogrammer.eval()
    with torch.no_grad():
        expected = slow(x)
        torch.testing.assert_close(fast(x), expected, atol=logit_atol, rtol=0)
        cached = fast.cache_series_spectra(x)
        torch.testing.assert_close(fast(x, None, cached), expected, atol=logit_atol, rtol=0)
    reprogrammer.train()  # same dropout draw on both paths
    grads = []
    for network in (slow, fast):
        reprogrammer.theta.grad = None
        network(x, torch.Generator().manual_seed(3)).logsumexp(1).sum().backward()
        grads.append(reprogrammer.theta.grad.clone())
    assert (grads[1] - grads[0]).norm() / grads[0].norm() < grad_rtol


def _write_wav(path, samples, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture
def gsc_folder(tmp_path):
    """A tiny Speech Commands layout: 2 words x 4 speakers, official split lists."""
    rng = np.random.default_rng(0)
    root = tmp_path / "gsc"
    t = np.arange(16000) / 16000
    for w, word in enumerate(("yes", "no")):
        for speaker in ("aaaa1111", "bbbb2222", "cccc3333", "dddd4444"):
            for n in range(2):
                tone = 0.3 * np.sin(2 * np.pi * (300 + 200 * w) * t)
                _write_wav(root / word / f"{speaker}_nohash_{n}.wav",
                           tone + 0.01 * rng.standard_normal(16000))
    _write_wav(root / "_background_noise_" / "noise.wav", rng.standard_normal(16000) * 0.1)
    (root / "validation_list.txt").write_text("yes/cccc3333_nohash_0.wav\nyes/cccc3333_nohash_1.wav\n"
                                              "no/cccc3333_nohash_0.wav\nno/cccc3333_nohash_1.wav\n")
    (root / "testing_list.txt").write_text("yes/dddd4444_nohash_0.wav\nno/dddd4444_nohash_0.wav\n"
                                           "yes/dddd4444_nohash_1.wav\nno/dddd4444_nohash_1.wav\n")
    return root


@pytest.fixture(scope="session")
def italy_one_epoch(italy):
    """The default estimator (default source model) fitted for one epoch on ItalyPowerDemand."""
    from v2s_sklearn import V2SClassifier

    X, y = italy
    return V2SClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
