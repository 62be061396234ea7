"""The real-data benchmark configs: missing data is explained; with the
real data present (tests/real_data.py) they train and test a step on it."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tests import real_data
from tests.tiny_runner import unformatted

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {  # name -> (config, dataset folder)
    'camvid': ('camvid_deeplabv3plus_r18_os16.py', 'camvid'),
    'camvid-fcn': ('camvid_fcn_r18_os16.py', 'camvid'),
    'bccd-centernet': ('bccd_centernet_r18.py', 'bccd'),
    'bccd': ('bccd_refinedet_r18.py', 'bccd'),
    'bccd-lighthead': ('bccd_lighthead_r18.py', 'bccd'),
    'camvid-spnet': ('camvid_spnet_r18_os16.py', 'camvid'),
    'camvid-lite0': ('camvid_deeplabv3plus_lite0.py', 'camvid'),
    'bccd-lite0': ('bccd_refinedet_lite0.py', 'bccd'),
    'camvid-fcn-lite0': ('camvid_fcn_lite0.py', 'camvid'),
    'camvid-lite0-zoom': ('camvid_deeplabv3plus_lite0_zoom.py', 'camvid'),
    'bccd-lite0-zoom': ('bccd_refinedet_lite0_zoom.py', 'bccd'),
}
PRETRAINED = ['camvid-lite0', 'bccd-lite0', 'camvid-fcn-lite0',
              'camvid-lite0-zoom', 'bccd-lite0-zoom']


def config_path(name: str) -> str:
    return osp.join(ROOT, 'configs', 'benchmarks', CONFIGS[name][0])



@pytest.mark.parametrize('task', list(CONFIGS))
def test_missing_data_says_where_it_goes(task, tmp_path, monkeypatch):
    monkeypatch.setenv('MMRESIZE_DATA', str(tmp_path))
    cfg = Config.fromfile(config_path(task))
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(cfg.train_dataloader.dataset)
    assert str(tmp_path / CONFIGS[task][1]) in str(err.value)
    assert 'MMRESIZE_DATA' in str(err.value)


def one_step(path: str, work_dir: str) -> Config:
    """The config at ``path``, cut to one training step and a test on 3
    images, in-process data loading, a checkpoint at the step."""
    cfg = unformatted(Config.fromfile(path))
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = 1
    cfg.param_scheduler = []
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.indices = 3
    cfg.default_hooks.checkpoint.interval = 1
    return cfg


@pytest.mark.parametrize('task', list(CONFIGS))
def test_real_data_step(task, tmp_path, monkeypatch):
    data = CONFIGS[task][1]
    real_data.require(data)
    monkeypatch.setenv('MMRESIZE_DATA', real_data.data_root())
    runner = Runner.from_cfg(one_step(config_path(task), str(tmp_path)))
    runner.train()
    metrics = runner.test()
    per_class = [v for k, v in metrics.items() if 'IoU.' in k or 'AP.' in k]
    assert len(per_class) == (11 if data == 'camvid' else 3)
    # the per-class scores are the ones the headline metric averages
    known = [v for v in per_class if not np.isnan(v)]
    if data == 'camvid':
        assert np.mean(known) == pytest.approx(metrics['mIoU'], abs=0.01)
    else:
        assert np.mean(known) == pytest.approx(
            100 * metrics['pascal_voc/mAP'], abs=0.01)
    assert os.path.isfile(tmp_path / 'iter_1.pth')


@pytest.mark.parametrize('task', PRETRAINED)
def test_pretrained_tasks_start_from_the_imagenet_weights(task):
    from mmengine.registry import MODELS

    import mmresize.det  # noqa: F401
    import mmresize.seg  # noqa: F401
    from mmresize.models.efficientnet_lite_weights import load_imagenet_weights
    cfg = Config.fromfile(config_path(task))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()
    imagenet = load_imagenet_weights('lite0')
    backbone = model.backbone.state_dict()
    assert set(backbone) <= set(imagenet)
    for key, value in backbone.items():
        assert torch.equal(value, imagenet[key]), key
    # the normalisation the weights were trained with
    assert cfg.model.data_preprocessor.mean == [127.0] * 3
    assert cfg.model.data_preprocessor.std == [128.0] * 3


def random_batch(task: str) -> dict:
    """Two random images with labels the task's model trains on."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData, PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    h, w = (120, 160)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g,
                                    dtype=torch.uint8))
        meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.))
        if task.startswith('camvid'):
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=torch.randint(
                0, 11, (1, h, w), generator=g))
        else:
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[10., 12., 70., 60.], [80., 30., 150., 110.]]),
                labels=torch.tensor([0, 1]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('task', PRETRAINED)
def test_pretrained_tasks_train_a_step_on_random_images(task):
    """Runs everywhere (no dataset): the loss reaches the backbone and the
    resizer."""
    from mmengine.registry import MODELS

    import mmresize.det  # noqa: F401
    import mmresize.seg  # noqa: F401
    cfg = Config.fromfile(config_path(task))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    # as the runner does: the ImageNet weights, and SSDNeck's L2Norm (its
    # weight is uninitialised memory until init_weights sets it)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(random_batch(task), True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(loss)
    loss.backward()
    for part in (model.backbone.stem, model.data_preprocessor.resizer):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert grads and any(g is not None and g.abs().sum() > 0
                             for g in grads)


def test_camvid_det_task_trains_and_tests_on_boxes_derived_from_camvid(
        tmp_path, monkeypatch):
    """The transfer study's CamVidDet target: boxes derived from the real
    CamVid label maps (mmresize.datasets.camvid_boxes), a step of training
    and the test set's four per-class APs."""
    from mmresize.datasets.camvid_boxes import convert
    camvid = real_data.require('camvid')
    convert(camvid, str(tmp_path / 'camvid_det'))
    monkeypatch.setenv('MMRESIZE_DATA', str(tmp_path))
    cfg = one_step(osp.join(ROOT, 'configs', 'benchmarks',
                            'camvid_det_refinedet_lite0.py'),
                   str(tmp_path / 'work'))
    cfg.model.backbone.init_cfg = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    per_class = {k: v for k, v in metrics.items() if 'AP.' in k}
    assert sorted(k.rsplit('.', 1)[1] for k in per_class) == sorted(
        ['Car', 'Pedestrian', 'Bicyclist', 'SignSymbol'])


@pytest.mark.parametrize(
    'task', [t for t, (_, data) in CONFIGS.items() if data == 'camvid'])
def test_camvid_evaluators_ignore_void(task):
    """mmseg's IoUMetric has its own ignore_index (255 by default): left
    unset, the predictions on CamVid's void pixels (label 11) counted in
    every class's union."""
    import inspect

    from mmresize.datasets.camvid import CamVidDataset
    cfg = Config.fromfile(config_path(task))
    void = cfg.test_dataloader.dataset.get(
        'ignore_index',
        inspect.signature(CamVidDataset).parameters['ignore_index'].default)
    assert void == 11
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        for metric in (evaluator if isinstance(evaluator, list)
                       else [evaluator]):
            assert metric.get('ignore_index', 255) == void, (task, metric)
