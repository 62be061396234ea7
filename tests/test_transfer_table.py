"""The paper's transfer table as configs: DeepLabv3+ source runs of 100 /
200 / 300 epochs, their resizer extracted and frozen ahead of Light-Head
R-CNN on VOC2007, and the bilinear twin. A source run and a target train
and test on tiny data (slim backbones, ``tests.tiny_runner``); the twin,
identical but for the resizer, builds."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmresize.cli import build_runner
from mmresize.transfer import check_against_config, extract, save_atomic
from tests.tiny_runner import (
    build_shipped_model,
    evaluate_and_capture,
    split_resizer,
    tiny_config,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRANSFER = osp.join(ROOT, 'configs', 'transfer')
SOURCE = osp.join(TRANSFER, 'deeplabv3plus_r50-d8_voc12aug_0.3x_downsize_{}e.py')
TARGET = osp.join(TRANSFER,
                  'lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_{}e.py')
BILINEAR = osp.join(TRANSFER, 'lighthead_r101_voc07_0.3x_bilinear.py')
SEG_CPU = {'model.backbone.norm_cfg.type': 'BN',
           'model.decode_head.norm_cfg.type': 'BN',
           'model.auxiliary_head.norm_cfg.type': 'BN'}


@pytest.mark.parametrize('epochs', [100, 200, 300])
def test_source_schedules_are_the_stated_epochs(epochs):
    cfg = Config.fromfile(SOURCE.format(epochs))
    iters = round(epochs * 12046 / 16)  # train + aug lists, batch 16
    assert cfg.train_cfg.max_iters == iters
    assert cfg.param_scheduler[0].end == iters
    assert cfg.model.data_preprocessor.resizer.type == 'mmresize.DownsizeNet'


@pytest.fixture(scope='module')
def resizer_file(tmp_path_factory, voc_seg_root):
    """A source run (one step on tiny data) and its extracted resizer."""
    root = tmp_path_factory.mktemp('table')
    cfg = tiny_config(SOURCE.format(100), voc_seg_root, root / 'source',
                      **SEG_CPU)
    build_runner(cfg).train()  # its work dir is trusted (mmresize.trust)
    out = str(root / 'resizer.pth')
    save_atomic(extract(str(root / 'source' / 'iter_1.pth')), out)
    return out, root


@pytest.mark.parametrize('epochs', [100, 200, 300])
def test_extracted_resizer_fits_every_target(epochs, resizer_file):
    check_against_config(
        torch.load(resizer_file[0], weights_only=False),
        TARGET.format(epochs))


def test_target_trains_and_tests(resizer_file, voc_det_root):
    path, root = resizer_file
    cfg = tiny_config(TARGET.format(100), voc_det_root, root / 'target',
                      checkpoint=False)
    cfg.model.data_preprocessor.resizer.init_cfg.checkpoint = path
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics, samples = evaluate_and_capture(runner)
    assert 'pascal_voc/mAP' in metrics and samples
    ann = runner.train_dataloader.dataset.dataset.ann_file
    assert ann.endswith('VOC2007/ImageSets/Main/trainval.txt')


def test_bilinear_baseline_is_the_target_but_for_the_resizer():
    """Same model, data and schedule as the trained target above, bilinear
    interpolation in place of the frozen DownsizeNet; it builds as shipped
    (ResNet-101)."""
    resizer, rest = split_resizer(BILINEAR)
    assert rest == split_resizer(TARGET.format(100))[1]
    assert resizer == dict(type='mmresize.InterpolateResizer', mode='bilinear')
    model = build_shipped_model(BILINEAR)
    assert type(model.data_preprocessor.resizer).__name__ == \
        'InterpolateResizer'
    assert model.backbone.depth == 101
