"""Issue 27, second study: the tables of docs/benchmarks.md from its two CSVs.

``readout_cuts_gpu.csv`` (``benchmarks/select_defaults.py``, the estimator's own fit on
3 cuts of TRAIN, readout "labels" and "features") is read beside MiniRocket on the same
cuts (``lever_study_minirocket.csv``); ``readout="auto"`` is the "features" row for
sets of 10 classes or more and the "labels" row below. ``test36_gpu.csv`` is the TEST
run (``v2s benchmark``). Both were made by ``benchmarks/gpu_issue27.sh``::

    python benchmarks/readout_report.py --data-dir ../shared/data/ucr,../shared/data/ucr-more
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.readout import FEATURES_MIN_CLASSES

RESULTS = Path(__file__).parent / "results"


def read_benchmark(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy and fit seconds of a ``v2s benchmark`` CSV, one row per dataset."""
    rows = pd.read_csv(RESULTS / name)
    return tuple(rows.pivot_table(index="dataset", columns="method", values=values)
                 for values in ("accuracy", "fit_seconds"))


def wlt(delta: pd.Series) -> str:
    return (f"{int((delta > 1e-9).sum())}/{int((delta < -1e-9).sum())}/"
            f"{int((delta.abs() <= 1e-9).sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folders joined by ','")
    args = parser.parse_args()
    folders = args.data_dir.split(",")

    def load(name: str, split: str):
        for folder in folders:
            if (Path(folder) / name).is_dir():
                return load_dataset(name, split, folder)
        raise FileNotFoundError(name)

    cuts = pd.read_csv(RESULTS / "readout_cuts_gpu.csv")
    cuts["readout"] = cuts["params"].map(lambda text: json.loads(text)["readout"])
    table = cuts.pivot_table(index=["dataset", "repeat"], columns="readout",
                             values="accuracy")
    rocket = pd.read_csv(RESULTS / "lever_study_minirocket.csv").set_index(
        ["dataset", "cut"])["accuracy"]
    names = sorted(table.index.get_level_values(0).unique())
    info = {}
    for name in names:
        X, y = load(name, "train")
        _, y_test = load(name, "test")
        counts = pd.Series(y_test).value_counts()
        info[name] = (len(np.unique(y)), X.shape[-1], counts.iloc[0] / counts.sum())
    table["classes"] = [info[n][0] for n, _ in table.index]
    table["auto"] = np.where(table["classes"] >= FEATURES_MIN_CLASSES, table["features"],
                             table["labels"])
    table["minirocket"] = [rocket.get(key, np.nan) for key in table.index]
    many = table["classes"] >= FEATURES_MIN_CLASSES
    seconds = cuts.groupby("readout")["fit_seconds"].sum()

    print("TRAIN cuts 0-2 (held-out 30%), means over datasets of the mean over cuts\n")
    print("| readout | all 36 | 10+ classes (7) | fewer (29) | W/L/T vs labels "
          "(dataset-cuts) | W/L/T vs MiniRocket | fit s (sum) |")
    print("| --- | ---: | ---: | ---: | --- | --- | ---: |")
    per_set = table.groupby(level=0).mean()
    few_sets, many_sets = per_set["classes"] < FEATURES_MIN_CLASSES, \
        per_set["classes"] >= FEATURES_MIN_CLASSES
    for column in ("labels", "features", "auto", "minirocket"):
        vs_labels = "-" if column == "labels" else wlt(table[column] - table["labels"])
        vs_rocket = "-" if column == "minirocket" else wlt(table[column] - table["minirocket"])
        fit = {"labels": seconds.get("labels"), "features": seconds.get("features")}.get(
            column)
        print(f"| {column} | {per_set[column].mean():.3f} | "
              f"{per_set.loc[many_sets, column].mean():.3f} | "
              f"{per_set.loc[few_sets, column].mean():.3f} | {vs_labels} | {vs_rocket} | "
              f"{'-' if fit is None else f'{fit:.0f}'} |")
    gain = table["features"] - table["labels"]
    print(f"\nfeatures against labels, 10+ classes: {wlt(gain[many])}; "
          f"fewer: {wlt(gain[~many])}")
    for cut in sorted(table.index.get_level_values(1).unique()):
        part = table.xs(cut, level=1)
        print(f"cut {cut}: labels {part['labels'].mean():.3f}, auto {part['auto'].mean():.3f}, "
              f"MiniRocket {part['minirocket'].mean():.3f}")

    wide, fit = read_benchmark("test36_gpu.csv")
    print("\nTEST (official splits), one run\n")
    print("| dataset | classes | length | majority class of TEST | v2s (defaults) | "
          "v2s-labels | MiniRocket | v2s fit s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in wide.index:
        classes, length, majority = info[name]
        row = wide.loc[name]
        print(f"| {name} | {classes} | {length} | {majority:.3f} | {row['v2s']:.3f} | "
              f"{row['v2s-labels']:.3f} | {row['minirocket']:.3f} | "
              f"{fit.loc[name, 'v2s']:.1f} |")
    print(f"| mean | | | | {wide['v2s'].mean():.3f} | {wide['v2s-labels'].mean():.3f} | "
          f"{wide['minirocket'].mean():.3f} | {fit['v2s'].sum():.0f} (sum) |")
    many_test = wide.index.map(lambda n: info[n][0] >= FEATURES_MIN_CLASSES)
    same = ~np.asarray(many_test)
    print(f"\nv2s vs v2s-labels: {wlt(wide['v2s'] - wide['v2s-labels'])}; "
          f"vs MiniRocket: {wlt(wide['v2s'] - wide['minirocket'])}")
    print(f"10+ classes: v2s {wide.loc[many_test, 'v2s'].mean():.3f}, v2s-labels "
          f"{wide.loc[many_test, 'v2s-labels'].mean():.3f}, MiniRocket "
          f"{wide.loc[many_test, 'minirocket'].mean():.3f}")
    gap = (wide["v2s"] - wide["v2s-labels"])[same].abs()
    print(f"identical configurations (fewer than 10 classes, GPU replicates): mean |diff| "
          f"{gap.mean():.3f}, max {gap.max():.3f}, differ on {int((gap > 1e-9).sum())} "
          f"of {len(gap)}")
    majority = pd.Series({n: info[n][2] for n in wide.index})
    print("at or below the majority-class rate of TEST: v2s "
          f"{list(wide.index[wide['v2s'] <= majority + 1e-9])}, MiniRocket "
          f"{list(wide.index[wide['minirocket'] <= majority + 1e-9])}")
    if (RESULTS / "test36_cpu.csv").exists():
        final_test(info)



def final_test(info: dict) -> None:
    """The TEST run of today's defaults (``test36_cpu.csv``) beside MiniRocket, with
    the GPU run's ``v2s`` (``readout="auto"`` without resampling) for reference."""
    wide, fit = read_benchmark("test36_cpu.csv")
    before = read_benchmark("test36_gpu.csv")[0]["v2s"]
    print("\nTEST of today's defaults (CPU run)\n")
    print("| dataset | classes | length | v2s (defaults) | MiniRocket | v2s fit s | "
          "MiniRocket fit s | GPU run's v2s (no resampling) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in wide.index:
        classes, length, _ = info[name]
        print(f"| {name} | {classes} | {length} | {wide.loc[name, 'v2s']:.3f} | "
              f"{wide.loc[name, 'minirocket']:.3f} | {fit.loc[name, 'v2s']:.1f} | "
              f"{fit.loc[name, 'minirocket']:.1f} | {before.get(name, np.nan):.3f} |")
    print(f"| mean | | | {wide['v2s'].mean():.3f} | {wide['minirocket'].mean():.3f} | "
          f"{fit['v2s'].sum():.0f} (sum) | {fit['minirocket'].sum():.0f} (sum) | "
          f"{before.reindex(wide.index).mean():.3f} |")
    long = wide.index.map(lambda n: info[n][1] > 300)
    print(f"\nv2s vs MiniRocket: {wlt(wide['v2s'] - wide['minirocket'])}; longer than 300 "
          f"points ({int(np.sum(long))}): {wide.loc[long, 'v2s'].mean():.3f} against the GPU "
          f"run's {before.reindex(wide.index)[long].mean():.3f} (MiniRocket "
          f"{wide.loc[long, 'minirocket'].mean():.3f})")


if __name__ == "__main__":
    main()
