"""Training and prediction throughput of V2S: the straightforward path beside the optimized one.

Both paths train the same ``theta`` on the same batches of a real dataset in
one process, alternating in rounds so that whatever else the machine does
hits both alike; the ratio is the measured speed-up.

- baseline: every reprogrammed waveform is built and the frozen model runs on
  it exactly as defined (torchaudio mel front end, 2-D convolutions).
- optimized: what ``V2SClassifier`` runs on that device. Frozen layers are
  folded (``v2s_sklearn.acoustic.optimize``); on the CPU the front end is
  evaluated in the STFT domain (``v2s_sklearn.spectral``: theta's spectrum
  once per step, the series' spectra only at the frames they reach, computed
  once and cached as a fit does); on a GPU each step's forward and backward
  replay a CUDA graph (``v2s_sklearn.train_step``). Same logits up to float
  rounding. The one-off cost of the cache is reported apart
  (``spectra_cache_seconds``).

``--extra-paths`` measures the combinations beside them (STFT domain or not,
graphed or eager), to show which part pays on which device.

    python benchmarks/throughput.py                 # table on this machine
    python benchmarks/throughput.py --json          # one JSON object
    python benchmarks/throughput.py --fit-time --data-dir ../shared/data/ucr

``--fit-time`` also fits ``V2SClassifier()`` with default settings and
sktime's MiniRocket on GunPoint and Strawberry (official TRAIN split) and
prints both fit times side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch

from v2s_sklearn.acoustic.registry import load_acoustic_model
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.label_mapping import mapping_matrix, random_label_map, target_log_proba
from v2s_sklearn.reprogram import Reprogrammer
from v2s_sklearn.spectral import ReprogrammedModel
from v2s_sklearn.train_step import TrainStep, graphs_supported


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak_flops(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    """Measured dense float32 matrix-product rate of this device, FLOP/s."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(2):
        a @ b
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best


def model_flops_per_series(model, input_length: int) -> float:
    """Forward FLOPs of the frozen model's dense work per series (mel, conv, LSTM, head).

    Counted analytically from the V2Sa shapes; the FFT is left out, so the
    count is the same for both paths and measures useful work.
    """
    net = model.module
    frontend = net.frontend
    frames = frontend.n_frames(input_length)
    freq = frontend.n_fft // 2 + 1
    mels = frontend.mel.mel_scale.fb.shape[1]
    flops = 2 * frames * freq * mels                     # mel filter bank
    conv_weights = sum(m.weight.numel() for m in net.conv if isinstance(m, torch.nn.Conv2d))
    flops += 2 * frames * mels * conv_weights             # the k x 1 convolutions
    hidden = net.rnn.hidden_size
    inputs = mels
    for _ in range(net.rnn.num_layers):
        flops += 2 * 2 * frames * 4 * hidden * (inputs + hidden)  # two directions
        inputs = 2 * hidden
    width = 2 * hidden
    flops += 2 * width * width + 2 * 2 * frames * width  # query, scores, context
    flops += 2 * (width * 64 + 64 * 32 + 32 * len(net.class_names))
    return float(flops)


#: What each measured path runs: the STFT-domain front end, the folded frozen
#: layers, and steps replayed from CUDA graphs (CUDA only). "auto" is the
#: estimator's choice.
PATHS = {
    "baseline": {"spectral": False, "optimize": False, "graphed": False},
    "optimized": {"spectral": "auto", "optimize": True, "graphed": "auto"},
    "plain-eager": {"spectral": False, "optimize": True, "graphed": False},
    "plain-graphed": {"spectral": False, "optimize": True, "graphed": True},
    "spectral-eager": {"spectral": True, "optimize": True, "graphed": False},
    "spectral-graphed": {"spectral": True, "optimize": True, "graphed": True},
}


def build(path: str, device: torch.device, series_length: int, n_segments: int,
          n_classes: int, seed: int = 0):
    """A reprogrammed model, its label matrix, optimizer and graphing choice for ``path``."""
    spec = PATHS[path]
    model = load_acoustic_model(device=device, optimize=spec["optimize"])
    reprogrammer = Reprogrammer(model.input_length, series_length, 1, n_segments,
                                False, 0.0).to(device)
    network = ReprogrammedModel(model, reprogrammer, spectral=spec["spectral"])
    label_map = random_label_map(model.n_classes, n_classes, model.n_classes // n_classes,
                                 np.random.default_rng(seed))
    matrix = mapping_matrix(label_map, model.n_classes).to(device)
    optimizer = torch.optim.Adam([reprogrammer.theta], lr=0.05,
                                 fused=device.type == "cuda")
    graphed = spec["graphed"] in ("auto", True) and graphs_supported(device)
    return network, matrix, optimizer, graphed


def time_steps(step, steps: int, device: torch.device) -> float:
    """Seconds per call of ``step``."""
    synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return (time.perf_counter() - started) / steps


