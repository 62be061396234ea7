"""Every segmentation config builds, trains one step and tests on tiny data;
gradients, freezing and the train/test tools through the README config."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from tests.data_factory import make_cityscapes, make_voc_segmentation
from tests.tiny_runner import (
    assert_frozen_stays,
    assert_resizer_learns,
    evaluate_and_capture,
    tiny_config,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'fcn', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'deeplabv3plus', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'spnet', '*.py')))
README_CONFIG = osp.join(ROOT, 'configs', 'deeplabv3plus_downsize_voc.py')
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


def data_for(config, tmp_path):
    if 'cityscapes' in config:
        return str(make_cityscapes(tmp_path)) + '/'
    return str(make_voc_segmentation(tmp_path))


def test_every_downsize_config_has_a_bilinear_twin():
    downsize = [c for c in CONFIGS if c.endswith('_downsize.py')]
    assert len(downsize) == 6
    for config in downsize:
        assert osp.isfile(config.replace('_downsize.py', '_bilinear.py'))


@pytest.mark.parametrize('config', CONFIGS + [README_CONFIG],
                         ids=osp.basename)
def test_config_trains_and_tests(config, tmp_path):
    cfg = tiny_config(config, data_for(config, tmp_path), tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics, samples = evaluate_and_capture(runner)
    assert 'mIoU' in metrics
    for sample in samples:
        # the prediction is back at the original size, where the labels
        # are (the model saw the pipeline's image downsized)
        h, w = sample['ori_shape']
        assert tuple(sample['pred_sem_seg']['data'].shape[-2:]) == (h, w)
        assert tuple(sample['gt_sem_seg']['data'].shape[-2:]) == (h, w)


def build(tmp_path, **resizer):
    cfg = tiny_config(FCN_VOC, data_for(FCN_VOC, tmp_path), tmp_path / 'w')
    cfg.model.data_preprocessor.resizer.update(resizer)
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    return runner.model, next(iter(runner.train_dataloader)), cfg


def test_gradients_reach_downsizenet(tmp_path):
    torch.manual_seed(0)
    model, batch, _ = build(tmp_path)
    assert_resizer_learns(model, batch)


def test_frozen_resizer_stays_bitwise_equal(tmp_path):
    torch.manual_seed(0)
    model, batch, cfg = build(tmp_path, frozen=True, init='random')
    model.init_weights()
    assert_frozen_stays(model, batch, cfg.optim_wrapper,
                        model.decode_head.conv_seg.weight)


def test_readme_command_trains_then_tests(tmp_path):
    root = str(make_voc_segmentation(tmp_path))
    work = tmp_path / 'work'
    common = [
        f'train_dataloader.dataset.datasets.0.data_root={root}',
        f'train_dataloader.dataset.datasets.1.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'model.pretrained=None', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    train = ['train_cfg.max_iters=3', 'train_cfg.val_interval=1000',
             'default_hooks.checkpoint.interval=3', 'param_scheduler=[]']
    for args in ((['tools/train.py', README_CONFIG, '--work-dir', str(work),
                   '--cfg-options'] + common + train),
                 (['tools/test.py', README_CONFIG, str(work / 'iter_3.pth'),
                   '--work-dir', str(work), '--cfg-options'] + common)):
        result = subprocess.run([sys.executable, *args], cwd=ROOT,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r'mIoU: \d', result.stdout + result.stderr)
