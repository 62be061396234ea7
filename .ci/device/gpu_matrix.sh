#!/usr/bin/env bash
# The project's own device-session driver (see .ci/device/README.md): runs
# the accuracy matrix of one task on the sandbox's GPU machine, inside a
# fixed time window, from the folder .ci/device/bundle.sh made (.offline/,
# with that task's data: TASKS=... there).
#
#   [TASK=camvid|camvid-lite0|bccd|bccd-lite0|...] \
#       bash .ci/device/gpu_matrix.sh WINDOW_SECONDS OUT_DIR \
#       [benchmark_accuracy args]
#
# 1. installs the bundle's wheels into /tmp/mmresize-site (nothing fetched);
# 2. mmcv 2.1.0: the bundle's prebuilt wheel if it imports with this torch,
#    else its compiled ops built for the CPU from source (mmseg imports
#    mmcv.ops at import time; DeepLabv3+ runs no mmcv op on the GPU, and the
#    detectors' nms then runs on the CPU: mmresize/engine/cpu_nms.py);
# 3. for bccd, runs tests/test_cpu_nms.py first (its CUDA test needs the
#    GPU); runs tools/benchmark_accuracy.py for $TASK (default camvid: the
#    re-encoded CamVid, img_suffix .jpg; bccd: BCCD as it is) with $JOBS
#    runs sharing the GPU, starting no run that is not
#    expected to finish inside the window; finished runs are kept in
#    /tmp/mmresize-results-$TASK, so a second call on the same machine
#    resumes;
# 4. packs every result (the logs of unfinished runs and the bundle's COMMIT
#    beside them) into OUT_DIR/runs.tgz.
# Exits with the matrix's status (non-zero when a run failed or the window
# ran out with runs still training).
# The rest of the arguments go to benchmark_accuracy.py (default: the main
# variants, seeds 0-4). $JOBS (default 11) runs at once; $RUN_SECONDS
# (default 150, measured for CamVid; BCCD has no GPU figure yet, so give
# it a generous one): how long one run is expected to take when JOBS share it.
set -uo pipefail
cd "$(dirname "$0")/../.."
T0=$(date +%s)
WINDOW=${1:?window in seconds}
OUT_DIR=${2:?output folder}
shift 2
case "$WINDOW" in
    ''|*[!0-9]*) echo "WINDOW must be whole seconds, got '$WINDOW'" >&2; exit 2;;
esac
BUNDLE=${BUNDLE:-.offline}
SITE=/tmp/mmresize-site
JOBS=${JOBS:-11}
TASK=${TASK:-camvid}
RESULTS=/tmp/mmresize-results-$TASK  # one task's runs per runs.tgz
case "$TASK" in  # the catalogue's tasks; DATA: the dataset folder they read
    camvid|camvid-*) DATA=camvid
        TASK_OPTIONS="train_dataloader.dataset.img_suffix=.jpg
        val_dataloader.dataset.img_suffix=.jpg
        test_dataloader.dataset.img_suffix=.jpg";;
    bccd|bccd-*) DATA=bccd; TASK_OPTIONS="";;
    *) echo "TASK must be a camvid or bccd task, got '$TASK'" >&2; exit 2;;
esac
if [ ! -d "$BUNDLE/data/$DATA" ]; then
    echo "$BUNDLE/data/$DATA is missing: make the bundle with TASKS=$DATA" >&2
    exit 2
fi
# the first wave's estimate of one run, measured on the from-scratch camvid
# task at 1000 iterations: set RUN_SECONDS for longer schedules (the lite0
# CamVid tasks train 2000 by default)
RUN_SECONDS=${RUN_SECONDS:-150}
mkdir -p "$OUT_DIR" "$SITE" "$RESULTS"
elapsed() { echo $(( $(date +%s) - T0 )); }
say() { echo "[$(elapsed) s] $*"; }

. .ci/device/install.sh  # the bundle's wheels and mmcv into $SITE

if [ "$DATA" = bccd ]; then  # the nms route's CUDA test, before any run
    python3 -m pytest -q -p no:cacheprovider tests/test_cpu_nms.py || {
        say "tests/test_cpu_nms.py failed on this GPU: no BCCD run started"
        exit 4; }
    say "tests/test_cpu_nms.py passed"
fi

left=$(( WINDOW - $(elapsed) - 20 ))
if [ "$left" -le "$RUN_SECONDS" ]; then
    say "only $left s left of the $WINDOW s window after set-up, less than" \
        "one run (RUN_SECONDS=$RUN_SECONDS): give a longer window"
    exit 3
fi
say "matrix: $JOBS runs at a time, to end within $left s"
MMRESIZE_DATA="$BUNDLE/data" MMRESIZE_CODE_VERSION=$(cat "$BUNDLE/COMMIT") \
PYTHONUNBUFFERED=1 timeout "$(( left + 10 ))" python3 tools/benchmark_accuracy.py \
    --task "$TASK" --jobs "$JOBS" --work-dir /tmp/mmresize-work \
    --results-dir "$RESULTS" --window "$left" --run-seconds "$RUN_SECONDS" \
    --cfg-options $TASK_OPTIONS env_cfg.cudnn_benchmark=False \
    "$@"
rc=$?
say "matrix exited with $rc"
for log in /tmp/mmresize-work/*/*/seed*/log.txt; do
    [ -f "$log" ] || continue
    run=${log%/log.txt}
    [ -f "$run/result.json" ] && continue
    dest="$RESULTS/unfinished/${run#/tmp/mmresize-work/}"
    mkdir -p "$dest" && tail -c 20000 "$log" > "$dest/log.txt"
done
cp "$BUNDLE/COMMIT" "$RESULTS/"
if [ "$DATA" = camvid ]; then
    cp "$BUNDLE/data/camvid/REENCODED.json" "$RESULTS/"
fi
tar czf "$OUT_DIR/runs.tgz" -C "$RESULTS" .
say "packed $(find "$RESULTS" -name result.json | wc -l) results"
exit "$rc"
