"""The optimal-transport label map: a valid many-to-one map of largest total affinity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from v2s_sklearn import V2SClassifier
from v2s_sklearn.label_mapping import (
    LABEL_MAPPINGS,
    class_affinity,
    frequency_label_map,
    label_map_from_affinity,
    ot_label_map,
    total_affinity,
)

from .conftest import FAST


def _random_problem(seed):
    rng = np.random.default_rng(seed)
    n_source = int(rng.integers(4, 36))
    n_classes = int(rng.integers(2, min(n_source, 8) + 1))
    per_class = int(rng.integers(1, n_source // n_classes + 1))
    n_samples = n_classes * int(rng.integers(1, 6))
    y = np.r_[np.arange(n_classes), rng.integers(0, n_classes, n_samples - n_classes)]
    proba = rng.dirichlet(np.full(n_source, 0.3), size=n_samples)
    return proba, y, n_classes, per_class


def _optimum(affinity, per_class):
    """Exact optimum by the Hungarian method, each class repeated per_class times."""
    rows, cols = linear_sum_assignment(-np.repeat(affinity, per_class, axis=0))
    return float(affinity[rows // per_class, cols].sum())


@pytest.mark.parametrize("seed", range(40))
def test_ot_is_a_valid_map_never_worse_than_greedy_and_optimal(seed):
    proba, y, n_classes, per_class = _random_problem(seed)
    affinity = class_affinity(proba, y, n_classes)
    ot_map = ot_label_map(proba, y, n_classes, per_class)
    greedy = frequency_label_map(proba, y, n_classes, per_class)

    assert [len(labels) for labels in ot_map] == [per_class] * n_classes
    used = np.concatenate(ot_map)
    assert len(set(used.tolist())) == len(used)  # no label serves two classes
    assert total_affinity(ot_map, affinity) >= total_affinity(greedy, affinity) - 1e-12
    assert total_affinity(ot_map, affinity) == pytest.approx(_optimum(affinity, per_class))


def test_ot_escapes_the_greedy_trap():
    # Both classes like label 0 most; greedy gives it to class 0 and leaves class 1
    # a poor label, while the optimum gives class 0 its close second, label 1.
    class0 = np.r_[0.55, 0.44, np.full(8, 0.01 / 8)]
    class1 = np.r_[0.54, 0.02, np.full(8, 0.44 / 8)]
    proba, y = np.stack([class0, class1]), np.array([0, 1])
    greedy = frequency_label_map(proba, y, 2, 1)
    ot_map = ot_label_map(proba, y, 2, 1)
    assert [m.tolist() for m in greedy] == [[0], [2]]
    assert [m.tolist() for m in ot_map] == [[1], [0]]
    affinity = class_affinity(proba, y, 2)
    assert total_affinity(ot_map, affinity) == pytest.approx(0.98)
    assert total_affinity(greedy, affinity) == pytest.approx(0.55 + 0.055)


def test_ot_uses_every_label_when_the_classes_need_them_all():
    proba = np.random.default_rng(3).dirichlet(np.ones(12), size=10)
    y = np.arange(10) % 2
    ot_map = ot_label_map(proba, y, 2, 6)  # no dummy class: supply equals demand
    assert sorted(np.concatenate(ot_map).tolist()) == list(range(12))


def test_label_map_from_affinity_dispatches_and_explains():
    proba, y, n_classes, per_class = _random_problem(7)
    assert "ot" in LABEL_MAPPINGS
    for name, builder in (("frequency", frequency_label_map), ("ot", ot_label_map)):
        got = label_map_from_affinity(name, proba, y, n_classes, per_class)
        want = builder(proba, y, n_classes, per_class)
        assert [m.tolist() for m in got] == [m.tolist() for m in want]
    with pytest.raises(ValueError, match="random_label_map"):
        label_map_from_affinity("random", proba, y, n_classes, per_class)
    with pytest.raises(ValueError, match="choose from"):
        label_map_from_affinity("bayes", proba, y, n_classes, per_class)


def test_a_class_without_series_is_an_error():
    with pytest.raises(ValueError, match=r"classes \[2\] have no series"):
        ot_label_map(np.full((4, 6), 1 / 6), np.array([0, 1, 0, 1]), 3, 2)


def test_classifier_fits_with_the_ot_map(italy):
    X, y = italy
    clf = V2SClassifier(label_mapping="ot", labels_per_class=3, **FAST).fit(X, y)
    words = [w for labels in clf.label_map_.values() for w in labels]
    assert [len(labels) for labels in clf.label_map_.values()] == [3, 3]
    assert len(set(words)) == 6
    assert clf.predict(X).shape == y.shape
