#!/usr/bin/env bash
# The bundle .ci/device/gpu_matrix.sh expects, made with tools/offline_bundle.sh
# under this sandbox's limits: the GPU machine's Python (3.12), one task's
# data at a time (TASKS=camvid or TASKS=bccd), CamVid as JPEG (quality 95;
# its PNGs do not fit) and a warning past the 64 MiB one call carries.
#   [TASKS=camvid|bccd] bash .ci/device/bundle.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
PYVER=${PYVER:-3.12} TASKS=${TASKS:-camvid} CAMVID_JPEG_QUALITY=${CAMVID_JPEG_QUALITY:-95} \
    MAX_MIB=${MAX_MIB:-63} exec bash tools/offline_bundle.sh "$@"
