"""``v2s benchmark``: test accuracy and time of V2S against MiniRocket on UCR datasets.

Protocol: each dataset's official TRAIN/TEST split; every choice (the label map,
the kept epoch, a grid search, MiniRocket's ridge penalty) is made on TRAIN alone
and the TEST split is only scored. All methods run in the same process on the same
split and are timed the same way: ``fit_seconds`` around ``fit`` and
``predict_seconds`` around ``predict`` (``time.perf_counter``, wall clock). Before
a method is first timed it is fitted once, untimed, on a tiny synthetic dataset so
that neither method pays one-off costs inside a timed call (numba compiling
MiniRocket's kernels, torch initialising its kernels and the acoustic model).

Outputs, sharing the stem of ``output``:

- ``.csv`` with exactly the columns :data:`CSV_COLUMNS`, one row per dataset and
  method, written and flushed row by row, so an interrupted run keeps its results
  (``resume=True`` continues it);
- ``.md``: the settings, per-method means and a per-dataset table (optionally
  beside the paper's figures, :func:`reference_table`);
- ``.png``: per-dataset accuracy of each method (:func:`plot_benchmark`).

Methods (:data:`METHODS`): ``v2s`` (``V2SClassifier`` with its defaults),
``v2s-seeds3`` (three seeds of it, probabilities averaged),
``v2s-search`` (the paper's protocol: dropout and ``n_segments`` chosen by
stratified k-fold cross-validation on TRAIN, refitted on all of TRAIN),
``minirocket`` (sktime's ``MiniRocket`` transform, ``StandardScaler(with_mean=False)``
and ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``: the recipe of the
MiniRocket paper and of sktime's ``RocketClassifier``) and ``minirocket-sktime``
(the same recipe through ``RocketClassifier(rocket_transform="minirocket")``,
whose sktime 1.2 data conversions add seconds to every call).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

#: The columns of the results CSV, in order.
CSV_COLUMNS = ("dataset", "method", "accuracy", "fit_seconds", "predict_seconds")

#: Methods run when none are named.
DEFAULT_METHODS = ("v2s", "minirocket")

#: Default grid of ``v2s-search`` (values of ``n_segments`` that do not fit a
#: dataset's series into the acoustic model's input are dropped).
DEFAULT_SEARCH_DROPOUT = (0.0, 0.1, 0.2)
DEFAULT_SEARCH_SEGMENTS = (1, 4, 10)
DEFAULT_SEARCH_FOLDS = 3


@dataclass
class BenchmarkConfig:
    """Settings shared by every method of a run.

    Parameters
    ----------
    random_state : int
        Seeds every method, the subsets and the cross-validation folds.
    device : str
        ``V2SClassifier``'s ``device``.
    max_epochs : int or None
        Overrides ``V2SClassifier``'s ``max_epochs`` (quick runs); None keeps the
        default.
    search_dropout, search_segments : sequence
        The grid of ``v2s-search``.
    search_jobs : int
        Processes of ``v2s-search``'s ``GridSearchCV`` (on a GPU they share the
        device, which one small model leaves mostly idle).
    search_folds : int
        Folds of ``v2s-search``, capped by the smallest class count of TRAIN.
    max_train, max_test : int or None
        Score on a stratified subset of each split (quick checks only: the
        results are then not comparable with published ones).
    """

    random_state: int = 0
    device: str = "auto"
    max_epochs: int | None = None
    search_dropout: Sequence[float] = DEFAULT_SEARCH_DROPOUT
    search_segments: Sequence[int] = DEFAULT_SEARCH_SEGMENTS
    search_folds: int = DEFAULT_SEARCH_FOLDS
    search_jobs: int = 1
    max_train: int | None = None
    max_test: int | None = None

    def v2s_params(self) -> dict[str, Any]:
        """Keyword arguments of every ``V2SClassifier`` the run builds."""
        params: dict[str, Any] = {"random_state": self.random_state, "device": self.device}
        if self.max_epochs is not None:
            params["max_epochs"] = self.max_epochs
        return params


# --------------------------------------------------------------------- methods
class MiniRocketRidge(ClassifierMixin, BaseEstimator):
    """MiniRocket features, scaled, into a ridge classifier with a CV-chosen penalty.

    The standard MiniRocket recipe (Dempster, Schmidt and Webb, 2021), the same
    pipeline sktime's ``RocketClassifier(rocket_transform="minirocket")`` builds,
    without sktime's per-call data-container conversions. The penalty is chosen
    by ``RidgeClassifierCV``'s leave-one-out on the training data only.

    Parameters
    ----------
    num_kernels : int, default=10000
        MiniRocket kernels (rounded down to a multiple of 84 by MiniRocket).
    max_dilations_per_kernel : int, default=32
        MiniRocket's dilation cap.
    random_state : int or None, default=None
        Seeds MiniRocket's bias quantiles.
    n_jobs : int, default=1
        numba threads of the transform.
    """

    def __init__(self, num_kernels: int = 10_000, max_dilations_per_kernel: int = 32,
                 random_state: int | None = None, n_jobs: int = 1) -> None:
        self.num_kernels = num_kernels
        self.max_dilations_per_kernel = max_dilations_per_kernel
        self.random_state = random_state
        self.n_jobs = n_jobs

    @staticmethod
    def _as_3d(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 2:
            return X[:, None, :]
        if X.ndim != 3:
            raise ValueError(f"X must be 2-D (n_series, n_timepoints) or 3-D "
                             f"(n_series, n_channels, n_timepoints); got shape {X.shape}")
        return X

    def _features(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.transformer_.transform(X), dtype=np.float64)

    def fit(self, X: Any, y: Any) -> "MiniRocketRidge":
        """Fit the transform, the scaler and the ridge classifier on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        y : array-like of shape (n_series,)

        Returns
        -------
        self : MiniRocketRidge
        """
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sktime.transformations.panel.rocket import MiniRocket, MiniRocketMultivariate

        X = self._as_3d(X)
        if X.shape[2] < 9:
            raise ValueError(f"MiniRocket needs series of at least 9 time points; "
                             f"got {X.shape[2]}")
        transform = MiniRocket if X.shape[1] == 1 else MiniRocketMultivariate
        self.transformer_ = transform(num_kernels=self.num_kernels,
                                      max_dilations_per_kernel=self.max_dilations_per_kernel,
                                      n_jobs=self.n_jobs, random_state=self.random_state)
        self.transformer_.fit(X)
        self.classifier_ = make_pipeline(StandardScaler(with_mean=False),
                                         RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
        self.classifier_.fit(self._features(X), np.asarray(y))
        self.classes_ = self.classifier_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each series.

        Returns
        -------
        ndarray of shape (n_series,)
        """
        return self.classifier_.predict(self._features(self._as_3d(X)))


