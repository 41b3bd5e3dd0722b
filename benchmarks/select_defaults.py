"""Measure candidate defaults of V2SClassifier on TRAIN splits only.

Each dataset's official TRAIN split is cut into a fitting part and a held-out
part (stratified, 70/30, one cut per ``--repeats`` seed); every candidate is
fitted on the 70% (with the estimator's own validation split inside it) and
scored on the 30%. The TEST split is never read, so defaults chosen from this
table leave every test accuracy honest.

    python benchmarks/select_defaults.py --data-dir ../shared/data/ucr \\
        --grid '{"n_segments": [1, "auto"], "label_mapping": ["random", "frequency"]}'

Three grid keys are experiments rather than estimator parameters, to measure ideas
before they become options:

- ``"stretch": k``: every series is linearly interpolated to k times its length
  (at most what fits the 16,000-sample input) before fitting and scoring, so
  the source model hears it slower, over more frames and at lower pitch;
- ``"shrink": n``: every series longer than n points is resampled to n points
  (area interpolation, ``torch.nn.functional.interpolate(mode="area")``) before
  fitting and scoring, so a long series' content rises into the band the front end
  resolves and more copies fit (issue 27, lever 3);
- ``"source": "silero"``: the source model is ``SileroVADSource`` of
  ``examples/silero_source.py`` (silero-vad, trained on real speech; needs
  ``pip install silero-vad``) instead of ``acoustic_model`` (issue 27, lever 4);
- ``"seeds": n``: n estimators fitted with seeds ``cut + 1000 * i``, their
  probabilities averaged (what ``v2s_sklearn.ensemble.seed_ensemble`` does,
  with other seeds);
- ``"seed": i``: one fit with the seed of member i of ``"seeds"`` (``cut + 1000 * i``),
  so members run as separate candidates and ``--combine`` averages them with
  equal weights, reusing the kept probabilities of seed 0 (the plain candidate);
- ``"scale": "timepoint"``: every time point standardised over the fitting
  part's series (scikit-learn's ``StandardScaler`` fitted on the 70%, as in a
  ``Pipeline``), so what all series share is removed and what tells them
  apart fills the input; ``"scale": "center"`` only subtracts each time
  point's mean; ``"scale": "choose"`` fits with and without standardisation
  and keeps the fit of lower validation loss; ``"scale": "average"`` fits
  both (same seed) and averages their probabilities;
- ``"second_model": name``: every fit gets a partner with
  ``acoustic_model=name`` (same seed and parameters), their probabilities
  averaged: an ensemble over source models;
- ``"method": "minirocket"``: MiniRocket (``v2s_sklearn.benchmarking.MiniRocketRidge``,
  the benchmark's recipe) instead of V2S on the same cuts, so candidates can be
  read against the method to beat without touching TEST.

``--proba-dir DIR`` keeps every fit's held-out probabilities (one ``.npz`` per
dataset, candidate and cut), so that ensembles of candidates from one or several
studies are scored afterwards without fitting again:

    python benchmarks/select_defaults.py --proba-dir PROBA \
        --combine '{"acoustic_model": "v2sa-synth"}' '{"acoustic_model": "tcresnet8-synth"}'

``--report CSV ...`` fits nothing either: it reads the CSVs of earlier studies
and prints, per candidate, the mean held-out accuracy per dataset, wins, losses
and ties against ``--baseline`` over the (dataset, cut) pairs both have, and the
total fit time:

    python benchmarks/select_defaults.py --report a.csv b.csv \
        --baseline '{"acoustic_model": "v2sa-synth", "method": "v2s"}'

Fits run in ``--n-jobs`` processes (on a GPU they share the device; small
models leave it mostly idle, so several processes multiply throughput).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import SKTIME_SHIPPED, load_dataset

#: Grid keys that are experiments on the data or the fit, not estimator parameters.
EXPERIMENTS = ("stretch", "shrink", "seeds", "seed", "scale", "second_model", "method",
               "source")


def candidates(grid: dict[str, list]) -> list[dict]:
    """Cartesian product of a parameter grid, as a list of parameter dicts."""
    names = sorted(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def stretch_series(X: np.ndarray, factor: int, input_length: int = 16000) -> np.ndarray:
    """Linearly interpolate each series to ``factor`` times its length (capped to fit)."""
    import torch

    X = np.asarray(X, dtype=np.float32)
    X3 = X if X.ndim == 3 else X[:, None, :]
    factor = max(1, min(int(factor), input_length // (X3.shape[1] * X3.shape[2])))
    if factor == 1:
        return X
    stretched = torch.nn.functional.interpolate(torch.from_numpy(X3), scale_factor=factor,
                                                mode="linear", align_corners=True).numpy()
    return stretched if X.ndim == 3 else stretched[:, 0]


def shrink_series(X: np.ndarray, length: int | None) -> np.ndarray:
    """Series longer than ``length`` points resampled to ``length`` (area interpolation)."""
    import torch

    X = np.asarray(X, dtype=np.float32)
    if length is None or X.shape[-1] <= int(length):
        return X
    X3 = X if X.ndim == 3 else X[:, None, :]
    shrunk = torch.nn.functional.interpolate(torch.from_numpy(X3), size=int(length),
                                             mode="area").numpy()
    return shrunk if X.ndim == 3 else shrunk[:, 0]


def silero_source() -> object:
    """``SileroVADSource()`` from ``examples/silero_source.py`` (the ``"source"`` experiment)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "examples" / "silero_source.py"
    spec = importlib.util.spec_from_file_location("silero_source", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SileroVADSource()


def proba_path(proba_dir: str | Path, name: str, params: dict | str, repeat: int) -> Path:
    """Where one fit's held-out probabilities are kept: one file per dataset, candidate, cut."""
    text = params if isinstance(params, str) else json.dumps(params)
    key = hashlib.sha256(json.dumps(json.loads(text), sort_keys=True).encode()).hexdigest()[:12]
    return Path(proba_dir) / f"{name}-cut{repeat}-{key}.npz"


def evaluate(name: str, data_dir: str | None, params: dict, repeat: int,
             device: str, proba_dir: str | None = None) -> dict:
    """Fit one candidate on 70% of TRAIN and score it on the other 30%."""
    import torch

    torch.set_num_threads(1)  # several workers share the machine
    X, y = load_dataset(name, "train", data_dir)
    estimator_params = {k: v for k, v in params.items() if k not in EXPERIMENTS}
    X = stretch_series(shrink_series(X, params.get("shrink")), params.get("stretch", 1))
    X_fit, X_hold, y_fit, y_hold = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=repeat)
    if params.get("method", "v2s") != "v2s":
        return evaluate_other(name, params, repeat, X_fit, X_hold, y_fit, y_hold, proba_dir)
    scale = params.get("scale")
    if scale == "choose":  # the estimator's own rule, input_scaling="auto"
        estimator_params["input_scaling"] = "auto"
    elif scale in ("timepoint", "center"):
        scaler = StandardScaler(with_std=scale == "timepoint")
        scaler.fit(X_fit.reshape(len(X_fit), -1))
        X_fit, X_hold = (scaler.transform(part.reshape(len(part), -1)).reshape(part.shape)
                         for part in (X_fit, X_hold))
        estimator_params.setdefault("input_scaling", None)  # scaled here, not again inside
    elif scale not in (None, "average"):  # "average": both scalings, below
        raise ValueError(f"unknown scale experiment {scale!r}; use 'timepoint', 'center', "
                         "'choose' or 'average'")
    scalings = ([None, "standard"] if scale == "average"
                else [estimator_params.get("input_scaling", "auto")])
    started = time.perf_counter()
    proba, epochs = 0.0, 0
    sources = [estimator_params.get("acoustic_model")]
    if params.get("source") == "silero":
        sources = [silero_source()]
    if params.get("second_model"):
        sources.append(params["second_model"])
    first_seed = params.get("seed", 0)
    seeds = range(first_seed, first_seed + params.get("seeds", 1))
    for seed, scaling, source in itertools.product(seeds, scalings, sources):
        member_params = {**estimator_params, "input_scaling": scaling}
        if source is not None:
            member_params["acoustic_model"] = source
        clf = V2SClassifier(random_state=repeat + 1000 * seed, device=device,
                            **member_params)
        try:
            clf.fit(X_fit, y_fit)
        except ValueError as error:  # e.g. n_segments that do not fit: not a candidate
            return {"dataset": name, "repeat": repeat, "params": json.dumps(params),
                    "accuracy": float("nan"), "fit_seconds": 0.0, "epochs": 0,
                    "error": str(error)[:80]}
        proba = proba + clf.predict_proba(X_hold)
        epochs += sum(len(m.history_) for m in getattr(clf, "estimators_", [clf]))
    seconds = time.perf_counter() - started
    accuracy = float(np.mean(clf.classes_[np.argmax(proba, axis=1)] == y_hold))
    if proba_dir is not None:
        save_proba(proba_dir, name, params, repeat, proba, clf.classes_, y_hold)
    return {"dataset": name, "repeat": repeat, "params": json.dumps(params),
            "accuracy": accuracy, "fit_seconds": seconds, "epochs": epochs, "error": ""}


