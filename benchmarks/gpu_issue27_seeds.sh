#!/usr/bin/env bash
# Issue 27, lever 5 (ensembles): five seeds of the default V2SClassifier on cuts 0 and 1
# of TRAIN of the 36 development sets, each member's held-out probabilities kept, so
# that ensembles of 1, 3 and 5 members are scored afterwards without fitting again:
#   python benchmarks/select_defaults.py --data-dir DATA --proba-dir PROBA --repeats 2 \
#       --combine '{"seed": 0}' '{"seed": 1}' '{"seed": 2}' '{"seed": 3}' '{"seed": 4}'
# Member i has random_state cut + 1000 * i (member 0 is the single default fit).
# Carried: .whl/ and .study/ucr36.tar.xz, as for gpu_issue27.sh.
set -uo pipefail
source benchmarks/gpu_issue27_setup.sh
started=$(date +%s)
timeout ${STUDY_SECONDS:-280} python3 benchmarks/select_defaults.py --data-dir /tmp/ucr36 \
  --grid '{"seed": [0, 1, 2, 3, 4]}' --repeats 2 --n-jobs ${N_PROC:-14} --device cuda \
  --proba-dir /tmp/proba --output "$OUT/seeds_cuts.csv" > "$OUT/seeds_cuts.log" 2>&1
echo "study: rc $? in $(( $(date +%s) - started )) s" | tee "$OUT/timing.txt"
tar -czf "$OUT/seeds_proba.tgz" -C /tmp proba
wc -l "$OUT/seeds_cuts.csv"