@dataclass(frozen=True)
class Method:
    """One competitor of the benchmark.

    Parameters
    ----------
    name : str
        Its name in the CSV.
    description : str
        One line for the report.
    build : callable
        ``build(config, X_train, y_train)`` returns an unfitted estimator; only
        TRAIN is passed, so no choice can see TEST.
    warm_up_as : str
        The method whose warm-up covers this one's one-off costs.
    """

    name: str
    description: str
    build: Callable[[BenchmarkConfig, np.ndarray, np.ndarray], Any]
    warm_up_as: str


def _build_v2s(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from . import V2SClassifier

    return V2SClassifier(**config.v2s_params())


def _build_v2s_seeds3(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from .ensemble import seed_ensemble

    return seed_ensemble(3, **config.v2s_params())


def search_grid(config: BenchmarkConfig, X: np.ndarray) -> dict[str, list]:
    """The ``v2s-search`` grid for series shaped like ``X``.

    ``n_segments`` values whose copies do not fit the acoustic model's input
    (``n_segments * n_channels * n_timepoints > input_length``) are dropped.

    Raises
    ------
    ValueError
        If no value of ``n_segments`` fits.
    """
    from .acoustic.registry import DEFAULT_MODEL, load_acoustic_model

    input_length = load_acoustic_model(DEFAULT_MODEL).input_length
    n_values = int(np.prod(X.shape[1:]))
    segments = [int(m) for m in config.search_segments if m * n_values <= input_length]
    if not segments:
        raise ValueError(f"no n_segments in {list(config.search_segments)} fits series of "
                         f"{n_values} values into {input_length} input samples")
    return {"dropout": [float(d) for d in config.search_dropout], "n_segments": segments}


def _build_v2s_search(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from . import V2SClassifier

    smallest = int(np.unique(y, return_counts=True)[1].min())
    folds = min(config.search_folds, smallest)
    if folds < 2:
        raise ValueError(f"v2s-search needs at least 2 TRAIN series per class for "
                         f"cross-validation; the smallest class has {smallest}")
    return GridSearchCV(
        V2SClassifier(**config.v2s_params()), search_grid(config, X),
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.random_state),
        scoring="neg_log_loss",  # the paper selects by validation loss
        refit=True, n_jobs=config.search_jobs, error_score="raise")


def _build_minirocket(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    return MiniRocketRidge(random_state=config.random_state)


def _build_minirocket_sktime(config: BenchmarkConfig, X: np.ndarray, y: np.ndarray) -> Any:
    from sktime.classification.kernel_based import RocketClassifier

    return RocketClassifier(rocket_transform="minirocket", random_state=config.random_state)


#: The methods ``v2s benchmark --methods`` accepts.
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("v2s", "V2SClassifier with its defaults", _build_v2s, "v2s"),
    Method("v2s-seeds3", "three V2SClassifiers with defaults and seeds random_state + "
           "0, 1, 2, probabilities averaged (v2s_sklearn.ensemble.seed_ensemble)",
           _build_v2s_seeds3, "v2s"),
    Method("v2s-search", "GridSearchCV(V2SClassifier) over dropout and n_segments, "
           "stratified k-fold on TRAIN, scored by log loss, refitted on TRAIN",
           _build_v2s_search, "v2s"),
    Method("minirocket", "sktime MiniRocket (10,000 kernels) + StandardScaler(with_mean="
           "False) + RidgeClassifierCV(alphas=logspace(-3, 3, 10))",
           _build_minirocket, "minirocket"),
    Method("minirocket-sktime", "sktime RocketClassifier(rocket_transform='minirocket'): "
           "the same recipe with sktime's data conversions", _build_minirocket_sktime,
           "minirocket-sktime"),
)}


def check_methods(names: Sequence[str]) -> list[str]:
    """Validate method names; return them without duplicates, in order.

    Raises
    ------
    ValueError
        For a name not in :data:`METHODS`.
    """
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {sorted(METHODS)}")
    if not names:
        raise ValueError(f"no methods given; choose from {sorted(METHODS)}")
    return list(dict.fromkeys(names))


# --------------------------------------------------------------------- running
def find_datasets(data_dir: str | os.PathLike | None) -> list[str]:
    """Dataset names in ``data_dir`` (folders holding NAME_TRAIN.tsv or .ts), sorted.

    Without ``data_dir``, the univariate datasets sktime ships.
    """
    from .datasets import SKTIME_SHIPPED

    if data_dir is None:
        return list(SKTIME_SHIPPED)
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"--data-dir {root} is not a folder")
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and any(
        (p / f"{p.name}_TRAIN{ext}").exists() for ext in (".tsv", ".ts")))
    if not names:
        raise FileNotFoundError(f"no datasets (NAME/NAME_TRAIN.tsv or .ts) in {root}")
    return names


