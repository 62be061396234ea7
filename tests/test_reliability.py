"""Multi-process training, resume, mixed precision, bad input."""
import os
import os.path as osp
import socket
import subprocess
import sys
import warnings

import pytest
import torch
from mmdet.datasets import VOCDataset
from mmengine.runner import Runner

from tests.data_factory import make_voc_detection, make_voc_segmentation
from tests.tiny_runner import slim_options, tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET = osp.join(ROOT, 'configs', 'centernet', 'centernet_r18_voc0712_downsize.py')
SEG = osp.join(ROOT, 'configs', 'fcn',
               'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')
CPU_SAFE = [  # no dataloader workers; no SyncBN (needs GPUs)
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False', 'log_level=WARNING',
    'randomness.seed=0', 'randomness.deterministic=True'
]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    return dict(det=str(make_voc_detection(
        root, VOCDataset.METAINFO['classes'], num=4)) + '/',
                seg=str(make_voc_segmentation(root, num=4)))


def data_options(kind, root):
    if kind == 'det':
        return ([f'train_dataloader.dataset.dataset.datasets.{i}.data_root='
                 f'{root}' for i in (0, 1)] +
                [f'{s}_dataloader.dataset.data_root={root}'
                 for s in ('val', 'test')] +
                ['model.backbone.init_cfg=None'])
    return ([f'train_dataloader.dataset.datasets.{i}.data_root={root}'
             for i in (0, 1)] +
            [f'{s}_dataloader.dataset.data_root={root}'
             for s in ('val', 'test')] +
            ['model.pretrained=None',
             'model.backbone.norm_cfg.type=BN',
             'model.decode_head.norm_cfg.type=BN',
             'model.auxiliary_head.norm_cfg.type=BN'])


def iter_options(iters, interval=None):
    return ['train_cfg.type=IterBasedTrainLoop', f'train_cfg.max_iters={iters}',
            'train_cfg.val_interval=1000', 'train_cfg._delete_=True',
            'param_scheduler=[]', 'default_hooks.checkpoint.by_epoch=False',
            f'default_hooks.checkpoint.interval={interval or iters}',
            'train_dataloader.batch_size=2']


