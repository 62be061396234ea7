"""Every detection config builds, trains one step and tests on tiny data."""
import glob
import os.path as osp

import pytest
from mmdet.datasets import CocoDataset, VOCDataset
from mmengine.runner import Runner

from tests.data_factory import make_coco_detection, make_voc_detection
from tests.tiny_runner import evaluate_and_capture, tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', d, '*.py'))
    for d in ('refinedet', 'centernet', 'detr', 'lighthead'))
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
    metrics, samples = evaluate_and_capture(runner)
    assert metric in metrics
    for sample in samples:
        # the model saw the downsized image, and scale_factor (pipeline
        # resize times downsizing) maps its coordinates back to the
        # original: the original image, scaled, fills the model's input up
        # to the test pipeline's padding (CenterNet pads)
        h, w = sample['ori_shape']
        img_h, img_w = sample['img_shape']
        sx, sy = sample['scale_factor']
        assert 0.75 * img_w <= sx * w <= img_w + 1
        assert 0.75 * img_h <= sy * h <= img_h + 1
        # box centres in the original image (CenterNet does not clip boxes,
        # so their corners may lie outside; a random model's centres lie
        # near its edges at most)
        boxes = sample['pred_instances']['bboxes']
        if len(boxes):
            cx = (boxes[:, 0] + boxes[:, 2]) / 2
            cy = (boxes[:, 1] + boxes[:, 3]) / 2
            assert cx.min() >= -0.2 * w and cx.max() <= 1.2 * w
            assert cy.min() >= -0.2 * h and cy.max() <= 1.2 * h
