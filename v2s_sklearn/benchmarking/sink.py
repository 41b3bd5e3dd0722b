"""The results CSV, written and flushed row by row so an interrupted run can resume."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from .config import CSV_COLUMNS


def _fmt(value: float, digits: int = 4) -> str:
    return "nan" if value != value else f"{value:.{digits}f}"


class _CsvSink:
    """Appends result rows to the CSV, flushing each one to disk."""

    def __init__(self, path: Path, resume: bool) -> None:
        self.path = path
        self.done: set[tuple[str, str]] = set()
        self.rows: list[dict] = []
        if resume and path.exists() and path.stat().st_size:
            previous = pd.read_csv(path, dtype={"dataset": str, "method": str})
            if tuple(previous.columns) != CSV_COLUMNS:
                raise ValueError(f"cannot resume {path}: its columns are "
                                 f"{list(previous.columns)}, not {list(CSV_COLUMNS)}")
            self.rows = previous.to_dict("records")
            self.done = {(r["dataset"], r["method"]) for r in self.rows}
            self.file = open(path, "a", newline="")
            self.writer = csv.writer(self.file)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w", newline="")
            self.writer = csv.writer(self.file)
            self.writer.writerow(CSV_COLUMNS)
            self.file.flush()

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self.writer.writerow([row["dataset"], row["method"], repr(float(row["accuracy"])),
                              _fmt(row["fit_seconds"]), _fmt(row["predict_seconds"])])
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()
