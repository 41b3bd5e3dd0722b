#!/usr/bin/env bash
# The GPU checks of one lent-device session, in one script: the test suite on
# CUDA (device="auto" picks it), throughput on the GPU and on that machine's
# CPU, a default GunPoint fit, and the TRAIN-only selection study in parallel
# workers. Logs go to $OUT (or ./gpu_out). Usage: bash benchmarks/gpu_check.sh [DATA_DIR]
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
DATA=${1:-../shared/data/ucr}
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-}:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, torchaudio, sklearn, sktime; print(torch.__version__, torchaudio.__version__, sklearn.__version__, sktime.__version__, torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
timeout 200 python3 -m pytest -q -p no:cacheprovider -x tests/test_classifier.py tests/test_spectral.py tests/test_sklearn_integration.py 2>&1 | tail -15 | tee "$OUT/pytest.txt"
for bs in 32 256 1024; do
  timeout 90 python3 benchmarks/throughput.py --device cuda --json --batch-size $bs --n-series 2048 --steps 20 2>&1 | tail -1 | tee -a "$OUT/throughput.jsonl"
done
timeout 90 python3 benchmarks/throughput.py --device cpu --json --rounds 2 2>&1 | tail -1 | tee -a "$OUT/throughput.jsonl"
timeout 60 python3 -m v2s_sklearn.cli demo --output "$OUT/demo_gpu.png" 2>&1 | grep -v "it/s\]" | tail -3 | tee "$OUT/demo.txt"
timeout ${STUDY_SECONDS:-240} python3 benchmarks/select_defaults.py --data-dir "$DATA" --n-jobs ${STUDY_JOBS:-8} --repeats 2 \
  --grid '{"label_mapping": ["random", "frequency", "ot"], "n_segments": [1, "auto"]}' \
  --output "$OUT/select_defaults.csv" > "$OUT/select_defaults.log" 2>&1
tail -12 "$OUT/select_defaults.log"
