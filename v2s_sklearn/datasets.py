"""Time-series classification datasets: local UCR/UEA folders and sktime's shipped sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Univariate, equal-length datasets that sktime ships inside its wheel.
SKTIME_SHIPPED = ("GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf")


def _read_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCR archive .tsv: one series per line, label first, tab separated."""
    table = np.loadtxt(path, delimiter="\t", dtype=str, ndmin=2)
    y = table[:, 0]
    try:  # "1.0" and "1" are the same class in UCR files
        y = np.array([str(int(float(v))) for v in y])
    except ValueError:
        pass
    X = table[:, 1:].astype(np.float64)
    return X, y


def available_datasets(data_dir: str | Path | None = None) -> list[str]:
    """Names :func:`load_dataset` can load, sorted.

    Parameters
    ----------
    data_dir : path or None
        A folder of ``NAME/NAME_TRAIN.tsv`` (or ``.ts``) datasets; None lists
        the classification datasets sktime ships (nothing is downloaded).

    Returns
    -------
    list of str
        Empty when ``data_dir`` is not a folder or holds no dataset.
    """
    if data_dir is None:
        import sktime.datasets

        root = Path(sktime.datasets.__file__).parent / "data"
    else:
        root = Path(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(
        (p / f"{p.name}_TRAIN{ext}").exists() for ext in (".tsv", ".ts")))


def load_dataset(name: str, split: str, data_dir: str | Path | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a dataset.

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"GunPoint"``.
    split : {"train", "test"}
        The official split.
    data_dir : path or None
        A folder holding ``NAME/NAME_TRAIN.tsv`` (UCR format) or
        ``NAME/NAME_TRAIN.ts`` (sktime format). None loads the copy that
        sktime ships (no download).

    Returns
    -------
    X : ndarray of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        2-D for univariate data.
    y : ndarray of shape (n_series,) of str
    """
    split = split.lower()
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if data_dir is not None:
        folder = Path(data_dir) / name
        tsv = folder / f"{name}_{split.upper()}.tsv"
        if tsv.exists():
            return _read_tsv(tsv)
        ts = folder / f"{name}_{split.upper()}.ts"
        if ts.exists():
            from sktime.datasets import load_from_tsfile

            X, y = load_from_tsfile(str(ts), return_data_type="numpy3D")
            return (X[:, 0] if X.shape[1] == 1 else X), np.asarray(y, dtype=str)
        raise FileNotFoundError(f"neither {tsv} nor {ts} exists")
    import sktime.datasets
    from sktime.datasets import load_UCR_UEA_dataset

    if not (Path(sktime.datasets.__file__).parent / "data" / name).is_dir():
        raise ValueError(f"sktime does not ship {name!r} and nothing is downloaded; "
                         f"pass data_dir=... or use one of {SKTIME_SHIPPED}")
    X, y = load_UCR_UEA_dataset(name, split=split, return_type="numpy3D")
    return (X[:, 0] if X.shape[1] == 1 else X), np.asarray(y, dtype=str)
