"""``v2s benchmark``'s options and the run from parsed arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import (
    DEFAULT_SEARCH_DROPOUT,
    DEFAULT_SEARCH_FOLDS,
    DEFAULT_SEARCH_SEGMENTS,
    BenchmarkConfig,
    BenchmarkResult,
)
from .methods import DEFAULT_METHODS, METHODS, check_methods
from .reports import summary_table
from .runner import run_benchmark


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
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run the (dataset, method) tasks, and a search's fits, on a Dask "
                             "cluster: a scheduler address (tcp://host:8786), 'local' (a "
                             "LocalCluster of one 1-thread worker process per core) or "
                             "'local:N' (N of them); needs v2s-sklearn[dask]. --search-jobs "
                             "is then ignored: the cluster decides. See docs/dask.md")


def _check_datasets(names: list[str] | None, data_dir: str | None) -> None:
    """Refuse a missing ``--data-dir`` or an unknown name before hours of fitting start."""
    from .._usage import UsageError
    from ..datasets import available_datasets

    if data_dir is not None and not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a folder; give the folder that holds "
                         "NAME/NAME_TRAIN.tsv (or .ts) per dataset, or leave it out to use "
                         "the datasets sktime ships")
    known = available_datasets(data_dir)
    unknown = [name for name in names or [] if name not in known]
    if unknown:
        where = f"in {data_dir}" if data_dir else "that sktime ships (or pass --data-dir DIR)"
        shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more"
                                          if len(known) > 20 else "")
        raise UsageError(f"unknown dataset(s) {', '.join(unknown)}; choose from those "
                         f"{where}: {shown or 'none'}")


def run_from_args(args: argparse.Namespace) -> BenchmarkResult:
    """Run ``v2s benchmark`` from parsed arguments.

    Raises
    ------
    v2s_sklearn.cli.UsageError
        For a mistake in the arguments (``v2s`` exits with status 2).
    SystemExit
        Status 1 when any (dataset, method) pair failed.
    """
    from .._usage import UsageError, check_device

    for name in ("max_epochs", "search_folds", "max_train", "max_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1; got {value}")
    methods = list(args.methods)
    if args.search and "v2s-search" not in methods:
        methods.append("v2s-search")
    try:
        methods = check_methods(methods)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.reference is not None and not Path(args.reference).exists():
        raise UsageError(f"--reference {args.reference} does not exist; give the CSV of "
                         "published accuracies, or leave --reference out")
    check_device(args.device)
    if args.dask is None:  # a cluster's workers may see other folders than this machine
        _check_datasets(args.datasets, args.data_dir)
    config = BenchmarkConfig(random_state=args.random_state, device=args.device,
                             max_epochs=args.max_epochs, search_dropout=args.search_dropout,
                             search_segments=args.search_segments,
                             search_folds=args.search_folds, search_jobs=args.search_jobs,
                             max_train=args.max_train,
                             max_test=args.max_test)
    if args.dask is None:
        from tqdm.auto import tqdm

        # tqdm.write keeps the lines on stdout from tearing the bar on stderr.
        outcome = run_benchmark(args.datasets, methods, args.output, args.data_dir, config,
                                args.reference, args.resume,
                                log=lambda line: tqdm.write(line, file=sys.stdout),
                                progress=True)
    else:
        outcome = _run_on_dask(args, methods, config)
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


def _run_on_dask(args: argparse.Namespace, methods: list[str],
                 config: BenchmarkConfig) -> BenchmarkResult:
    """``--dask``: the run on a cluster, a progress bar over the finished tasks."""
    from tqdm.auto import tqdm

    from .._usage import UsageError
    from .cluster import parse_address, run_benchmark_dask

    try:
        parse_address(args.dask)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("--dask needs dask.distributed: pip install "
                         "'v2s-sklearn[dask]'") from None
    return run_benchmark_dask(args.dask, args.datasets, methods, args.output, args.data_dir,
                              config, args.reference, args.resume,
                              log=lambda line: tqdm.write(line), progress=True)
