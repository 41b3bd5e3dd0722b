"""The markdown report, its tables, the plot, and published figures to compare with."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import BenchmarkConfig, BenchmarkResult
from .methods import METHODS


def read_reference(path: str | os.PathLike) -> pd.DataFrame:
    """A published-results CSV, indexed by dataset, percentages turned into fractions.

    Expects the columns of ``paper_table2.csv``: ``dataset`` and at least one of
    ``v2s_a`` (the paper's V2Sa) and ``sota`` (the best prior method it cites).

    Raises
    ------
    ValueError
        If ``dataset`` or both figure columns are missing.
    """
    table = pd.read_csv(path, dtype={"dataset": str})
    wanted = [c for c in ("v2s_a", "sota") if c in table.columns]
    if "dataset" not in table.columns or not wanted:
        raise ValueError(f"{path} needs a 'dataset' column and 'v2s_a' and/or 'sota'; "
                         f"it has {list(table.columns)}")
    figures = table.set_index("dataset")[wanted].astype(float)
    if (figures.max() > 1.0).any():  # published in percent
        figures = figures / 100.0
    return figures.rename(columns={"v2s_a": "paper V2Sa", "sota": "paper sota"})


def accuracy_pivot(results: pd.DataFrame, methods: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """Accuracy per dataset (rows, in first-seen order) and method (columns)."""
    methods = list(methods) if methods else list(dict.fromkeys(results["method"]))
    pivot = results.pivot_table(index="dataset", columns="method", values="accuracy",
                                aggfunc="last")
    order = list(dict.fromkeys(results["dataset"]))
    return pivot.reindex(index=order, columns=[m for m in methods if m in pivot.columns])


def _cell(value: float) -> str:
    return "–" if value != value else f"{value:.4f}"


def reference_table(results: pd.DataFrame, reference: str | os.PathLike | pd.DataFrame | None
                    = None, methods: Sequence[str] | None = None) -> str:
    """Markdown table of test accuracy per dataset, our methods beside the paper's.

    Parameters
    ----------
    results : DataFrame
        Rows with the columns :data:`CSV_COLUMNS` (e.g. ``pd.read_csv`` of a run).
    reference : path, DataFrame or None
        A ``paper_table2.csv``-style file (or :func:`read_reference`'s table):
        adds "paper V2Sa" and "paper sota" columns. None: ours only.
    methods : sequence of str, optional
        Column order of our methods.

    Returns
    -------
    str
        The table, with a last row of means over the datasets where every column
        has a value (and how many those are).
    """
    table = accuracy_pivot(results, methods)
    if reference is not None:
        figures = reference if isinstance(reference, pd.DataFrame) else read_reference(
            reference)
        table = table.join(figures, how="left")
    complete = table.dropna()
    lines = ["| dataset | " + " | ".join(table.columns) + " |",
             "| --- |" + " ---: |" * len(table.columns)]
    for dataset, row in table.iterrows():
        lines.append(f"| {dataset} | " + " | ".join(_cell(v) for v in row) + " |")
    if len(complete):
        count = f"{len(complete)} dataset{'s' if len(complete) > 1 else ''}"
        lines.append(f"| **mean ({count})** | "
                     + " | ".join(f"**{v:.4f}**" for v in complete.mean()) + " |")
    return "\n".join(lines)


def summary_table(results: pd.DataFrame, methods: Sequence[str] | None = None) -> str:
    """Markdown table of per-method means: accuracy, rank, wins, fit and predict time."""
    pivot = accuracy_pivot(results, methods)
    complete = pivot.dropna()
    ranks = complete.rank(axis=1, ascending=False, method="average")
    best = complete.max(axis=1)
    lines = ["| method | datasets | mean accuracy | mean rank | wins (ties count) | "
             "mean fit s | mean predict s | total fit s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for method in pivot.columns:
        mine = results[results["method"] == method]
        rank = ranks[method].mean() if len(complete) else math.nan
        wins = int((complete[method] == best).sum()) if len(complete) else 0
        lines.append(f"| {method} | {len(mine)} | {mine['accuracy'].mean():.4f} | "
                     f"{'–' if rank != rank else f'{rank:.2f}'} | {wins} | "
                     f"{mine['fit_seconds'].mean():.2f} | "
                     f"{mine['predict_seconds'].mean():.2f} | "
                     f"{mine['fit_seconds'].sum():.1f} |")
    if len(complete) != len(pivot):
        lines.append(f"\nRank and wins count only the {len(complete)} datasets where every "
                     "method has a result.")
    return "\n".join(lines)


def _versions() -> str:
    import sklearn
    import torch

    from .. import __version__

    parts = [f"v2s-sklearn {__version__}", f"torch {torch.__version__}",
             f"scikit-learn {sklearn.__version__}"]
    try:
        import sktime

        parts.append(f"sktime {sktime.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def markdown_report(outcome: BenchmarkResult, methods: Sequence[str],
                    config: BenchmarkConfig, data_dir: str | os.PathLike | None = None,
                    reference: str | os.PathLike | None = None,
                    warm_ups: dict | None = None) -> str:
    """The ``.md`` report of a run."""
    import torch

    results = outcome.results
    device = config.device
    if device == "auto":
        found = (f"cuda: {torch.cuda.get_device_name()}" if torch.cuda.is_available()
                 else "cpu")
        device = f"auto ({found})"
    epochs = ("the estimator's default (100)" if config.max_epochs is None
              else f"**{config.max_epochs} (overridden for a quick run)**")
    subsets = ""
    if config.max_train or config.max_test:
        subsets = (f"- **Subsets**: at most {config.max_train or 'all'} TRAIN and "
                   f"{config.max_test or 'all'} TEST series per dataset (stratified): "
                   "not comparable with published results.\n")
    lines = [
        f"# Benchmark: {', '.join(methods)}",
        "",
        f"Results: `{outcome.csv_path.name}` (one row per dataset and method); figure: "
        f"`{outcome.plot_path.name}`.",
        "",
        "## Protocol",
        "",
        f"- **Data**: {data_dir or 'the copies sktime ships'}; the official TRAIN/TEST "
        "split of each dataset. Every choice is made on TRAIN alone; TEST is only scored "
        "(accuracy, a fraction).",
        "- **Timing**: wall clock (`time.perf_counter`) around `fit` and around `predict`, "
        + ("all methods in one process on the same split. " if config.cluster is None else
           f"each (dataset, method) a task, timed on the worker that ran it ({config.cluster}). ")
        + "Before a method is first timed it "
        "is fitted once, untimed, on a tiny synthetic dataset, so neither method pays "
        "one-off costs (numba JIT compilation of MiniRocket, torch's lazy initialisation) "
        "inside a timed call" + ("." if config.cluster is None else " (once per worker process)."),
        f"- **Settings**: random_state={config.random_state}, V2S max_epochs {epochs}, "
        f"V2S device {device}"
        + (f", torch threads {config.torch_threads or torch.get_num_threads()}"
           if config.cluster is None else "")
        + ", MiniRocket n_jobs=1.",
        f"- **Machine**: {platform.platform()}, {os.cpu_count()} CPU cores; {_versions()}.",
    ]
    if subsets:
        lines.append(subsets.rstrip("\n"))
    if "v2s-search" in methods:
        lines.append(f"- **v2s-search grid**: dropout {list(config.search_dropout)}, "
                     f"n_segments {list(config.search_segments)} (those that fit the "
                     f"series), StratifiedKFold({config.search_folds}, capped by the "
                     "smallest class) on TRAIN, scored by log loss, best refitted on TRAIN.")
    lines += ["", "## Methods", ""]
    lines += [f"- `{m}`: {METHODS[m].description}" for m in methods]
    lines += ["", "## Means", "", summary_table(results, methods), "",
              "## Test accuracy per dataset", "",
              reference_table(results, reference, methods), ""]
    if reference is not None:
        lines += [f"Paper figures from `{reference}` (Yang, Tsai and Chen 2021, Table 2: "
                  "V2Sa and the best prior method they cite), shown for comparison; they are "
                  "not in the CSV.", ""]
    timing = results.pivot_table(index="dataset", columns="method",
                                 values=["fit_seconds", "predict_seconds"], aggfunc="last")
    lines += ["## Seconds per dataset (fit / predict)", "",
              "| dataset | " + " | ".join(m for m in methods if m in set(results["method"]))
              + " |",
              "| --- |" + " ---: |" * len(set(results["method"]) & set(methods))]
    for dataset in dict.fromkeys(results["dataset"]):
        cells = []
        for m in methods:
            if m not in set(results["method"]):
                continue
            fit = timing.get(("fit_seconds", m), pd.Series(dtype=float)).get(dataset, math.nan)
            pred = timing.get(("predict_seconds", m), pd.Series(dtype=float)).get(dataset,
                                                                                  math.nan)
            cells.append("–" if fit != fit else f"{fit:.2f} / {pred:.2f}")
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    if outcome.notes:
        lines += ["", "## Choices made on TRAIN", ""]
        lines += [f"- {d} `{m}`: {note}" for (d, m), note in outcome.notes.items()]
    if outcome.failures:
        lines += ["", "## Failures (no row in the CSV)", ""]
        lines += [f"- {d} `{m}`: {message}" for d, m, message in outcome.failures]
    if warm_ups:
        lines += ["", "Untimed warm-ups: " + ", ".join(
            f"{name}{' (multivariate)' if multi else ''} {seconds:.1f} s"
            for (name, multi), seconds in warm_ups.items()) + "."]
    return "\n".join(lines) + "\n"


def plot_benchmark(results: pd.DataFrame, methods: Sequence[str] | None = None):
    """Per-dataset test accuracy of each method.

    Grouped bars per dataset; when ``minirocket`` and a V2S method are both
    present, also a scatter of each V2S method against MiniRocket with the
    diagonal (points above it are datasets where V2S wins).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pivot = accuracy_pivot(results, methods)
    v2s_methods = [m for m in pivot.columns if m.startswith("v2s")]
    scatter = "minirocket" in pivot.columns and bool(v2s_methods)
    width = max(6.0, 0.6 * len(pivot) * max(1, len(pivot.columns)) / 2 + 2)
    if scatter:
        fig, (ax_scatter, ax_bars) = plt.subplots(
            1, 2, figsize=(5 + width, 4.8), gridspec_kw={"width_ratios": [5, width]},
            constrained_layout=True)
    else:
        fig, ax_bars = plt.subplots(figsize=(width, 4.8), constrained_layout=True)
    positions = np.arange(len(pivot))
    bar = 0.8 / max(1, len(pivot.columns))
    for i, method in enumerate(pivot.columns):
        ax_bars.bar(positions + (i - (len(pivot.columns) - 1) / 2) * bar, pivot[method],
                    bar, label=method)
    ax_bars.set_xticks(positions, pivot.index, rotation=45, ha="right")
    ax_bars.set_ylabel("test accuracy")
    ax_bars.set_ylim(0, 1.15)
    ax_bars.legend(loc="upper center", ncol=len(pivot.columns), fontsize="small")
    ax_bars.set_title("Test accuracy per dataset")
    if scatter:
        low = float(np.nanmin(pivot.to_numpy())) if pivot.size else 0.0
        low = max(0.0, min(low, 1.0) - 0.05)
        ax_scatter.plot([low, 1.0], [low, 1.0], color="grey", lw=0.8, ls="--")
        for marker, method in zip("os^vD", v2s_methods):
            ax_scatter.scatter(pivot["minirocket"], pivot[method], marker=marker,
                               label=method)
        for dataset, row in pivot.iterrows():
            ax_scatter.annotate(dataset, (row["minirocket"], row[v2s_methods[0]]),
                                fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax_scatter.set_xlim(low, 1.01)
        ax_scatter.set_ylim(low, 1.01)
        ax_scatter.set_aspect("equal")
        ax_scatter.set_xlabel("MiniRocket test accuracy")
        ax_scatter.set_ylabel("V2S test accuracy")
        ax_scatter.legend(loc="upper left", fontsize="small")
        ax_scatter.set_title("V2S vs MiniRocket (above the line: V2S wins)")
    return fig


def write_reports(outcome: BenchmarkResult, methods: Sequence[str], config: BenchmarkConfig,
                  data_dir: str | os.PathLike | None = None,
                  reference: str | os.PathLike | None = None,
                  warm_ups: dict | None = None) -> None:
    """Write the markdown report and the plot of ``outcome``'s rows."""
    import matplotlib.pyplot as plt

    methods = [m for m in methods if m in set(outcome.results["method"])] or list(
        dict.fromkeys(outcome.results["method"]))
    outcome.markdown_path.write_text(markdown_report(outcome, methods, config, data_dir,
                                                     reference, warm_ups))
    figure = plot_benchmark(outcome.results, methods)
    figure.savefig(outcome.plot_path, dpi=120)
    plt.close(figure)
