"""tools/transfer_resizer.py and loading a frozen transferred resizer."""
import hashlib
import os.path as osp

import pytest
import torch
from mmdet.datasets import VOCDataset
from mmengine.runner import Runner

from mmresize.cli import build_runner
from mmresize.transfer import ResizerCheckpointError, extract
from tests.data_factory import make_voc_detection, make_voc_segmentation
from tests.tiny_runner import tiny_config
from tools.transfer_resizer import main as transfer

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(ROOT, 'configs')
DET_SOURCE = osp.join(CFG, 'centernet', 'centernet_r18_voc0712_downsize.py')
SEG_SOURCE = osp.join(CFG, 'deeplabv3plus_downsize_voc.py')
DET_TARGET = osp.join(
    CFG, 'transfer', 'centernet_r18_voc0712_0.3x_frozen_from_deeplabv3plus.py')
SEG_TARGET = osp.join(
    CFG, 'transfer', 'deeplabv3plus_r50-d8_voc12aug_0.3x_frozen_from_centernet.py')
BILINEAR_DET = osp.join(CFG, 'centernet', 'centernet_r18_voc0712_bilinear.py')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    det = str(make_voc_detection(root, VOCDataset.METAINFO['classes'])) + '/'
    seg = str(make_voc_segmentation(root))
    return dict(det=det, seg=seg, root=root)


def train(config, data_root, work_dir, iters=2, **overrides):
    """Train as tools/train.py does: its work dir is the user's own, so
    its checkpoints may be unpickled fully (``mmresize.trust``)."""
    cfg = tiny_config(config, data_root, work_dir, iters=iters, **overrides)
    runner = build_runner(cfg)
    runner.train()
    return runner, osp.join(str(work_dir), f'iter_{iters}.pth')


@pytest.fixture(scope='module')
def det_checkpoint(data):
    # init='random' so the transferred weights are not the trivial start
    runner, path = train(DET_SOURCE, data['det'], data['root'] / 'det_src',
                         **{'model.data_preprocessor.target_scale': 0.3,
                            'model.data_preprocessor.resizer.init': 'random'})
    return path, runner.model.data_preprocessor.resizer.state_dict()


@pytest.fixture(scope='module')
def seg_checkpoint(data):
    runner, path = train(SEG_SOURCE, data['seg'], data['root'] / 'seg_src',
                         iters=1,
                         **{'model.data_preprocessor.resizer.init': 'random'})
    return path, runner.model.data_preprocessor.resizer.state_dict()


