"""The paper's analysis as API: alignment (Theorem 1), Grad-CAM, embeddings, `v2s explain`."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from torch import nn

matplotlib.use("Agg")

from v2s_sklearn import V2SClassifier
from v2s_sklearn.acoustic import registry
from v2s_sklearn.cli import main
from v2s_sklearn.diagnostics import (
    AlignmentRecorder,
    risk_bound,
    wasserstein_alignment,
)
from v2s_sklearn.explain import class_activation_map
from v2s_sklearn.plotting import plot_alignment, plot_embedding, plot_explanation

from .conftest import FAST

# The paper's analysis is of V2Sa: its two convolutions (CAM layers 0 and 1) and
# its attention layer.
QUICK = {**FAST, "input_scaling": None, "acoustic_model": "v2sa-synth"}


@pytest.fixture(scope="module")
def recorded(italy):
    """A real fit that recorded alignment and a held-out loss every epoch."""
    X, y = italy
    recorder = AlignmentRecorder(X[::2], y[::2], n_projections=100, random_state=0)
    return V2SClassifier(**QUICK, callbacks=[recorder]).fit(X[1::2], y[1::2])


# ---------------------------------------------------------------- alignment
def test_alignment_is_reproducible_with_a_random_state(recorded, italy):
    X, _ = italy
    first = wasserstein_alignment(recorded, X, n_projections=200, random_state=0)
    again = wasserstein_alignment(recorded, X, n_projections=200, random_state=0)
    other = wasserstein_alignment(recorded, X, n_projections=200, random_state=1)
    before = wasserstein_alignment(recorded, X, n_projections=200, random_state=0,
                                   reprogrammed=False)
    assert first == again and first != other
    assert first > 0 and math.isfinite(before) and before != first
    exact = wasserstein_alignment(recorded, X, method="exact")
    assert exact > 0 and math.isfinite(exact)
    with pytest.raises(ValueError, match="method must be"):
        wasserstein_alignment(recorded, X, method="approximate")


def test_reference_sample_ships_with_every_built_in_model():
    for name in registry.available_models():
        outputs = registry.reference_outputs(name)
        assert outputs.shape == (700, 35) and np.isfinite(outputs).all()
        # Held-out source clips: the model names most of them right.
        assert (outputs.argmax(1) == np.repeat(np.arange(35), 20)).mean() > 0.7


def test_a_tampered_reference_sample_is_refused(monkeypatch):
    info = registry.model_info("v2sa-synth")
    info["reference_outputs"] = {**info["reference_outputs"], "sha256": "0" * 64}
    monkeypatch.setattr(registry, "model_info", lambda name: info)
    with pytest.raises(ValueError, match="checksum"):
        registry.reference_outputs("v2sa-synth")


def test_risk_bound_is_source_risk_plus_the_weighted_alignment(recorded, italy):
    X, _ = italy
    bound = risk_bound(recorded, X, n_projections=100, random_state=0)
    card = registry.model_info("v2sa-synth")["metadata"]["test_accuracy"]
    assert bound["source_risk"] == pytest.approx(1 - card)
    assert bound["n_source_classes"] == 35 and bound["coefficient"] == pytest.approx(
        2 * math.sqrt(35))
    assert bound["wasserstein"] == wasserstein_alignment(recorded, X, n_projections=100,
                                                         random_state=0)
    assert bound["bound"] == pytest.approx(
        bound["source_risk"] + bound["coefficient"] * bound["wasserstein"])
    assert bound["representation"] == "logits"


class Statistics(nn.Module):
    """A user's source model: no reference sample ships with it."""

    def forward(self, waveform):
        return torch_stack_stats(waveform)


def torch_stack_stats(waveform):
    import torch

    return torch.stack([waveform.mean(1), waveform.std(1), waveform.abs().amax(1)], 1)


def test_a_user_model_needs_its_source_outputs(italy):
    X, y = italy
    clf = V2SClassifier(**{**QUICK, "max_epochs": 1, "acoustic_model": Statistics()}).fit(X, y)
    with pytest.raises(ValueError, match="source_outputs="):
        wasserstein_alignment(clf, X)
    source = np.random.default_rng(0).standard_normal((50, 3))
    assert wasserstein_alignment(clf, X, source_outputs=source, random_state=0) > 0
    with pytest.raises(ValueError, match="source_risk="):
        risk_bound(clf, X, source_outputs=source)
    assert risk_bound(clf, X, source_outputs=source, source_risk=0.1)["bound"] > 0.1


