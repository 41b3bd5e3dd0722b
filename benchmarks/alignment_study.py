"""Does the alignment of Theorem 1 track what matters? Two measurements on TRAIN cuts.

Each dataset's TRAIN split is cut 70/30 (stratified, seeded by ``--cut``); the
estimator is fitted on the 70% with its defaults and described on the 30%. The
TEST split is never read.

``--part epochs``: fit with an :class:`~v2s_sklearn.diagnostics.AlignmentRecorder`
on the held-out 30%, and report the Spearman correlation over epochs between
the sliced Wasserstein alignment and the held-out loss (the paper's Fig. 3
claim: they move together).

``--part models``: fit every ``--models`` source model on the same cuts and
report, per model, the mean held-out accuracy and the mean alignment of the
held-out series (the paper's Table 3 ranks source models by the alignment);
then the Spearman correlation between the two rankings (higher accuracy should
go with lower alignment, so agreement is a negative correlation).

    python benchmarks/alignment_study.py --part epochs --data-dir ../shared/data/ucr \\
        --datasets GunPoint,ECG200,DistalPhalanxTW --json benchmarks/results/alignment_epochs_cpu.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import train_test_split

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.diagnostics import AlignmentRecorder, wasserstein_alignment


def cut(name: str, data_dir: str | None, seed: int):
    X, y = load_dataset(name, "train", data_dir)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def epochs_part(args: argparse.Namespace) -> list[dict]:
    rows = []
    for name in args.datasets:
        X_fit, X_hold, y_fit, y_hold = cut(name, args.data_dir, args.cut)
        recorder = AlignmentRecorder(X_hold, y_hold, n_projections=args.projections,
                                     random_state=0)
        started = time.perf_counter()
        clf = V2SClassifier(random_state=args.cut, callbacks=[recorder]).fit(X_fit, y_fit)
        history = clf.history_
        alignment = [row["alignment"] for row in history]
        loss = [row["eval_loss"] for row in history]
        row = {"dataset": name, "cut": args.cut, "epochs": len(history),
               "input_scaling": clf.input_scaling_,
               "spearman_alignment_vs_heldout_loss": float(spearmanr(alignment, loss).statistic),
               "spearman_alignment_vs_valid_loss": float(spearmanr(
                   alignment, [r["valid_loss"] for r in history]).statistic),
               "alignment_first_last": [alignment[0], alignment[-1]],
               "heldout_loss_first_last": [loss[0], loss[-1]],
               "heldout_accuracy": float(clf.score(X_hold, y_hold)),
               "fit_seconds": time.perf_counter() - started,
               "alignment": alignment, "heldout_loss": loss}
        print(json.dumps({k: v for k, v in row.items()
                          if k not in ("alignment", "heldout_loss")}), flush=True)
        rows.append(row)
    return rows


def models_part(args: argparse.Namespace) -> dict:
    per_fit = []
    for name in args.datasets:
        X_fit, X_hold, y_fit, y_hold = cut(name, args.data_dir, args.cut)
        for model in args.models:
            clf = V2SClassifier(acoustic_model=model, random_state=args.cut).fit(X_fit, y_fit)
            per_fit.append({
                "dataset": name, "model": model,
                "heldout_accuracy": float(clf.score(X_hold, y_hold)),
                "alignment": wasserstein_alignment(clf, X_hold, n_projections=args.projections,
                                                   random_state=0)})
            print(json.dumps(per_fit[-1]), flush=True)
    means = {model: {key: float(np.mean([r[key] for r in per_fit if r["model"] == model]))
                     for key in ("heldout_accuracy", "alignment")} for model in args.models}
    within = [spearmanr([r["heldout_accuracy"] for r in per_fit if r["dataset"] == name],
                        [r["alignment"] for r in per_fit if r["dataset"] == name]).statistic
              for name in args.datasets]
    return {"cut": args.cut, "fits": per_fit, "means": means,
            "spearman_of_model_means": float(spearmanr(
                [means[m]["heldout_accuracy"] for m in args.models],
                [means[m]["alignment"] for m in args.models]).statistic),
            "spearman_within_dataset_mean": float(np.nanmean(within))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("epochs", "models"), required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--datasets", type=lambda s: s.split(","),
                        default=["GunPoint", "ECG200", "DistalPhalanxTW"])
    parser.add_argument("--models", type=lambda s: s.split(","),
                        default=["v2sa-synth", "tcresnet8-synth", "tcresnet14-synth"])
    parser.add_argument("--cut", type=int, default=0)
    parser.add_argument("--projections", type=int, default=1000)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    result = epochs_part(args) if args.part == "epochs" else models_part(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.part == "models":
        print(json.dumps({k: v for k, v in result.items() if k != "fits"}, indent=2))


if __name__ == "__main__":
    main()
