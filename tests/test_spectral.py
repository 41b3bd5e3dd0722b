"""The optimized input path gives what the straightforward one gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.acoustic.optimize import FoldedTimeConv
from v2s_sklearn.label_mapping import target_log_proba
from v2s_sklearn.reprogram import Reprogrammer
from v2s_sklearn.spectral import ReprogrammedModel

from .conftest import assert_spectral_path_matches

# Stated tolerance: float32 rounding of a different but equivalent order of
# operations; logits of the built-in model are O(1-10).
LOGIT_ATOL = 1e-4
GRAD_RTOL = 1e-4


@pytest.fixture(scope="module")
def models():
    return load_acoustic_model(optimize=False), load_acoustic_model()


@pytest.mark.parametrize("length, channels, segments, mask", [
    (150, 1, 1, False),   # GunPoint-like
    (24, 1, 7, True),     # many short copies, masked theta
    (100, 3, 2, False),   # multivariate
    (16000, 1, 1, False), # the series fills the input: every frame is active
])
def test_spectral_path_matches_the_waveform_path(models, length, channels, segments, mask):
    straightforward, optimized = models
    torch.manual_seed(0)
    reprogrammer = Reprogrammer(16000, length, channels, segments, mask, dropout=0.2)
    reprogrammer.theta.data.normal_(0.0, 0.05)
    x = torch.randn(5, channels, length)
    assert_spectral_path_matches(ReprogrammedModel(straightforward, reprogrammer, spectral=False),
                                 ReprogrammedModel(optimized, reprogrammer), x,
                                 logit_atol=LOGIT_ATOL, grad_rtol=GRAD_RTOL)


def test_only_frames_that_reach_the_series_are_transformed_per_series(models):
    frontend = models[1].spectral_frontend
    support = torch.zeros(16000, dtype=torch.bool)
    support[5000:5150] = True
    active = frontend.frames_touching(support)
    assert 0 < len(active) < 20
    signal = torch.zeros(1, 16000)
    signal[0, 5000:5150] = torch.randn(150)
    magnitude = frontend.stft_frames(signal)[0].abs().amax(dim=0)
    others = torch.ones(len(magnitude), dtype=torch.bool)
    others[active] = False
    assert torch.all(magnitude[others] == 0)       # skipped frames are exactly zero
    assert torch.all(magnitude[active[1:-1]] > 0)  # and the kept ones are not


def test_folded_convolutions_equal_the_frozen_block():
    block = load_acoustic_model("v2sa-synth", optimize=False).module.conv  # V2Sa's 5x1 block
    assert FoldedTimeConv.fits(block)
    x = torch.randn(4, 1, 126, 80)
    with torch.no_grad():
        torch.testing.assert_close(FoldedTimeConv(block)(x), block(x), atol=1e-5, rtol=1e-5)
    assert not FoldedTimeConv.fits(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)))


def test_fitted_classifier_predicts_as_the_straightforward_path(gunpoint, models):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(max_epochs=2, validation_fraction=0.0, random_state=0, device="cpu",
                        input_scaling=None)
    proba = clf.fit(X_train, y_train).predict_proba(X_test)

    straightforward = models[0]
    reprogrammer = Reprogrammer(16000, X_train.shape[1], 1, clf.n_segments_, clf.mask, 0.0).eval()
    reprogrammer.theta.data.copy_(torch.from_numpy(clf.theta_))
    matrix = torch.as_tensor(clf.label_weights_, dtype=torch.float32)
    with torch.no_grad():
        logits = ReprogrammedModel(straightforward, reprogrammer, spectral=False)(
            torch.as_tensor(X_test[:, None], dtype=torch.float32))
        expected = torch.exp(target_log_proba(logits, matrix)).numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    assert (proba.argmax(1) == expected.argmax(1)).all()


def test_cached_series_spectra_give_the_same_logits_and_gradients(models):
    optimized = models[1]
    torch.manual_seed(1)
    reprogrammer = Reprogrammer(16000, 60, 2, 3, False, dropout=0.3)
    reprogrammer.theta.data.normal_(0.0, 0.05)
    network = ReprogrammedModel(optimized, reprogrammer)
    X = torch.randn(7, 2, 60)
    cache = network.cache_series_spectra(X, batch_size=3)  # built in several chunks
    assert cache.shape == (7, 513, len(network.spectral.active_frames))
    rows = torch.tensor([5, 0, 3])
    reprogrammer.train()
    outputs = []
    for spectra in (None, cache[rows]):
        reprogrammer.theta.grad = None
        logits = network(X[rows], torch.Generator().manual_seed(2), spectra)
        logits.logsumexp(1).sum().backward()
        outputs.append((logits.detach(), reprogrammer.theta.grad.clone()))
    torch.testing.assert_close(outputs[1][0], outputs[0][0], atol=1e-6, rtol=0)
    torch.testing.assert_close(outputs[1][1], outputs[0][1], atol=1e-7, rtol=1e-5)


def test_no_cache_above_the_memory_cap_or_off_the_spectral_path(models):
    reprogrammer = Reprogrammer(16000, 60, 1, 1, False, dropout=0.0)
    X = torch.randn(4, 1, 60)
    network = ReprogrammedModel(models[1], reprogrammer)
    cache = network.cache_series_spectra(X)
    n_bytes = cache.numel() * cache.element_size()
    assert network.cache_series_spectra(X, max_bytes=n_bytes) is not None  # the cap is inclusive
    assert network.cache_series_spectra(X, max_bytes=n_bytes - 1) is None
    waveform_path = ReprogrammedModel(models[0], reprogrammer, spectral=False)
    assert waveform_path.cache_series_spectra(X) is None
    with pytest.raises(ValueError, match="do not match"):
        network(X[:3], None, cache)  # rows of another batch


def test_fit_is_the_same_with_and_without_the_spectra_cache(gunpoint, monkeypatch):
    X_train, y_train, _, _ = gunpoint
    params = dict(max_epochs=2, random_state=0, device="cpu", n_segments=3,
                  input_scaling=None)  # one fit, so calls[1] is the second estimator's
    calls = []
    real = ReprogrammedModel.cache_series_spectra
    monkeypatch.setattr(ReprogrammedModel, "cache_series_spectra",
                        lambda self, X: calls.append(real(self, X)) or calls[-1])
    cached = V2SClassifier(**params).fit(X_train, y_train)
    monkeypatch.setattr("v2s_sklearn.spectral.SPECTRA_CACHE_BYTES", 0)
    uncached = V2SClassifier(**params).fit(X_train, y_train)
    assert calls[0] is not None and calls[1] is None  # cached, then turned off by the cap
    np.testing.assert_allclose(cached.theta_, uncached.theta_, atol=1e-5)
    for a, b in zip(cached.history_, uncached.history_):
        assert a["valid_accuracy"] == b["valid_accuracy"]
        assert abs(a["valid_loss"] - b["valid_loss"]) < 1e-5
