"""The Dask worker plugins of :mod:`v2s_sklearn.parallel` (this module imports ``distributed``).

Nothing here runs in a process until a client registers a plugin: a plain
``fit`` changes no process-wide setting. This module imports nothing from the
package, so :mod:`v2s_sklearn.parallel` can import it (lazily) and not the
other way round.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

from distributed import WorkerPlugin

__all__ = ["MALLOC_PLUGIN_NAME", "MMAP_THRESHOLD_BYTES", "PLUGIN_NAME", "MallocThresholds",
           "TorchThreads", "restore_malloc_thresholds"]

#: The name :class:`TorchThreads` registers under, on every worker.
PLUGIN_NAME = "v2s-torch-threads"
#: The name :class:`MallocThresholds` registers under, on every worker.
MALLOC_PLUGIN_NAME = "v2s-malloc-thresholds"

#: glibc's ``mallopt`` parameters (``malloc.h``) and the limits restored:
#: the largest mmap threshold glibc's adaptive rule reaches on 64-bit systems
#: (``DEFAULT_MMAP_THRESHOLD_MAX``), and twice that for trimming, as that rule sets.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 2**20


def restore_malloc_thresholds() -> bool:
    """Give this process glibc's adaptive-rule malloc limits back, if the environment
    fixed them (``MALLOC_TRIM_THRESHOLD_``, as Dask's nanny does).

    This changes the whole process, so only :class:`MallocThresholds` calls it,
    on the workers of a client that registered it. Large allocations then come
    from the heap and are reused step after step instead of being mapped and
    faulted in afresh; a process keeps at most twice
    :data:`MMAP_THRESHOLD_BYTES` of freed memory at the top of its heap.

    Returns
    -------
    bool
        Whether the limits were set (False without the variable, or off glibc).
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (musl, ...): leave it
        return False


class TorchThreads(WorkerPlugin):
    """Tell every worker how many CPU cores its V2S tasks may share.

    Each task then uses ``cores // nthreads`` torch intra-op threads (see
    :func:`v2s_sklearn.parallel.task_threads`). Without it a worker's cores are
    its ``nthreads``, so each task uses one thread.

    Parameters
    ----------
    cores : int
        Cores each worker may use, all its tasks together.

    Examples
    --------
    >>> client.register_plugin(TorchThreads(cores=16))  # doctest: +SKIP
    """

    name = PLUGIN_NAME

    def __init__(self, cores: int) -> None:
        if int(cores) < 1:
            raise ValueError(f"cores must be >= 1; got {cores}")
        self.cores = int(cores)

    def setup(self, worker: Any) -> None:
        # Nothing to do: task_threads reads ``cores`` from worker.plugins.
        return None


class MallocThresholds(WorkerPlugin):
    """Give every worker process glibc's own malloc limits back.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_`` set
    (``distributed.nanny.pre-spawn-environ``), which turns off glibc's adaptive
    thresholds: every large tensor a training step allocates is then a fresh
    ``mmap`` whose pages fault in one by one, and V2S fits run much slower than
    in a plain process. On setup, each worker whose environment sets the
    variable restores the limits (:func:`restore_malloc_thresholds`) for its
    whole process; a worker without the variable is left as it is.

    Attributes
    ----------
    restored : bool or None
        On the worker's copy, whether setup restored the limits (None before setup).

    Examples
    --------
    >>> client.register_plugin(MallocThresholds())  # doctest: +SKIP
    """

    name = MALLOC_PLUGIN_NAME

    def __init__(self) -> None:
        self.restored: bool | None = None

    def setup(self, worker: Any) -> None:
        self.restored = restore_malloc_thresholds()
