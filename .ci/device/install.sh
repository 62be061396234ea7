# Sourced by the device drivers (gpu_matrix.sh, gpu_resizers.sh): installs
# the bundle's wheels into $SITE (nothing fetched) and gets mmcv 2.1.0
# working: the bundle's prebuilt wheel if it imports with this torch, else
# its compiled ops built for the CPU from source (mmseg imports mmcv.ops at
# import time; DeepLabv3+ runs no mmcv op on the GPU, and the detectors' nms
# then runs on the CPU: mmresize/engine/cpu_nms.py). Needs $BUNDLE, $SITE
# and the functions say / elapsed; exports PYTHONPATH.
say "host: $(nproc) CPUs; $(python3 -V); torch $(python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")')"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target "$SITE" "$BUNDLE"/wheels/*.whl || exit 1
export PYTHONPATH="$SITE:$PWD"
say "wheels installed"

mmcv_ok() { python3 -c 'import mmcv, mmcv.ops; print("mmcv", mmcv.__version__, "ops ok")'; }
if ! mmcv_ok 2>/dev/null; then
    for wheel in "$BUNDLE"/mmcv/*.whl; do
        [ -f "$wheel" ] || continue
        python3 -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target "$SITE" "$wheel"
    done
    if ! mmcv_ok; then
        say "no prebuilt mmcv that imports here: building its CPU ops"
        rm -rf "$SITE"/mmcv "$SITE"/mmcv-*.dist-info
        tar xzf "$BUNDLE"/mmcv/mmcv-2.1.0.tar.gz -C /tmp
        (cd /tmp/mmcv-2.1.0 && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 \
            FORCE_CUDA=0 MAX_JOBS=$(nproc) \
            python3 setup.py -q build_ext --inplace > /tmp/mmcv-build.log 2>&1) \
            || { tail -30 /tmp/mmcv-build.log; exit 1; }
        export PYTHONPATH="$SITE:/tmp/mmcv-2.1.0:$PWD"
        mmcv_ok || exit 1
    fi
fi
say "mmcv ready"
