"""The order of the gallery: from a first fit to a custom source model."""

from __future__ import annotations

from pathlib import Path

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