def time_training(network, matrix, optimizer, graphed, X, y, batch_size, steps,
                  spectra=None) -> float:
    """Seconds per training step (forward, backward, optimizer step), as a fit runs it.

    ``spectra``: the series spectra cached for ``X``, when the path caches them.
    """
    network.reprogrammer.train()
    device = X.device
    starts = np.arange(steps) * batch_size % max(len(X) - batch_size + 1, 1)
    batches = [torch.arange(s, s + batch_size, device=device) for s in starts]

    def compute(rows: torch.Tensor):
        cached = None if spectra is None else spectra[rows]
        loss = torch.nn.functional.nll_loss(
            target_log_proba(network(X[rows], None, cached), matrix), y[rows])
        return loss, (loss.detach(),)

    train_step = TrainStep(compute, [network.reprogrammer.theta], graphed)

    def step(rows: torch.Tensor) -> None:
        train_step(rows)
        optimizer.step()

    step(batches[0])  # warm-up (and the graph's capture)
    pending = iter(batches)
    return time_steps(lambda: step(next(pending)), steps, device)


def time_prediction(network, matrix, X, batch_size) -> float:
    """Seconds to score all of ``X`` under ``inference_mode``."""
    network.reprogrammer.eval()
    with torch.inference_mode():
        target_log_proba(network(X[:batch_size]), matrix)
        synchronize(X.device)
        started = time.perf_counter()
        for i in range(0, len(X), batch_size):
            target_log_proba(network(X[i : i + batch_size]), matrix)
        synchronize(X.device)
    return time.perf_counter() - started