def stratified_subset(X: np.ndarray, y: np.ndarray, n: int | None,
                      random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` series, with the class proportions of ``y`` (all when ``n`` is None)."""
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    n_classes = len(np.unique(y))
    if n < n_classes:
        raise ValueError(f"a subset of {n} series cannot hold all {n_classes} classes")
    keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y,
                               random_state=random_state)
    keep = np.sort(keep)
    return X[keep], y[keep]


def _synthetic(n_channels: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """32 short noisy series of two classes, for warm-up fits (one full batch of V2S)."""
    rng = np.random.default_rng(random_state)
    t = np.linspace(0, 4 * np.pi, 48)
    y = np.repeat(["a", "b"], 16)
    base = np.where((y == "a")[:, None], np.sin(t), np.cos(t))
    X = base[:, None, :].repeat(n_channels, axis=1) + 0.1 * rng.standard_normal(
        (len(y), n_channels, len(t)))
    return (X[:, 0] if n_channels == 1 else X), y


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


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` produced.

    Attributes
    ----------
    results : pandas.DataFrame
        The CSV's rows (columns :data:`CSV_COLUMNS`).
    csv_path, markdown_path, plot_path : Path
    failures : list of (dataset, method, message)
        Pairs that raised; they have no row.
    notes : dict
        Per ``(dataset, method)``, extra facts for the report (a search's choice).
    """

    results: pd.DataFrame
    csv_path: Path
    markdown_path: Path
    plot_path: Path
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)


def run_benchmark(datasets: Sequence[str] | None = None,
                  methods: Sequence[str] = DEFAULT_METHODS,
                  output: str | os.PathLike = "benchmark.csv",
                  data_dir: str | os.PathLike | None = None,
                  config: BenchmarkConfig | None = None,
                  reference: str | os.PathLike | None = None,
                  resume: bool = False,
                  log: Callable[[str], None] = print) -> BenchmarkResult:
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

    Returns
    -------
    BenchmarkResult
    """
    from sklearn.metrics import accuracy_score

    from .datasets import load_dataset

    config = config or BenchmarkConfig()
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
    try:
        for dataset in datasets:
            todo = [m for m in methods if (dataset, m) not in sink.done]
            step += len(methods) - len(todo)
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
                    outcome.failures.append((dataset, method, f"loading: {error}"))
                log(f"[{step}/{total}] {dataset}: FAILED to load ({error})")
                continue
            n_channels = 1 if X_train.ndim == 2 else X_train.shape[1]
            log(f"{dataset}: {len(y_train)} train / {len(y_test)} test series, length "
                f"{X_train.shape[-1]}, {n_channels} channel(s), "
                f"{len(np.unique(y_train))} classes")
            for method in todo:
                step += 1
                try:
                    estimator = METHODS[method].build(config, X_train, y_train)
                    key = (METHODS[method].warm_up_as, n_channels > 1)
                    if key not in warmed:
                        warmed[key] = warm_up(method, config, n_channels)
                        log(f"  (untimed warm-up of {key[0]}: {warmed[key]:.1f} s)")
                    started = time.perf_counter()
                    estimator.fit(X_train, y_train)
                    fit_seconds = time.perf_counter() - started
                    started = time.perf_counter()
                    predicted = estimator.predict(X_test)
                    predict_seconds = time.perf_counter() - started
                    accuracy = float(accuracy_score(np.asarray(y_test), np.asarray(predicted)))
                except Exception as error:  # report, keep going, fail at the end
                    outcome.failures.append((dataset, method, f"{type(error).__name__}: "
                                                              f"{error}"))
                    log(f"[{step}/{total}] {dataset} {method}: FAILED "
                        f"({type(error).__name__}: {error})")
                    continue
                sink.add({"dataset": dataset, "method": method, "accuracy": accuracy,
                          "fit_seconds": fit_seconds, "predict_seconds": predict_seconds})
                note = _note(estimator)
                if note:
                    outcome.notes[(dataset, method)] = note
                log(f"[{step}/{total}] {dataset} {method}: accuracy {accuracy:.4f}  "
                    f"fit {fit_seconds:.2f} s  predict {predict_seconds:.2f} s"
                    + (f"  ({note})" if note else ""))
    finally:  # also on KeyboardInterrupt: report what was measured
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


# --------------------------------------------------------------------- reports
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

    from . import __version__

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
        "all methods in one process on the same split. Before a method is first timed it "
        "is fitted once, untimed, on a tiny synthetic dataset, so neither method pays "
        "one-off costs (numba JIT compilation of MiniRocket, torch's lazy initialisation) "
        "inside a timed call.",
        f"- **Settings**: random_state={config.random_state}, V2S max_epochs {epochs}, "
        f"V2S device {device}, torch threads {torch.get_num_threads()}, MiniRocket "
        "n_jobs=1.",
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


# ------------------------------------------------------------------------- CLI
def _csv_list(kind: Callable[[str], Any]) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            values = [kind(v.strip()) for v in text.split(",") if v.strip()]
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error
        if not values:
            raise argparse.ArgumentTypeError("expected a comma-separated list")
        return values
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``v2s benchmark``'s options to ``parser``."""
    parser.add_argument("--data-dir", default=None,
                        help="folder of UCR datasets (NAME/NAME_TRAIN.tsv or .ts); default: "
                             "the univariate datasets sktime ships")
    parser.add_argument("--datasets", type=_csv_list(str), default=None,
                        help="comma-separated names (default: every dataset in --data-dir)")
    parser.add_argument("--methods", type=_csv_list(str), default=",".join(DEFAULT_METHODS),
                        help=f"comma-separated, from {', '.join(METHODS)} "
                             "(default %(default)s)")
    parser.add_argument("--output", default="benchmark.csv",
                        help="results CSV; the .md report and .png plot share its stem "
                             "(default %(default)s)")
    parser.add_argument("--reference", default=None,
                        help="CSV of published accuracies (e.g. ../shared/reference/"
                             "paper_table2.csv) shown beside ours in the .md only")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="override V2SClassifier's max_epochs (quick runs; recorded "
                             "in the report)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--search", action="store_true",
                        help="also run v2s-search: the paper's protocol, dropout and "
                             "n_segments chosen by stratified k-fold CV on TRAIN")
    parser.add_argument("--search-dropout", type=_csv_list(float),
                        default=",".join(map(str, DEFAULT_SEARCH_DROPOUT)), help="(default %(default)s)")
    parser.add_argument("--search-segments", type=_csv_list(int),
                        default=",".join(map(str, DEFAULT_SEARCH_SEGMENTS)), help="(default %(default)s)")
    parser.add_argument("--search-folds", type=int, default=DEFAULT_SEARCH_FOLDS,
                        help="capped by the smallest class count (default %(default)s)")
    parser.add_argument("--search-jobs", type=int, default=1,
                        help="parallel processes of v2s-search (default %(default)s)")
    parser.add_argument("--max-train", type=int, default=None,
                        help="score on a stratified subset of TRAIN (quick checks only)")
    parser.add_argument("--max-test", type=int, default=None,
                        help="score on a stratified subset of TEST (quick checks only)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows already in --output and run the missing ones")


def run_from_args(args: argparse.Namespace) -> BenchmarkResult:
    """Run ``v2s benchmark`` from parsed arguments; exit status 1 if any pair failed."""
    for name in ("max_epochs", "search_folds", "max_train", "max_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SystemExit(f"v2s benchmark: --{name.replace('_', '-')} must be >= 1; "
                             f"got {value}")
    methods = list(args.methods)
    if args.search and "v2s-search" not in methods:
        methods.append("v2s-search")
    try:
        methods = check_methods(methods)
    except ValueError as error:
        raise SystemExit(f"v2s benchmark: {error}") from None
    if args.reference is not None and not Path(args.reference).exists():
        raise SystemExit(f"v2s benchmark: --reference {args.reference} does not exist")
    config = BenchmarkConfig(random_state=args.random_state, device=args.device,
                             max_epochs=args.max_epochs, search_dropout=args.search_dropout,
                             search_segments=args.search_segments,
                             search_folds=args.search_folds, search_jobs=args.search_jobs,
                             max_train=args.max_train,
                             max_test=args.max_test)
    outcome = run_benchmark(args.datasets, methods, args.output, args.data_dir, config,
                            args.reference, args.resume,
                            log=lambda line: print(line, flush=True))
    print(f"results: {outcome.csv_path}, report: {outcome.markdown_path}, "
          f"plot: {outcome.plot_path}")
    if len(outcome.results):
        print(summary_table(outcome.results, methods))
    if outcome.failures:
        print(f"{len(outcome.failures)} dataset/method pair(s) failed:", file=sys.stderr)
        for dataset, method, message in outcome.failures:
            print(f"  {dataset} {method}: {message}", file=sys.stderr)
        raise SystemExit(1)
    return outcome
