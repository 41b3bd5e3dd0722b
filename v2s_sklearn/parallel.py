"""Fits on a Dask cluster: each task keeps to its share of its worker's CPU threads.

Under ``joblib.parallel_backend("dask")`` (or ``v2s benchmark --dask``) every fit
of a search runs as a task on a ``dask.distributed`` worker. A worker runs up to
``nthreads`` tasks at once, one per thread, and Dask sizes ``nthreads`` to the
cores the worker may use (``dask worker --nthreads``, ``LocalCluster``'s
``threads_per_worker``). torch, left alone, starts one intra-op thread per core of
the machine in every task, so the tasks of a worker oversubscribe its cores and run
far slower than one after the other. So :class:`~v2s_sklearn.V2SClassifier`'s ``fit`` and
prediction, when they run inside a Dask worker, set torch's intra-op threads to
:func:`task_threads` (the worker's cores divided by its ``nthreads``: one by
default) for their duration, and restore them after. Nothing changes outside a
worker, and nothing here imports Dask: a process that has not imported
``distributed`` cannot be a Dask worker.

A worker that may use more cores than it runs tasks at once (``--nthreads 1`` on a
16-core node, a GPU worker) is told so with the worker plugin
:class:`TorchThreads`: ``client.register_plugin(TorchThreads(cores=16))``.

``fit`` changes nothing process-wide: torch's thread count is back as it was when
it returns. Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_`` set
(``distributed.nanny.pre-spawn-environ``), which turns off glibc's adaptive malloc
thresholds and makes V2S fits on such a worker much slower
(``benchmarks/malloc_threshold.py``, docs/dask.md). Giving the workers glibc's own
limits back changes their whole process, so it is opt-in, by the worker plugin
:class:`MallocThresholds`: ``client.register_plugin(MallocThresholds())``.

The thread count matters to the results, not only to the speed: float32
reductions split over another number of threads round differently, and training
amplifies the difference. A fit on a worker equals a serial fit to the last digit
when both use the same number of torch threads (``torch_threads(1)`` around the
serial run, or ``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

# The plugins and their names live in ``_dask_plugin``, which imports Dask, so they
# are imported on first use (``__getattr__``): importing this module (the
# estimator does) must not import Dask, and ``_dask_plugin`` imports nothing from here.
_FROM_PLUGIN_MODULE = ("MALLOC_PLUGIN_NAME", "MMAP_THRESHOLD_BYTES", "MallocThresholds",
                       "PLUGIN_NAME", "TorchThreads", "restore_malloc_thresholds")

__all__ = [  # noqa: F822 (the names of _FROM_PLUGIN_MODULE come from __getattr__)
    "MALLOC_PLUGIN_NAME", "MMAP_THRESHOLD_BYTES", "PLUGIN_NAME", "MallocThresholds", "TorchThreads", "dask_worker",
    "in_task_threads", "restore_malloc_thresholds", "task_threads", "torch_threads"]

F = TypeVar("F", bound=Callable[..., Any])


def dask_worker() -> Any | None:
    """The ``distributed.Worker`` running the current task, or None outside one."""
    if "distributed" not in sys.modules:  # never imported: no worker here
        return None
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:  # "No worker found": the client, or a plain thread
        return None


def task_threads(worker: Any | None = None) -> int | None:
    """torch intra-op threads for one task on ``worker`` (default: the current one).

    The worker's cores (those given to :class:`TorchThreads`, else its
    ``nthreads``, Dask's own measure of them) divided by the tasks it runs at once
    (``nthreads``), at least one.

    Returns
    -------
    int or None
        None outside a Dask worker.
    """
    worker = worker if worker is not None else dask_worker()
    if worker is None:
        return None
    from ._dask_plugin import PLUGIN_NAME  # a worker: distributed is imported already

    nthreads = max(1, int(worker.state.nthreads))
    plugin = getattr(worker, "plugins", {}).get(PLUGIN_NAME)
    cores = getattr(plugin, "cores", None) or nthreads
    return max(1, int(cores) // nthreads)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, restoring the count after.

    Parameters
    ----------
    n : int or None
        Threads; None leaves torch as it is.
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def in_task_threads(method: F) -> F:
    """Decorate a method so that it runs with :func:`task_threads` inside a Dask
    worker, restoring torch's thread count when it returns (and exactly as before
    anywhere else)."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch_threads(task_threads()):
            return method(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    if name in _FROM_PLUGIN_MODULE:
        try:
            from . import _dask_plugin
        except ImportError as error:
            raise ImportError(f"v2s_sklearn.parallel.{name} needs dask.distributed: "
                              "pip install 'v2s-sklearn[dask]'") from error
        return getattr(_dask_plugin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
