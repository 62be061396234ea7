"""ResizerDriftHook: the resizer's distance from bilinear reaches the log,
and it moves exactly when the resizer's weights do."""
import os.path as osp
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmresize.engine.hooks import drift_from_bilinear
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


class KeepResizerStart(Hook):
    """Keeps the resizer's state as training starts (after the runner
    initialised the weights)."""

    def before_train(self, runner) -> None:
        resizer = runner.model.data_preprocessor.resizer
        self.state = {k: v.clone() for k, v in resizer.state_dict().items()}


def same_batch_every_iteration(cfg) -> None:
    """Train on the first two images of one dataset, unaugmented, in order:
    with batch size 2 the resizer sees the same batch at every iteration,
    so its drift can change only if its weights do."""
    dataset = cfg.train_dataloader.dataset.datasets[0]
    dataset.pipeline = [dict(type='LoadImageFromFile'),
                        dict(type='LoadAnnotations'),
                        dict(type='PackSegInputs')]
    dataset.indices = 2
    cfg.train_dataloader.dataset = dataset
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=False)


def train_with_hook(root: str, work, resizer: dict, iters: int = 3,
                    interval: int = 2, fixed_batch: bool = False
                    ) -> Tuple[List[float], Dict[str, torch.Tensor],
                               Dict[str, torch.Tensor]]:
    """The logged drifts, and the resizer's state at the start and end."""
    cfg = tiny_config(FCN_VOC, root, work, iters=iters, checkpoint=False)
    cfg.model.data_preprocessor.resizer = resizer
    cfg.custom_hooks = [dict(type='ResizerDriftHook', interval=interval)]
    if fixed_batch:
        same_batch_every_iteration(cfg)
    runner = Runner.from_cfg(cfg)
    start = KeepResizerStart()
    runner.register_hook(start, priority='LOWEST')
    runner.train()
    logged = runner.message_hub.get_scalar('train/resizer_drift').data[0]
    end = runner.model.data_preprocessor.resizer.state_dict()
    return list(logged), start.state, end


def moved(start: Dict[str, torch.Tensor],
          end: Dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(start[k], end[k]) for k in start)


def test_drift_from_bilinear_by_hand():
    x = torch.rand(2, 3, 20, 30)
    bilinear = F.interpolate(x, (5, 7), mode='bilinear', align_corners=False)
    assert drift_from_bilinear(x, bilinear) == 0
    std = torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
    assert abs(drift_from_bilinear(x, bilinear + 0.5, std) - 1.0) < 1e-6


def test_bilinear_logs_zero_at_each_interval(voc_seg_root, tmp_path):
    logged, _, _ = train_with_hook(
        voc_seg_root, tmp_path / 'work',
        dict(type='mmresize.InterpolateResizer'), iters=3)
    assert logged == [0.0, 0.0]  # iterations 1 and 2 (interval 2)


def test_downsizenet_starts_near_bilinear_then_moves(voc_seg_root, tmp_path):
    torch.manual_seed(0)
    eps = 0.05
    logged, start, end = train_with_hook(
        voc_seg_root, tmp_path / 'work',
        dict(type='mmresize.DownsizeNet', init='near_bilinear',
             init_eps=eps), iters=3, interval=1, fixed_batch=True)
    assert len(logged) == 3
    # at the start: (1 - eps) bilinear + eps (neighbour mean), so the
    # distance is at most eps times the range of 0-255 images
    assert 0 < logged[0] <= eps * 255
    # the same batch each time: the drift changes because the resizer
    # trains (each value is measured before that iteration's step)
    assert moved(start, end)
    assert logged[0] != logged[1] != logged[2]


def test_frozen_resizer_drift_stays_constant(voc_seg_root, tmp_path):
    """The control: the same resizer and batches, frozen, logs one value
    throughout, so the change above is the resizer's own."""
    torch.manual_seed(0)
    logged, start, end = train_with_hook(
        voc_seg_root, tmp_path / 'work',
        dict(type='mmresize.DownsizeNet', init='near_bilinear',
             init_eps=0.05, frozen=True),
        iters=3, interval=1, fixed_batch=True)
    assert not moved(start, end)
    assert len(logged) == 3 and logged[0] > 0
    assert logged[0] == logged[1] == logged[2]
