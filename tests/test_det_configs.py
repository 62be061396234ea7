"""Every detection config builds, trains one step and tests on tiny data."""
import glob
import os.path as osp

import pytest
from mmdet.datasets import CocoDataset, VOCDataset
from mmengine.runner import Runner

from tests.data_factory import make_coco_detection, make_voc_detection
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', d, '*.py'))
    for d in ('refinedet', 'centernet', 'detr'))
CONFIGS = [c for group in CONFIGS for c in group]


def test_every_downsize_config_has_a_bilinear_twin():
    downsize = {c for c in CONFIGS if c.endswith('_downsize.py')}
    assert downsize
    for config in downsize:
        assert osp.isfile(config.replace('_downsize.py', '_bilinear.py'))


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_trains_and_tests(config, tmp_path):
    if '_coco_' in config:
        root = make_coco_detection(tmp_path, CocoDataset.METAINFO['classes'])
        metric = 'coco/bbox_mAP'
    else:
        root = make_voc_detection(tmp_path, VOCDataset.METAINFO['classes'])
        metric = 'pascal_voc/mAP'
    cfg = tiny_config(config, str(root) + '/', tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert metric in metrics
    assert 0.0 <= metrics[metric] <= 100.0
