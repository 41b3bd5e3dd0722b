"""Test accuracy of V2STimeSeriesClassifier vs MiniRocket on multivariate / unequal-length data.

Official TRAIN/TEST splits of the datasets sktime ships (no download):
BasicMotions (6 channels, length 100), JapaneseVowels (12 channels, lengths
7-29) and PLAID (univariate, lengths 100-1344). Each model is fitted once on
TRAIN and scored once on TEST; nothing is chosen on TEST.

    python benchmarks/sktime_multivariate.py                  # V2S defaults (100 epochs)
    python benchmarks/sktime_multivariate.py --max-epochs 30  # quicker

MiniRocket is sktime's multivariate MiniRocket for equal-length data and
MiniRocketMultivariateVariable for unequal-length data (see
``examples/sktime_benchmark.py``, whose ``minirocket`` this script reuses).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from sktime_benchmark import LOADERS, minirocket  # noqa: E402

from v2s_sklearn.sktime import V2STimeSeriesClassifier  # noqa: E402


def run(name: str, max_epochs: int | None, seed: int) -> list[dict]:
    """Fit both models on TRAIN of ``name`` and score them on TEST."""
    X_train, y_train = LOADERS[name](split="train")
    X_test, y_test = LOADERS[name](split="test")
    equal_length = X_train.iloc[:, 0].map(len).nunique() == 1
    v2s_params = {"random_state": seed}
    if max_epochs is not None:
        v2s_params["max_epochs"] = max_epochs
    models = {"V2S": V2STimeSeriesClassifier(**v2s_params),
              "MiniRocket": minirocket(bool(equal_length), seed)}
    rows = []
    for model_name, model in models.items():
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X_train, y_train)
            fitted = time.perf_counter()
            accuracy = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
        notes = sorted({str(w.message).split(";")[0] for w in caught
                        if "truncated" in str(w.message)})
        extra = ""
        if model_name == "V2S":
            inner = model.estimator_
            extra = (f"epochs {len(inner.history_)} (best {inner.best_epoch_}), "
                     f"n_segments {inner.n_segments_}, slot {model.series_length_}")
        rows.append({"dataset": name, "model": model_name, "accuracy": accuracy,
                     "fit_s": fitted - started, "predict_s": time.perf_counter() - fitted,
                     "notes": "; ".join([extra, *notes]).strip("; ")})
        print(f"{name:15s} {model_name:10s} acc {accuracy:.4f}  fit {fitted - started:7.1f} s  "
              f"{rows[-1]['notes']}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="V2S epochs (default: the estimator's default, 100)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*unequal length series.*")

    print(f"python {platform.python_version()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, CUDA {torch.cuda.is_available()}", flush=True)
    rows = [row for name in args.datasets for row in run(name, args.max_epochs, args.seed)]
    print("\n| dataset | V2S accuracy | MiniRocket accuracy | V2S fit (s) | MiniRocket fit (s) |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.datasets:
        v2s, mr = (next(r for r in rows if r["dataset"] == name and r["model"] == m)
                   for m in ("V2S", "MiniRocket"))
        print(f"| {name} | {v2s['accuracy']:.4f} | {mr['accuracy']:.4f} | "
              f"{v2s['fit_s']:.0f} | {mr['fit_s']:.0f} |")


if __name__ == "__main__":
    main()
