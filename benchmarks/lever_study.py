"""Issue 27, first lever screen: what closes V2S's gap to MiniRocket, on TRAIN cuts only.

Every dataset's official TRAIN split is cut into a fitting part and a held-out
part (stratified 70/30, ``random_state=cut``: the convention of
``benchmarks/select_defaults.py``). Each variant is fitted on the 70% (which
it splits again, stratified 80/20, into training rows and a validation part
that picks the epoch) and scored on the 30%. The TEST split is never read.

All variants share one compact training loop and keep the source model
(``tcresnet8-w1-synth`` by default) frozen; only what a flag adds is trained
beside the universal signal ``theta``:

``base``
    V2S as the estimator fits it: ``Pad(x)`` (``n_segments="auto"``: as many
    copies as fit, at most 10) ``+ theta``, the frozen model's 35 word
    probabilities averaged by a many-to-one label map. The map is the
    estimator's default, the optimal-transport assignment of
    ``floor(35 / C)`` source words per class favoured at ``theta = 0`` on the
    training rows, solved here by ``scipy.optimize.linear_sum_assignment``
    (the same optimum as ``ot.emd``; POT is not needed).
``prog`` (lever 1, input-conditioned program)
    A tiny 1-D conv net reads the (per-series standardised) series and emits
    ``K = 8`` coefficients that weight ``K`` learned basis waveforms of 16,000
    samples, added beside ``theta`` (Hung et al. 2023; Cai et al. 2024).
``fullmap`` (lever 2, AutoVP-style full map)
    A learned linear map of the 35 source logits to the classes, added to the
    many-to-one log-probabilities (zero-initialised, so training starts at V2S).
``feat`` (lever 2, intermediate-feature head)
    A linear head on the frozen model's pooled intermediate activations
    (log-mel input, stem and each residual block; mean and max over frames;
    standardised with statistics taken at ``theta = 0``), also added to the
    many-to-one log-probabilities and zero-initialised; trained jointly with
    ``theta``.
``rsN`` (lever 3, long series)
    Series longer than N points are resampled to N (area interpolation)
    before anything else, so their content rises into the band the front end
    resolves and more copies fit.
``z``
    Each time point standardised over the training rows (what
    ``input_scaling="standard"`` does); ``raw`` leaves the values as they are.
    The report also scores ``auto``: per dataset, the scaling of lower
    validation loss, as ``input_scaling="auto"`` chooses.

Training: Adam, batch 32, learning rate 0.05 for ``theta`` and the basis
waveforms, 0.01 (weight decay 1e-4) for every head and the program net;
learning rate halved after 5 epochs without a better validation loss, at most
``--max-epochs`` epochs, stopped after ``--patience`` epochs without one, and
the epoch of lowest validation loss kept. Seeds: the cut ``c`` seeds the 70/30
cut and the 80/20 validation split; torch is seeded with ``c`` for every
variant, so variants differ only by what they add.

Commands of the first screen (issue 27; results in ``benchmarks/results/``)::

    # GPU (one H200 run, 15 workers sharing the device). DATA holds copies of the 36
    # TRAIN files (NAME/NAME_TRAIN.tsv from ../shared/data/ucr and ucr-more, nothing
    # else); the run stopped starting fits at 85% of its 400 s budget: cut 0 complete,
    # cut 1 for 5 datasets -> lever_study_gpu.csv
    PYTHONPATH=. OMP_NUM_THREADS=1 python lever_study.py --data-dir DATA --device cuda \
        --n-jobs 15 --cuts 3 --max-epochs 80 --patience 15 --budget-s 400 \
        --output lever_study_gpu.csv
    # CPU (2 cores), cut 1 of the other 31 datasets, the single levers only; this
    # command's budget stopped it after 11 sets, so the remaining 20 were fitted by the
    # same command with their names and the variants base_*, base+rs128_*, feat_*
    # (FacesUCR: feat_* only); the rows are merged -> lever_study_cpu_cut1.csv
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/lever_study.py --datasets <31 names> \
        --first-cut 1 --cuts 1 --n-jobs 2 --budget-s 3000 \
        --variants base_raw,base_z,base+rs128_raw,base+rs128_z,feat_raw,feat_z,fullmap_raw,fullmap_z \
        --output lever_study_cpu_cut1.csv
    # CPU, cut 2 of the 9 sets longer than 300 points, base and base+rs128 only
    # -> lever_study_cpu_cut2_long.csv
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/lever_study.py --first-cut 2 --cuts 1 \
        --datasets Beef,BirdChicken,Computers,Earthquakes,InsectEPGRegularTrain,Lightning2,OSULeaf,OliveOil,Rock \
        --variants base_raw,base_z,base+rs128_raw,base+rs128_z --n-jobs 2 --budget-s 1200 \
        --output lever_study_cpu_cut2_long.csv
    # CPU, cut 2 of the 7 sets of 10+ classes, base and feat only
    # -> lever_study_cpu_cut2_many.csv
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/lever_study.py --first-cut 2 --cuts 1 \
        --datasets CricketX,CricketY,CricketZ,FacesUCR,MedicalImages,SwedishLeaf,WordSynonyms \
        --variants base_raw,base_z,feat_raw,feat_z --n-jobs 2 --budget-s 1500 \
        --output lever_study_cpu_cut2_many.csv
    # MiniRocket on the same cuts (CPU, sktime + numba) -> lever_study_minirocket.csv
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/lever_study.py --method minirocket \
        --cuts 3 --output lever_study_minirocket.csv
    # the tables of docs/benchmarks.md
    R=benchmarks/results
    PYTHONPATH=. python benchmarks/lever_study.py --report $R/lever_study_gpu.csv \
        $R/lever_study_minirocket.csv --report-cuts 0
    PYTHONPATH=. python benchmarks/lever_study.py --report $R/lever_study_gpu.csv \
        $R/lever_study_cpu_cut1.csv $R/lever_study_minirocket.csv --report-cuts 1 \
        --levers base,base+rs128,feat,fullmap

The default ``--data-dir`` is ``/work/shared/data/ucr,/work/shared/data/ucr-more``
(folders joined by ``,``: 36 sets); fits on the GPU are not bit-for-bit
repeatable (cuDNN picks its kernels), so a rerun moves single datasets by a
held-out series or two.
``--variants`` takes a comma-separated subset of :data:`VARIANTS`.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

#: name -> flags. Scaling is part of the name (``_raw`` / ``_z``).
VARIANTS: dict[str, dict] = {}
for _scale in ("raw", "z"):
    for _name, _flags in {
        "base": {},
        "prog": {"prog": True},
        "fullmap": {"fullmap": True},
        "feat": {"feat": True},
        "prog+feat": {"prog": True, "feat": True},
        "fullmap+feat": {"fullmap": True, "feat": True},
        "prog+fullmap+feat": {"prog": True, "fullmap": True, "feat": True},
        "base+rs128": {"resample": 128},
        "fullmap+feat+rs128": {"fullmap": True, "feat": True, "resample": 128},
    }.items():
        VARIANTS[f"{_name}_{_scale}"] = {**_flags, "scale": _scale}

CSV_FIELDS = ["dataset", "cut", "variant", "accuracy", "val_loss", "val_accuracy",
              "fit_seconds", "epochs", "best_epoch", "n_fit", "n_classes", "length",
              "n_segments", "status"]


# ----------------------------------------------------------------------------- data
def read_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCR .tsv (label first); NaN (unequal length) filled by carrying the last value."""
    table = np.loadtxt(path, delimiter="\t", dtype=str, ndmin=2)
    y = table[:, 0]
    try:
        y = np.array([str(int(float(v))) for v in y])
    except ValueError:
        pass
    X = table[:, 1:].astype(np.float64)
    if np.isnan(X).any():
        for row in X:
            good = np.flatnonzero(~np.isnan(row))
            row[good[-1] + 1:] = row[good[-1]]
            row[np.isnan(row)] = 0.0
    return X, y


