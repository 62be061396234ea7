"""ResizerDriftHook: the resizer's distance from bilinear reaches the log."""
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.runner import Runner

from mmresize.engine.hooks import drift_from_bilinear
from tests.data_factory import make_voc_segmentation
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


def train_with_hook(tmp_path, resizer, iters=3, interval=2):
    cfg = tiny_config(FCN_VOC, str(make_voc_segmentation(tmp_path)),
                      tmp_path / 'work', iters=iters)
    cfg.model.data_preprocessor.resizer = resizer
    cfg.custom_hooks = [dict(type='ResizerDriftHook', interval=interval)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.message_hub.get_scalar('train/resizer_drift').data[0]


def test_drift_from_bilinear_by_hand():
    x = torch.rand(2, 3, 20, 30)
    bilinear = F.interpolate(x, (5, 7), mode='bilinear', align_corners=False)
    assert drift_from_bilinear(x, bilinear) == 0
    std = torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
    assert abs(drift_from_bilinear(x, bilinear + 0.5, std) - 1.0) < 1e-6


def test_bilinear_logs_zero_at_each_interval(tmp_path):
    logged = train_with_hook(
        tmp_path, dict(type='mmresize.InterpolateResizer'), iters=3)
    assert list(logged) == [0.0, 0.0]  # iterations 1 and 2 (interval 2)


def test_downsizenet_starts_near_bilinear_then_moves(tmp_path):
    torch.manual_seed(0)
    eps = 0.05
    logged = train_with_hook(
        tmp_path, dict(type='mmresize.DownsizeNet', init='near_bilinear',
                      init_eps=eps), iters=2,
        interval=1)
    assert len(logged) == 2
    # at the start: (1 - eps) bilinear + eps (neighbour mean), so the
    # distance is at most eps times the range of 0-255 images
    assert 0 < logged[0] <= eps * 255
    assert logged[1] != logged[0]