def save_proba(proba_dir: str, name: str, params: dict, repeat: int, proba: np.ndarray,
               classes: np.ndarray, y_hold: np.ndarray) -> None:
    """Keep one fit's held-out probabilities for ``--combine``."""
    path = proba_path(proba_dir, name, params, repeat)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, proba=np.asarray(proba, dtype=np.float64), classes=classes, y=y_hold,
             params=json.dumps(params))


def combine(proba_dir: str, names: list[str], members: list[str], repeats: range) -> None:
    """Score the average of several candidates' kept probabilities, per dataset and cut.

    Each member's probabilities are read from ``--proba-dir``; a (dataset, cut)
    that any member lacks is left out and named, so a partial study never
    passes for a full one.
    """
    print(f"| dataset | {' | '.join(members)} | ensemble |")
    print("| --- " * (len(members) + 2) + "|")
    means, deltas = [], []
    for name in names:
        scores = []
        for repeat in repeats:
            paths = [proba_path(proba_dir, name, member, repeat) for member in members]
            if not all(path.exists() for path in paths):
                print(f"<!-- {name} cut {repeat}: missing "
                      f"{[str(p) for p in paths if not p.exists()]} -->")
                continue
            kept = [np.load(path, allow_pickle=False) for path in paths]
            y = kept[0]["y"]
            single = [float(np.mean(k["classes"][k["proba"].argmax(1)] == y)) for k in kept]
            # Each member's probabilities sum to one per series, so members of
            # different sizes (a seed ensemble and one fit) weigh the same.
            average = sum(k["proba"] / k["proba"].sum(1, keepdims=True) for k in kept)
            scores.append(single + [float(np.mean(kept[0]["classes"][average.argmax(1)] == y))])
            deltas.append(scores[-1][-1] - single[0])
        if scores:
            row = np.mean(scores, axis=0)
            means.append(row)
            print(f"| {name} ({len(scores)} cuts) | " + " | ".join(f"{v:.3f}" for v in row)
                  + " |")
    if means:
        print("| mean | " + " | ".join(f"{v:.3f}" for v in np.mean(means, axis=0)) + " |")
        deltas = np.asarray(deltas)
        print(f"\nensemble against the first member over {len(deltas)} dataset-cuts: "
              f"{int((deltas > 1e-9).sum())} won, {int((deltas < -1e-9).sum())} lost, "
              f"{int((np.abs(deltas) <= 1e-9).sum())} tied")


