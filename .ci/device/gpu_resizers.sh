#!/usr/bin/env bash
# The project's own device-session driver for the resizer speed suite (see
# .ci/device/README.md): on the sandbox's GPU machine, from the folder
# .ci/device/bundle.sh made (.offline/; any task's data, none is read),
#
#   bash .ci/device/gpu_resizers.sh OUT_DIR [LIMIT_SECONDS]
#
# installs the stack (.ci/device/install.sh), runs the fused Triton kernels'
# tests on CUDA (tests/test_fused_triton.py, OUT_DIR/triton_tests.log), then
# tools/benchmark_resizers.py --suite gpu --device cuda (batch 8 at
# 1024x2048 -> 307x614 and 512x512 -> 154x154, each resizer's share of a
# DeepLabv3+-R50 training step on 512x1024 crops at 0.3x, the multiply-add
# floor: mmresize/benchmark/gpu_suite.py) inside LIMIT_SECONDS (default
# 420; set-up included), and writes OUT_DIR/gpu_resizers.{md,json,log} and
# the bundle's COMMIT. Exits with the suite's status (124: it ran past the
# limit; 3: set-up left it too little time; 4: the suite ran, on the PyTorch
# path only, because the Triton kernels failed their tests).
set -uo pipefail
cd "$(dirname "$0")/../.."
T0=$(date +%s)
OUT_DIR=${1:?output folder}
LIMIT=${2:-420}
case "$LIMIT" in
    ''|*[!0-9]*) echo "LIMIT_SECONDS must be whole seconds, got '$LIMIT'" >&2; exit 2;;
esac
MIN_SUITE=120  # seconds the suite needs at the least
TRITON_TESTS=${TRITON_TESTS:-90}  # seconds for the kernel tests first
BUNDLE=${BUNDLE:-.offline}
SITE=/tmp/mmresize-site
mkdir -p "$OUT_DIR" "$SITE"
elapsed() { echo $(( $(date +%s) - T0 )); }
say() { echo "[$(elapsed) s] $*"; }
. .ci/device/install.sh
python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || {
    say "no CUDA device here: nothing measured"; exit 2; }
left=$(( LIMIT - $(elapsed) ))
if [ "$left" -lt $(( MIN_SUITE + TRITON_TESTS )) ]; then
    say "only $left s of the $LIMIT s limit left after set-up, less than" \
        "the kernel tests and the suite need ($TRITON_TESTS + $MIN_SUITE s): give a longer limit"
    exit 3
fi
[ -f "$BUNDLE/COMMIT" ] && cp "$BUNDLE/COMMIT" "$OUT_DIR/COMMIT"
# the fused Triton kernels compiled for this GPU, against the PyTorch path
# (tests/test_fused_triton.py runs them on CUDA where CUDA is present)
say "Triton kernel tests on CUDA: at most $TRITON_TESTS s"
timeout "$TRITON_TESTS" python3 -m pytest -q -p no:cacheprovider \
    tests/test_fused_triton.py > "$OUT_DIR/triton_tests.log" 2>&1
triton_rc=$?
say "Triton kernel tests exited with $triton_rc ($(tail -1 "$OUT_DIR/triton_tests.log"))"
if [ "$triton_rc" -ne 0 ]; then
    say "the kernels failed their tests: the suite measures the PyTorch path only"
    export MMRESIZE_TRITON=0
fi
left=$(( LIMIT - $(elapsed) ))
say "suite: at most $left s (code $(cat "$BUNDLE/COMMIT" 2>/dev/null || echo unknown))"
PYTHONUNBUFFERED=1 timeout "$left" python3 tools/benchmark_resizers.py \
    --suite gpu --device cuda --repeats 10 --json "$OUT_DIR/gpu_resizers.json" \
    > "$OUT_DIR/gpu_resizers.log" 2>&1
rc=$?
# the tables: everything after the per-case progress lines
sed -n '/TFLOP\/s (TF32 off)/,$p' "$OUT_DIR/gpu_resizers.log" > "$OUT_DIR/gpu_resizers.md"
tail -40 "$OUT_DIR/gpu_resizers.log"
say "suite exited with $rc"
[ "$rc" -eq 0 ] && [ "$triton_rc" -ne 0 ] && exit 4  # the kernels failed
exit $rc
