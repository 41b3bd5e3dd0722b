#!/usr/bin/env bash
# The GPU checks after the lean core (issue 26) and float32 prediction (issue 28),
# in one script for one lent-device call: the tests that exercise CUDA (graphed steps
# against eager ones, a GPU fit predicted on the CPU, the missing-GPU warning), the
# estimator's fit time on the GPU beside MiniRocket, and training throughput at the
# estimator's batch. sktime, scikit-base and POT travel as wheels in .whl/ (see
# /work/.library/device/README.md). Logs go to $OUT (or ./gpu_out).
# Usage: bash benchmarks/gpu_lean_core.sh
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-}:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
timeout ${TEST_SECONDS:-240} python3 -m pytest -q -p no:cacheprovider -rs tests/test_train_step.py \
  tests/test_classifier.py tests/test_defects.py tests/test_spectral.py 2>&1 | tail -25 \
  | tee "$OUT/pytest.txt"
timeout 120 python3 benchmarks/throughput.py --device cuda --json --steps 4 --rounds 1 --fit-time \
  --fit-datasets GunPoint,ItalyPowerDemand 2>&1 | tail -1 | tee "$OUT/fit_time.json"
timeout 60 python3 benchmarks/throughput.py --device cuda --json --batch-size 32 --n-series 2048 \
  --steps 20 2>&1 | tail -1 | tee "$OUT/throughput.json"
