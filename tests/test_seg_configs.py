"""Every segmentation config builds as shipped; every DownsizeNet config
trains one step and tests on tiny data (with the slim backbone of
``tests.tiny_runner``; a bilinear twin differs from it only in the resizer,
which is checked); gradients, freezing and the train/test tools through the
README config."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from tests.tiny_runner import (
    assert_frozen_stays,
    assert_resizer_learns,
    build_shipped_model,
    check_bilinear_twin,
    evaluate_and_capture,
    slim_options,
    tiny_config,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'fcn', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'deeplabv3plus', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'spnet', '*.py')))
DOWNSIZE = [c for c in CONFIGS if c.endswith('_downsize.py')]
README_CONFIG = osp.join(ROOT, 'configs', 'deeplabv3plus_downsize_voc.py')
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


@pytest.fixture
def data_for(request):
    """config path -> the session's tiny dataset in that config's layout."""
    def get(config: str) -> str:
        return request.getfixturevalue(
            'cityscapes_root' if 'cityscapes' in config else 'voc_seg_root')
    return get


def test_every_downsize_config_has_a_bilinear_twin():
    assert len(DOWNSIZE) == 6
    for config in DOWNSIZE:
        check_bilinear_twin(config)


@pytest.mark.parametrize('config', CONFIGS + [README_CONFIG],
                         ids=osp.basename)
def test_shipped_config_builds(config):
    """The model as shipped: full ResNet-50, the config's resizer."""
    model = build_shipped_model(config)
    assert type(model.data_preprocessor).__name__ == \
        'DownsizeSegDataPreProcessor'
    resizer = type(model.data_preprocessor.resizer).__name__
    assert resizer == ('InterpolateResizer' if config.endswith(
        '_bilinear.py') else 'DownsizeNet')
    assert f'_r{model.backbone.depth}-' in osp.basename(config) or \
        config == README_CONFIG and model.backbone.depth == 50


@pytest.mark.parametrize('config', DOWNSIZE, ids=osp.basename)
def test_config_trains_and_tests(config, data_for, tmp_path):
    cfg = tiny_config(config, data_for(config), tmp_path / 'work',
                      checkpoint=False)
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


def build(voc_seg_root, tmp_path, **resizer):
    cfg = tiny_config(FCN_VOC, voc_seg_root, tmp_path / 'w', checkpoint=False)
    cfg.model.data_preprocessor.resizer.update(resizer)
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    return runner.model, next(iter(runner.train_dataloader)), cfg


def test_gradients_reach_downsizenet(voc_seg_root, tmp_path):
    torch.manual_seed(0)
    model, batch, _ = build(voc_seg_root, tmp_path)
    assert_resizer_learns(model, batch)


def test_frozen_resizer_stays_bitwise_equal(voc_seg_root, tmp_path):
    torch.manual_seed(0)
    model, batch, cfg = build(voc_seg_root, tmp_path, frozen=True,
                              init='random')
    model.init_weights()
    assert_frozen_stays(model, batch, cfg.optim_wrapper,
                        model.decode_head.conv_seg.weight)


def test_readme_command_trains_then_tests(voc_seg_root, tmp_path):
    """The README's two commands, data pointed by ``--cfg-options`` (the
    other way the pre-flight message names, ``--data-root``, is
    test_preflight's), the slim backbone."""
    root = voc_seg_root
    work = tmp_path / 'work'
    common = slim_options(README_CONFIG) + [
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
             'default_hooks.checkpoint.interval=3',
             'default_hooks.checkpoint.save_optimizer=False',
             'param_scheduler=[]']
    for args in ((['tools/train.py', README_CONFIG, '--work-dir', str(work),
                   '--cfg-options'] + common + train),
                 (['tools/test.py', README_CONFIG, str(work / 'iter_3.pth'),
                   '--work-dir', str(work), '--cfg-options'] + common)):
        result = subprocess.run([sys.executable, *args], cwd=ROOT,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r'mIoU: \d', result.stdout + result.stderr)
