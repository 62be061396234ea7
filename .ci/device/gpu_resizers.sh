#!/usr/bin/env bash
# The project's own device-session driver for the resizer speed suite (see
# .ci/device/README.md): on the sandbox's GPU machine, from the folder
# .ci/device/bundle.sh made (.offline/; any task's data, none is read),
#
#   bash .ci/device/gpu_resizers.sh OUT_DIR [LIMIT_SECONDS]
#
# installs the stack (.ci/device/install.sh), runs
# tools/benchmark_resizers.py --suite gpu --device cuda (batch 8 at
# 1024x2048 -> 307x614 and 512x512 -> 154x154, each resizer's share of a
# DeepLabv3+-R50 training step on 512x1024 crops at 0.3x, the multiply-add
# floor: mmresize/benchmark/gpu_suite.py) inside LIMIT_SECONDS (default
# 420), and writes OUT_DIR/gpu_resizers.{md,json,log}. Exits with the
# suite's status (124: it ran past the limit).
set -uo pipefail
cd "$(dirname "$0")/../.."
T0=$(date +%s)
OUT_DIR=${1:?output folder}
LIMIT=${2:-420}
BUNDLE=${BUNDLE:-.offline}
SITE=/tmp/mmresize-site
mkdir -p "$OUT_DIR" "$SITE"
elapsed() { echo $(( $(date +%s) - T0 )); }
say() { echo "[$(elapsed) s] $*"; }
. .ci/device/install.sh
python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || {
    say "no CUDA device here: nothing measured"; exit 2; }
left=$(( LIMIT - $(elapsed) ))
say "suite: at most $left s"
PYTHONUNBUFFERED=1 timeout "$left" python3 tools/benchmark_resizers.py \
    --suite gpu --device cuda --repeats 10 --json "$OUT_DIR/gpu_resizers.json" \
    > "$OUT_DIR/gpu_resizers.log" 2>&1
rc=$?
# the tables: everything after the per-case progress lines
sed -n '/TFLOP\/s (TF32 off)/,$p' "$OUT_DIR/gpu_resizers.log" > "$OUT_DIR/gpu_resizers.md"
tail -40 "$OUT_DIR/gpu_resizers.log"
say "suite exited with $rc"
exit $rc
