"""What Dask's ``MALLOC_TRIM_THRESHOLD_`` costs a V2S fit, and what restoring glibc's limits gives back.

Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``. This
script fits the same GunPoint model (fixed epochs, one torch thread) in fresh
processes, alternating, under three environments:

- ``plain``: the variable unset (glibc's adaptive thresholds);
- ``dask``: the variable set, as on a Dask worker before the fix;
- ``restored``: the variable set, then
  ``v2s_sklearn.parallel.restore_malloc_thresholds()`` (what the opt-in
  ``MallocThresholds`` worker plugin does; ``v2s benchmark --dask`` registers it).

It prints the median fit time of each and their ratios to ``plain``::

    python benchmarks/malloc_threshold.py --rounds 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import sys, time, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.parallel import restore_malloc_thresholds
if sys.argv[1] == "restored":
    assert restore_malloc_thresholds()
X, y = load_dataset("GunPoint", "train")
V2SClassifier(max_epochs=1, random_state=0).fit(X[:20], y[:20])  # one-off costs
started = time.perf_counter()
V2SClassifier(max_epochs=int(sys.argv[2]), n_iter_no_change=None, input_scaling=None,
              random_state=0).fit(X, y)
print(time.perf_counter() - started)
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    base["OMP_NUM_THREADS"] = "1"
    envs = {"plain": base, "dask": {**base, "MALLOC_TRIM_THRESHOLD_": "65536"},
            "restored": {**base, "MALLOC_TRIM_THRESHOLD_": "65536"}}
    seconds: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(args.rounds):  # alternating, so a busy moment hits all alike
        for name, env in envs.items():
            out = subprocess.run([sys.executable, "-c", CHILD, name, str(args.epochs)],
                                 env=env, capture_output=True, text=True, check=True)
            seconds[name].append(float(out.stdout.split()[-1]))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    result = {"command": "python benchmarks/malloc_threshold.py "
                         + " ".join(argv if argv is not None else sys.argv[1:]),
              "load_before": round(load, 2), "epochs": args.epochs,
              "seconds": seconds, "median_seconds": medians,
              "ratio_to_plain": {name: medians[name] / medians["plain"] for name in envs}}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in envs:
            print(f"{name:9s} {medians[name]:6.2f} s  ({result['ratio_to_plain'][name]:.2f}x "
                  "plain)")
    return result


if __name__ == "__main__":
    main()
