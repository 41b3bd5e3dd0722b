#!/usr/bin/env bash
# The 12-dataset benchmark on a lent GPU: V2S with defaults, the paper's search
# protocol (GridSearchCV on TRAIN, 8 worker processes sharing the GPU) and
# MiniRocket, side by side in one process, after the GPU-relevant tests.
# Usage: bash benchmarks/gpu_ucr12.sh DATA_DIR REFERENCE_CSV
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
DATA=${1:-../shared/data/ucr}; REF=${2:-../shared/reference/paper_table2.csv}
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-}:$PWD
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 100 python3 -m pytest -q -p no:cacheprovider tests/test_classifier.py tests/test_spectral.py 2>&1 | tail -6 | tee "$OUT/pytest.txt"
timeout ${BENCH_SECONDS:-330} python3 -m v2s_sklearn.cli benchmark --data-dir "$DATA" --reference "$REF" \
  --methods v2s,minirocket --search --search-segments ${SEGMENTS:-1,10} --search-jobs ${JOBS:-9} --output "$OUT/ucr12_gpu.csv" 2>&1 \
  | grep -v "epoch/s" | tail -40
