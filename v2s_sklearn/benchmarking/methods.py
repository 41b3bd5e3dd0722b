"""The competitors of the benchmark: how each estimator is built from TRAIN alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .baselines import MiniRocketRidge
from .config import BenchmarkConfig

#: Methods run when none are named.
DEFAULT_METHODS = ("v2s", "minirocket")


@dataclass(frozen=True)
class Method:
    """One competitor of the benchmark.

    Parameters
    ----------
    name : str
        Its name in the CSV.
    description : str
        One line for the report.
    build : callable
        ``build(config, X_train, y_train)`` returns an unfitted estimator; only
        TRAIN is passed, so no choice can see TEST.
    warm_up_as : str
        The method whose warm-up covers this one's one-off costs.
    """

    name: str
    description: str
    build: Callable[[BenchmarkConfig, np.ndarray, np.ndarray], Any]
    warm_up_as: str


def _build_v2s(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from .. import V2SClassifier

    return V2SClassifier(**config.v2s_params())


def _build_v2s_labels(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from .. import V2SClassifier

    return V2SClassifier(**{**config.v2s_params(), "readout": "labels"})


def _build_v2s_seeds3(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from ..ensemble import seed_ensemble

    return seed_ensemble(3, **config.v2s_params())


def _build_v2s_sources3(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from ..ensemble import source_ensemble

    return source_ensemble(**config.v2s_params())


def search_grid(config: BenchmarkConfig, X: np.ndarray) -> dict[str, list]:
    """The ``v2s-search`` grid for series shaped like ``X``.

    ``n_segments`` values whose copies do not fit the acoustic model's input
    (``n_segments * n_channels * n_timepoints > input_length``) are dropped.

    Raises
    ------
    ValueError
        If no value of ``n_segments`` fits.
    """
    from ..acoustic.registry import DEFAULT_MODEL, load_acoustic_model

    input_length = load_acoustic_model(DEFAULT_MODEL).input_length
    n_values = int(np.prod(X.shape[1:]))
    segments = [int(m) for m in config.search_segments if m * n_values <= input_length]
    if not segments:
        raise ValueError(f"no n_segments in {list(config.search_segments)} fits series of "
                         f"{n_values} values into {input_length} input samples")
    return {"dropout": [float(d) for d in config.search_dropout], "n_segments": segments}


def _build_v2s_search(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from .. import V2SClassifier

    smallest = int(np.unique(y, return_counts=True)[1].min())
    folds = min(config.search_folds, smallest)
    if folds < 2:
        raise ValueError(f"v2s-search needs at least 2 TRAIN series per class for "
                         f"cross-validation; the smallest class has {smallest}")
    return GridSearchCV(
        V2SClassifier(**config.v2s_params()), search_grid(config, X),
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.random_state),
        scoring="neg_log_loss",  # the paper selects by validation loss
        refit=True, n_jobs=config.search_jobs, error_score="raise")


def _build_minirocket(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    return MiniRocketRidge(random_state=config.random_state)


def _build_minirocket_sktime(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from sktime.classification.kernel_based import RocketClassifier

    return RocketClassifier(rocket_transform="minirocket", random_state=config.random_state)


#: The methods ``v2s benchmark --methods`` accepts.
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("v2s", "V2SClassifier with its defaults", _build_v2s, "v2s"),
    Method("v2s-labels", "V2SClassifier with its defaults but readout='labels': classes "
           "read through the label map alone, as in the paper", _build_v2s_labels, "v2s"),
    Method("v2s-seeds3", "three V2SClassifiers with defaults and seeds random_state + "
           "0, 1, 2, probabilities averaged (v2s_sklearn.ensemble.seed_ensemble)",
           _build_v2s_seeds3, "v2s"),
    Method("v2s-sources3", "three V2SClassifiers with defaults, one per source "
           "architecture (v2sa-synth, tcresnet8-synth, tcresnet14-synth), probabilities "
           "averaged (v2s_sklearn.ensemble.source_ensemble)", _build_v2s_sources3, "v2s"),
    Method("v2s-search", "GridSearchCV(V2SClassifier) over dropout and n_segments, "
           "stratified k-fold on TRAIN, scored by log loss, refitted on TRAIN",
           _build_v2s_search, "v2s"),
    Method("minirocket", "sktime MiniRocket (10,000 kernels) + StandardScaler(with_mean="
           "False) + RidgeClassifierCV(alphas=logspace(-3, 3, 10))",
           _build_minirocket, "minirocket"),
    Method("minirocket-sktime", "sktime RocketClassifier(rocket_transform='minirocket'): "
           "the same recipe with sktime's data conversions", _build_minirocket_sktime,
           "minirocket-sktime"),
)}


def check_methods(names: Sequence[str]) -> list[str]:
    """Validate method names; return them without duplicates, in order.

    Raises
    ------
    ValueError
        For a name not in :data:`METHODS`.
    """
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {sorted(METHODS)}")
    if not names:
        raise ValueError(f"no methods given; choose from {sorted(METHODS)}")
    return list(dict.fromkeys(names))