def run(args, env=None):
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=900, env={**os.environ, 'PYTHONPATH': ROOT, **(env or {})})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def free_port() -> int:
    """A TCP port free now (tests may run in parallel, pytest -n)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_two_process_training_syncs_resizer_gradients(kind, data, tmp_path):
    """The resizer runs in the preprocessor, outside DDP's forward: its
    gradients must still be all-reduced."""
    config = tmp_path / 'probe.py'
    config.write_text(
        f"_base_ = ['{DET if kind == 'det' else SEG}']\n"
        "custom_imports = dict(imports=['mmresize.det', 'mmresize.seg', "
        "'tests.dist_probe'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='SaveResizerPerRankHook')]\n")
    # the slim backbone; no checkpoint (the probe hook saves the resizers)
    no_checkpoint = [o for o in iter_options(3)
                     if not o.startswith('default_hooks.checkpoint.')]
    options = (data_options(kind, data[kind]) + CPU_SAFE + no_checkpoint + [
        'default_hooks.checkpoint=None',
        'model.data_preprocessor.resizer.init=random',
        'train_dataloader.batch_size=1',
        'optim_wrapper.optimizer.lr=0.01'
    ] + slim_options(DET if kind == 'det' else SEG))
    run(['-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port()}', 'tools/train.py', str(config),
         '--launcher',
         'pytorch', '--work-dir', str(tmp_path), '--cfg-options', *options])
    load = lambda tag, r: torch.load(tmp_path / f'resizer_{tag}_rank{r}.pth')  # noqa
    start, end0, end1 = load('start', 0), load('end', 0), load('end', 1)
    for key in end0:
        assert torch.equal(end0[key], end1[key]), key  # bitwise identical
    assert any(not torch.equal(end0[k], start[k]) for k in end0)


def test_resume_equals_uninterrupted_run(data, tmp_path):
    common = (data_options('det', data['det']) + CPU_SAFE +
              ['optim_wrapper.optimizer.lr=0.001'])
    full, part = tmp_path / 'full', tmp_path / 'part'
    run(['tools/train.py', DET, '--work-dir', str(full), '--cfg-options',
         *common, *iter_options(4, 2)])
    run(['tools/train.py', DET, '--work-dir', str(part), '--cfg-options',
         *common, *iter_options(2, 2)])  # "killed" after iteration 2
    out = run(['tools/train.py', DET, '--work-dir', str(part), '--resume',
               '--cfg-options', *common, *iter_options(4, 2)])
    assert f'from path: {part}/iter_2.pth' in out  # it did resume
    a = torch.load(full / 'iter_4.pth', weights_only=False)
    b = torch.load(part / 'iter_4.pth', weights_only=False)
    assert b['meta']['iter'] == 4
    for key, value in a['state_dict'].items():
        # Same seed, deterministic mode, same data order: bitwise equal.
        assert torch.equal(value, b['state_dict'][key]), key


@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_bf16_amp_training(kind, data, tmp_path):
    from mmresize.engine.amp import BF16OptimWrapper, enable_amp
    cfg = tiny_config(DET if kind == 'det' else SEG, data[kind], tmp_path,
                      checkpoint=False)  # one step: bf16 convs are slow on CPU
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    runner = Runner.from_cfg(cfg)
    assert isinstance(runner.build_optim_wrapper(cfg.optim_wrapper),
                      BF16OptimWrapper)
    runner.train()
    resizer = runner.model.data_preprocessor.resizer
    for name, p in resizer.named_parameters():
        assert p.dtype == torch.float32 and torch.isfinite(p).all(), name
    x = torch.rand(2, 3, 120, 160)
    reference = resizer(x, (36, 48))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, coef = resizer.resize_with_coefficients(x, (36, 48))
    assert coef.dtype == torch.float32 and torch.isfinite(out).all()
    assert (out - reference).abs().max() < 0.05  # bf16 features, see README


def test_seg_bad_targets_and_nan():
    from mmseg.structures import SegDataSample

    from mmresize.seg import DownsizeSegDataPreProcessor
    bilinear = dict(type='mmresize.InterpolateResizer')
    for kwargs in (dict(), dict(target_size=(8, 8), target_scale=0.5)):
        with pytest.raises(ValueError, match='exactly one'):
            DownsizeSegDataPreProcessor(resizer=bilinear, **kwargs)
    pre = DownsizeSegDataPreProcessor(resizer=bilinear, target_scale=0.5)
    image = torch.zeros(3, 16, 16)
    image[1, 3, 3] = float('inf')
    sample = SegDataSample(metainfo=dict(img_path='broken.png',
                                         img_shape=(16, 16)))
    with pytest.raises(ValueError, match='broken.png'):
        pre(dict(inputs=[image], data_samples=[sample]), False)


def test_one_channel_image_is_refused():
    from mmresize.resizers import DownsizeNet
    with pytest.raises(ValueError, match='1 channels'):
        DownsizeNet()(torch.rand(1, 1, 20, 20), (5, 5))


def test_bad_boxes_are_dropped_with_a_warning(tmp_path):
    """A zero-area box, an out-of-image box and an image without objects:
    training goes on; the bad boxes are dropped, naming the file."""
    root = make_voc_detection(tmp_path, VOCDataset.METAINFO['classes'],
                              num=2)
    ann = root / 'VOC2007' / 'Annotations' / '2007_000000.xml'
    text = ann.read_text()
    bad = ('<object><name>dog</name><difficult>0</difficult><bndbox><xmin>40'
           '</xmin><ymin>50</ymin><xmax>40</xmax><ymax>80</ymax></bndbox>'
           '</object><object><name>cat</name><difficult>0</difficult><bndbox>'
           '<xmin>500</xmin><ymin>10</ymin><xmax>520</xmax><ymax>30</ymax>'
           '</bndbox></object>')
    ann.write_text(text.replace('</annotation>', bad + '</annotation>'))
    empty = root / 'VOC2007' / 'Annotations' / '2007_000001.xml'
    head = empty.read_text().split('<object>')[0]
    empty.write_text(head + '</annotation>')
    cfg = tiny_config(DET, str(root) + '/', tmp_path / 'work', iters=2,
                      checkpoint=False)
    pipeline = cfg.train_dataloader.dataset.dataset.datasets[0].pipeline
    assert any(t['type'] == 'DropInvalidBoxes' for t in pipeline)
    for dataset in cfg.train_dataloader.dataset.dataset.datasets:
        dataset.filter_cfg = None  # keep the empty image too
    # both annotated files in the first batch
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    runner = Runner.from_cfg(cfg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        runner.train()
    messages = [str(w.message) for w in caught]
    assert any('2007_000000.jpg: dropped 2 box(es)' in m for m in messages), \
        messages
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_missing_data_root_names_the_path(tmp_path):
    missing = str(tmp_path / 'no_such_voc') + '/'
    cfg = tiny_config(DET, missing, tmp_path / 'work', checkpoint=False)
    with pytest.raises(Exception, match='no_such_voc'):
        Runner.from_cfg(cfg).train()


def test_unreadable_image_names_the_path(tmp_path):
    root = make_voc_detection(tmp_path, VOCDataset.METAINFO['classes'],
                              num=2)
    for year in (2007, 2012):
        (root / f'VOC{year}' / 'JPEGImages' /
         f'{year}_000000.jpg').write_bytes(b'not a jpeg')
    cfg = tiny_config(DET, str(root) + '/', tmp_path / 'work',
                      checkpoint=False)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    with pytest.raises(Exception, match='_000000.jpg'):
        Runner.from_cfg(cfg).train()
