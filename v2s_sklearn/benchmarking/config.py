"""Data types at the bottom of the benchmark: its settings, its outcome, the CSV columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: The columns of the results CSV, in order.
CSV_COLUMNS = ("dataset", "method", "accuracy", "fit_seconds", "predict_seconds")

#: Default grid of ``v2s-search`` (values of ``n_segments`` that do not fit a
#: dataset's series into the acoustic model's input are dropped).
DEFAULT_SEARCH_DROPOUT = (0.0, 0.1, 0.2)
DEFAULT_SEARCH_SEGMENTS = (1, 4, 10)
DEFAULT_SEARCH_FOLDS = 3


@dataclass
class BenchmarkConfig:
    """Settings shared by every method of a run.

    Parameters
    ----------
    random_state : int
        Seeds every method, the subsets and the cross-validation folds.
    device : str
        ``V2SClassifier``'s ``device``.
    max_epochs : int or None
        Overrides ``V2SClassifier``'s ``max_epochs`` (quick runs); None keeps the
        default.
    search_dropout, search_segments : sequence
        The grid of ``v2s-search``.
    search_jobs : int
        Processes of ``v2s-search``'s ``GridSearchCV`` (on a GPU they share the
        device, which one small model leaves mostly idle).
    search_folds : int
        Folds of ``v2s-search``, capped by the smallest class count of TRAIN.
    max_train, max_test : int or None
        Score on a stratified subset of each split (quick checks only: the
        results are then not comparable with published ones).
    cluster : str or None
        Where the tasks ran when not in this process (``v2s benchmark --dask``), for
        the report; None: serially, here.
    torch_threads : int or None
        torch's intra-op threads for every method of a serial run, re-asserted
        before each one (MiniRocket's numba resets torch's count) and stated in
        the report; None: the count torch has when the run starts.
    """

    random_state: int = 0
    device: str = "auto"
    max_epochs: int | None = None
    search_dropout: Sequence[float] = DEFAULT_SEARCH_DROPOUT
    search_segments: Sequence[int] = DEFAULT_SEARCH_SEGMENTS
    search_folds: int = DEFAULT_SEARCH_FOLDS
    search_jobs: int = 1
    max_train: int | None = None
    max_test: int | None = None
    cluster: str | None = None
    torch_threads: int | None = None

    def v2s_params(self) -> dict[str, Any]:
        """Keyword arguments of every ``V2SClassifier`` the run builds."""
        params: dict[str, Any] = {"random_state": self.random_state, "device": self.device}
        if self.max_epochs is not None:
            params["max_epochs"] = self.max_epochs
        return params


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` produced.

    Attributes
    ----------
    results : pandas.DataFrame
        The CSV's rows (columns :data:`CSV_COLUMNS`).
    csv_path, markdown_path, plot_path : Path
    failures : list of (dataset, method, message)
        Pairs that raised; they have no row.
    notes : dict
        Per ``(dataset, method)``, extra facts for the report (a search's choice).
    """

    results: pd.DataFrame
    csv_path: Path
    markdown_path: Path
    plot_path: Path
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)
