"""
sktime benchmarking: V2S against MiniRocket
===========================================

:class:`~v2s_sklearn.sktime.V2STimeSeriesClassifier` against MiniRocket with
sktime's ``ClassificationBenchmark``, offline, on datasets that sktime ships,
keeping each dataset's official train/test split: the loader returns TRAIN
followed by TEST, and a :class:`~sklearn.model_selection.PredefinedSplit` marks
the TEST rows as the single test fold.

MiniRocket is the multivariate variant (``MiniRocketMultivariate`` inside
``RocketClassifier``) for equal-length data and ``MiniRocketMultivariateVariable``
(zero-padding series shorter than 9 points) for unequal-length data, each with
``StandardScaler(with_mean=False)`` and ``RidgeClassifierCV``. MiniRocket's fit
time includes numba compiling its kernels on first use.

Built here on BasicMotions with 5 training epochs for V2S (the estimator's
default is 100). From the command line::

    python examples/sktime_benchmark.py                      # BasicMotions, 5 epochs
    python examples/sktime_benchmark.py --datasets BasicMotions JapaneseVowels PLAID \\
        --max-epochs 100 --output results.csv
"""

from __future__ import annotations

import argparse
import warnings
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeClassifierCV
from sklearn.metrics import accuracy_score
from sklearn.model_selection import PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sktime.benchmarking.classification import ClassificationBenchmark
from sktime.classification.compose import SklearnClassifierPipeline
from sktime.classification.kernel_based import RocketClassifier
from sktime.datasets import load_basic_motions, load_japanese_vowels, load_plaid
from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable

from v2s_sklearn.sktime import V2STimeSeriesClassifier

LOADERS: dict[str, Callable] = {
    "BasicMotions": load_basic_motions,
    "JapaneseVowels": load_japanese_vowels,
    "PLAID": load_plaid,
}


def official_split(name: str) -> tuple[Callable[[], tuple[pd.DataFrame, np.ndarray]],
                                        PredefinedSplit, bool]:
    """A loader of TRAIN then TEST, the splitter that keeps that split, equal length or not.

    Parameters
    ----------
    name : str
        A key of ``LOADERS``.

    Returns
    -------
    loader : callable
        Returns ``(X, y)``: a nested DataFrame with TRAIN rows first, then TEST.
    splitter : sklearn.model_selection.PredefinedSplit
        One fold whose test rows are exactly the TEST split.
    equal_length : bool
        Whether all series have the same length.
    """
    X_train, y_train = LOADERS[name](split="train")
    X_test, y_test = LOADERS[name](split="test")
    X = pd.concat([X_train, X_test], ignore_index=True)
    y = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    test_fold = np.r_[np.full(len(X_train), -1), np.zeros(len(X_test), dtype=int)]
    lengths = X.iloc[:, 0].map(len)
    equal_length = bool(lengths.nunique() == 1)

    def loader() -> tuple[pd.DataFrame, np.ndarray]:
        return X, y

    loader.__name__ = f"load_{name}_official_split"
    return loader, PredefinedSplit(test_fold), equal_length


def minirocket(equal_length: bool, random_state: int = 0):
    """sktime's MiniRocket classifier: multivariate, or its unequal-length variant."""
    if equal_length:
        return RocketClassifier(rocket_transform="minirocket", use_multivariate="yes",
                                random_state=random_state)
    return SklearnClassifierPipeline(
        classifier=make_pipeline(StandardScaler(with_mean=False),
                                 RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))),
        transformers=[MiniRocketMultivariateVariable(pad_value_short_series=0.0,
                                                     random_state=random_state)])


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(
        description="V2STimeSeriesClassifier against MiniRocket with sktime's "
                    "ClassificationBenchmark, on official splits.")
    parser.add_argument("--datasets", nargs="+", default=["BasicMotions"],
                        choices=sorted(LOADERS))
    parser.add_argument("--max-epochs", type=int, default=5,
                        help="V2S training epochs (the estimator's default is 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None,
                        help="also write the results table to this CSV file")
    args = parser.parse_args(argv)

    # MiniRocketMultivariateVariable handles unequal length, but sktime's
    # pipeline tags cannot tell and warn on every call.
    warnings.filterwarnings("ignore", message=".*unequal length series.*")
    # The standard deviation over a single fold.
    warnings.filterwarnings("ignore", message="Degrees of freedom <= 0")
    warnings.filterwarnings("ignore", message="invalid value encountered in scalar divide")
    tables = []
    for name in args.datasets:  # one benchmark per dataset: MiniRocket's variant differs
        loader, splitter, equal_length = official_split(name)
        benchmark = ClassificationBenchmark()
        benchmark.add_estimator({
            "V2S": V2STimeSeriesClassifier(max_epochs=args.max_epochs,
                                           random_state=args.seed),
            "MiniRocket": minirocket(equal_length, args.seed),
        })
        benchmark.add_task(loader, splitter, [accuracy_score], task_id=name)
        tables.append(benchmark.run())
    results = pd.concat(tables, ignore_index=True)
    columns = [c for c in results.columns
               if c in ("validation_id", "model_id") or c.endswith("_mean")]
    print(results[columns].to_string(index=False))
    if args.output:
        results.to_csv(args.output, index=False)
    return results


def plot_results(results: pd.DataFrame):
    """Test accuracy and fit time of each model, one group of bars per dataset."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for ax, column, label in zip(axes, ("accuracy_score_mean", "fit_time_mean"),
                                 ("test accuracy", "fit time (s)")):
        table = results.pivot(index="validation_id", columns="model_id", values=column)
        table.plot.bar(ax=ax, rot=0)
        ax.set_xlabel("")
        ax.set_ylabel(label)
        ax.legend(title=None, loc="lower right")
    axes[0].set_ylim(0, 1.05)
    return fig


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    results = main()
    plot_results(results)
    plt.show()
