"""Measure candidate defaults of V2SClassifier on TRAIN splits only.

Each dataset's official TRAIN split is cut once (stratified, 70/30, seeded); every
candidate is fitted on the 70% and scored on the 30%. The TEST split is never read,
so defaults chosen from this table leave the test accuracies honest.

    python benchmarks/select_defaults.py --datasets GunPoint,ItalyPowerDemand,ArrowHead
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from sklearn.model_selection import train_test_split

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="GunPoint,ItalyPowerDemand,ArrowHead")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--learning-rates", default="0.005,0.01,0.05")
    parser.add_argument("--dropouts", default="0.0,0.1,0.3")
    parser.add_argument("--max-epochs", type=int, default=100)
    args = parser.parse_args()
    grid = list(itertools.product([float(v) for v in args.learning_rates.split(",")],
                                  [float(v) for v in args.dropouts.split(",")]))
    rows = []
    for name in args.datasets.split(","):
        X, y = load_dataset(name, "train", args.data_dir)
        X_fit, X_hold, y_fit, y_hold = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)
        for lr, dropout in grid:
            clf = V2SClassifier(learning_rate=lr, dropout=dropout,
                                max_epochs=args.max_epochs, random_state=0)
            started = time.perf_counter()
            clf.fit(X_fit, y_fit)
            seconds = time.perf_counter() - started
            rows.append((name, lr, dropout, clf.score(X_hold, y_hold), seconds,
                         clf.best_epoch_, len(clf.history_)))
            print(f"{name:18s} lr={lr:<6g} dropout={dropout:<4g} holdout acc={rows[-1][3]:.3f}"
                  f"  fit {seconds:5.1f} s  best epoch {clf.best_epoch_}/{len(clf.history_)}",
                  flush=True)
    print("\n| learning_rate | dropout | mean holdout accuracy (TRAIN splits) | mean fit s |")
    print("| --- | --- | --- | --- |")
    for lr, dropout in grid:
        mine = [r for r in rows if r[1] == lr and r[2] == dropout]
        print(f"| {lr:g} | {dropout:g} | {np.mean([r[3] for r in mine]):.3f} | "
              f"{np.mean([r[4] for r in mine]):.1f} |")


if __name__ == "__main__":
    main()