def find_train_file(data_dirs: list[str], name: str) -> Path:
    for folder in data_dirs:
        path = Path(folder) / name / f"{name}_TRAIN.tsv"
        if path.exists():
            return path
    raise FileNotFoundError(f"{name}_TRAIN.tsv in none of {data_dirs}")


def list_datasets(data_dirs: list[str]) -> list[str]:
    names = set()
    for folder in data_dirs:
        names |= {p.name for p in Path(folder).iterdir()
                  if (p / f"{p.name}_TRAIN.tsv").exists()}
    return sorted(names)


def cut_of(X: np.ndarray, y: np.ndarray, cut: int):
    """The 70/30 cut of TRAIN (select_defaults.py's convention)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=cut)


def validation_split(y: np.ndarray, cut: int, fraction: float = 0.2):
    """Indices of training rows and validation rows inside the fitting part."""
    from sklearn.model_selection import train_test_split

    n, classes = len(y), np.unique(y)
    n_val = max(len(classes), round(fraction * n))
    counts = np.unique(y, return_counts=True)[1]
    stratify = y if counts.min() >= 2 and n - n_val >= len(classes) else None
    index = np.arange(n)
    train, val = train_test_split(index, test_size=n_val, stratify=stratify,
                                  random_state=cut)
    return np.sort(train), np.sort(val)


def resample(X: np.ndarray, length: int) -> np.ndarray:
    """Series longer than ``length`` shrunk to ``length`` points (area interpolation)."""
    import torch

    if X.shape[1] <= length:
        return X
    t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))[:, None]
    return torch.nn.functional.interpolate(t, size=length, mode="area")[:, 0].numpy()


# ----------------------------------------------------------------------------- model
def ot_label_map(source_proba: np.ndarray, y: np.ndarray, n_classes: int,
                 per_class: int) -> np.ndarray:
    """(C, K) many-to-one averaging matrix of largest total affinity (exact assignment)."""
    from scipy.optimize import linear_sum_assignment

    affinity = np.stack([source_proba[y == c].mean(0) for c in range(n_classes)])
    slots = np.repeat(affinity, per_class, axis=0)  # (C * per_class, K)
    rows, cols = linear_sum_assignment(-slots)
    matrix = np.zeros_like(affinity, dtype=np.float32)
    matrix[rows // per_class, cols] = 1.0 / per_class
    return matrix


def build_model(flags: dict, length: int, n_classes: int, device, source_name: str):
    import torch
    from torch import nn

    from v2s_sklearn.acoustic.registry import load_acoustic_model
    from v2s_sklearn.reprogram import Reprogrammer

    frozen = load_acoustic_model(source_name, device=device)
    module = frozen.module
    input_length = frozen.input_length
    n_segments = max(1, min(10, input_length // length))

    class Study(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rep = Reprogrammer(input_length, length, 1, n_segments, False, 0.0)
            self.frontend = module.frontend
            self.body = module.body_folded
            self.head = module.head
            self.register_buffer("matrix", torch.zeros(n_classes, frozen.n_classes))
            self.prog = self.fullmap = self.feat = None
            if flags.get("prog"):
                k = 8
                self.prog = nn.Sequential(
                    nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(),
                    nn.Conv1d(16, 16, 5, stride=2, padding=2), nn.ReLU(),
                    nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, k))
                nn.init.zeros_(self.prog[-1].weight)
                nn.init.zeros_(self.prog[-1].bias)
                self.basis = nn.Parameter(0.01 * torch.randn(k, input_length))
            if flags.get("fullmap"):
                self.fullmap = nn.Linear(frozen.n_classes, n_classes)
                nn.init.zeros_(self.fullmap.weight)
                nn.init.zeros_(self.fullmap.bias)
            if flags.get("feat"):
                n_mels = module.frontend.mel.n_mels
                widths = [n_mels] + [m.body[-1].out_channels if hasattr(m, "body")
                                     else m.out_channels for m in self.body]
                dim = 2 * sum(widths)
                self.register_buffer("feat_mean", torch.zeros(dim))
                self.register_buffer("feat_std", torch.ones(dim))
                self.feat_drop = nn.Dropout(0.2)
                self.feat = nn.Linear(dim, n_classes)
                nn.init.zeros_(self.feat.weight)
                nn.init.zeros_(self.feat.bias)

        def waveform(self, x: torch.Tensor) -> torch.Tensor:
            wave = self.rep(x[:, None, :])
            if self.prog is not None:
                xs = (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-6)
                wave = wave + self.prog(xs[:, None, :]) @ self.basis
            return wave

        def trunk(self, x: torch.Tensor):
            h = self.frontend(self.waveform(x)).transpose(1, 2)  # (B, mels, frames)
            layers = [h]
            for block in self.body:
                h = block(h)
                layers.append(h)
            return self.head(h.mean(2)), layers

        @staticmethod
        def pooled(layers) -> torch.Tensor:
            return torch.cat([t for h in layers for t in (h.mean(2), h.amax(2))], dim=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            logits, layers = self.trunk(x)
            proba = torch.softmax(logits, 1) @ self.matrix.T
            proba = proba.clamp_min(1e-30)
            out = torch.log(proba) - torch.log(proba.sum(1, keepdim=True))
            if self.fullmap is not None:
                out = out + self.fullmap(logits)
            if self.feat is not None:
                z = (self.pooled(layers) - self.feat_mean) / self.feat_std
                out = out + self.feat(self.feat_drop(z))
            return out

    model = Study().to(device)
    # The source model stays frozen (its wrapper already took the gradients
    # off); heads and theta train. Dropout of the source head never fires:
    # head is a plain Linear, called in eval mode.
    return model, n_segments


def batched(fn, X, batch: int = 512):
    import torch

    with torch.no_grad():
        return [fn(X[i:i + batch]) for i in range(0, len(X), batch)]


def fit_and_score(flags: dict, X_fit, y_fit, X_hold, y_hold, cut: int, device: str,
                  max_epochs: int, patience: int, source_name: str,
                  hard_deadline: float) -> dict:
    import torch
    import torch.nn.functional as F

    started = time.perf_counter()
    classes = np.unique(y_fit)
    y_fit = np.searchsorted(classes, y_fit)
    y_hold_i = np.searchsorted(classes, y_hold)
    n_classes = len(classes)
    if flags.get("resample"):
        X_fit, X_hold = resample(X_fit, flags["resample"]), resample(X_hold, flags["resample"])
    train, val = validation_split(y_fit, cut)
    X_fit = np.asarray(X_fit, np.float32)
    X_hold = np.asarray(X_hold, np.float32)
    if flags["scale"] == "z":
        mean = X_fit[train].mean(0)
        std = X_fit[train].std(0)
        std[std == 0] = 1.0
        X_fit, X_hold = (X_fit - mean) / std, (X_hold - mean) / std
    torch.manual_seed(cut)
    model, n_segments = build_model(flags, X_fit.shape[1], n_classes, device, source_name)
    Xt = torch.as_tensor(X_fit, device=device)
    yt = torch.as_tensor(y_fit, device=device)
    Xh = torch.as_tensor(X_hold, device=device)
    tr, va = torch.as_tensor(train, device=device), torch.as_tensor(val, device=device)

    # Label map (and feature statistics) from the frozen model at theta = 0.
    model.eval()
    with torch.no_grad():
        outs = [model.trunk(Xt[tr[i:i + 512]]) for i in range(0, len(tr), 512)]
        logits = torch.cat([o[0] for o in outs])
        proba = torch.softmax(logits, 1).double().cpu().numpy()
        per_class = logits.shape[1] // n_classes
        model.matrix.copy_(torch.as_tensor(ot_label_map(proba, y_fit[train], n_classes,
                                                        per_class)))
        if model.feat is not None:
            z = torch.cat([model.pooled(o[1]) for o in outs])
            model.feat_mean.copy_(z.mean(0))
            model.feat_std.copy_(z.std(0, unbiased=False).clamp_min(1e-3)
                                 if len(z) > 1 else torch.ones_like(z[0]))
        del outs

    groups = [{"params": [model.rep.theta], "lr": 0.05, "weight_decay": 0.0}]
    if model.prog is not None:
        groups.append({"params": [model.basis], "lr": 0.05, "weight_decay": 0.0})
        groups.append({"params": list(model.prog.parameters()), "lr": 0.01,
                       "weight_decay": 1e-4})
    for head in (model.fullmap, model.feat):
        if head is not None:
            groups.append({"params": list(head.parameters()), "lr": 0.01,
                           "weight_decay": 1e-4})
    optimizer = torch.optim.Adam(groups)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=5)
    trainable = [p for g in groups for p in g["params"]]
    best = (math.inf, -1, [p.detach().clone() for p in trainable], 0.0)
    generator = torch.Generator(device="cpu").manual_seed(cut)
    status, epoch = "ok", -1
    for epoch in range(max_epochs):
        if time.time() > hard_deadline:
            status = "truncated"
            break
        model.train()
        order = tr[torch.randperm(len(tr), generator=generator).to(device)]
        for i in range(0, len(order), 32):
            rows = order[i:i + 32]
            loss = F.cross_entropy(model(Xt[rows]), yt[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            out = model(Xt[va])
            val_loss = float(F.cross_entropy(out, yt[va]))
            val_acc = float((out.argmax(1) == yt[va]).float().mean())
        if not math.isfinite(val_loss):
            status = "nonfinite"
            break
        schedule.step(val_loss)
        if val_loss < best[0]:
            best = (val_loss, epoch, [p.detach().clone() for p in trainable], val_acc)
        elif epoch - best[1] >= patience:
            break
    with torch.no_grad():
        for p, kept in zip(trainable, best[2]):
            p.copy_(kept)
    model.eval()
    pred = torch.cat(batched(model, Xh)).argmax(1).cpu().numpy()
    return {"accuracy": float(np.mean(pred == y_hold_i)), "val_loss": best[0],
            "val_accuracy": best[3], "fit_seconds": time.perf_counter() - started,
            "epochs": epoch + 1, "best_epoch": best[1] + 1, "n_fit": len(y_fit),
            "n_classes": n_classes, "length": X_fit.shape[1], "n_segments": n_segments,
            "status": status}


# ----------------------------------------------------------------------------- jobs
_WORKER: dict = {}


def _init_worker(device: str) -> None:
    import torch

    torch.set_num_threads(1)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    _WORKER["device"] = device


def run_job(job: tuple) -> dict:
    name, path, cut, variant, args = job
    row = {"dataset": name, "cut": cut, "variant": variant}
    if time.time() > args["soft_deadline"]:
        return {**row, "status": "skipped"}
    try:
        X, y = read_tsv(Path(path))
        X_fit, X_hold, y_fit, y_hold = cut_of(X, y, cut)
        row.update(fit_and_score(VARIANTS[variant], X_fit, y_fit, X_hold, y_hold, cut,
                                 _WORKER.get("device", "cpu"), args["max_epochs"],
                                 args["patience"], args["source"], args["hard_deadline"]))
    except Exception as error:  # noqa: BLE001 - one failed fit must not end the study
        row["status"] = f"error: {type(error).__name__}: {str(error)[:120]}"
    return row


def run_minirocket(name: str, path: str, cut: int) -> dict:
    from v2s_sklearn.benchmarking import MiniRocketRidge

    X, y = read_tsv(Path(path))
    X_fit, X_hold, y_fit, y_hold = cut_of(X, y, cut)
    started = time.perf_counter()
    clf = MiniRocketRidge(random_state=cut).fit(X_fit, y_fit)
    accuracy = float(np.mean(clf.predict(X_hold) == y_hold))
    return {"dataset": name, "cut": cut, "variant": "minirocket", "accuracy": accuracy,
            "fit_seconds": time.perf_counter() - started, "n_fit": len(y_fit),
            "n_classes": len(np.unique(y)), "length": X.shape[1], "status": "ok"}


# ----------------------------------------------------------------------------- report
#: Levers fitted alone (no combination): what ``select`` chooses among.
SINGLE_LEVERS = ("base", "prog", "fullmap", "feat", "base+rs128")


def report(paths: list[str], baseline: str = "base_auto", levers: list[str] | None = None,
           cuts: list[int] | None = None) -> None:
    """Markdown tables: per variant mean accuracy, W/L/T against baseline and MiniRocket.

    Besides the fitted variants, three are derived from the same fits, all by
    TRAIN-only information: ``LEVER_auto`` (per dataset and cut, the scaling of
    lower validation loss), ``select`` (the single-lever fit of lowest
    validation loss) and ``rule`` (``feat_auto`` for 10 classes or more, else
    ``base+rs128_auto``; a rule read off cut 0, so only other cuts test it).
    """
    import pandas as pd

    rows = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    rows = rows[rows["status"] == "ok"]  # truncated fits (budget) are left out
    if cuts is not None:
        rows = rows[rows["cut"].isin(cuts)]
    rows = rows.drop_duplicates(["dataset", "cut", "variant"])
    mr = rows[rows["variant"] == "minirocket"].set_index(["dataset", "cut"])["accuracy"]
    v2s = rows[rows["variant"] != "minirocket"].copy()
    v2s["lever"] = v2s["variant"].str.rsplit("_", n=1).str[0]
    if levers is not None:
        v2s = v2s[v2s["lever"].isin(levers)]
    meta = (v2s.sort_values("variant").groupby("dataset")[["n_classes", "n_fit"]].first()
            .astype(int))
    meta["length"] = (v2s[~v2s["variant"].str.contains("rs")].groupby("dataset")["length"]
                      .first().astype(int))
    # auto: per (dataset, cut, lever), the scaling of lower validation loss
    auto = (v2s.sort_values("val_loss").groupby(["dataset", "cut", "lever"], as_index=False)
            .first())
    auto["variant"] = auto["lever"] + "_auto"
    derived = [auto]
    single = v2s[v2s["lever"].isin(SINGLE_LEVERS)]
    if single["lever"].nunique() > 1:
        select = (single.sort_values("val_loss").groupby(["dataset", "cut"], as_index=False)
                  .first())
        select["variant"] = "select"
        derived.append(select)
    if {"feat", "base+rs128"} <= set(v2s["lever"]):
        many = auto["dataset"].map(meta["n_classes"]) >= 10
        rule = auto[(many & (auto["lever"] == "feat"))
                    | (~many & (auto["lever"] == "base+rs128"))].copy()
        rule["variant"] = "rule"
        derived.append(rule)
    table = pd.concat([v2s, *derived], ignore_index=True)
    acc = table.pivot_table(index=["dataset", "cut"], columns="variant", values="accuracy")
    seconds = table.groupby("variant")["fit_seconds"].sum()
    complete = acc.dropna()  # (dataset, cut) pairs that every variant finished
    complete = complete[[(d, c) in mr.index for d, c in complete.index]]
    per_set = complete.groupby(level="dataset").size()
    print(f"{len(per_set)} datasets, {len(complete)} (dataset, cut) pairs with every variant "
          f"and MiniRocket (datasets by number of cuts: "
          f"{ {int(k): int(v) for k, v in per_set.value_counts().items()} }); accuracy is "
          "the mean over a dataset's cuts, W/L/T counts datasets\n")
    mr_d = mr.reindex(complete.index).groupby(level="dataset").mean()
    by_set = complete.groupby(level="dataset").mean()
    print(f"| variant | mean acc ({len(by_set)} sets) | W/L/T vs {baseline} | "
          "W/L/T vs MiniRocket | fit s (sum) |")
    print("| --- | --- | --- | --- | --- |")

    def wlt(a, b):
        d = (a - b).dropna()
        return f"{(d > 1e-9).sum()}/{(d < -1e-9).sum()}/{(d.abs() <= 1e-9).sum()}"

    order = by_set.mean().sort_values(ascending=False).index
    for v in order:
        if v.endswith("_auto"):
            lever = v[:-5]
            s_text = f"{seconds.get(lever + '_raw', 0) + seconds.get(lever + '_z', 0):.0f}"
        elif v in ("select", "rule"):
            s_text = "-"
        else:
            s_text = f"{seconds.get(v, float('nan')):.0f}"
        print(f"| {v} | {by_set[v].mean():.3f} | {wlt(by_set[v], by_set[baseline])} | "
              f"{wlt(by_set[v], mr_d)} | {s_text} |")
    print(f"| MiniRocket | {mr_d.mean():.3f} | {wlt(mr_d, by_set[baseline])} | - | "
          f"{rows.loc[rows['variant'] == 'minirocket', 'fit_seconds'].sum():.0f} |")
    print("\n(fit s: summed over every finished fit of the variant, on its own hardware; "
          "an `_auto` row sums its `_raw` and `_z` fits; `select` and `rule` need the "
          "fits they choose among.)\n")

    groups = {"10+ classes": meta.index[meta["n_classes"] >= 10],
              "longer than 300": meta.index[(meta["length"] > 300) & (meta["n_classes"] < 10)]}
    groups["the rest"] = meta.index.difference(groups["10+ classes"].union(
        groups["longer than 300"]))
    groups = {k: [n for n in v if n in by_set.index] for k, v in groups.items()}
    print("| variant | " + " | ".join(f"{k} ({len(v)})" for k, v in groups.items())
          + " | all |")
    print("| --- " * (len(groups) + 2) + "|")
    for v in [v for v in order if v.endswith("_auto") or v in ("select", "rule")]:
        print(f"| {v} | " + " | ".join(f"{by_set.loc[n, v].mean():.3f}"
                                       for n in groups.values())
              + f" | {by_set[v].mean():.3f} |")
    print("| MiniRocket | " + " | ".join(f"{mr_d[n].mean():.3f}" for n in groups.values())
          + f" | {mr_d.mean():.3f} |\n")

    shown = [baseline] + [v for v in ("base+rs128_auto", "feat_auto", "rule")
                          if v in by_set.columns and v != baseline]
    print("| dataset | classes | length | fit part | " + " | ".join(shown)
          + " | best `_auto` variant on this set (chosen on the held-out part: a ceiling, "
          "not a method) | MiniRocket |")
    print("| --- " * (len(shown) + 6) + "|")
    for name, r in by_set.iterrows():
        top = r[[v for v in r.index if v.endswith("_auto")]]
        ties = [v[:-5] for v in top.index if top[v] >= top.max() - 1e-9]
        print(f"| {name} | {meta.loc[name, 'n_classes']} | {meta.loc[name, 'length']} | "
              f"{meta.loc[name, 'n_fit']} | " + " | ".join(f"{r[v]:.3f}" for v in shown)
              + f" | {top.max():.3f} "
              f"({', '.join(ties) if len(ties) <= 3 else f'{len(ties)} tie'})"
              f" | {mr_d[name]:.3f} |")


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="/work/shared/data/ucr,/work/shared/data/ucr-more")
    parser.add_argument("--datasets", default=None, help="comma-separated; default: all")
    parser.add_argument("--variants", default=None, help="comma-separated; default: all")
    parser.add_argument("--method", default="v2s", choices=["v2s", "minirocket"])
    parser.add_argument("--cuts", type=int, default=1)
    parser.add_argument("--first-cut", type=int, default=0,
                        help="seed of the first cut (add cuts to an earlier run)")
    parser.add_argument("--max-epochs", type=int, default=80)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--source", default="tcresnet8-w1-synth")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--budget-s", type=float, default=1e9,
                        help="wall-clock budget: no job starts after 85%% of it; running "
                             "fits stop training at 100%% and are scored as they are")
    parser.add_argument("--output", default=None)
    parser.add_argument("--report", nargs="+", default=None, metavar="CSV")
    parser.add_argument("--baseline", default="base_auto")
    parser.add_argument("--levers", default=None,
                        help="with --report: comma-separated levers (variant names "
                             "without _raw/_z) to keep; default: all in the CSVs")
    parser.add_argument("--report-cuts", default=None,
                        help="with --report: comma-separated cuts to keep")
    args = parser.parse_args(argv)
    if args.report:
        report(args.report, args.baseline,
               args.levers.split(",") if args.levers else None,
               [int(c) for c in args.report_cuts.split(",")] if args.report_cuts else None)
        return

    data_dirs = args.data_dir.split(",")
    names = args.datasets.split(",") if args.datasets else list_datasets(data_dirs)
    paths = {n: str(find_train_file(data_dirs, n)) for n in names}
    start = time.time()
    # Closed at the end; every row is flushed as it comes, so a cut-off run keeps them.
    handle = open(args.output, "w", newline="") if args.output else None  # noqa: SIM115
    writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS) if handle else None
    if writer:
        writer.writeheader()

    def emit(row: dict) -> None:
        if writer:
            writer.writerow({k: row.get(k, "") for k in CSV_FIELDS})
            handle.flush()
        acc = row.get("accuracy")
        print(f"{time.time() - start:6.0f}s {row['dataset']:22s} cut {row['cut']} "
              f"{row['variant']:24s} acc={acc if acc is None else round(acc, 3)} "
              f"ep={row.get('epochs', '')}/{row.get('best_epoch', '')} "
              f"t={row.get('fit_seconds', 0):.1f}s {row['status']}", flush=True)

    if args.method == "minirocket":
        for name in names:
            for cut in range(args.first_cut, args.first_cut + args.cuts):
                emit(run_minirocket(name, paths[name], cut))
        return

    variants = args.variants.split(",") if args.variants else list(VARIANTS)
    shared = {"max_epochs": args.max_epochs, "patience": args.patience,
              "source": args.source, "soft_deadline": start + 0.85 * args.budget_s,
              "hard_deadline": start + args.budget_s}
    # Largest first (size ~ series x copies), so the pool ends evenly.
    cost = {n: os.path.getsize(paths[n]) for n in names}
    # Cut-major: every fit of cut 0 is queued before any of cut 1, so a run cut
    # short by its budget still holds whole cuts first.
    jobs = [(n, paths[n], c, v, shared) for c in range(args.first_cut,
                                                       args.first_cut + args.cuts)
            for n in sorted(names, key=lambda n: -cost[n]) for v in variants]
    print(f"{len(jobs)} fits: {len(names)} datasets x {len(variants)} variants x "
          f"{args.cuts} cut(s), {args.n_jobs} worker(s) on {args.device}", flush=True)
    if args.n_jobs == 1:
        _init_worker(args.device)
        for job in jobs:
            emit(run_job(job))
    else:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.n_jobs, _init_worker, (args.device,)) as pool:
            for row in pool.imap_unordered(run_job, jobs):
                emit(row)
    if handle:
        handle.close()
    print(f"done in {time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
