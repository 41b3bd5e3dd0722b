"""sphinx-gallery helpers: the order of the examples and the state reset between them."""

from __future__ import annotations

from pathlib import Path

import torch

#: torch's intra-op threads when the build started (``OMP_NUM_THREADS`` if set).
TORCH_THREADS = torch.get_num_threads()

ORDER = [
    "quickstart.py",
    "pipeline.py",
    "grid_search.py",
    "sktime_benchmark.py",
    "explanations.py",
    "label_maps.py",
    "custom_acoustic_model.py",
]


class ExampleOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``: the order of :data:`ORDER`,
    then any other example by file name.

    Parameters
    ----------
    src_dir : str or pathlib.Path
        The gallery's source folder (sphinx-gallery passes it).
    """

    def __init__(self, src_dir: str | Path) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str | Path) -> tuple[int, str]:
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def reset_torch_threads(gallery_conf: dict, fname: str | None) -> None:
    """Give torch back the thread count the build started with, before each example.

    numba's OpenMP threading layer (MiniRocket, in ``sktime_benchmark.py``) sets
    the process-wide OpenMP thread count to every core, which torch then uses: on a
    busy CPU, or under ``OMP_NUM_THREADS=1``, the later examples ran several times
    slower.
    """
    if torch.get_num_threads() != TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)
