"""Non-maximum suppression on the CPU for a GPU run whose mmcv has no CUDA ops.

mmdet's detectors call ``mmcv.ops.batched_nms``, which calls the compiled
``nms`` of ``mmcv._ext`` on the boxes' device. An mmcv built with
``FORCE_CUDA=0`` (minutes, where a CUDA build of every op takes far longer;
``.ci/device/gpu_matrix.sh`` builds one on a fresh GPU machine) has only the CPU
kernel, so a detector trained on the GPU fails at its first prediction.
:func:`route_nms_to_cpu` wraps that one entry point: boxes and scores go to
the CPU, mmcv's own CPU kernel keeps the same boxes (same greedy algorithm,
same ``iou_threshold`` and ``offset``), and the kept indices come back to the
boxes' device. Everything else of mmcv is left as it is: a detector that
needs another compiled op on the GPU (``RoIAlign`` in the Light-Head R-CNN
configs, deformable convolutions) still needs an mmcv built with CUDA. Like
the CPU kernel, the route takes float32 boxes; against a CUDA-built mmcv the
kept boxes can differ only on exactly tied scores or IoUs at the threshold.
"""
import importlib
from types import ModuleType
from typing import Any

import torch


class _CpuNmsExt:
    """Stands in for ``mmcv._ext`` inside ``mmcv.ops.nms``: ``nms`` runs on
    the CPU, every other attribute is the real extension's."""

    def __init__(self, ext: Any) -> None:
        self._ext = ext

    def nms(self, bboxes: torch.Tensor, scores: torch.Tensor,
            **kwargs: Any) -> torch.Tensor:
        """``bboxes`` (N, 4), ``scores`` (N,) on any device -> kept indices
        (K,), int64, on ``bboxes``' device, best score first."""
        keep = self._ext.nms(bboxes.cpu(), scores.cpu(), **kwargs)
        return keep.to(bboxes.device)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ext, name)


def _nms_module() -> ModuleType:
    # ``import mmcv.ops.nms`` would give the function mmcv.ops exports under
    # the module's name
    return importlib.import_module('mmcv.ops.nms')


def mmcv_has_cuda_ops() -> bool:
    """Whether the installed mmcv's compiled ops were built with CUDA."""
    from mmcv.utils import ext_loader
    ext = ext_loader.load_ext('_ext', ['get_compiling_cuda_version'])
    return ext.get_compiling_cuda_version() != 'not available'


def route_nms_to_cpu(force: bool = False) -> bool:
    """Run mmcv's ``nms`` on the CPU where CUDA is available but mmcv's ops
    were built without it (or always, with ``force``). Idempotent; returns
    whether nms now runs on the CPU. Undo with :func:`restore_nms`."""
    nms_module = _nms_module()
    if isinstance(nms_module.ext_module, _CpuNmsExt):
        return True
    if not force and not (torch.cuda.is_available()
                          and not mmcv_has_cuda_ops()):
        return False
    nms_module.ext_module = _CpuNmsExt(nms_module.ext_module)
    return True


def restore_nms() -> None:
    """Undo :func:`route_nms_to_cpu`."""
    nms_module = _nms_module()
    if isinstance(nms_module.ext_module, _CpuNmsExt):
        nms_module.ext_module = nms_module.ext_module._ext