def report(paths: list[str], baseline: str | None) -> None:
    """Markdown tables of earlier studies: accuracy per dataset, and wins against ``baseline``."""
    import pandas as pd

    rows = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    rows["params"] = rows["params"].map(lambda text: json.dumps(json.loads(text),
                                                                sort_keys=True))
    rows = rows.drop_duplicates(["dataset", "repeat", "params"])
    accuracy = rows.pivot_table(index="params", columns="dataset", values="accuracy")
    cuts = rows.pivot_table(index="params", columns="dataset", values="accuracy",
                            aggfunc="size")
    names = list(accuracy.columns)
    print("| candidate | " + " | ".join(names) + " | mean | fit s | W/L/T |")
    print("| --- " * (len(names) + 4) + "|")
    key = None if baseline is None else json.dumps(json.loads(baseline), sort_keys=True)
    by_cut = rows.set_index(["params", "dataset", "repeat"])["accuracy"]
    for params in accuracy.index:
        cells = ["-" if np.isnan(accuracy.loc[params, n]) else
                 f"{accuracy.loc[params, n]:.3f}" + ("" if cuts.loc[params, n] == 3 else
                                                     f" ({cuts.loc[params, n]:.0f})")
                 for n in names]
        record = ""
        if key is not None and key in accuracy.index and params != key:
            mine, theirs = by_cut.loc[params], by_cut.loc[key]
            both = mine.index.intersection(theirs.index)
            delta = mine.loc[both] - theirs.loc[both]
            record = (f"{int((delta > 1e-9).sum())}/{int((delta < -1e-9).sum())}/"
                      f"{int((delta.abs() <= 1e-9).sum())}")
        seconds = rows.loc[rows["params"] == params, "fit_seconds"].sum()
        print(f"| {params} | " + " | ".join(cells) + f" | {accuracy.loc[params].mean():.3f}"
              f" | {seconds:.0f} | {record} |")
    print("\n(n): a dataset with fewer than 3 cuts; W/L/T: dataset-cuts won, lost and tied "
          "against the baseline.")