def sha(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


@pytest.mark.parametrize('direction', ['det_to_seg', 'seg_to_det'])
def test_round_trip_and_frozen_training(direction, data, tmp_path, request):
    source = request.getfixturevalue(
        'det_checkpoint' if direction == 'det_to_seg' else 'seg_checkpoint')
    path, source_state = source
    target, root = ((SEG_TARGET, data['seg']) if direction == 'det_to_seg'
                    else (DET_TARGET, data['det']))
    before = sha(path)
    out = str(tmp_path / 'resizer.pth')
    # the recorded args say init='random'; a target asking for
    # 'near_bilinear' is refused
    mismatch = write_config(tmp_path, target, init='near_bilinear')
    assert transfer([path, out, '--check', mismatch]) == 1
    assert not osp.exists(out)
    assert transfer([path, out]) == 0
    assert sha(path) == before  # the source is only read
    cfg = tiny_config(target, root, tmp_path / 'target', iters=3)
    cfg.model.data_preprocessor.resizer.init = 'random'
    cfg.model.data_preprocessor.resizer.init_cfg.checkpoint = out
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    resizer = runner.model.data_preprocessor.resizer
    for key, value in source_state.items():
        assert torch.equal(resizer.state_dict()[key], value), key
    x = torch.rand(1, 3, 64, 80)
    from mmresize.registry import MODELS
    original = MODELS.build(dict(type='mmresize.DownsizeNet', init='random'))
    original.load_state_dict(source_state)
    assert torch.equal(resizer(x, (19, 24)), original(x, (19, 24)))
    # frozen through training: bitwise unchanged, absent from the optimizer
    others = {k: v.clone() for k, v in runner.model.state_dict().items()
              if 'resizer' not in k and v.is_floating_point()}
    runner.train()
    for key, value in source_state.items():
        assert torch.equal(resizer.state_dict()[key], value), key
    changed = [k for k, v in runner.model.state_dict().items()
               if k in others and not torch.equal(v, others[k])]
    assert changed, 'the task model did not train'
    in_optimizer = {id(p) for group in runner.optim_wrapper.param_groups
                    for p in group['params']}
    assert not any(id(p) in in_optimizer for p in resizer.parameters())
    assert 'data_preprocessor.resizer.convs.0.weight' in torch.load(
        tmp_path / 'target' / 'iter_3.pth', weights_only=False)['state_dict']


def write_config(tmp_path, base, **resizer):
    path = tmp_path / 'target.py'
    items = ', '.join(f'{k}={v!r}' for k, v in resizer.items())
    path.write_text(f"_base_ = ['{base}']\nmodel = dict(data_preprocessor="
                    f"dict(resizer=dict({items})))\n")
    return str(path)


@pytest.mark.parametrize('change,key', [(dict(num_convs=3), 'num_convs'),
                                        (dict(kernel='bicubic'), 'kernel'),
                                        (dict(feat_channels=8),
                                         'feat_channels')])
def test_mismatch_is_refused_and_nothing_written(change, key, det_checkpoint,
                                                 tmp_path, capsys):
    path, _ = det_checkpoint
    target = write_config(tmp_path, SEG_TARGET, init='random', **change)
    out = tmp_path / 'resizer.pth'
    assert transfer([path, str(out), '--check', target]) == 1
    err = capsys.readouterr().err
    assert f'{key}: checkpoint' in err and 'does not match' in err
    assert not out.exists()
    matching = write_config(tmp_path, SEG_TARGET, init='random')
    assert transfer([path, str(out), '--check', matching]) == 0


def test_no_overwrite_without_force(det_checkpoint, tmp_path, capsys):
    path, _ = det_checkpoint
    out = tmp_path / 'resizer.pth'
    out.write_bytes(b'user file')
    assert transfer([path, str(out)]) == 1
    assert '--force' in capsys.readouterr().err
    assert out.read_bytes() == b'user file'
    assert transfer([path, str(out), '--force']) == 0
    assert extract(path)['meta']['mmresize_resizer']['sha256'] == torch.load(
        out, weights_only=False)['meta']['mmresize_resizer']['sha256']


def test_write_is_atomic(det_checkpoint, tmp_path, monkeypatch):
    path, _ = det_checkpoint

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'half a file')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        transfer([path, str(tmp_path / 'resizer.pth')])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('case', ['corrupt', 'no_resizer', 'bilinear',
                                  'missing', 'ema', 'gated', 'gated_args'])
def test_bad_sources_give_clear_errors(case, det_checkpoint, data, tmp_path,
                                       capsys):
    path, _ = det_checkpoint
    if case == 'corrupt':
        path = str(tmp_path / 'corrupt.pth')
        open(path, 'wb').write(b'\x80\x02 not a checkpoint')
        message = 'cannot read'
    elif case == 'no_resizer':
        checkpoint = torch.load(det_checkpoint[0], weights_only=False)
        checkpoint['state_dict'] = {
            k: v for k, v in checkpoint['state_dict'].items()
            if 'resizer' not in k}
        path = str(tmp_path / 'no_resizer.pth')
        torch.save(checkpoint, path)
        message = 'no resizer weights'
    elif case == 'bilinear':
        _, path = train(BILINEAR_DET, data['det'], tmp_path / 'bilinear',
                        iters=1)
        message = 'fixed interpolation'
    elif case == 'missing':
        path = str(tmp_path / 'nowhere.pth')
        message = 'does not exist'
    elif case == 'gated':  # a task checkpoint of mmresize 0.1
        path = gated(det_checkpoint[0], tmp_path, 'data_preprocessor.resizer.')
        message = 'mmresize 0.1 gated DownsizeNet checkpoint (its gate g = -0.078)'
    elif case == 'gated_args':  # its config names the gated start
        checkpoint = torch.load(det_checkpoint[0], weights_only=False)
        config = checkpoint['meta']['cfg']
        assert "init='random'" in config
        checkpoint['meta']['cfg'] = config.replace(
            "init='random'", "init='interp', learned_start='prior'")
        path = str(tmp_path / 'gated_args.pth')
        torch.save(checkpoint, path)
        message = 'mmresize 0.1 gated DownsizeNet checkpoint. Its'
    else:
        message = 'no EMA weights'
    # files made here are the user's own: full unpickling is allowed
    args = [path, str(tmp_path / 'out.pth'), '--trust-checkpoint'] + (
        ['--ema'] if case == 'ema' else [])
    assert transfer(args) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()


