#!/usr/bin/env bash
# Pack what tools/gpu_matrix.sh needs on an offline GPU machine into one
# folder (default .offline/, ignored by git; it travels as one path):
#   wheels/   mmengine, mmsegmentation, mmdet and the small packages they
#             import that a CUDA/PyTorch image usually lacks, for CPython
#             $PYVER (default 3.12) on x86-64; setuptools < 82 for the
#             fallback build (mmcv's setup.py imports pkg_resources); pytest
#             for the tests that need a GPU
#   mmcv/     mmcv 2.1.0's source (always) and, if $MMCV_WHEEL names one,
#             a wheel built for the target's Python and torch
#   data/     the datasets of $TASKS (default camvid; camvid or bccd; both
#             are over the 64 MiB a GPU call carries):
#             camvid/ with JPEG-re-encoded images (tools/reencode_camvid.py,
#             quality $JPEG_QUALITY, default 95): the PNGs (123 MB) do not
#             fit a 64 MiB transfer; the change is recorded in REENCODED.json;
#             bccd/ as it is (10 MB of JPEGs)
#   COMMIT    the git commit (and +dirty) the bundle was made from
# Run from anywhere:  bash tools/gpu_bundle.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.offline}
PYVER=${PYVER:-3.12}
DATA=${MMRESIZE_DATA:-../shared/data}
TASKS=$(echo ${TASKS:-camvid})  # one space between names
for task in $TASKS; do
    case "$task" in
        camvid|bccd) ;;
        *) echo "TASKS: camvid and/or bccd, got '$task'" >&2; exit 2;;
    esac
done
mkdir -p "$OUT/wheels" "$OUT/mmcv" "$OUT/data"
if [ "$(realpath "$OUT/data")" = "$(realpath "$DATA")" ]; then
    echo "OUT/data is the data folder itself ($DATA): give another OUT" >&2
    exit 2
fi

echo "== wheels for CPython $PYVER"
python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version "$PYVER" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d "$OUT/wheels" \
    mmengine==0.10.7 mmsegmentation==1.2.2 mmdet==3.3.0 addict==2.4.0 \
    yapf==0.43.0 platformdirs termcolor prettytable wcwidth ftfy \
    pycocotools shapely terminaltables 'setuptools>=77,<82' \
    pytest pluggy iniconfig packaging

echo "== mmcv 2.1.0"
python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$OUT/mmcv" mmcv==2.1.0
if [ -n "${MMCV_WHEEL:-}" ]; then
    cp "$MMCV_WHEEL" "$OUT/mmcv/"
fi

case " $TASKS " in
    *" camvid "*)
        echo "== CamVid, images re-encoded as JPEG"
        QUALITY=${JPEG_QUALITY:-95}
        made=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['quality'])" \
            "$OUT/data/camvid/REENCODED.json" 2>/dev/null || true)
        if [ "$made" != "$QUALITY" ]; then  # none yet, or another quality
            rm -rf "$OUT/data/camvid"
            python3 tools/reencode_camvid.py "$DATA/camvid" "$OUT/data/camvid" \
                --quality "$QUALITY"
        fi;;
    *) rm -rf "$OUT/data/camvid";;  # keep the transfer small
esac
case " $TASKS " in
    *" bccd "*)
        echo "== BCCD"
        rm -rf "$OUT/data/bccd"
        cp -r "$DATA/bccd" "$OUT/data/bccd";;
    *) rm -rf "$OUT/data/bccd";;
esac

dirty=$(git status --porcelain -- mmresize tools configs)
echo "$(git rev-parse HEAD)${dirty:++dirty}" > "$OUT/COMMIT"
du -sh "$OUT"
size=$(du -sm "$OUT" | cut -f1)
if [ "$size" -ge 64 ]; then
    echo "warning: $size MiB is over the 64 MiB a GPU call carries; bundle" \
        "one task at a time (TASKS=camvid or TASKS=bccd)" >&2
fi
