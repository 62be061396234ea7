"""Every detection config builds as shipped; every DownsizeNet config
trains one step and tests on tiny data (with the slim backbone of
``tests.tiny_runner``; a bilinear twin differs from it only in the resizer,
which is checked)."""
import glob
import os.path as osp

import pytest
from mmengine.runner import Runner

from tests.tiny_runner import (
    build_shipped_model,
    check_bilinear_twin,
    evaluate_and_capture,
    tiny_config,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', d, '*.py'))
    for d in ('refinedet', 'centernet', 'detr', 'lighthead'))
CONFIGS = [c for group in CONFIGS for c in group]
DOWNSIZE = [c for c in CONFIGS if c.endswith('_downsize.py')]


def test_every_downsize_config_has_a_bilinear_twin():
    assert len(DOWNSIZE) == 6 and len(CONFIGS) == 12
    for config in DOWNSIZE:
        check_bilinear_twin(config)


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_shipped_config_builds(config):
    """The model as shipped: the named backbone, the config's resizer."""
    model = build_shipped_model(config)
    assert type(model.data_preprocessor).__name__ == \
        'DownsizeDetDataPreprocessor'
    resizer = type(model.data_preprocessor.resizer).__name__
    assert resizer == ('InterpolateResizer' if config.endswith(
        '_bilinear.py') else 'DownsizeNet')
    backbone = type(model.backbone).__name__
    name = osp.basename(config)
    assert f'_r{model.backbone.depth}_' in name if backbone == 'ResNet' \
        else backbone == 'SSDVGG' and '_vgg16_' in name


@pytest.mark.parametrize('config', DOWNSIZE, ids=osp.basename)
def test_config_trains_and_tests(config, request, tmp_path):
    coco = '_coco_' in config
    root = request.getfixturevalue('coco_det_root' if coco else
                                   'voc_det_root')
    metric = 'coco/bbox_mAP' if coco else 'pascal_voc/mAP'
    cfg = tiny_config(config, root, tmp_path / 'work', checkpoint=False)
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