def gated(path: str, tmp_path, prefix: str = '') -> str:
    """A copy of a checkpoint as mmresize 0.1's gated DownsizeNet wrote it:
    the same weights plus the gate ``blend``."""
    checkpoint = torch.load(path, weights_only=False)
    checkpoint['state_dict'][prefix + 'blend'] = torch.tensor(-0.078)
    out = str(tmp_path / 'gated.pth')
    torch.save(checkpoint, out)
    return out


GATED_ERROR = (r"mmresize 0.1 gated DownsizeNet checkpoint.*cannot be "
               r"converted exactly: retrain.*g <= 0 was exactly bilinear "
               r"interpolation: use InterpolateResizer\(mode='bilinear'\)")


@pytest.mark.parametrize('old', ['weights', 'arguments'])
def test_gated_transfer_file_is_refused_naming_the_change(old, det_checkpoint,
                                                          tmp_path):
    """A transfer file of mmresize 0.1: its gate ``blend`` among the
    weights, or the gated start's arguments in its record."""
    out = str(tmp_path / 'resizer.pth')
    assert transfer([det_checkpoint[0], out]) == 0
    if old == 'weights':
        path = gated(out, tmp_path)
    else:
        checkpoint = torch.load(out, weights_only=True)
        checkpoint['meta']['mmresize_resizer']['args'].update(
            init='interp', learned_start='prior')
        path = str(tmp_path / 'gated_args.pth')
        torch.save(checkpoint, path)
    from mmresize.resizers import DownsizeNet
    resizer = DownsizeNet(init='random', init_cfg=dict(
        type='Pretrained', checkpoint=path))
    with pytest.raises(ResizerCheckpointError, match=GATED_ERROR):
        resizer.init_weights()
    assert transfer([det_checkpoint[0], out, '--force']) == 0
    resizer = DownsizeNet(init='random', init_cfg=dict(
        type='Pretrained', checkpoint=out))
    resizer.init_weights()  # the same file without the gate loads


def test_loading_checks_type_args_and_checksum(det_checkpoint, tmp_path):
    path, _ = det_checkpoint
    out = str(tmp_path / 'resizer.pth')
    assert transfer([path, out]) == 0
    from mmresize.resizers import DownsizeNet
    pretrained = dict(type='Pretrained', checkpoint=out)
    wrong = DownsizeNet(num_convs=3, init='random', init_cfg=pretrained)
    with pytest.raises(ResizerCheckpointError, match='num_convs'):
        wrong.init_weights()
    checkpoint = torch.load(out, weights_only=False)
    checkpoint['state_dict']['convs.0.bias'] += 1
    torch.save(checkpoint, out)
    right = DownsizeNet(init='random', init_cfg=pretrained)
    with pytest.raises(ResizerCheckpointError, match='checksum'):
        right.init_weights()


def standalone(config, checkpoint):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmresize.transfer import standalone_preprocessor
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    return standalone_preprocessor(cfg.model.data_preprocessor, checkpoint)


def test_standalone_preprocessor_reads_task_and_resizer_checkpoints(
        det_checkpoint, tmp_path):
    """The trained weights, from the task checkpoint and from the resizer
    checkpoint extracted from it, against the training run's own."""
    path, trained = det_checkpoint
    resizer_file = str(tmp_path / 'resizer.pth')
    torch.save(extract(path), resizer_file)
    for source in (path, resizer_file):
        pre = standalone(DET_SOURCE, source)
        assert not pre.training
        got = pre.resizer.state_dict()
        assert set(got) == set(trained)
        for key, value in trained.items():
            assert torch.equal(got[key], value), (source, key)


