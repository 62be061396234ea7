"""Training through the detection preprocessor: gradients, freezing, tools."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tests.tiny_runner import (
    assert_frozen_stays,
    assert_resizer_learns,
    slim_options,
    tiny_config,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REFINEDET = osp.join(ROOT, 'configs', 'refinedet',
                     'refinedet_vgg16_voc0712_300to100_downsize.py')
CENTERNET = osp.join(ROOT, 'configs', 'centernet',
                     'centernet_r18_voc0712_downsize.py')


def build(voc_root, tmp_path, **resizer):
    cfg = tiny_config(REFINEDET, voc_root, tmp_path, checkpoint=False)
    cfg.model.data_preprocessor.resizer.update(resizer)
    init_default_scope('mmdet')
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    batch = next(iter(runner.train_dataloader))
    return runner.model, batch, cfg


@pytest.mark.parametrize('init', ['random', 'near_bilinear'])
def test_gradients_reach_downsizenet(voc_det_root, tmp_path, init):
    """Detector loss -> every DownsizeNet parameter (300 -> 100, factor 3).

    Checked for both starts: at the near-bilinear one the 1x1 coefficient
    conv has a gradient and the texture convs (whose true gradient is 0
    while that conv is zero) follow after one step.
    """
    torch.manual_seed(0)
    model, batch, _ = build(voc_det_root, tmp_path, init=init)
    assert_resizer_learns(model, batch)


def test_frozen_resizer_stays_bitwise_equal(voc_det_root, tmp_path):
    torch.manual_seed(0)
    model, batch, cfg = build(voc_det_root, tmp_path, frozen=True, init='random')
    model.init_weights()
    assert_frozen_stays(model, batch, cfg.optim_wrapper,
                        next(model.bbox_head.parameters()))


def run_tool(*args, cwd, torch_home):
    """A tool, offline, with its own (empty) torch cache."""
    env = {**os.environ, 'MMRESIZE_OFFLINE': '1',
           'TORCH_HOME': str(torch_home)}
    result = subprocess.run([sys.executable, *args], cwd=cwd,
                            capture_output=True, text=True, timeout=600,
                            env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[
        -3000:]
    return result.stdout + result.stderr


def test_train_then_test_tools(voc_det_root, tmp_path):
    """train.py on the layout the pre-flight message describes (offline,
    ``--data-root``, ``--no-pretrained``), then test.py on its checkpoint;
    CenterNet, whose ResNet-18 slims (RefineDet's VGG16 trains in-process
    above and in test_det_configs)."""
    work = tmp_path / 'work'
    data = ['--data-root', voc_det_root]
    common = slim_options(CENTERNET) + [
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    train_only = [
        'train_cfg.type=IterBasedTrainLoop', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1000', 'train_cfg._delete_=True',
        'param_scheduler=[]', 'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.save_optimizer=False',
        'default_hooks.logger.interval=1'
    ]
    torch_home = tmp_path / 'torch'
    run_tool('tools/train.py', CENTERNET, *data, '--no-pretrained',
             '--work-dir', str(work), '--cfg-options', *common, *train_only,
             cwd=ROOT, torch_home=torch_home)
    checkpoint = work / 'iter_1.pth'
    assert checkpoint.is_file()
    out = run_tool('tools/test.py', CENTERNET, str(checkpoint), *data,
                   '--work-dir', str(work), '--cfg-options', *common,
                   cwd=ROOT, torch_home=torch_home)
    assert re.search(r'pascal_voc/mAP: \d', out), out[-2000:]