def evaluate_other(name: str, params: dict, repeat: int, X_fit: np.ndarray,
                   X_hold: np.ndarray, y_fit: np.ndarray, y_hold: np.ndarray,
                   proba_dir: str | None = None) -> dict:
    """The ``"method"`` experiment: another classifier on the same cut."""
    from v2s_sklearn.benchmarking import MiniRocketRidge

    if params["method"] != "minirocket":
        raise ValueError(f"unknown method experiment {params['method']!r}; use 'minirocket'")
    started = time.perf_counter()
    clf = MiniRocketRidge(random_state=repeat).fit(X_fit, y_fit)
    accuracy = float(np.mean(clf.predict(X_hold) == y_hold))
    if proba_dir is not None and hasattr(clf, "predict_proba"):
        save_proba(proba_dir, name, params, repeat, clf.predict_proba(X_hold), clf.classes_,
                   y_hold)
    return {"dataset": name, "repeat": repeat, "params": json.dumps(params),
            "accuracy": accuracy, "fit_seconds": time.perf_counter() - started,
            "epochs": 0, "error": ""}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="UCR folder (NAME/NAME_TRAIN.tsv); default: sktime's copies")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated names; default: every folder in --data-dir")
    parser.add_argument("--grid", default='{"learning_rate": [0.01, 0.05]}',
                        help="JSON object: parameter -> list of values")
    parser.add_argument("--repeats", type=int, default=1, help="70/30 cuts per dataset")
    parser.add_argument("--first-cut", type=int, default=0,
                        help="seed of the first cut (add cuts to an earlier run)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", default=None, help="CSV of every fit")
    parser.add_argument("--proba-dir", default=None,
                        help="keep each fit's held-out probabilities here (for --combine)")
    parser.add_argument("--combine", nargs="+", default=None, metavar="PARAMS",
                        help="fit nothing: score the average of these candidates' kept "
                             "probabilities (JSON objects as in the CSV's params column)")
    parser.add_argument("--report", nargs="+", default=None, metavar="CSV",
                        help="fit nothing: summarise the CSVs of earlier studies")
    parser.add_argument("--baseline", default=None, metavar="PARAMS",
                        help="with --report: the candidate others are counted against")
    args = parser.parse_args(argv)

    if args.report:
        report(args.report, args.baseline)
        return

    if args.datasets:
        names = args.datasets.split(",")
    elif args.data_dir:
        names = sorted(p.name for p in Path(args.data_dir).iterdir() if p.is_dir())
    else:
        names = list(SKTIME_SHIPPED)
    if args.combine:
        if args.proba_dir is None:
            parser.error("--combine reads the probabilities kept by --proba-dir")
        combine(args.proba_dir, names, args.combine,
                range(args.first_cut, args.first_cut + args.repeats))
        return
    configs = candidates(json.loads(args.grid))
    # Cut by cut: a run cut off by a time limit loses its last cut, not whole datasets.
    jobs = [(name, params, repeat)
            for repeat in range(args.first_cut, args.first_cut + args.repeats)
            for name in names for params in configs]
    print(f"{len(jobs)} fits: {len(names)} datasets x {len(configs)} candidates x "
          f"{args.repeats} cuts", flush=True)
    started = time.perf_counter()
    results = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(evaluate)(name, args.data_dir, params, repeat, args.device, args.proba_dir)
        for name, params, repeat in jobs)
    rows = []
    handle = open(args.output, "w", newline="") if args.output else None
    for row in results:  # written as they finish, so a cut-off run keeps its rows
        if handle is not None:
            if not rows:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            handle.flush()
        rows.append(row)
        print(f"{row['dataset']:18s} {row['params']} cut {row['repeat']}: "
              f"{row['accuracy']:.3f} ({row['fit_seconds']:.0f} s, {row['epochs']} epochs)"
              f"{' ' + row['error'] if row['error'] else ''}", flush=True)
    if handle is not None:
        handle.close()

    table = {}
    for row in rows:
        table.setdefault(row["params"], {}).setdefault(row["dataset"], []).append(
            row["accuracy"])
    print(f"\nheld-out accuracy on 30% of TRAIN ({args.repeats} cut(s)), "
          f"{time.perf_counter() - started:.0f} s")
    print("| candidate | " + " | ".join(names) + " | mean |")
    print("| --- " * (len(names) + 2) + "|")
    for params, by_dataset in table.items():
        means = [float(np.mean(by_dataset.get(n, [np.nan]))) for n in names]
        print(f"| {params} | " + " | ".join(f"{m:.3f}" for m in means)
              + f" | {np.nanmean(means):.3f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
