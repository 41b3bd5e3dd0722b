"""The recurrence-free source architectures (TC-ResNet) behave like AttRNN for V2S."""

from __future__ import annotations

import pytest
import torch

from v2s_sklearn import load_acoustic_model
from v2s_sklearn.acoustic.architectures import ARCHITECTURES, TCResNet, TCResNet8
from v2s_sklearn.acoustic.checkpoint import load_checkpoint, save_checkpoint
from v2s_sklearn.acoustic.frontend import LogMelFrontend
from v2s_sklearn.cli import main as v2s
from v2s_sklearn.pretrain.corpus import WORDS
from v2s_sklearn.reprogram import Reprogrammer
from v2s_sklearn.spectral import ReprogrammedModel

from .conftest import assert_spectral_path_matches

NEW = ["tcresnet", "tcresnet8"]


def _trained_like(name: str, seed: int = 0) -> torch.nn.Module:
    """A randomly initialised model whose batch norms hold non-trivial statistics."""
    torch.manual_seed(seed)
    model = ARCHITECTURES[name](WORDS)
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 16000) * 0.1)
    return model.eval()


@pytest.mark.parametrize("name", NEW)
def test_shapes_metadata_and_no_recurrence(name):
    model = _trained_like(name)
    assert model.class_names == list(WORDS)
    assert (model.sample_rate, model.input_length) == (16000, 16000)
    assert isinstance(model.frontend, LogMelFrontend)
    assert not any(isinstance(m, torch.nn.RNNBase) for m in model.modules())
    x = torch.randn(3, 16000) * 0.1
    with torch.no_grad():
        features = model.features(x)
        assert features.shape == (3, model.frontend.n_frames(16000), 80)
        logits = model.classify(features)
        assert logits.shape == (3, 35)
        torch.testing.assert_close(model(x), logits)
    # Model files stay small (the brief: at most 5 MB).
    assert sum(p.numel() for p in model.parameters()) * 4 < 5e6


def test_parameter_counts_are_those_documented():
    counts = {name: sum(p.numel() for p in ARCHITECTURES[name](WORDS).parameters())
              for name in NEW}
    assert counts == {"tcresnet": 307_523, "tcresnet8": 148_787}


def test_strides_must_match_the_blocks():
    with pytest.raises(ValueError, match="one stride per residual block"):
        TCResNet(WORDS, channels=(8, 16, 32), strides=(2,))


@pytest.mark.parametrize("name", NEW)
def test_folded_batch_norm_gives_the_same_logits_and_input_gradients(name):
    model = _trained_like(name)
    x = torch.randn(3, 16000) * 0.1
    with torch.no_grad():
        expected = model(x)
    frozen = load_acoustic_model(model)  # folds (optimize=True)
    assert frozen.module.body_folded is not None
    plain = load_acoustic_model(model, optimize=False)
    assert plain.module.body_folded is None
    with torch.no_grad():
        torch.testing.assert_close(frozen(x), expected, atol=1e-5, rtol=1e-5)
    grads = []
    for m in (plain, frozen):
        xi = x.clone().requires_grad_(True)
        m(xi).logsumexp(1).sum().backward()
        grads.append(xi.grad)
    assert (grads[1] - grads[0]).norm() / grads[0].norm() < 1e-4


def test_folding_does_not_touch_training():
    model = _trained_like("tcresnet8")
    model.fold_frozen()
    model.train()  # an unfrozen model in training uses its own layers, not the copy
    x = torch.randn(2, 16000) * 0.1
    model(x).sum().backward()
    assert model.stem.weight.grad is not None


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("length, channels, segments, mask", [
    (150, 1, 1, False),   # GunPoint-like
    (24, 1, 7, True),     # many short copies, masked theta
    (100, 3, 2, False),   # multivariate
])
def test_spectral_path_matches_the_waveform_path(name, length, channels, segments, mask):
    # Both paths with folded batch norm, so that only the front end differs
    # (folding alone is checked above; with random weights its float32
    # rounding moves theta's gradient by up to 1e-3 on some inputs).
    optimized = load_acoustic_model(_trained_like(name))
    assert optimized.spectral_frontend is not None
    torch.manual_seed(0)
    reprogrammer = Reprogrammer(16000, length, channels, segments, mask, dropout=0.2)
    reprogrammer.theta.data.normal_(0.0, 0.05)
    x = torch.randn(5, channels, length)
    assert_spectral_path_matches(ReprogrammedModel(optimized, reprogrammer, spectral=False),
                                 ReprogrammedModel(optimized, reprogrammer), x)


