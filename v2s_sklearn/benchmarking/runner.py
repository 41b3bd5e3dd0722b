"""The run loop: warm up, fit and predict every method on every dataset, time, record."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import CSV_COLUMNS, BenchmarkConfig, BenchmarkResult
from .data import _synthetic, find_datasets, stratified_subset
from .methods import DEFAULT_METHODS, METHODS, check_methods
from .reports import write_reports
from .sink import _CsvSink


def warm_up(method: str, config: BenchmarkConfig, n_channels: int = 1) -> float:
    """Fit and predict ``method`` once, untimed, on tiny synthetic data.

    This pays one-off costs (numba JIT compilation of MiniRocket; torch's lazy
    initialisation and the acoustic model's first load) outside the timed calls.

    Returns
    -------
    float
        Seconds the warm-up took.
    """
    started = time.perf_counter()
    X, y = _synthetic(n_channels, config.random_state)
    name = METHODS[method].warm_up_as
    estimator = METHODS[name].build(config, X, y)
    if name == "v2s":
        estimator.set_params(max_epochs=1, validation_fraction=0.0)
    estimator.fit(X, y)
    estimator.predict(np.concatenate([X, X]))
    return time.perf_counter() - started


def fit_and_score(estimator: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any
                  ) -> dict[str, float]:
    """Fit and predict, each timed on its own; the test accuracy and both times."""
    from sklearn.metrics import accuracy_score

    started = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = estimator.predict(X_test)
    predict_seconds = time.perf_counter() - started
    accuracy = float(accuracy_score(np.asarray(y_test), np.asarray(predicted)))
    return {"accuracy": accuracy, "fit_seconds": fit_seconds,
            "predict_seconds": predict_seconds}


def run_benchmark(datasets: Sequence[str] | None = None,
                  methods: Sequence[str] = DEFAULT_METHODS,
                  output: str | os.PathLike = "benchmark.csv",
                  data_dir: str | os.PathLike | None = None,
                  config: BenchmarkConfig | None = None,
                  reference: str | os.PathLike | None = None,
                  resume: bool = False,
                  log: Callable[[str], None] = print,
                  progress: bool = False) -> BenchmarkResult:
    """Run ``methods`` on ``datasets`` and write the CSV, markdown and plot.

    Parameters
    ----------
    datasets : sequence of str or None
        Dataset names; None: :func:`find_datasets` of ``data_dir``.
    methods : sequence of str
        Names in :data:`METHODS`.
    output : path
        The CSV; the ``.md`` and ``.png`` share its stem.
    data_dir : path or None
        UCR folders (``NAME/NAME_TRAIN.tsv`` or ``.ts``); None: sktime's shipped copies.
    config : BenchmarkConfig or None
        Seeds, device, epoch override, search grid; None: the defaults.
    reference : path or None
        A CSV like ``paper_table2.csv`` (``dataset``, ``v2s_a``, ``sota`` in
        percent) whose figures are shown beside ours in the markdown only.
    resume : bool
        Keep the rows already in ``output`` and run only the missing pairs.
    log : callable
        Receives one progress line per dataset and method.
    progress : bool
        Show a tqdm bar over the (dataset, method) pairs on stderr, naming the
        current one; tqdm leaves it out when stderr is not a terminal.

    Returns
    -------
    BenchmarkResult
    """
    import torch
    from tqdm.auto import tqdm

    from ..datasets import load_dataset

    config = config or BenchmarkConfig()
    # One thread count for every method, as the report states: numba (MiniRocket)
    # resets torch's OpenMP count, so it is re-asserted before each method.
    config = replace(config, torch_threads=config.torch_threads or torch.get_num_threads())
    methods = check_methods(list(methods))
    datasets = list(datasets) if datasets else find_datasets(data_dir)
    csv_path = Path(output)
    if csv_path.suffix.lower() != ".csv":
        raise ValueError(f"--output must end in .csv; got {csv_path}")
    markdown_path, plot_path = csv_path.with_suffix(".md"), csv_path.with_suffix(".png")
    sink = _CsvSink(csv_path, resume)
    outcome = BenchmarkResult(pd.DataFrame(), csv_path, markdown_path, plot_path)
    warmed: dict[tuple[str, int], float] = {}
    total, step = len(datasets) * len(methods), 0
    bar = tqdm(total=total, desc="benchmark", unit="fit", file=sys.stderr,
               disable=None if progress else True)
    try:
        for dataset in datasets:
            todo = [m for m in methods if (dataset, m) not in sink.done]
            step += len(methods) - len(todo)
            bar.update(len(methods) - len(todo))
            if not todo:
                continue
            try:
                X_train, y_train = load_dataset(dataset, "train", data_dir)
                X_test, y_test = load_dataset(dataset, "test", data_dir)
                X_train, y_train = stratified_subset(X_train, y_train, config.max_train,
                                                     config.random_state)
                X_test, y_test = stratified_subset(X_test, y_test, config.max_test,
                                                   config.random_state)
            except Exception as error:  # a broken dataset must not end a long run
                for method in todo:
                    step += 1
                    bar.update()
                    outcome.failures.append((dataset, method, f"loading: {error}"))
                log(f"[{step}/{total}] {dataset}: FAILED to load ({error})")
                continue
            n_channels = 1 if X_train.ndim == 2 else X_train.shape[1]
            log(f"{dataset}: {len(y_train)} train / {len(y_test)} test series, length "
                f"{X_train.shape[-1]}, {n_channels} channel(s), "
                f"{len(np.unique(y_train))} classes")
            for method in todo:
                step += 1
                bar.set_postfix_str(f"{dataset} {method}")
                try:
                    estimator = METHODS[method].build(config, X_train, y_train)
                    key = (METHODS[method].warm_up_as, n_channels > 1)
                    if key not in warmed:
                        torch.set_num_threads(config.torch_threads)
                        warmed[key] = warm_up(method, config, n_channels)
                        log(f"  (untimed warm-up of {key[0]}: {warmed[key]:.1f} s)")
                    torch.set_num_threads(config.torch_threads)
                    scores = fit_and_score(estimator, X_train, y_train, X_test, y_test)
                except Exception as error:  # report, keep going, fail at the end
                    outcome.failures.append((dataset, method, f"{type(error).__name__}: "
                                                              f"{error}"))
                    log(f"[{step}/{total}] {dataset} {method}: FAILED "
                        f"({type(error).__name__}: {error})")
                    bar.update()
                    continue
                sink.add({"dataset": dataset, "method": method, **scores})
                note = _note(estimator)
                if note:
                    outcome.notes[(dataset, method)] = note
                log(f"[{step}/{total}] {dataset} {method}: accuracy {scores['accuracy']:.4f}  "
                    f"fit {scores['fit_seconds']:.2f} s  predict "
                    f"{scores['predict_seconds']:.2f} s"
                    + (f"  ({note})" if note else ""))
                bar.update()
    finally:  # also on KeyboardInterrupt: report what was measured
        bar.close()
        torch.set_num_threads(config.torch_threads)  # what the caller had, numba aside
        sink.close()
        outcome.results = pd.DataFrame(sink.rows, columns=list(CSV_COLUMNS))
        if len(outcome.results):
            write_reports(outcome, methods, config, data_dir, reference, warmed)
    return outcome


def _note(estimator: Any) -> str:
    """A short description of what a fitted method chose on TRAIN."""
    if hasattr(estimator, "best_params_"):
        chosen = ", ".join(f"{k}={v}" for k, v in sorted(estimator.best_params_.items()))
        best = estimator.best_estimator_
        return f"chose {chosen}; kept epoch {best.best_epoch_} of {len(best.history_)}"
    if hasattr(estimator, "best_epoch_"):
        return (f"kept epoch {estimator.best_epoch_} of {len(estimator.history_)}, "
                f"input scaling {estimator.input_scaling_}")
    members = getattr(estimator, "estimators_", [])
    if members and all(hasattr(m, "best_epoch_") for m in members):
        return "kept epochs " + ", ".join(f"{m.best_epoch_} of {len(m.history_)}"
                                          for m in members)
    return ""
