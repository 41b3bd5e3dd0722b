"""The worker plugin of :mod:`v2s_sklearn.parallel` (imports ``distributed``)."""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from .parallel import PLUGIN_NAME


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
