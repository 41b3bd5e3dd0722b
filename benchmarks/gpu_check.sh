#!/usr/bin/env bash
# The GPU checks of one lent-device session, in one script: the tests that
# exercise CUDA (graphed steps against eager ones, GPU fit then CPU predict),
# training throughput on the GPU at three batch sizes with every path side by
# side, default fits against MiniRocket, and the 12-dataset benchmark with
# defaults. Logs go to $OUT (or ./gpu_out).
# Usage: bash benchmarks/gpu_check.sh [DATA_DIR] [REFERENCE_CSV]
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
DATA=${1:-../shared/data/ucr}; REF=${2:-../shared/reference/paper_table2.csv}
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-}:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, torchaudio, sklearn, sktime; print(torch.__version__, torchaudio.__version__, sklearn.__version__, sktime.__version__, torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
timeout ${TEST_SECONDS:-150} python3 -m pytest -q -p no:cacheprovider -x tests/test_train_step.py \
  tests/test_classifier.py tests/test_spectral.py 2>&1 | tail -15 | tee "$OUT/pytest.txt"
for bs in 32 256 1024; do
  timeout 100 python3 benchmarks/throughput.py --device cuda --json --batch-size $bs --n-series 2048 \
    --steps 20 --extra-paths plain-eager,spectral-eager,spectral-graphed 2>&1 | tail -1 | tee -a "$OUT/throughput.jsonl"
done
timeout 90 python3 benchmarks/throughput.py --device cuda --json --steps 4 --rounds 1 --fit-time \
  --data-dir "$DATA" 2>&1 | tail -1 | tee "$OUT/fit_time.json"
[ "${SKIP_UCR12:-0}" = 1 ] || timeout ${BENCH_SECONDS:-150} python3 -m v2s_sklearn.cli benchmark \
  --data-dir "$DATA" --reference "$REF" --methods v2s,minirocket --output "$OUT/ucr12_gpu.csv" 2>&1 \
  | grep -v "epoch/s" | tail -25
