#!/usr/bin/env bash
# One-command set-up for mmresize on a fresh Python 3.11 machine (README command 1).
#
# Installs into the active Python (a virtualenv if one is active):
#   setuptools>=77,<82, torch (2.13.0 CPU unless a torch is already installed),
#   mmcv 2.1.0 with compiled ops (from a wheel, else built from source and cached),
#   mmengine 0.10.7, mmdet 3.3.0, mmsegmentation 1.2.2, ftfy, regex, pycocotools,
#   the test tools, the ONNX export extras, and mmresize itself in editable
#   mode.
#
# Environment:
#   PYTHON               interpreter to install into (default: python3)
#   MMRESIZE_WHEEL_DIR   folder holding an mmcv-2.1.0 wheel (default: ../shared/wheels)
#   MMRESIZE_CACHE_DIR   where a wheel built from source is kept (default: ~/.cache/mmresize)
#   MMRESIZE_TORCH       torch requirement when none is installed (default: torch==2.13.0)
#   MMRESIZE_FORCE_BUILD=1  ignore wheels and build mmcv from source (for checking that path)
#   MMRESIZE_DEPLOY=0    skip the ONNX export extras (requirements/deploy.txt)
#
# Idempotent: each step first checks whether it is already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WHEEL_DIR="${MMRESIZE_WHEEL_DIR:-$here/../shared/wheels}"
CACHE_DIR="${MMRESIZE_CACHE_DIR:-$HOME/.cache/mmresize}"
TORCH_REQ="${MMRESIZE_TORCH:-torch==2.13.0}"
MMCV_VERSION=2.1.0
step="start"

fail() { echo "setup: FAILED at step '$step'. See the messages above." >&2; }
trap fail ERR
say() { step="$1"; echo "==> [$step] ${2:-}"; }
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"; }
# Python checks run from / so that this checkout is not on sys.path by accident.
pycheck() { (cd / && "$PY" "$@"); }

say python "checking the interpreter ($PY)"
"$PY" - <<'PY'
import sys
if sys.version_info[:2] < (3, 8):
    sys.exit(f"Python {sys.version.split()[0]} is too old: mmresize needs Python >= 3.8 (3.11 tested).")
PY
PYTAG="cp$("$PY" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"

say build-tools "setuptools>=77,<82 (mmcv and mmengine still import pkg_resources), wheel"
if ! pycheck - <<'PY' 2>/dev/null
import importlib.metadata as md
v = tuple(int(p) for p in md.version("setuptools").split(".")[:2])
import wheel  # noqa: F401
raise SystemExit(0 if (77, 0) <= v < (82, 0) else 1)
PY
then pip_install "setuptools>=77,<82" wheel; fi

say torch "keeping an installed torch, else $TORCH_REQ"
if pycheck -c 'import torch' 2>/dev/null; then
  echo "    torch $(pycheck -c 'import torch; print(torch.__version__)') already installed: left alone"
else
  pip_install "$TORCH_REQ"
fi

mmcv_ok() {
  pycheck - "$MMCV_VERSION" <<'PY' 2>/dev/null
import sys
import mmcv
from mmcv.ops import nms  # noqa: F401  compiled ops present
raise SystemExit(0 if mmcv.__version__ == sys.argv[1] else 1)
PY
}

find_wheel() {  # prints the first mmcv wheel for this interpreter in the given folders
  local d
  for d in "$@"; do
    [ -d "$d" ] || continue
    ls "$d"/mmcv-"$MMCV_VERSION"-"$PYTAG"-"$PYTAG"-linux_*.whl 2>/dev/null | head -n 1 && return 0
  done
  return 0
}

verify_wheel() {  # checks a wheel against SHA256SUMS beside it, where there is one
  local whl="$1" sums
  sums="$(dirname "$whl")/SHA256SUMS"
  [ -f "$sums" ] || return 0
  (cd "$(dirname "$whl")" && grep " $(basename "$whl")\$" SHA256SUMS | sha256sum -c --quiet -)
}

build_mmcv() {  # builds mmcv from the PyPI source as ../shared/wheels/README.md describes
  local work
  work="$(mktemp -d)"
  echo "    building mmcv $MMCV_VERSION from source in $work (about 20 minutes on 2 cores)"
  pip_install ninja psutil || true
  (cd "$work" \
    && "$PY" -m pip download --quiet --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" \
    && tar xzf "mmcv-$MMCV_VERSION.tar.gz" && cd "mmcv-$MMCV_VERSION" \
    && MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-2}" \
       "$PY" -m pip wheel --no-deps --no-build-isolation -w "$CACHE_DIR/wheels" .)
  rm -rf "$work"
}

say mmcv "mmcv $MMCV_VERSION with compiled ops"
if [ "${MMRESIZE_FORCE_BUILD:-0}" != 1 ] && mmcv_ok; then
  echo "    already installed"
else
  mkdir -p "$CACHE_DIR/wheels"
  whl=""
  [ "${MMRESIZE_FORCE_BUILD:-0}" = 1 ] || whl="$(find_wheel "$WHEEL_DIR" "$CACHE_DIR/wheels")"
  if [ -n "$whl" ]; then
    echo "    from wheel $whl"
    verify_wheel "$whl"
  else
    [ "${MMRESIZE_FORCE_BUILD:-0}" = 1 ] && rm -f "$CACHE_DIR"/wheels/mmcv-"$MMCV_VERSION"-*.whl
    build_mmcv
    whl="$(find_wheel "$CACHE_DIR/wheels")"
    [ -n "$whl" ] || { echo "    the build produced no wheel in $CACHE_DIR/wheels" >&2; false; }
  fi
  pip_install --no-deps --force-reinstall "$whl"
  pip_install "mmengine==0.10.7" addict packaging pyyaml yapf opencv-python-headless
  mmcv_ok || { echo "    mmcv installed but 'from mmcv.ops import nms' fails" >&2; false; }
fi

say openmmlab "mmengine, mmdet, mmsegmentation and the packages they import without declaring"
pip_install -r "$here/requirements/runtime.txt"

say tests "test tools"
pip_install -r "$here/requirements/tests.txt"

say deploy "ONNX export extras (onnx, onnxruntime, onnxscript); MMRESIZE_DEPLOY=0 skips"
if [ "${MMRESIZE_DEPLOY:-1}" != 0 ]; then pip_install -r "$here/requirements/deploy.txt"; fi

say mmresize "mmresize in editable mode, with its compiled CPU op"
if ! pycheck - "$here" <<'PY' 2>/dev/null
import os, sys, pathlib
here = pathlib.Path(sys.argv[1]).resolve()
import torch, mmresize
assert pathlib.Path(mmresize.__file__).resolve().is_relative_to(here)
if os.environ.get('MMRESIZE_WITH_OPS', '1') != '0':
    from mmresize import _ext  # built, and newer than its source
    for src in (here / 'mmresize' / 'csrc').iterdir():
        assert os.path.getmtime(_ext.__file__) >= os.path.getmtime(src)
PY
then pip_install --no-deps --no-build-isolation -e "$here"; fi

say check "importing the stack"
pycheck -c 'import torch, mmresize, mmdet, mmseg, mmcv, mmengine; from mmcv.ops import nms; from mmresize.resizers import fused; print(f"    torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmresize {mmresize.__version__} (compiled op: {fused._ext is not None})")'
trap - ERR
echo "setup: done"
