"""Fits on a Dask cluster: each task keeps to its share of its worker's CPU threads.

Under ``joblib.parallel_backend("dask")`` (or ``v2s benchmark --dask``) every fit
of a search runs as a task on a ``dask.distributed`` worker. A worker runs up to
``nthreads`` tasks at once, one per thread, and Dask sizes ``nthreads`` to the
cores the worker may use (``dask worker --nthreads``, ``LocalCluster``'s
``threads_per_worker``). torch, left alone, starts one intra-op thread per core of
the machine in every task: on two cores, three such fits run about ten times slower
than one after the other. So :class:`~v2s_sklearn.V2SClassifier`'s ``fit`` and
prediction, when they run inside a Dask worker, set torch's intra-op threads to
:func:`task_threads` (the worker's cores divided by its ``nthreads``: one by
default) for their duration, and restore them after. Nothing changes outside a
worker, and nothing here imports Dask: a process that has not imported
``distributed`` cannot be a Dask worker.

A worker that may use more cores than it runs tasks at once (``--nthreads 1`` on a
16-core node, a GPU worker) is told so with the worker plugin
:class:`TorchThreads`: ``client.register_plugin(TorchThreads(cores=16))``.

Dask's nanny also starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``), so that workers hand freed memory
back to the system. Setting it turns off glibc's adaptive thresholds, and then
every large tensor a training step allocates is a fresh ``mmap`` whose pages
fault in one by one: a V2S fit in such a process takes 2.3-2.5 times as long at
the same thread count (``benchmarks/malloc_threshold.py``). So the
first V2S task in a worker process whose environment sets it restores glibc's
own limits (:func:`restore_malloc_thresholds`), once, for that process.

The thread count matters to the results, not only to the speed: float32
reductions split over another number of threads round differently, and training
amplifies the difference. A fit on a worker equals a serial fit to the last digit
when both use the same number of torch threads (``torch_threads(1)`` around the
serial run, or ``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

__all__ = [  # noqa: F822 (TorchThreads is built on first use, by __getattr__)
    "PLUGIN_NAME", "TorchThreads", "dask_worker", "in_task_threads",
    "restore_malloc_thresholds", "task_threads", "torch_threads"]

#: The name :class:`TorchThreads` registers under, on every worker.
PLUGIN_NAME = "v2s-torch-threads"

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


#: glibc's ``mallopt`` parameters (``malloc.h``) and the limits restored:
#: the largest mmap threshold glibc's adaptive rule reaches on 64-bit systems
#: (``DEFAULT_MMAP_THRESHOLD_MAX``), and twice that for trimming, as that rule sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 2**20
_malloc_restored: bool | None = None


def restore_malloc_thresholds() -> bool:
    """Give this process glibc's adaptive-rule malloc limits back, if the environment
    fixed them (``MALLOC_TRIM_THRESHOLD_``, as Dask's nanny does); once per process.

    Large allocations then come from the heap and are reused step after step
    instead of being mapped and faulted in afresh; a worker keeps at most
    64 MiB of freed memory at the top of its heap.

    Returns
    -------
    bool
        Whether the limits were set (False without the variable, or off glibc).
    """
    global _malloc_restored
    if _malloc_restored is None:
        _malloc_restored = False
        if "MALLOC_TRIM_THRESHOLD_" in os.environ and sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL("libc.so.6")
                _malloc_restored = bool(
                    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(_M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_BYTES))
            except (OSError, AttributeError):  # not glibc (musl, ...): leave it
                _malloc_restored = False
    return _malloc_restored


def in_task_threads(method: F) -> F:
    """Decorate a method so that it runs with :func:`task_threads` inside a Dask
    worker, after :func:`restore_malloc_thresholds` (and exactly as before
    anywhere else)."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        threads = task_threads()
        if threads is not None:
            restore_malloc_thresholds()
        with torch_threads(threads):
            return method(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    # TorchThreads subclasses distributed's WorkerPlugin, so it is built on
    # first use: importing this module (the estimator does) must not import Dask.
    if name == "TorchThreads":
        from ._dask_plugin import TorchThreads

        return TorchThreads
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