@pytest.mark.parametrize('meta', [dict(cfg='model = dict()'), None])
def test_standalone_preprocessor_of_a_fixed_resizer(meta, tmp_path):
    """A task checkpoint (or a bare model state dict) whose resizer is an
    interpolation holds no resizer weights; the model's other weights are
    not loaded into the resizer."""
    path = str(tmp_path / 'bilinear_task.pth')
    state = {'backbone.conv1.weight': torch.ones(2, 3)}
    torch.save(state if meta is None else dict(meta=meta, state_dict=state),
               path)
    pre = standalone(BILINEAR_DET, path)
    x = torch.rand(1, 3, 20, 30)
    assert torch.equal(pre.resizer(x, (10, 15)),
                       torch.nn.functional.interpolate(
                           x, (10, 15), mode='bilinear', align_corners=False))


def test_standalone_preprocessor_takes_the_ema_weights(det_checkpoint,
                                                        tmp_path):
    """EMAHook's layout: ``state_dict`` holds the average, ``ema_state_dict``
    the raw weights under ``module.``; the average is what is looked at."""
    _, trained = det_checkpoint
    ema = {f'data_preprocessor.resizer.{k}': v + 1.0
           for k, v in trained.items()}
    raw = {f'module.data_preprocessor.resizer.{k}': v
           for k, v in trained.items()}
    path = str(tmp_path / 'ema.pth')
    torch.save(dict(meta=dict(cfg='model = dict()'), state_dict=ema,
                    ema_state_dict=dict(steps=torch.tensor(3), **raw)), path)
    got = standalone(DET_SOURCE, path).resizer.state_dict()
    for key, value in trained.items():
        assert torch.equal(got[key], value + 1.0), key


def test_standalone_preprocessor_refuses_a_changed_resizer_file(
        det_checkpoint, tmp_path):
    path, _ = det_checkpoint
    record = extract(path)
    key = next(iter(record['state_dict']))
    record['state_dict'][key] = record['state_dict'][key] + 1e-3
    changed = str(tmp_path / 'changed.pth')
    torch.save(record, changed)
    with pytest.raises(ResizerCheckpointError, match='checksum'):
        standalone(DET_SOURCE, changed)


def test_standalone_preprocessor_accepts_a_warp(tmp_path):
    """Outside a model nothing is scored: a LearnedZoom batch is allowed
    (a plain preprocessor of a model that does not unwarp refuses it)."""
    from mmresize.resizers import LearnedZoom
    from mmresize.seg import DownsizeSegDataPreProcessor
    torch.manual_seed(0)
    zoom = LearnedZoom()
    with torch.no_grad():
        for p in zoom.parameters():
            p.add_(3.0 * torch.randn_like(p))
    path = str(tmp_path / 'zoom.pth')
    torch.save(zoom.state_dict(), path)
    pre_cfg = dict(type='DownsizeSegDataPreProcessor',
                   resizer=dict(type='mmresize.LearnedZoom', frozen=True),
                   target_scale=0.5, mean=[0., 0., 0.], std=[1., 1., 1.])
    from mmengine.registry import init_default_scope

    import mmresize.seg  # noqa: F401
    from mmresize.transfer import standalone_preprocessor
    init_default_scope('mmseg')
    pre = standalone_preprocessor(pre_cfg, path)
    batch = dict(inputs=[torch.rand(3, 40, 60) * 255])
    out = pre(batch, False)['inputs']
    assert out.shape == (1, 3, 20, 30)
    assert pre.last_warp() is not None
    plain = DownsizeSegDataPreProcessor(
        resizer=zoom, target_scale=0.5, mean=[0., 0., 0.],
        std=[1., 1., 1.]).eval()
    with pytest.raises(RuntimeError, match='does not unwarp'):
        plain(batch, False)