def test_spectral_path_holds_for_a_front_end_of_40_mel_bands():
    # The shipped width-1 model is the only one whose front end is not 80 bands.
    optimized = load_acoustic_model("tcresnet8-w1-synth")
    assert optimized.module.frontend.mel.n_mels == 40
    torch.manual_seed(0)
    reprogrammer = Reprogrammer(16000, 150, 1, 10, False, dropout=0.2)
    reprogrammer.theta.data.normal_(0.0, 0.05)
    x = torch.randn(5, 1, 150)
    assert_spectral_path_matches(ReprogrammedModel(optimized, reprogrammer, spectral=False),
                                 ReprogrammedModel(optimized, reprogrammer), x)


@pytest.mark.parametrize("name, cls", [("tcresnet", TCResNet), ("tcresnet8", TCResNet8)])
def test_checkpoint_round_trip(tmp_path, name, cls):
    model = _trained_like(name)
    config = {"class_names": list(WORDS), "sample_rate": 16000, "input_length": 16000}
    digest = save_checkpoint(model, tmp_path / "m.pt", name, config, metadata={"note": 1})
    assert len(digest) == 64
    loaded = load_checkpoint(tmp_path / "m.pt")
    assert type(loaded) is cls and not loaded.training
    assert loaded.metadata == {"note": 1}
    x = torch.randn(2, 16000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=0, rtol=0)
    frozen = load_acoustic_model(tmp_path / "m.pt")
    assert frozen.class_names == list(WORDS)
    assert (tmp_path / "m.pt").stat().st_size < 5e6


def test_pretrain_trains_the_chosen_architecture(gsc_folder, tmp_path):
    output = tmp_path / "model.pt"
    v2s(["pretrain", "--gsc-dir", str(gsc_folder), "--architecture", "tcresnet8",
         "--epochs", "1", "--batch-size", "4", "--threads", "1", "--output", str(output)])
    model = load_checkpoint(output)
    assert type(model) is TCResNet8
    assert model.metadata["n_parameters"] == 148_787


def test_pretrain_sizes_a_tcresnet_and_keeps_the_size_in_the_checkpoint(gsc_folder, tmp_path):
    output = tmp_path / "narrow.pt"
    v2s(["pretrain", "--gsc-dir", str(gsc_folder), "--architecture", "tcresnet8",
         "--n-mels", "40", "--channels", "16,24,32,48", "--epochs", "1", "--batch-size", "4",
         "--threads", "1", "--output", str(output)])
    model = load_checkpoint(output)  # rebuilt from the checkpoint alone
    assert model.stem.in_channels == 40 and model.frontend.mel.n_mels == 40
    assert [block.body[0].out_channels for block in model.blocks] == [24, 32, 48]
    assert model.head.in_features == 48
    assert model.metadata["n_parameters"] == sum(p.numel() for p in model.parameters())


def test_pretrain_refuses_a_size_the_architecture_lacks(gsc_folder, tmp_path, capsys):
    # Refused before the corpus is read (a missing folder would fail otherwise).
    missing = str(tmp_path / "no-such-folder")
    with pytest.raises(ValueError, match="architecture 'attrnn' takes no 'channels'"):
        v2s(["pretrain", "--gsc-dir", missing, "--architecture", "attrnn",
             "--channels", "16,24", "--epochs", "1", "--threads", "1",
             "--output", str(tmp_path / "m.pt")])
    with pytest.raises(ValueError, match="'tcresnet' takes 7 channels .* got 4"):
        v2s(["pretrain", "--gsc-dir", missing, "--architecture", "tcresnet",
             "--channels", "16,24,32,48", "--threads", "1", "--output", str(tmp_path / "m.pt")])
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(SystemExit):
        v2s(["pretrain", "--gsc-dir", str(gsc_folder), "--channels", "16,x"])
    assert "expected comma-separated integers, got '16,x'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a front end of no mel bands would build an empty network
        v2s(["pretrain", "--gsc-dir", str(gsc_folder), "--n-mels", "0"])
    assert "expected positive integers, got '0'" in capsys.readouterr().err


BUILTIN = {"tcresnet8-synth": TCResNet8, "tcresnet8-synth-2": TCResNet8,
           "tcresnet8-w1-synth": TCResNet8, "tcresnet14-synth": TCResNet}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_tcresnet_loads_by_name_and_reprograms_gunpoint(name):
    from v2s_sklearn import V2SClassifier, available_models
    from v2s_sklearn.datasets import load_dataset

    assert name in available_models()
    model = load_acoustic_model(name)
    assert type(model.module) is BUILTIN[name]
    assert model.class_names == list(WORDS) and not model.module.training
    assert model.module.metadata["test_accuracy"] > 0.5
    X, y = load_dataset("GunPoint", "train")
    clf = V2SClassifier(acoustic_model=name, max_epochs=2, validation_fraction=0,
                        input_scaling=None, random_state=0).fit(X, y)
    assert len(clf.history_) == 2
    assert clf.predict_proba(X[:5]).shape == (5, 2)
    assert set(clf.predict(X)) <= set(y)
