"""The first command a user types: missing data or weights stop train.py and
test.py within seconds with what to do; --no-pretrained trains a paper
config on the layout the message describes."""
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from mmresize.preflight import point_data_root, preflight
from tests.tiny_runner import slim_options

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET = osp.join(ROOT, 'configs', 'refinedet',
               'refinedet_vgg16_voc0712_300to100_downsize.py')
SEG = osp.join(ROOT, 'configs', 'deeplabv3plus_downsize_voc.py')
CITY = osp.join(ROOT, 'configs', 'deeplabv3plus',
                'deeplabv3plus_r50-d8_cityscapes_512x1024_0.3x_downsize.py')
ONE_STEP = [  # one iteration, no workers, BN instead of SyncBN (no GPUs)
    'train_cfg.type=IterBasedTrainLoop', 'train_cfg.max_iters=1',
    'train_cfg.val_interval=1000', 'train_cfg._delete_=True',
    'param_scheduler=[]', 'default_hooks.checkpoint.by_epoch=False',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.checkpoint.save_optimizer=False',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'log_level=WARNING'
]
SYNCBN_OFF = ['model.backbone.norm_cfg.type=BN',
              'model.decode_head.norm_cfg.type=BN',
              'model.auxiliary_head.norm_cfg.type=BN']


def offline(torch_home: Path) -> dict:
    """The environment of a machine that cannot download, with its own
    (empty) torch cache."""
    return {'MMRESIZE_OFFLINE': '1', 'TORCH_HOME': str(torch_home)}


def run_tool(*args, torch_home):
    """A tool, offline, with its own (empty) torch cache."""
    return subprocess.run([sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **offline(torch_home)})


def assert_says_what_to_do(message: str, missing: Path,
                           converter: str) -> None:
    """The stop message: the missing root, the converter that makes the
    layout, the uncached weights and how to do without, in a few lines."""
    assert 'Traceback' not in message
    assert f'data root not found: {missing}' in message
    assert osp.join('.mim', 'tools', converter) in message
    # offline, and the backbone weights are not cached here
    assert 'not in the local cache' in message
    assert '--no-pretrained' in message
    assert len(message.strip().splitlines()) <= 15


@pytest.mark.parametrize('config,converter', [
    (DET, 'misc/download_dataset.py --dataset-name voc2007'),
    (SEG, 'dataset_converters/voc_aug.py'),
    (CITY, 'dataset_converters/cityscapes.py')], ids=['det', 'seg', 'city'])
def test_missing_data_message_says_what_to_do(config, converter, tmp_path,
                                              monkeypatch):
    """The message tools/train.py stops with (``--data-root`` pointed at
    nothing), per dataset kind; the command itself is the next test's."""
    for key, value in offline(tmp_path / 'torch').items():
        monkeypatch.setenv(key, value)
    missing = tmp_path / 'nowhere'
    cfg = Config.fromfile(config)
    point_data_root(cfg, str(missing))
    message = preflight(cfg, config, 'train', ('train', 'val'), True)
    assert_says_what_to_do(message, missing, converter)


def test_missing_data_stops_training_with_what_to_do(tmp_path):
    missing = tmp_path / 'nowhere'
    work = tmp_path / 'work'
    result = run_tool('tools/train.py', SEG, '--data-root', str(missing),
                      '--work-dir', str(work), torch_home=tmp_path / 'torch')
    assert result.returncode != 0
    assert_says_what_to_do(result.stderr, missing,
                           'dataset_converters/voc_aug.py')
    assert not work.exists()  # stopped before the runner was built


def test_missing_data_stops_testing(tmp_path):
    missing = tmp_path / 'nowhere'
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')
    result = run_tool('tools/test.py', SEG, str(checkpoint), '--data-root',
                      str(missing), torch_home=tmp_path / 'torch')
    assert result.returncode != 0
    assert f'data root not found: {missing}' in result.stderr
    assert 'weights' not in result.stderr  # testing loads the checkpoint


def test_no_pretrained_trains_on_the_described_layout(cityscapes_root,
                                                      tmp_path):
    """``--data-root`` on the Cityscapes layout, ``--no-pretrained``, one
    step (slim backbone). The same for a detection config:
    test_det_training.test_train_then_test_tools; VOC segmentation's
    layout: test_seg_configs.test_readme_command_trains_then_tests."""
    work = tmp_path / 'work'
    result = run_tool('tools/train.py', CITY, '--data-root', cityscapes_root,
                      '--no-pretrained', '--work-dir', str(work),
                      '--cfg-options', *ONE_STEP, *SYNCBN_OFF,
                      *slim_options(CITY), torch_home=tmp_path / 'torch')
    assert result.returncode == 0, result.stderr[-3000:]
    assert (work / 'iter_1.pth').is_file()


def test_weights_cached_reachable_or_missing(tmp_path, monkeypatch):
    from mmengine.config import Config

    from mmresize.preflight import cache_path, check_weights, strip_downloads
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    resizer = tmp_path / 'resizer.pth'
    cfg = Config(dict(model=dict(
        pretrained='open-mmlab://resnet50_v1c',
        data_preprocessor=dict(resizer=dict(init_cfg=dict(
            type='Pretrained', checkpoint=str(resizer)))))))
    url = ('https://download.openmmlab.com/pretrain/third_party/'
           'resnet50_v1c-2cccc1ad.pth')
    problems = check_weights(cfg, probe=lambda u: False)
    assert [p.line.split(':')[0] for p in problems] == [
        'weights open-mmlab', 'checkpoint not found']
    assert cache_path(url) in problems[0].line and url in problems[0].line
    assert str(resizer) in problems[1].line
    local = check_weights(cfg, probe=lambda u: u == url)
    assert len(local) == 1  # reachable: only the local file is missing
    assert local[0].line.startswith('checkpoint not found')
    assert 'tools/transfer_resizer.py' in local[0].hint
    resizer.write_bytes(b'x')
    os.makedirs(osp.dirname(cache_path(url)))
    open(cache_path(url), 'wb').close()
    assert check_weights(cfg, probe=lambda u: False) == []
    strip_downloads(cfg.model)  # --no-pretrained: the download goes only
    assert cfg.model.pretrained is None
    assert cfg.model.data_preprocessor.resizer.init_cfg.checkpoint == str(
        resizer)