def test_the_recorder_adds_alignment_and_held_out_loss_to_every_epoch(recorded):
    history = recorded.history_
    assert len(history) == QUICK["max_epochs"]
    for row in history:
        assert row["alignment"] > 0 and math.isfinite(row["alignment"])
        assert row["eval_loss"] > 0 and 0 <= row["eval_accuracy"] <= 1
    # The curve moves with theta only: the same projections every epoch.
    assert len({row["alignment"] for row in history}) == len(history)


def test_alignment_refuses_projections_and_outputs_it_cannot_use(recorded, italy,
                                                                 monkeypatch):
    X, _ = italy
    for n_projections in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="n_projections must be a positive int"):
            wasserstein_alignment(recorded, X, n_projections=n_projections)
    with pytest.raises(ValueError, match="n_projections must be a positive int"):
        risk_bound(recorded, X, n_projections=0)
    reference = registry.reference_outputs("v2sa-synth")
    for bad, message in ((np.full_like(reference, np.nan), "NaN or infinite values in 700"),
                         (np.where(np.arange(700)[:, None] == 3, np.inf, reference),
                          r"in 1 of 700 rows \(first: row 3\)"),
                         (reference[:0], "is empty"), (reference[0], "2-D array")):
        with pytest.raises(ValueError, match=f"source_outputs .*{message}"):
            wasserstein_alignment(recorded, X, source_outputs=bad, method="exact")
        with pytest.raises(ValueError, match=f"source_outputs .*{message}"):
            wasserstein_alignment(recorded, X, source_outputs=bad)
    # The target side is checked the same way.
    monkeypatch.setattr(recorded, "source_logits",
                        lambda X, reprogrammed=True: np.full((len(X), 35), np.nan))
    with pytest.raises(ValueError, match="logits on X has NaN or infinite"):
        wasserstein_alignment(recorded, X)


def test_risk_bound_refuses_a_source_risk_that_is_not_an_error_rate(recorded, italy):
    X, _ = italy
    for risk in (1.5, -0.1, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="source_risk must be .* from 0 to 1"):
            risk_bound(recorded, X, source_risk=risk)
    assert risk_bound(recorded, X, n_projections=10, source_risk=0)["source_risk"] == 0.0


def test_the_recorder_checks_its_arguments_when_made(italy):
    X, y = italy
    with pytest.raises(ValueError, match="n_projections must be a positive int"):
        AlignmentRecorder(X, y, n_projections=0)
    with pytest.raises(ValueError, match=f"y has {len(y) - 1} labels but X has {len(X)}"):
        AlignmentRecorder(X, y[:-1])
    with pytest.raises(ValueError, match="at least one"):
        AlignmentRecorder(X[:0])
    with pytest.raises(TypeError, match="random_state must be an int"):
        AlignmentRecorder(X, random_state=None)
    with pytest.raises(ValueError, match="source_outputs has NaN"):
        AlignmentRecorder(X, source_outputs=np.full((3, 35), np.nan))


def _tensors(value, seen=None):
    """Every torch tensor reachable from ``value`` (lists, dicts, attributes)."""
    import torch

    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        items = list(vars(value).values())
    else:
        return []
    return [found for item in items for found in _tensors(item, seen)]


def test_the_fitted_recorder_holds_no_tensors(recorded):
    [recorder] = [c for c in recorded.callbacks_ if isinstance(c, AlignmentRecorder)]
    assert _tensors(recorder) == []
    assert all(math.isfinite(row["alignment"]) for row in recorded.history_)


# ----------------------------------------------------------------------- CAM
@pytest.mark.parametrize("layer", [None, 0, 1, "conv.0"])
def test_cam_is_finite_non_negative_and_shaped_like_x(recorded, italy, layer):
    X, _ = italy
    cam = class_activation_map(recorded, X[:5], layer=layer)
    assert cam.shape == X[:5].shape
    assert np.isfinite(cam).all() and (cam >= 0).all() and cam.max() > 0


def test_cam_of_multichannel_series_keeps_the_channels(basic_motions):
    X, y = basic_motions
    clf = V2SClassifier(**{**QUICK, "max_epochs": 1}).fit(X, y)
    cam = class_activation_map(clf, X[:2], target=y[:2])
    assert cam.shape == X[:2].shape and np.isfinite(cam).all()


