"""Wall-clock speed-up of ``v2s benchmark --dask local:N`` over the serial run.

Runs the same benchmark twice, each as its own ``v2s benchmark`` process as a
user would: serially, then with ``--dask local:N`` (a LocalCluster of N
single-threaded worker processes), on the four datasets sktime ships, and
prints both wall-clock times (cluster start-up and warm-ups included), their
ratio, and whether the accuracies agree. Refuses to measure on a busy machine
(1-minute load above ``--max-load``): other work would decide the ratio.

Usage::

    python benchmarks/dask_speedup.py                      # 2 workers, 4 datasets
    python benchmarks/dask_speedup.py --serial-threads 1   # serial with 1 torch thread:
                                                           # accuracies then equal
    python benchmarks/dask_speedup.py --json > result.json

The serial run uses torch's default threads (one per core) unless
``--serial-threads`` is given: that is what a user gets, and it already uses
every core inside each fit, so the ratio is the gain of running fits side by
side rather than of using more cores. Accuracies agree to the last digit only
with ``--serial-threads 1`` (the workers' count): float32 training depends on
the thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

# Longest first: the cluster starts it at once, so it does not finish alone at the end.
DATASETS = ("OSULeaf", "ItalyPowerDemand", "GunPoint", "ArrowHead")


def _run(arguments: list[str], env: dict[str, str]) -> float:
    """Seconds a ``v2s benchmark`` process takes, start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "v2s_sklearn.cli", "benchmark", *arguments],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    """Run both benchmarks; return (and print) the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker "
                        "processes, 1 thread each (default %(default)s)")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--methods", default="v2s")
    parser.add_argument("--max-epochs", type=int, default=40)
    parser.add_argument("--max-train", type=int, default=60)
    parser.add_argument("--max-test", type=int, default=100)
    parser.add_argument("--serial-threads", type=int, default=None,
                        help="OMP_NUM_THREADS of the serial run (default: torch's own)")
    parser.add_argument("--max-load", type=float, default=0.5,
                        help="refuse when the 1-minute load is above this (default "
                             "%(default)s)")
    parser.add_argument("--force", action="store_true", help="measure even on a busy machine")
    parser.add_argument("--out", default=None, help="folder for both runs' CSVs and reports "
                        "(default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    if load > args.max_load and not args.force:
        raise SystemExit(f"the 1-minute load is {load:.2f} (> {args.max_load}): other work "
                         "would decide the ratio. Rerun when the machine is idle, or pass "
                         "--force.")
    out = Path(args.out or tempfile.mkdtemp(prefix="dask_speedup_"))
    out.mkdir(parents=True, exist_ok=True)
    common = ["--datasets", args.datasets, "--methods", args.methods,
              "--max-epochs", str(args.max_epochs), "--max-train", str(args.max_train),
              "--max-test", str(args.max_test)]
    env = dict(os.environ)
    serial_env = dict(env)
    if args.serial_threads is not None:
        serial_env["OMP_NUM_THREADS"] = str(args.serial_threads)
    serial_seconds = _run([*common, "--output", str(out / "serial.csv")], serial_env)
    dask_seconds = _run([*common, "--output", str(out / "dask.csv"),
                         "--dask", f"local:{args.workers}"], env)

    def accuracies(name: str) -> pd.Series:
        table = pd.read_csv(out / name, dtype={"dataset": str, "method": str})
        return table.set_index(["dataset", "method"]).sort_index()

    serial, cluster = accuracies("serial.csv"), accuracies("dask.csv")
    result = {
        "command": "python benchmarks/dask_speedup.py " + " ".join(argv or sys.argv[1:]),
        "cpu_cores": os.cpu_count(), "load_before": round(load, 2),
        "workers": args.workers, "datasets": args.datasets.split(","),
        "methods": args.methods.split(","), "max_epochs": args.max_epochs,
        "max_train": args.max_train, "max_test": args.max_test,
        "serial_threads": args.serial_threads or "torch default",
        "serial_seconds": round(serial_seconds, 1), "dask_seconds": round(dask_seconds, 1),
        "speedup": round(serial_seconds / dask_seconds, 2),
        "serial_fit_seconds": round(float(serial["fit_seconds"].sum()), 1),
        "dask_fit_seconds": round(float(cluster["fit_seconds"].sum()), 1),
        "accuracies_equal": bool(serial["accuracy"].equals(cluster["accuracy"])),
        "output": str(out),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"serial {result['serial_seconds']} s, --dask local:{args.workers} "
              f"{result['dask_seconds']} s: speed-up {result['speedup']}x "
              f"(accuracies equal: {result['accuracies_equal']}; runs in {out})")
    return result


if __name__ == "__main__":
    main()
