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
    python benchmarks/throughput.py --models v2sa-synth,tcresnet-synth --json

``--models`` measures several source models in one process, their steps
interleaved in the same rounds (so a busy machine slows all of them alike);
the top-level fields are those of the first model, every model's are under
``"models"``, with ``train_speed_vs_first`` (optimized training rate over the
first model's).

``--estimator-predict`` times a fitted ``V2SClassifier``'s ``predict_proba``
beside a plain float32 forward of its model on the same series (ItalyPowerDemand's
TEST split by default):

    python benchmarks/throughput.py --estimator-predict --rounds 5 --json

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

from v2s_sklearn.acoustic.registry import DEFAULT_MODEL, load_acoustic_model
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
    count is the same for both paths and measures useful work. Models without
    an LSTM (TC-ResNet) are counted by ``torch.utils.flop_counter`` on their
    ``classify`` (matrix products and convolutions), plus the mel filter bank.
    """
    net = model.module
    frontend = net.frontend
    frames = frontend.n_frames(input_length)
    freq = frontend.n_fft // 2 + 1
    mels = frontend.mel.mel_scale.fb.shape[1]
    flops = 2 * frames * freq * mels                     # mel filter bank
    if not isinstance(getattr(net, "rnn", None), torch.nn.LSTM):
        from torch.utils.flop_counter import FlopCounterMode

        features = torch.zeros(1, frames, mels, device=next(net.parameters()).device)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            net.classify(features)
        return float(flops + counter.get_total_flops())
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
          n_classes: int, seed: int = 0, acoustic_model: str = DEFAULT_MODEL):
    """A reprogrammed model, its label matrix, optimizer and graphing choice for ``path``."""
    spec = PATHS[path]
    model = load_acoustic_model(acoustic_model, device=device, optimize=spec["optimize"])
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

    models = [m for m in args.models.split(",") if m]
    paths = ["baseline", "optimized"] + [p for p in args.extra_paths.split(",") if p]
    runs = [(m, p) for m in models for p in paths]
    built = {(m, p): build(p, device, X.shape[-1], args.n_segments, len(classes),
                           acoustic_model=m) for m, p in runs}
    synchronize(device)
    spectra, cache_seconds = {}, {}
    for run in runs:
        started = time.perf_counter()
        spectra[run] = built[run][0].cache_series_spectra(X)
        synchronize(device)
        cache_seconds[run] = time.perf_counter() - started
    step_seconds = {run: [] for run in runs}
    # CPU only: on a GPU the LSTMs are not what bounds a step.
    rnn_steps = {m: (recurrent_step(built[m, "optimized"][0].model, device, args.batch_size,
                                    16000) if device.type == "cpu" else None) for m in models}
    rnn_seconds = {m: [] for m in models}
    for _ in range(args.rounds):
        for m in models:
            for p in paths:
                step_seconds[m, p].append(time_training(*built[m, p], X, y, args.batch_size,
                                                        args.steps, spectra[m, p]))
            if rnn_steps[m] is not None:  # timed in the same rounds, beside the paths
                rnn_seconds[m].append(time_steps(rnn_steps[m], args.steps, device))
    predict_seconds = {run: min(time_prediction(built[run][0], built[run][1], X,
                                                args.predict_batch_size)
                                for _ in range(args.rounds)) for run in runs}
    train_rate = {run: args.batch_size / statistics.median(step_seconds[run]) for run in runs}
    peak = matmul_peak_flops(device)
    results = {}
    for m in models:
        rnn = statistics.median(rnn_seconds[m]) if rnn_seconds[m] else None
        flops = model_flops_per_series(built[m, "optimized"][0].model, 16000)
        # Training runs the network forward and backpropagates to its input only
        # (frozen weights): about twice the forward work.
        achieved = 2 * flops * train_rate[m, "optimized"]
        results[m] = {
            "acoustic_model": m,
            "train_samples_per_s": train_rate[m, "optimized"],
            "train_samples_per_s_baseline": train_rate[m, "baseline"],
            "train_speedup": train_rate[m, "optimized"] / train_rate[m, "baseline"],
            "train_speed_vs_first": (train_rate[m, "optimized"]
                                     / train_rate[models[0], "optimized"]),
            "train_seconds_per_step_rounds": step_seconds[m, "optimized"],
            # The frozen LSTMs alone, forward and backward: every path pays them.
            "recurrent_seconds_per_step": rnn,
            "train_speedup_ceiling": (None if rnn is None else
                                      args.batch_size / train_rate[m, "baseline"] / rnn),
            "graphed": built[m, "optimized"][3],
            "spectra_cached": spectra[m, "optimized"] is not None,
            "spectra_cache_seconds": cache_seconds[m, "optimized"],
            "predict_samples_per_s": len(X) / predict_seconds[m, "optimized"],
            "predict_samples_per_s_baseline": len(X) / predict_seconds[m, "baseline"],
            "predict_speedup": predict_seconds[m, "baseline"] / predict_seconds[m, "optimized"],
            "model_gflops_per_series": flops / 1e9,
            "achieved_gflops": achieved / 1e9,
            "flop_fraction": achieved / peak,
            "paths": {p: {"train_samples_per_s": train_rate[m, p],
                          "predict_samples_per_s": len(X) / predict_seconds[m, p],
                          "graphed": built[m, p][3],
                          "spectral": built[m, p][0].spectral is not None}
                      for p in paths},
        }
    first = results[models[0]]
    return {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dataset": args.dataset,
        "series_length": int(X.shape[-1]),
        "n_segments": args.n_segments,
        "batch_size": args.batch_size,
        **{k: v for k, v in first.items() if k not in ("acoustic_model", "train_speed_vs_first",
                                                       "train_seconds_per_step_rounds")},
        "peak_memory_mb": peak_memory_mb(device),
        "matmul_peak_gflops": peak / 1e9,
        "models": results,
    }


def fit_times(args: argparse.Namespace) -> list[dict]:
    """Fit V2SClassifier (defaults) per model and MiniRocket on each dataset in one process.

    The top-level ``v2s_*`` fields are those of the first of ``--models``;
    ``by_model`` holds every model's fit.
    """
    from v2s_sklearn import V2SClassifier
    from v2s_sklearn.benchmarking import MiniRocketRidge

    def minirocket():  # the recipe `v2s benchmark` times (docs/benchmarks.md)
        return MiniRocketRidge(random_state=0)

    models = [m for m in args.models.split(",") if m]
    # Warm-up: MiniRocket's numba kernels compile on first use; neither method
    # should be charged a one-off cost.
    Xw, yw = load_dataset("ItalyPowerDemand", "train")
    minirocket().fit(Xw, yw)
    for m in models:
        V2SClassifier(acoustic_model=m, max_epochs=1, device=args.device).fit(Xw, yw)

    rows = []
    for name in args.fit_datasets.split(","):
        X, y = load_dataset(name, "train", args.data_dir)
        # TEST is read only to score fits whose every setting is a default.
        X_test, y_test = load_dataset(name, "test", args.data_dir)
        row = {"dataset": name, "n_train": len(X), "length": X.shape[-1]}
        started = time.perf_counter()
        baseline = minirocket().fit(X, y)
        row["minirocket_fit_s"] = time.perf_counter() - started
        row["minirocket_test_accuracy"] = float(baseline.score(X_test, y_test))
        row["by_model"] = {}
        for m in models:
            clf = V2SClassifier(acoustic_model=m, random_state=0, device=args.device)
            started = time.perf_counter()
            clf.fit(X, y)
            seconds = time.perf_counter() - started
            row["by_model"][m] = {"v2s_fit_s": seconds, "v2s_epochs": len(clf.history_),
                                  "ratio": seconds / row["minirocket_fit_s"],
                                  "v2s_test_accuracy": float(clf.score(X_test, y_test))}
        row.update(row["by_model"][models[0]])
        rows.append(row)
    return rows


def estimator_prediction(args: argparse.Namespace) -> dict:
    """``predict_proba`` of a fitted ``V2SClassifier`` beside a plain float32 forward.

    The estimator (default model, ``--estimator-epochs`` epochs on the TRAIN split of
    ``--predict-dataset``) scores the TEST split; the plain path builds every
    reprogrammed one-second waveform ``Pad(x) + theta`` and runs the same built-in
    model on it as defined (``optimize=False``), float32, in batches of 256, under
    ``inference_mode``. Rounds alternate the two, so load hits both alike; the
    ratio of their median times is the measurement.
    """
    from v2s_sklearn import V2SClassifier

    X_train, y_train = load_dataset(args.predict_dataset, "train", args.data_dir)
    X_test, _ = load_dataset(args.predict_dataset, "test", args.data_dir)
    clf = V2SClassifier(max_epochs=args.estimator_epochs, input_scaling=None,
                        random_state=0, device="cpu").fit(X_train, y_train)
    model = load_acoustic_model(DEFAULT_MODEL, optimize=False)
    reprogrammer = Reprogrammer(model.input_length, X_test.shape[1], 1, clf.n_segments_,
                                False, 0.0, theta=clf.theta_).eval()
    series = torch.as_tensor(X_test[:, None], dtype=torch.float32)
    matrix = torch.as_tensor(clf.label_weights_, dtype=torch.float32)

    def plain() -> None:
        with torch.inference_mode():
            for i in range(0, len(series), 256):
                target_log_proba(model(reprogrammer(series[i : i + 256])), matrix)

    clf.predict_proba(X_test[:2])  # the model's first load is not prediction
    times: dict[str, list[float]] = {"predict_proba": [], "plain_float32": []}
    for _ in range(args.rounds):
        for name, call in (("predict_proba", lambda: clf.predict_proba(X_test)),
                           ("plain_float32", plain)):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in times.items()}
    return {"dataset": args.predict_dataset, "n_series": len(X_test),
            "threads": torch.get_num_threads(), "acoustic_model": DEFAULT_MODEL,
            "seconds": times,
            "predict_proba_series_per_s": len(X_test) / median["predict_proba"],
            "plain_float32_series_per_s": len(X_test) / median["plain_float32"],
            "predict_time_ratio": median["predict_proba"] / median["plain_float32"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", default=DEFAULT_MODEL,
                        help="comma-separated acoustic models (built-in names or files) to "
                             "measure side by side (default %(default)s)")
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
    parser.add_argument("--estimator-predict", action="store_true",
                        help="only time a fitted V2SClassifier's predict_proba beside a "
                             "plain float32 forward of its model (issue 28's measurement)")
    parser.add_argument("--predict-dataset", default="ItalyPowerDemand")
    parser.add_argument("--estimator-epochs", type=int, default=5)
    args = parser.parse_args(argv)

    if args.estimator_predict:
        result = estimator_prediction(args)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['dataset']} TEST, {result['n_series']} series, "
                  f"{result['threads']} threads: predict_proba "
                  f"{result['predict_proba_series_per_s']:.0f} series/s, plain float32 "
                  f"forward {result['plain_float32_series_per_s']:.0f} series/s; "
                  f"predict takes {result['predict_time_ratio']:.2f}x the plain time")
        return

    result = measure(args)
    if args.fit_time:
        result["fit_times"] = fit_times(args)
    if args.json:
        json.dump(result, sys.stdout)
        print()
        return
    print(f"device {result['device']}  torch {result['torch']}  threads {result['threads']}  "
          f"{result['dataset']} (length {result['series_length']}), batch {args.batch_size}")
    print("| model | path | train samples/s | predict samples/s |")
    print("| --- | --- | --- | --- |")
    for model, res in result["models"].items():
        for name, rates in res["paths"].items():
            print(f"| {model} | {name} | {rates['train_samples_per_s']:.0f} | "
                  f"{rates['predict_samples_per_s']:.0f} |")
        print(f"| {model} | speed-up | {res['train_speedup']:.2f}x | "
              f"{res['predict_speedup']:.2f}x |")
    print(f"peak memory {result['peak_memory_mb']:.0f} MB; matmul peak "
          f"{result['matmul_peak_gflops']:.0f} GFLOP/s")
    for model, res in result["models"].items():
        print(f"{model}: optimized training {res['train_speed_vs_first']:.2f}x the first "
              f"model's; {res['achieved_gflops']:.1f} GFLOP/s "
              f"({100 * res['flop_fraction']:.1f}% of peak)")
    for row in result.get("fit_times", []):
        for model, fit in row["by_model"].items():
            print(f"{row['dataset']}: V2SClassifier(acoustic_model={model!r}) fit "
                  f"{fit['v2s_fit_s']:.1f} s ({fit['v2s_epochs']} epochs), MiniRocket fit "
                  f"{row['minirocket_fit_s']:.2f} s, ratio {fit['ratio']:.1f}x; test accuracy "
                  f"{fit['v2s_test_accuracy']:.3f} (MiniRocket "
                  f"{row['minirocket_test_accuracy']:.3f})")
    for model in result["models"] if result.get("fit_times") else []:
        fits = [row["by_model"][model] for row in result["fit_times"]]
        total = sum(fit["v2s_fit_s"] for fit in fits)
        baseline = sum(row["minirocket_fit_s"] for row in result["fit_times"])
        print(f"{model}: all fits {total:.1f} s = {total / baseline:.0f}x MiniRocket's "
              f"{baseline:.2f} s; mean test accuracy "
              f"{np.mean([fit['v2s_test_accuracy'] for fit in fits]):.3f}")


if __name__ == "__main__":
    main()
