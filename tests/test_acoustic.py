"""The built-in acoustic model and load_acoustic_model."""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
import struct
import zipfile

import pytest
import torch

from v2s_sklearn import available_models, load_acoustic_model
from v2s_sklearn.acoustic import file_sha256, registry
from v2s_sklearn.acoustic.architectures import AttRNN
from v2s_sklearn.acoustic.checkpoint import load_checkpoint, save_checkpoint, sha256_of
from v2s_sklearn.pretrain.corpus import WORDS


@pytest.mark.parametrize("name", ["v2sa-synth", "tcresnet8-w1-synth", "tcresnet8-synth"])
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
    for path, trust in ((tmp_path / "m.pt", False), (tmp_path / "whole.pt", True)):
        loaded = load_acoustic_model(path, trust_pickle=trust)
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


# ----------------------------------------------------------- files are safe and pinned
class _Payload:
    """Unpickling this creates ``marker``: stands for any code a pickle can run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_a_pickle_runs_no_code_without_trust_pickle(tmp_path, writer):
    marker, path = tmp_path / "marker", tmp_path / "payload.pt"
    if writer == "torch.save":
        torch.save(_Payload(marker), path)
    else:
        path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}.*trust_pickle=True.*runs"):
        load_acoustic_model(path)
    assert not marker.exists()
    # The opt-in really unpickles (running the payload), then refuses a non-module.
    with pytest.raises(ValueError, match="not an acoustic model|could not be unpickled"):
        load_acoustic_model(path, trust_pickle=True)
    assert marker.exists()


def _small_attrnn() -> AttRNN:
    torch.manual_seed(0)
    return AttRNN(["a", "b", "c"], n_mels=20, rnn_units=8).eval()


def _flip_in_largest_member(path, n_bytes=64) -> str:
    """Flip ``n_bytes`` in the middle of the archive's largest member; return its name."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:
                                                          info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length + info.file_size // 2
    for i in range(start - n_bytes // 2, start + n_bytes // 2):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return info.filename


def test_a_corrupted_checkpoint_is_refused_naming_the_file_and_member(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(_small_attrnn(), path, "attrnn",
                    {"class_names": ["a", "b", "c"], "n_mels": 20, "rnn_units": 8})
    member = _flip_in_largest_member(path)  # torch.load alone ignores the CRC
    pattern = rf"{re.escape(str(path))} is corrupted: archive member '{re.escape(member)}'.*CRC"
    with pytest.raises(ValueError, match=pattern):
        load_acoustic_model(path)
    with pytest.raises(ValueError, match=pattern):
        load_checkpoint(path)


def test_a_corrupted_torchscript_file_is_refused(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(16000, 3)), str(path))
    assert load_acoustic_model(path).n_classes == 3  # intact, it loads
    member = _flip_in_largest_member(path)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}.*{re.escape(member)}.*CRC"):
        load_acoustic_model(path)


@pytest.mark.parametrize("keep", [0.5, 0.99, 0.0])
def test_a_truncated_checkpoint_is_refused_naming_the_file(tmp_path, keep):
    path = tmp_path / "m.pt"
    save_checkpoint(_small_attrnn(), path, "attrnn",
                    {"class_names": ["a", "b", "c"], "n_mels": 20, "rnn_units": 8})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is (truncated|empty)"):
        load_acoustic_model(path)


def test_sha256_names_the_file_a_model_came_from(tmp_path, monkeypatch):
    info = registry.model_info("v2sa-synth")
    builtin = load_acoustic_model("v2sa-synth")
    assert builtin.sha256 == info["sha256"] == file_sha256("v2sa-synth")
    assert builtin.sha256 == sha256_of(registry._WEIGHTS / info["file"])
    assert load_acoustic_model(builtin).sha256 == builtin.sha256  # copies keep it
    assert file_sha256(builtin) == builtin.sha256

    monkeypatch.chdir(tmp_path)  # a relative path is recorded absolute
    config = {"class_names": ["a", "b", "c"], "n_mels": 20, "rnn_units": 8}
    save_checkpoint(_small_attrnn(), "m.pt", "attrnn", config)
    loaded = load_acoustic_model("m.pt")
    assert loaded.name == str((tmp_path / "m.pt").resolve())
    assert loaded.sha256 == hashlib.sha256((tmp_path / "m.pt").read_bytes()).hexdigest()
    assert file_sha256("m.pt") == loaded.sha256
    torch.manual_seed(1)
    save_checkpoint(AttRNN(["a", "b", "c"], n_mels=20, rnn_units=8), "m.pt", "attrnn", config)
    assert file_sha256("m.pt") != loaded.sha256  # another file at the same path

    module = torch.nn.Linear(16000, 2)
    assert load_acoustic_model(module).sha256 is None and file_sha256(module) is None
    with pytest.raises(ValueError, match="nor an existing file"):
        file_sha256("no-such-file.pt")


@pytest.mark.parametrize("name", ["v2sa-synth", "tcresnet8-synth"])
def test_the_model_and_every_submodule_report_eval_mode(name):
    model = load_acoustic_model(name)
    if name == "v2sa-synth":
        assert model.module.conv_folded is not None  # the folded block is created after eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(not m.training for m in model.modules())
    torch.nn.Sequential(model).train()  # a parent's train() reaches the wrapper too
    assert all(not m.training for m in model.modules())
    model(torch.zeros(1, 16000, requires_grad=True)).sum().backward()
    assert all(not m.training for m in model.modules())