def test_cam_refuses_a_missing_layer_or_a_model_without_convolutions(recorded, italy):
    X, y = italy
    with pytest.raises(ValueError, match="2 convolution layers"):
        class_activation_map(recorded, X[:2], layer=5)
    with pytest.raises(ValueError, match="no layer named"):
        class_activation_map(recorded, X[:2], layer="rnn.nothing")
    clf = V2SClassifier(**{**QUICK, "max_epochs": 1, "acoustic_model": Statistics()}).fit(X, y)
    with pytest.raises(ValueError, match="no convolution layer"):
        class_activation_map(clf, X[:2])


@pytest.fixture(scope="module")
def default_model(italy_one_epoch):
    """The default source model (a TC-ResNet with folded fast paths), briefly fitted."""
    return italy_one_epoch


def test_cam_indexes_the_convolutions_the_default_model_runs(default_model, italy):
    X, _ = italy
    maps = {layer: class_activation_map(default_model, X[:3], layer=layer)
            for layer in (0, 1, -1, None)}  # 0 and 1: the docstring's example
    for cam in maps.values():
        assert cam.shape == X[:3].shape and np.isfinite(cam).all() and (cam >= 0).all()
    assert not np.allclose(maps[0], maps[1])
    np.testing.assert_array_equal(maps[-1], maps[None])
    # The stem is convolution 0, by index, by name and as the module itself.
    stem = default_model.reprogrammed_network().model.module.stem
    np.testing.assert_allclose(class_activation_map(default_model, X[:3], layer="stem"),
                               maps[0])
    np.testing.assert_allclose(class_activation_map(default_model, X[:3], layer=stem), maps[0])


def test_cam_names_the_valid_layers_when_given_another(default_model, italy):
    X, _ = italy
    # The stem and three blocks of two convolutions and a projection shortcut.
    with pytest.raises(ValueError, match=r"runs 10 convolution layers .* from -10 to 9"):
        class_activation_map(default_model, X[:2], layer=10)
    with pytest.raises(ValueError, match=r"'head' is a Linear, not a convolution.*'stem'"):
        class_activation_map(default_model, X[:2], layer="head")
    with pytest.raises(ValueError, match="is a BatchNorm1d, not a convolution"):
        class_activation_map(default_model, X[:2], layer="blocks.0.body.1")
    with pytest.raises(ValueError, match="not part of the source model"):
        class_activation_map(default_model, X[:2], layer=nn.Conv1d(40, 16, 3))
    with pytest.raises(TypeError, match="layer must be"):
        class_activation_map(default_model, X[:2], layer=1.5)


# ------------------------------------------------------------------- figures
def test_the_figures_are_drawn(recorded, italy):
    X, y = italy
    alignment = plot_alignment(recorded, X, n_projections=100)
    assert len(alignment.axes) == 3  # bars, curve and its twin axis for the loss
    assert "Spearman" in alignment.axes[1].get_title()
    without_curve = V2SClassifier(**{**QUICK, "max_epochs": 1}).fit(X, y)
    assert len(plot_alignment(without_curve, X, n_projections=50).axes) == 1
    for method in ("tsne", "pca"):
        embedding = plot_embedding(recorded, X, y, method=method)
        assert len(embedding.axes) == 2
        assert len(embedding.axes[0].collections) == len(np.unique(y))
    cam = plot_explanation(recorded, X[:2], kind="cam", layer=0)
    assert len(cam.axes) == 3  # two panels and the colour bar


def test_v2s_explain_writes_the_figure_set(tmp_path, capsys):
    main(["explain", "--dataset", "ItalyPowerDemand", "--max-epochs", "1",
          "--acoustic-model", "v2sa-synth",
          "--max-test-series", "60", "--projections", "50", "--series", "2",
          "--output", str(tmp_path)])
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == sorted(f"ItalyPowerDemand_{name}.png" for name in
                             ("curves", "alignment", "cam", "attention", "saliency",
                              "embedding"))
    assert "Theorem 1" in capsys.readouterr().out
    # A saved estimator is explained without refitting.
    main(["explain", "--dataset", "ItalyPowerDemand", "--model",
          str(tmp_path / "model.joblib"), "--max-test-series", "60", "--projections", "50",
          "--output", str(tmp_path / "again")])
    assert "loaded" in capsys.readouterr().out
    assert len(list((tmp_path / "again").glob("*.png"))) == 6
