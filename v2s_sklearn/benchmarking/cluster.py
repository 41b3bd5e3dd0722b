"""``v2s benchmark --dask``: the same run, each (dataset, method) a task on a Dask cluster.

Each task loads its dataset on the worker, warms its method up once per worker
process (untimed, as the serial run does once per process), then times ``fit``
and ``predict`` there, so the timings are the worker's. A grid search's fits
(each candidate on each fold) become tasks of their own, through joblib's Dask
backend. The client writes each row to the CSV as its task finishes, so a run
that stops (a worker killed, the scheduler gone, Ctrl-C) keeps every finished
row and ``resume=True`` runs the rest. A task that fails raises
:class:`BenchmarkTaskError`, which names its dataset and method; it is recorded
and the other tasks go on.

The accuracies equal those of a serial run with the same seeds and the same
torch threads per fit (one on a worker by default, :mod:`v2s_sklearn.parallel`;
``OMP_NUM_THREADS=1`` for the serial run): float32 training depends on the
thread count.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import CSV_COLUMNS, BenchmarkConfig, BenchmarkResult
from .data import find_datasets, stratified_subset
from .methods import DEFAULT_METHODS, METHODS, Method, check_methods
from .reports import write_reports
from .runner import _note, fit_and_score, warm_up
from .sink import _CsvSink

#: Warm-ups this worker process has done: (method, multivariate) -> seconds.
_WARMED: dict[tuple[str, bool], float] = {}


class BenchmarkTaskError(RuntimeError):
    """A benchmark task failed; the message names its dataset and method.

    Parameters
    ----------
    dataset, method : str
        The pair the task ran.
    message : str
        What went wrong (the original exception's type and message).
    """

    def __init__(self, dataset: str, method: str, message: str) -> None:
        super().__init__(dataset, method, message)
        self.dataset, self.method, self.message = dataset, method, message

    def __str__(self) -> str:
        return f"{self.dataset} {self.method}: {self.message}"


def parse_address(address: str) -> tuple[str | None, int | None]:
    """``"local"`` / ``"local:N"`` -> (None, N workers); a scheduler address -> (it, None).

    Raises
    ------
    ValueError
        For ``local:N`` with N not a positive integer.
    """
    if address == "local":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return None, cores or os.cpu_count() or 1
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--dask local:N needs N >= 1 worker processes; got {address!r}")
        return None, int(count)
    return address, None


@contextmanager
def dask_client(address: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address``, closed after (with its LocalCluster).

    Parameters
    ----------
    address : str or distributed.Client
        A scheduler address (``tcp://host:8786``), ``"local"`` (a LocalCluster of one
        single-threaded worker process per core), ``"local:N"`` (N of them), or a
        client, used as it is and left open.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError("v2s benchmark --dask needs dask.distributed: pip install "
                          "'v2s-sklearn[dask]'") from error
    if isinstance(address, Client):
        yield address
        return
    from .._dask_plugin import MallocThresholds

    scheduler, n_workers = parse_address(str(address))
    if scheduler is not None:
        with Client(scheduler) as client:
            # A worker started with MALLOC_TRIM_THRESHOLD_ (Dask's nanny sets it) gets
            # glibc's adaptive limits back; torch fits run at half speed without them.
            client.register_plugin(MallocThresholds())
            yield client
        return
    # One thread per worker process: tasks never share an interpreter, and each
    # torch fit gets one core (v2s_sklearn.parallel).
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.register_plugin(MallocThresholds())
        yield client


@functools.lru_cache(maxsize=4)
def _load(dataset: str, data_dir: str | None, max_train: int | None, max_test: int | None,
          random_state: int) -> tuple[np.ndarray, ...]:
    """TRAIN and TEST subsets of ``dataset``, as the serial run makes them (cached per worker)."""
    from ..datasets import load_dataset

    X_train, y_train = stratified_subset(*load_dataset(dataset, "train", data_dir),
                                         max_train, random_state)
    X_test, y_test = stratified_subset(*load_dataset(dataset, "test", data_dir),
                                       max_test, random_state)
    return X_train, y_train, X_test, y_test


def run_task(dataset: str, method: Method, config: BenchmarkConfig,
             data_dir: str | None = None) -> dict[str, Any]:
    """Fit and score one method on one dataset: the body of a cluster task.

    Runs on a worker (or anywhere: it needs no cluster). The method comes as its
    :class:`Method`, so one the client registered in :data:`METHODS` need not be
    known to the worker's copy of the package.

    Returns
    -------
    dict
        ``row`` (the CSV row), ``note`` (what the method chose on TRAIN),
        ``warm_up`` (``(name, multivariate, seconds)`` when this task paid this
        process's warm-up, else None), ``worker`` (its address) and ``threads``
        (torch threads per fit).

    Raises
    ------
    BenchmarkTaskError
        For any failure, naming ``dataset`` and ``method``.
    """
    from joblib import parallel_config

    from ..parallel import dask_worker, task_threads, torch_threads

    worker = dask_worker()
    threads = task_threads(worker)
    stage = "loading"
    try:
        X_train, y_train, X_test, y_test = _load(dataset, data_dir, config.max_train,
                                                 config.max_test, config.random_state)
        stage = "running"
        n_channels = 1 if X_train.ndim == 2 else X_train.shape[1]
        with torch_threads(threads), (parallel_config(backend="dask") if worker is not None
                                      else _nothing()):
            # Inside a worker, joblib's Dask backend makes a search's fits tasks too.
            key = (METHODS[method.warm_up_as].warm_up_as, n_channels > 1)
            warmed = None
            if key not in _WARMED:
                _WARMED[key] = warm_up(method.warm_up_as, config, n_channels)
                warmed = (*key, _WARMED[key])
            estimator = method.build(config, X_train, y_train)
            scores = fit_and_score(estimator, X_train, y_train, X_test, y_test)
    except Exception as error:
        prefix = "loading: " if stage == "loading" else ""
        raise BenchmarkTaskError(dataset, method.name, f"{prefix}{type(error).__name__}: "
                                                       f"{error}") from error
    return {"row": {"dataset": dataset, "method": method.name, **scores},
            "note": _note(estimator), "warm_up": warmed,
            "worker": getattr(worker, "address", "local"), "threads": threads}


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _task_key(dataset: str, method: str) -> str:
    # The key is what a KilledWorker error quotes: it names the pair.
    return f"v2s-benchmark {dataset} {method}-{uuid.uuid4().hex[:8]}"


def run_benchmark_dask(address: Any, datasets: Sequence[str] | None = None,
                       methods: Sequence[str] = DEFAULT_METHODS,
                       output: str | os.PathLike = "benchmark.csv",
                       data_dir: str | os.PathLike | None = None,
                       config: BenchmarkConfig | None = None,
                       reference: str | os.PathLike | None = None,
                       resume: bool = False,
                       log: Callable[[str], None] = print,
                       progress: bool = False) -> BenchmarkResult:
    """:func:`~v2s_sklearn.benchmarking.run_benchmark` with its tasks on a Dask cluster.

    Parameters
    ----------
    address : str or distributed.Client
        See :func:`dask_client`: a scheduler address, ``"local"``, ``"local:N"``
        or a client.
    datasets, methods, output, data_dir, config, reference, resume
        As for :func:`~v2s_sklearn.benchmarking.run_benchmark`. ``data_dir``
        must be readable by every worker (a shared file system).
    log : callable
        Receives one line per finished (or failed) task.
    progress : bool
        Show a tqdm bar over the finished tasks.

    Returns
    -------
    BenchmarkResult
        Its ``results`` in the serial run's order (datasets, then methods); the
        CSV's rows are in the order the tasks finished.
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    methods = check_methods(list(methods))
    datasets = list(datasets) if datasets else find_datasets(data_dir)
    data_dir = None if data_dir is None else str(Path(data_dir).resolve())
    csv_path = Path(output)
    if csv_path.suffix.lower() != ".csv":
        raise ValueError(f"--output must end in .csv; got {csv_path}")
    config = config or BenchmarkConfig()
    sink = _CsvSink(csv_path, resume)
    outcome = BenchmarkResult(pd.DataFrame(), csv_path, csv_path.with_suffix(".md"),
                              csv_path.with_suffix(".png"))
    warmed: dict[tuple[str, bool], float] = {}
    threads: set[int] = set()
    todo = [(d, m) for d in datasets for m in methods if (d, m) not in sink.done]
    step, total = len(datasets) * len(methods) - len(todo), len(datasets) * len(methods)
    try:
        with dask_client(address) as client:
            config = replace(config, cluster=_describe(client))
            futures = {client.submit(run_task, d, METHODS[m], config, data_dir,
                                     key=_task_key(d, m), pure=False): (d, m)
                       for d, m in todo}
            pending = dict(futures)  # the tasks whose outcome has not been read
            try:
                bar = tqdm(as_completed(futures), total=len(futures), disable=not progress,
                           unit="task", desc="v2s benchmark")
                for future in bar:
                    step += 1
                    dataset, method = pending.pop(future)
                    try:
                        result = future.result()
                    except Exception as error:  # noqa: BLE001 (recorded; the others go on)
                        message = _failure(error)
                        outcome.failures.append((dataset, method, message))
                        log(f"[{step}/{total}] {dataset} {method}: FAILED ({message})")
                        continue
                    finally:
                        # Read and about to be on disk: a worker lost later must not
                        # make the scheduler compute it again.
                        future.release()
                    row = result["row"]
                    sink.add(row)
                    if result["note"]:
                        outcome.notes[(dataset, method)] = result["note"]
                    if result["warm_up"]:
                        name, multi, seconds = result["warm_up"]
                        warmed[(name, multi)] = max(seconds, warmed.get((name, multi), 0.0))
                    if result["threads"]:
                        threads.add(result["threads"])
                    log(f"[{step}/{total}] {dataset} {method}: accuracy {row['accuracy']:.4f}"
                        f"  fit {row['fit_seconds']:.2f} s  predict "
                        f"{row['predict_seconds']:.2f} s  on {result['worker']}"
                        + (f"  ({result['note']})" if result["note"] else ""))
            finally:  # Ctrl-C, or the scheduler lost: stop what has not run
                _cancel(client, list(pending))
    finally:
        sink.close()
        order = {pair: i for i, pair in enumerate((d, m) for d in datasets for m in methods)}
        rows = sorted(sink.rows, key=lambda r: order.get((r["dataset"], r["method"]), -1))
        outcome.results = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
        if threads:
            config = replace(config, cluster=f"{config.cluster}; torch threads per task "
                                             f"{', '.join(map(str, sorted(threads)))}")
        if len(outcome.results):
            write_reports(outcome, methods, config, data_dir, reference, warmed)
    return outcome


def _failure(error: Exception) -> str:
    """The message recorded for a task that raised (or never ran)."""
    from concurrent.futures import CancelledError

    if isinstance(error, BenchmarkTaskError):
        return error.message
    if isinstance(error, CancelledError):
        return (f"not run, the cluster went away ({type(error).__name__}: {error}); rerun "
                "with --resume")
    return f"{type(error).__name__}: {error}"


def _cancel(client: Any, futures: list) -> None:
    """Cancel ``futures``, as far as the cluster can still be told."""
    if futures:
        with contextlib.suppress(Exception):  # a closed client: nothing left to tell
            client.cancel(futures)


def _describe(client: Any) -> str:
    """The cluster in a few words, for the report."""
    workers = client.scheduler_info().get("workers", {})
    nthreads = sorted({w.get("nthreads", 0) for w in workers.values()})
    return (f"Dask cluster at {client.scheduler.address}: {len(workers)} workers, "
            f"{'/'.join(map(str, nthreads))} thread(s) each")
