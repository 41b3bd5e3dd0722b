"""The built-in acoustic model and load_acoustic_model."""

from __future__ import annotations

import shutil

import pytest
import torch

from v2s_sklearn import available_models, load_acoustic_model
from v2s_sklearn.acoustic import registry
from v2s_sklearn.acoustic.architectures import AttRNN
from v2s_sklearn.acoustic.checkpoint import load_checkpoint, save_checkpoint
from v2s_sklearn.pretrain.corpus import WORDS


@pytest.mark.parametrize("name", ["v2sa-synth", "v2sa-synth-2", "v2sa-synth-3"])
def test_builtin_model_is_frozen_deterministic_and_described(name):
    model = load_acoustic_model(name)
    assert name in available_models()
    assert model.class_names == list(WORDS) and model.n_classes == 35
    assert (model.sample_rate, model.input_length) == (16000, 16000)
    assert not model.module.training
    assert not any(p.requires_grad for p in model.parameters())
    model.train()  # a no-op: batch-norm statistics must not move
    assert not model.module.training
    x = torch.randn(3, 16000, generator=torch.Generator().manual_seed(0)) * 0.1
    with torch.no_grad():
        first, second = model(x), model(x)
    assert first.shape == (3, 35)
    assert torch.equal(first, second)


def test_gradients_reach_the_input_but_not_the_weights():
    model = load_acoustic_model()
    x = torch.randn(2, 16000, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


def test_callers_get_independent_copies():
    first, second = load_acoustic_model(), load_acoustic_model()
    assert first is not second
    with torch.no_grad():
        next(first.parameters()).add_(1.0)
    assert not torch.equal(next(first.parameters()), next(second.parameters()))


@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """The shipped weights folder copied to tmp_path and used by the registry."""
    folder = tmp_path / "weights"
    shutil.copytree(registry._WEIGHTS, folder)
    monkeypatch.setattr(registry, "_WEIGHTS", folder)
    registry._load_builtin.cache_clear()
    yield folder
    registry._load_builtin.cache_clear()


def test_tampered_weights_are_refused_naming_the_file(weights_copy):
    path = weights_copy / registry.model_info("v2sa-synth")["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{path.name}.*checksum"):
        load_acoustic_model("v2sa-synth")


def test_truncated_weights_are_refused_naming_the_file(weights_copy):
    path = weights_copy / registry.model_info("v2sa-synth")["file"]
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match=rf"{path.name}.*truncated"):
        load_acoustic_model("v2sa-synth")


def test_unknown_name_lists_the_built_in_models():
    with pytest.raises(ValueError, match="v2sa-synth"):
        load_acoustic_model("no-such-model")


def test_load_from_a_checkpoint_and_from_a_pickled_module(tmp_path):
    torch.manual_seed(0)
    module = AttRNN(["a", "b", "c", "d"]).eval()
    x = torch.randn(2, 16000)
    with torch.no_grad():
        expected = module(x)
    save_checkpoint(module, tmp_path / "m.pt", "attrnn", {"class_names": ["a", "b", "c", "d"]})
    torch.save(module, tmp_path / "whole.pt")
    for path in (tmp_path / "m.pt", tmp_path / "whole.pt"):
        loaded = load_acoustic_model(path)
        assert loaded.class_names == ["a", "b", "c", "d"]
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), expected)


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a model")
    with pytest.raises(ValueError, match="not a readable acoustic-model checkpoint"):
        load_checkpoint(path)


def test_a_plain_module_without_metadata_gets_default_names():
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(16000, 5)

        def forward(self, x):
            return self.linear(x)

    model = load_acoustic_model(Tiny())
    assert model.class_names == [f"class_{i}" for i in range(5)]
    assert model.input_length == 16000
