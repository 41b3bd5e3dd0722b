"""The input transformation and the label maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2s_sklearn.label_mapping import (
    frequency_label_map,
    mapping_matrix,
    random_label_map,
    resolve_labels_per_class,
    target_log_proba,
)
from v2s_sklearn.reprogram import Reprogrammer, segment_offsets


def test_segments_are_spread_from_the_start():
    offsets = segment_offsets(16000, 100, 1, 4)
    np.testing.assert_array_equal(offsets[:, 0], [0, 4000, 8000, 12000])
    channels = segment_offsets(16000, 100, 3, 2)
    np.testing.assert_array_equal(channels, [[0, 100, 200], [8000, 8100, 8200]])


def test_series_too_long_for_the_segments():
    with pytest.raises(ValueError, match="n_segments <= 3"):
        segment_offsets(16000, 5000, 1, 4)
    with pytest.raises(ValueError, match="at most 2666 points"):
        segment_offsets(16000, 3000, 3, 2)


def test_place_copies_every_channel_into_every_segment():
    layer = Reprogrammer(1000, 10, 2, 3, mask=False, dropout=0.0)
    x = torch.arange(40, dtype=torch.float32).reshape(2, 2, 10) + 1
    placed = layer.place(x)
    for start in (0, 333, 666):
        torch.testing.assert_close(placed[:, start:start + 20], x.reshape(2, 20))
    assert (placed != 0).sum() == 2 * 3 * 20  # zero elsewhere


def test_mask_keeps_theta_off_the_series():
    layer = Reprogrammer(1000, 10, 1, 2, mask=True, dropout=0.0)
    with torch.no_grad():
        layer.theta.fill_(1.0)
    delta = layer.perturbation()
    assert delta[:10].abs().sum() == 0 and delta[500:510].abs().sum() == 0
    assert (delta[10:500] == 1).all()


def test_dropout_acts_only_while_training():
    layer = Reprogrammer(1000, 10, 1, 1, mask=False, dropout=0.5)
    with torch.no_grad():
        layer.theta.fill_(1.0)
    g = torch.Generator().manual_seed(0)
    dropped = layer.train().perturbation(g)
    assert set(dropped.unique().tolist()) == {0.0, 2.0}  # inverted dropout
    assert (layer.eval().perturbation(g) == 1).all()


def test_random_map_is_disjoint_and_sized():
    label_map = random_label_map(35, 4, 8, np.random.default_rng(0))
    labels = np.concatenate(label_map)
    assert [len(m) for m in label_map] == [8] * 4 and len(set(labels)) == 32


def test_labels_per_class_auto_and_limits():
    assert resolve_labels_per_class("auto", 35, 2) == 17
    assert resolve_labels_per_class(3, 35, 10) == 3
    with pytest.raises(ValueError, match="only 35 source labels"):
        resolve_labels_per_class("auto", 35, 36)
    with pytest.raises(ValueError, match="labels_per_class <= 3"):
        resolve_labels_per_class(4, 35, 10)


def test_frequency_map_picks_the_labels_each_class_favours():
    proba = np.full((4, 5), 0.05)
    proba[:2, 3] = 0.8  # class 0 samples favour source label 3
    proba[2:, 1] = 0.8  # class 1 samples favour source label 1
    label_map = frequency_label_map(proba, np.array([0, 0, 1, 1]), 2, 1)
    assert [m.tolist() for m in label_map] == [[3], [1]]


def test_target_probabilities_average_the_mapped_labels():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    matrix = mapping_matrix([np.array([0, 1]), np.array([3])], 4)
    proba = target_log_proba(logits, matrix).exp()
    # class 0: mean(0.1, 0.2) = 0.15, class 1: 0.4, renormalised
    torch.testing.assert_close(proba, torch.tensor([[0.15 / 0.55, 0.4 / 0.55]]))
