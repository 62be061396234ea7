"""nms on the CPU for GPU runs whose mmcv lacks CUDA ops
(mmresize.engine.cpu_nms): same boxes kept as mmcv's own nms, against a
hand-computed case; installed only where it is needed; undone cleanly."""
import importlib

import pytest
import torch
from mmcv.ops import batched_nms, nms

from mmresize.engine.cpu_nms import (
    _CpuNmsExt,
    mmcv_has_cuda_ops,
    restore_nms,
    route_nms_to_cpu,
)

NMS_MODULE = importlib.import_module('mmcv.ops.nms')


@pytest.fixture
def forced():
    assert route_nms_to_cpu(force=True)
    yield
    restore_nms()


def _random_boxes(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 80
    wh = torch.rand(n, 2, generator=g) * 30 + 2
    return (torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g),
            torch.randint(0, 3, (n, ), generator=g))


def test_installed_only_on_a_gpu_whose_mmcv_lacks_cuda_ops():
    needed = torch.cuda.is_available() and not mmcv_has_cuda_ops()
    assert route_nms_to_cpu() is needed
    assert isinstance(NMS_MODULE.ext_module, _CpuNmsExt) is needed
    restore_nms()
    assert not isinstance(NMS_MODULE.ext_module, _CpuNmsExt)


def test_hand_computed_case(forced):
    # box 1 overlaps box 0 with IoU 81/119 > 0.5 and scores lower: dropped;
    # box 2 is disjoint: kept
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert torch.equal(dets[:, 4], torch.tensor([0.9, 0.7]))
    assert keep.dtype == torch.int64 and keep.device == boxes.device


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_same_boxes_as_mmcv(seed):
    boxes, scores, labels = _random_boxes(200, seed)
    cfg = dict(type='nms', iou_threshold=0.45)
    want_dets, want_keep = batched_nms(boxes, scores, labels, cfg)
    route_nms_to_cpu(force=True)
    try:
        dets, keep = batched_nms(boxes, scores, labels, cfg)
    finally:
        restore_nms()
    assert torch.equal(keep, want_keep)
    assert torch.equal(dets, want_dets)


def test_idempotent_and_other_ops_untouched(forced):
    real = NMS_MODULE.ext_module._ext
    assert route_nms_to_cpu(force=True)  # a second call wraps nothing more
    assert NMS_MODULE.ext_module._ext is real
    assert NMS_MODULE.ext_module.softnms is real.softnms
    restore_nms()
    restore_nms()  # undoing twice is harmless
    assert NMS_MODULE.ext_module is real
