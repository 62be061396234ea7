"""nms on the CPU for GPU runs whose mmcv lacks CUDA ops
(mmresize.engine.cpu_nms): same boxes kept as mmcv's own nms, against a
hand-computed case; installed only where it is needed; undone cleanly."""
import importlib

import pytest
import torch
from mmcv.ops import batched_nms, nms

from mmresize.engine import cpu_nms
from mmresize.engine.cpu_nms import (
    _CpuNmsExt,
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


@pytest.mark.parametrize('cuda,cuda_ops,installed', [
    (True, False, True),  # a GPU, mmcv without CUDA ops: route
    (True, True, False),  # a GPU and a CUDA-built mmcv: leave it
    (False, False, False),  # no GPU: nothing to route
])
def test_installed_only_on_a_gpu_whose_mmcv_lacks_cuda_ops(
        monkeypatch, cuda, cuda_ops, installed):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(cpu_nms, 'mmcv_has_cuda_ops', lambda: cuda_ops)
    try:
        assert route_nms_to_cpu() is installed
        assert isinstance(NMS_MODULE.ext_module, _CpuNmsExt) is installed
    finally:
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


@pytest.mark.parametrize('seed,split_thr', [(0, 10000), (1, 10000),
                                             (2, 50)])
def test_same_boxes_as_mmcv(seed, split_thr):
    # split_thr 50 < 200 boxes: batched_nms's per-class loop
    boxes, scores, labels = _random_boxes(200, seed)
    cfg = dict(type='nms', iou_threshold=0.45, split_thr=split_thr)
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


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason='needs a GPU: CUDA tensors through the CPU route')
@pytest.mark.parametrize('score_thr', [0.0, 0.3])
def test_cuda_boxes_come_back_on_the_gpu(forced, score_thr):
    boxes, scores, labels = _random_boxes(300, 3)
    cfg = dict(type='nms', iou_threshold=0.45, score_threshold=score_thr)
    dets, keep = batched_nms(boxes.cuda(), scores.cuda(), labels.cuda(), cfg)
    want_dets, want_keep = batched_nms(boxes, scores, labels, cfg)
    assert keep.device.type == 'cuda' and dets.device.type == 'cuda'
    assert torch.equal(keep.cpu(), want_keep)
    assert torch.equal(dets.cpu(), want_dets)
