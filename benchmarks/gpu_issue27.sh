#!/usr/bin/env bash
# Issue 27, second study, in one lent-device call:
#   1. TRAIN cuts: readout="labels" against readout="features", the estimator's own fit
#      (STFT-domain path, 10% validation, input_scaling="auto"), 3 cuts of the 36
#      development sets (benchmarks/select_defaults.py); "auto" is read off these rows
#      (features from 10 classes on). MiniRocket on the same cuts is in
#      benchmarks/results/lever_study_minirocket.csv (same 70/30 cuts).
#   2. TEST: `v2s benchmark` of the 36 sets with v2s (defaults), v2s-labels (the paper's
#      readout) and MiniRocket, in N_PROC processes of a few datasets each; their CSVs
#      are merged afterwards (`v2s benchmark --resume` writes the report).
# The default readout was chosen by a rule fixed before this run, on part 1 alone:
# "auto" stays the default if its mean over the 36 sets is at least that of "labels"
# and "features" wins more dataset-cuts than it loses on the 7 sets of 10+ classes.
# Carried: .whl/ (sktime, scikit-base, POT wheels) and .study/ucr36.tar.xz (the 36 sets,
# ../shared/data/ucr and ucr-more). Usage: bash benchmarks/gpu_issue27.sh
set -uo pipefail
source benchmarks/gpu_issue27_setup.sh
ls /tmp/ucr36 | wc -l | tee "$OUT/n_datasets.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"

started=$(date +%s)
timeout ${STUDY_SECONDS:-300} python3 benchmarks/select_defaults.py --data-dir /tmp/ucr36 \
  --grid '{"readout": ["labels", "features"]}' --repeats 3 --n-jobs ${N_PROC:-14} \
  --device cuda --output "$OUT/readout_cuts.csv" > "$OUT/readout_cuts.log" 2>&1
echo "study: rc $? in $(( $(date +%s) - started )) s" | tee -a "$OUT/timing.txt"

started=$(date +%s)
names=($(ls /tmp/ucr36))
n=${N_PROC:-14}
work=/tmp/test36; mkdir -p "$work"
for ((i = 0; i < n; i++)); do
  part=$(printf '%s\n' "${names[@]}" | awk -v n="$n" -v i="$i" 'NR % n == i' | paste -sd,)
  [ -z "$part" ] && continue
  timeout ${TEST_SECONDS:-200} python3 -m v2s_sklearn.cli benchmark --data-dir /tmp/ucr36 \
    --datasets "$part" --methods v2s,v2s-labels,minirocket --device cuda \
    --output "$work/test_part$i.csv" > "$work/test_part$i.log" 2>&1 &
done
wait
echo "test: $(( $(date +%s) - started )) s" | tee -a "$OUT/timing.txt"
# The device returns at most 8 files: one merged CSV and one archive of the rest.
(head -1 "$work/test_part0.csv"; for f in "$work"/test_part*.csv; do tail -n +2 "$f"; done) \
  > "$OUT/test36_gpu.csv"
tar -czf "$OUT/test_logs.tgz" -C "$work" .
wc -l "$OUT/test36_gpu.csv"