def recurrent_step(model, device: torch.device, batch_size: int, input_length: int):
    """A step through the model's frozen recurrent layers alone; None without any.

    Each ``nn.RNNBase`` runs forward and backward to its input, on a random
    input of the shape it sees in the model (captured by a hook). Every path
    pays this, so ``baseline step / this step`` bounds what any optimized path
    can reach.
    """
    rnns = [m for m in model.modules() if isinstance(m, torch.nn.RNNBase)]
    if not rnns:
        return None
    shapes = {}

    def record(module, inputs, _) -> None:  # returns None: the output is left alone
        shapes[module] = inputs[0].shape

    hooks = [m.register_forward_hook(record) for m in rnns]
    with torch.no_grad():
        model(torch.zeros(batch_size, input_length, device=device))
    for hook in hooks:
        hook.remove()
    inputs = [torch.randn(shapes[m], device=device, requires_grad=True) for m in rnns]

    def step() -> None:
        for rnn, x in zip(rnns, inputs):
            rnn(x)[0].sum().backward()

    step()  # warm-up
    return step


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    # ru_maxrss is in KiB on Linux: the whole process, Python and torch included.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args: argparse.Namespace) -> dict:
    device = torch.device(args.device if args.device != "auto" else
                          ("cuda" if torch.cuda.is_available() else "cpu"))
    X_np, y_np = load_dataset(args.dataset, "train", args.data_dir)
    classes, y_np = np.unique(y_np, return_inverse=True)
    reps = max(1, -(-args.n_series // len(X_np)))  # enough series for the larger batches
    X = torch.as_tensor(np.tile(X_np, (reps, 1))[:, None], dtype=torch.float32, device=device)
    y = torch.as_tensor(np.tile(y_np, reps), device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    paths = ["baseline", "optimized"] + [p for p in args.extra_paths.split(",") if p]
    built = {p: build(p, device, X.shape[-1], args.n_segments, len(classes)) for p in paths}
    synchronize(device)
    spectra, cache_seconds = {}, {}
    for p in paths:
        started = time.perf_counter()
        spectra[p] = built[p][0].cache_series_spectra(X)
        synchronize(device)
        cache_seconds[p] = time.perf_counter() - started
    step_seconds = {p: [] for p in paths}
    # CPU only: on a GPU the LSTMs are not what bounds a step.
    rnn_step = (recurrent_step(built["optimized"][0].model, device, args.batch_size, 16000)
                if device.type == "cpu" else None)
    rnn_seconds = []
    for _ in range(args.rounds):
        for p in paths:
            step_seconds[p].append(time_training(*built[p], X, y, args.batch_size,
                                                 args.steps, spectra[p]))
        if rnn_step is not None:  # timed in the same rounds, beside the paths
            rnn_seconds.append(time_steps(rnn_step, args.steps, device))
    predict_seconds = {p: min(time_prediction(built[p][0], built[p][1], X,
                                              args.predict_batch_size)
                              for _ in range(args.rounds)) for p in paths}
    train_rate = {p: args.batch_size / statistics.median(step_seconds[p]) for p in paths}
    rnn_seconds = statistics.median(rnn_seconds) if rnn_seconds else None
    peak = matmul_peak_flops(device)
    flops = model_flops_per_series(built["optimized"][0].model, 16000)
    # Training runs the network forward and backpropagates to its input only
    # (frozen weights): about twice the forward work.
    achieved = 2 * flops * train_rate["optimized"]
    return {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dataset": args.dataset,
        "series_length": int(X.shape[-1]),
        "n_segments": args.n_segments,
        "batch_size": args.batch_size,
        "train_samples_per_s": train_rate["optimized"],
        "train_samples_per_s_baseline": train_rate["baseline"],
        "train_speedup": train_rate["optimized"] / train_rate["baseline"],
        # The frozen LSTMs alone, forward and backward: every path pays them.
        "recurrent_seconds_per_step": rnn_seconds,
        "train_speedup_ceiling": (None if rnn_seconds is None else
                                  args.batch_size / train_rate["baseline"] / rnn_seconds),
        "graphed": built["optimized"][3],
        "spectra_cached": spectra["optimized"] is not None,
        "spectra_cache_seconds": cache_seconds["optimized"],
        "predict_samples_per_s": len(X) / predict_seconds["optimized"],
        "predict_samples_per_s_baseline": len(X) / predict_seconds["baseline"],
        "predict_speedup": predict_seconds["baseline"] / predict_seconds["optimized"],
        "peak_memory_mb": peak_memory_mb(device),
        "matmul_peak_gflops": peak / 1e9,
        "achieved_gflops": achieved / 1e9,
        "flop_fraction": achieved / peak,
        "paths": {p: {"train_samples_per_s": train_rate[p],
                      "predict_samples_per_s": len(X) / predict_seconds[p],
                      "graphed": built[p][3], "spectral": built[p][0].spectral is not None}
                  for p in paths},
    }


def fit_times(args: argparse.Namespace) -> list[dict]:
    """Fit V2SClassifier (defaults) and MiniRocket on each dataset in one process."""
    from v2s_sklearn import V2SClassifier
    from v2s_sklearn.benchmarking import MiniRocketRidge

    def minirocket():  # the recipe `v2s benchmark` times (docs/benchmarks.md)
        return MiniRocketRidge(random_state=0)

    # Warm-up: MiniRocket's numba kernels compile on first use; neither method
    # should be charged a one-off cost.
    Xw, yw = load_dataset("ItalyPowerDemand", "train")
    minirocket().fit(Xw, yw)
    V2SClassifier(max_epochs=1, device=args.device).fit(Xw, yw)

    rows = []
    for name in args.fit_datasets.split(","):
        X, y = load_dataset(name, "train", args.data_dir)
        row = {"dataset": name, "n_train": len(X), "length": X.shape[-1]}
        started = time.perf_counter()
        minirocket().fit(X, y)
        row["minirocket_fit_s"] = time.perf_counter() - started
        clf = V2SClassifier(random_state=0, device=args.device)
        started = time.perf_counter()
        clf.fit(X, y)
        row["v2s_fit_s"] = time.perf_counter() - started
        row["v2s_epochs"] = len(clf.history_)
        row["ratio"] = row["v2s_fit_s"] / row["minirocket_fit_s"]
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--n-segments", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="training batch (default %(default)s, the estimator's)")
    parser.add_argument("--predict-batch-size", type=int, default=256)
    parser.add_argument("--n-series", type=int, default=256,
                        help="series to score (the training set, tiled)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--extra-paths", default="",
                        help="more paths to measure beside baseline and optimized, "
                             f"comma-separated, of: {', '.join(list(PATHS)[2:])}")
    parser.add_argument("--fit-time", action="store_true",
                        help="also time V2SClassifier() against MiniRocket fits")
    parser.add_argument("--fit-datasets", default="GunPoint,Strawberry")
    args = parser.parse_args(argv)

    result = measure(args)
    if args.fit_time:
        result["fit_times"] = fit_times(args)
    if args.json:
        json.dump(result, sys.stdout)
        print()
        return
    print(f"device {result['device']}  torch {result['torch']}  threads {result['threads']}  "
          f"{result['dataset']} (length {result['series_length']}), batch {args.batch_size}")
    print("| path | train samples/s | predict samples/s |")
    print("| --- | --- | --- |")
    for name, rates in result["paths"].items():
        print(f"| {name} | {rates['train_samples_per_s']:.0f} | "
              f"{rates['predict_samples_per_s']:.0f} |")
    print(f"| speed-up | {result['train_speedup']:.2f}x | {result['predict_speedup']:.2f}x |")
    print(f"peak memory {result['peak_memory_mb']:.0f} MB; achieved "
          f"{result['achieved_gflops']:.1f} GFLOP/s of a measured matmul peak of "
          f"{result['matmul_peak_gflops']:.0f} ({100 * result['flop_fraction']:.1f}%)")
    for row in result.get("fit_times", []):
        print(f"{row['dataset']}: V2SClassifier() fit {row['v2s_fit_s']:.1f} s "
              f"({row['v2s_epochs']} epochs), MiniRocket fit {row['minirocket_fit_s']:.2f} s, "
              f"ratio {row['ratio']:.1f}x")


if __name__ == "__main__":
    main()
