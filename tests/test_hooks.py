"""ResizerGateHook: DownsizeNet's gate reaches the training log."""
import os.path as osp

import torch
from mmengine.runner import Runner

import mmresize.hooks  # noqa: F401 (registers ResizerGateHook)
from tests.data_factory import make_voc_segmentation
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


def train_with_hook(tmp_path, **resizer):
    cfg = tiny_config(FCN_VOC, str(make_voc_segmentation(tmp_path)),
                      tmp_path / 'work', iters=2)
    cfg.model.data_preprocessor.resizer.update(resizer)
    cfg.custom_hooks = [dict(type='ResizerGateHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_gate_is_logged_as_it_trains(tmp_path):
    torch.manual_seed(0)
    runner = train_with_hook(tmp_path)
    gate = runner.model.data_preprocessor.resizer.blend
    logged = runner.message_hub.get_scalar('train/resizer_gate')
    assert logged.current() == float(gate)
    assert len(logged.data[0]) == 2  # one value per iteration
    assert float(gate) != 0.0  # two steps moved it from its start


def test_resizers_without_gate_log_nothing(tmp_path):
    runner = train_with_hook(tmp_path, init='random')
    assert 'train/resizer_gate' not in runner.message_hub.log_scalars
