"""Cost of float64 prediction: predict_proba in float64 (the default) against float32.

Prediction runs in float64 so a series' probabilities do not depend on the
batch it is scored in (scikit-learn's subset and sample-order invariance
checks ask for rtol=1e-7, which float32 kernels miss by rounding). This
script times both dtypes side by side in one process, rounds interleaved, and
reports their ratio and the largest difference of their probabilities.

    python benchmarks/predict_dtype.py --series 500 --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import v2s_sklearn.classifier as classifier_module
from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--series", type=int, default=500,
                        help="series scored per round (test series repeated as needed)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--acoustic-model", default="v2sa-synth")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    X_train, y_train = load_dataset(args.dataset, "train")
    X_test, _ = load_dataset(args.dataset, "test")
    X = np.resize(X_test, (args.series, X_test.shape[1]))
    clf = V2SClassifier(acoustic_model=args.acoustic_model, max_epochs=2, input_scaling=None,
                        validation_fraction=0, random_state=0, device="cpu")
    clf.fit(X_train, y_train)
    seconds: dict[str, list[float]] = {"float64": [], "float32": []}
    proba = {}
    for _ in range(args.rounds):
        for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            classifier_module.PREDICT_DTYPE = dtype
            clf._acoustic_model_cache.clear()
            clf.predict_proba(X[:8])  # load and convert the model outside the timing
            started = time.perf_counter()
            proba[name] = clf.predict_proba(X)
            seconds[name].append(time.perf_counter() - started)
    result = {
        "dataset": args.dataset, "series": args.series, "rounds": args.rounds,
        "threads": torch.get_num_threads(), "acoustic_model": args.acoustic_model,
        "float64_series_per_s": args.series / float(np.median(seconds["float64"])),
        "float32_series_per_s": args.series / float(np.median(seconds["float32"])),
        "float64_time_ratio": float(np.median(seconds["float64"]) / np.median(seconds["float32"])),
        "max_abs_proba_difference": float(np.abs(proba["float64"] - proba["float32"]).max()),
    }
    print(json.dumps(result, indent=2) if args.json else
          f"float64 prediction takes {result['float64_time_ratio']:.2f}x the time of "
          f"float32 ({result['float64_series_per_s']:.0f} against "
          f"{result['float32_series_per_s']:.0f} series/s); probabilities differ by at most "
          f"{result['max_abs_proba_difference']:.2g}")


if __name__ == "__main__":
    main()
