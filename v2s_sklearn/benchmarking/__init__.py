"""``v2s benchmark``: test accuracy and time of V2S against MiniRocket on UCR datasets.

Protocol: each dataset's official TRAIN/TEST split; every choice (the label map,
the kept epoch, a grid search, MiniRocket's ridge penalty) is made on TRAIN alone
and the TEST split is only scored. All methods run in the same process on the same
split and are timed the same way: ``fit_seconds`` around ``fit`` and
``predict_seconds`` around ``predict`` (``time.perf_counter``, wall clock). Before
a method is first timed it is fitted once, untimed, on a tiny synthetic dataset so
that neither method pays one-off costs inside a timed call (numba compiling
MiniRocket's kernels, torch initialising its kernels and the acoustic model).

Outputs, sharing the stem of ``output``:

- ``.csv`` with exactly the columns :data:`CSV_COLUMNS`, one row per dataset and
  method, written and flushed row by row, so an interrupted run keeps its results
  (``resume=True`` continues it);
- ``.md``: the settings, per-method means and a per-dataset table (optionally
  beside the paper's figures, :func:`reference_table`);
- ``.png``: per-dataset accuracy of each method (:func:`plot_benchmark`).

Methods (:data:`METHODS`): ``v2s`` (``V2SClassifier`` with its defaults),
``v2s-seeds3`` (three seeds of it, probabilities averaged),
``v2s-sources3`` (one fit per built-in source architecture, averaged),
``v2s-search`` (the paper's protocol: dropout and ``n_segments`` chosen by
stratified k-fold cross-validation on TRAIN, refitted on all of TRAIN),
``minirocket`` (sktime's ``MiniRocket`` transform, ``StandardScaler(with_mean=False)``
and ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``: the recipe of the
MiniRocket paper and of sktime's ``RocketClassifier``) and ``minirocket-sktime``
(the same recipe through ``RocketClassifier(rocket_transform="minirocket")``,
whose sktime 1.2 data conversions add seconds to every call).

The code, one module per job, each importing only the ones listed before it:
:mod:`.config` (settings, outcome, CSV columns), :mod:`.baselines`
(MiniRocket), :mod:`.methods` (the competitors), :mod:`.data` (datasets,
subsets), :mod:`.sink` (the resumable CSV), :mod:`.reports` (markdown, tables,
plot), :mod:`.runner` (the run loop), :mod:`.cluster` (the same run as tasks on a
Dask cluster, ``--dask``; Dask is imported only when it runs) and :mod:`.cli`
(``v2s benchmark``). None of them is imported by the estimator's own modules.
"""

from __future__ import annotations

from .baselines import MiniRocketRidge
from .cli import add_arguments, run_from_args
from .cluster import BenchmarkTaskError, run_benchmark_dask, run_task
from .config import (
    CSV_COLUMNS,
    DEFAULT_SEARCH_DROPOUT,
    DEFAULT_SEARCH_FOLDS,
    DEFAULT_SEARCH_SEGMENTS,
    BenchmarkConfig,
    BenchmarkResult,
)
from .data import find_datasets, stratified_subset
from .methods import DEFAULT_METHODS, METHODS, Method, check_methods, search_grid
from .reports import (
    accuracy_pivot,
    markdown_report,
    plot_benchmark,
    read_reference,
    reference_table,
    summary_table,
    write_reports,
)
from .runner import run_benchmark, warm_up

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_METHODS",
    "DEFAULT_SEARCH_DROPOUT",
    "DEFAULT_SEARCH_FOLDS",
    "DEFAULT_SEARCH_SEGMENTS",
    "METHODS",
    "BenchmarkConfig",
    "BenchmarkResult",
    "BenchmarkTaskError",
    "Method",
    "MiniRocketRidge",
    "accuracy_pivot",
    "add_arguments",
    "check_methods",
    "find_datasets",
    "markdown_report",
    "plot_benchmark",
    "read_reference",
    "reference_table",
    "run_benchmark",
    "run_benchmark_dask",
    "run_from_args",
    "run_task",
    "search_grid",
    "stratified_subset",
    "summary_table",
    "warm_up",
    "write_reports",
]
