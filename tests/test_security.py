"""Loading files others send: nothing in them runs (``mmresize.trust``).

Each test hands mmresize a crafted checkpoint whose unpickling would create
a marker file, and checks that loading is refused with a clear error and
that the marker does not exist; the control shows that unpickling the same
file fully does create it.
"""
import os
import os.path as osp

import pytest
import torch
from mmdet.datasets import VOCDataset
from mmengine.runner import load_checkpoint

from mmresize.cli import build_runner
from mmresize.resizers import DownsizeNet
from mmresize.resizers.checkpoint import (
    ResizerCheckpointError,
    load_local,
    trust_local_checkpoints,
)
from mmresize.transfer import save_atomic
from mmresize.trust import (
    TRUSTED_DIRS_ENV,
    UntrustedCheckpointError,
    is_trusted,
    trust_dir,
)
from tests.data_factory import make_voc_detection
from tests.tiny_runner import tiny_config
from tools.transfer_resizer import main as transfer

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET = osp.join(ROOT, 'configs', 'centernet',
               'centernet_r18_voc0712_downsize.py')


class Payload:
    """Unpickling it creates the file ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").close()', )


def crafted(folder, name='crafted.pth', legacy=False):
    """A resizer checkpoint (plain DownsizeNet weights) carrying a payload in
    its record; returns (its path, the marker's path)."""
    os.makedirs(folder, exist_ok=True)
    path, marker = osp.join(folder, name), osp.join(folder, name + '.ran')
    state = DownsizeNet().state_dict()
    torch.save(dict(state_dict=state,
                    meta=dict(mmresize_resizer=Payload(marker))), path,
               _use_new_zipfile_serialization=not legacy)
    return path, marker


def test_the_crafted_file_runs_code_when_unpickled(tmp_path):
    """Control: the refusals below are not vacuous."""
    path, marker = crafted(tmp_path)
    load_local(path, trusted=True)
    assert osp.exists(marker)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_crafted_resizer_checkpoint_is_refused(legacy, tmp_path, monkeypatch):
    # even from a trusted work dir: resizer checkpoints are read weights-only
    monkeypatch.setenv(TRUSTED_DIRS_ENV, str(tmp_path))
    path, marker = crafted(tmp_path, legacy=legacy)
    resizer = DownsizeNet(init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ResizerCheckpointError,
                       match=f'{path} holds objects beyond tensors and plain '
                       r'data \((builtins\.)?exec\).*tools/transfer_resizer.py'):
        resizer.init_weights()
    assert not osp.exists(marker)


def test_crafted_transfer_source_is_refused(tmp_path, capsys):
    path, marker = crafted(tmp_path / 'received')
    out = tmp_path / 'resizer.pth'
    assert transfer([path, str(out)]) == 1
    err = capsys.readouterr().err
    assert f'{path} holds objects beyond tensors and plain data' in err
    assert '--trust-checkpoint' in err and TRUSTED_DIRS_ENV in err
    assert not osp.exists(marker) and not out.exists()


def test_crafted_task_checkpoint_outside_work_dirs_is_refused(tmp_path):
    """What tools/test.py CHECKPOINT and --resume CKPT go through."""
    trust_local_checkpoints()
    trust_dir(tmp_path / 'work')  # a run's work dir: not the file's folder
    path, marker = crafted(tmp_path / 'received')
    with pytest.raises(UntrustedCheckpointError, match=f'{path} holds'):
        load_checkpoint(torch.nn.Linear(1, 1), path, logger='silent')
    assert not osp.exists(marker)


def test_resume_from_a_received_checkpoint_is_refused(tmp_path):
    data = str(make_voc_detection(tmp_path, VOCDataset.METAINFO['classes'],
                                  num=2)) + '/'
    path, marker = crafted(tmp_path / 'received')
    cfg = tiny_config(DET, data, tmp_path / 'work', resume=True,
                      load_from=path)
    with pytest.raises(UntrustedCheckpointError, match=f'{path} holds'):
        build_runner(cfg).train()
    assert not osp.exists(marker)


def test_what_is_trusted(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUSTED_DIRS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    own = tmp_path / 'runs' / 'a'
    trust_dir(own)
    assert is_trusted(own / 'iter_4.pth')
    assert is_trusted(own / 'sub' / 'best.pth')
    assert not is_trusted(tmp_path / 'runs' / 'a2' / 'iter_4.pth')  # prefix
    assert not is_trusted(tmp_path / 'runs' / 'iter_4.pth')
    assert is_trusted('work_dirs/x/iter_4.pth')  # ./work_dirs, tools' default
    # a link inside a work dir to a file elsewhere: the file is not trusted
    os.makedirs(own)
    received = tmp_path / 'received.pth'
    received.write_bytes(b'')
    os.symlink(received, own / 'link.pth')
    assert not is_trusted(own / 'link.pth')
    other, more = tmp_path / 'other', tmp_path / 'more'
    monkeypatch.setenv(TRUSTED_DIRS_ENV, f'{other}{os.pathsep}{more}')
    assert is_trusted(other / 'x.pth') and is_trusted(more / 'y' / 'z.pth')


def test_training_work_dirs_are_remembered_for_later_tools(tmp_path,
                                                            monkeypatch):
    import subprocess
    import sys

    from mmresize.trust import REGISTRY_ENV, remember_work_dir
    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / 'registry.txt'))
    monkeypatch.delenv(TRUSTED_DIRS_ENV, raising=False)
    run = tmp_path / 'runs' / 'exp1'
    assert not is_trusted(run / 'iter_1.pth')
    remember_work_dir(run)
    remember_work_dir(run)  # once in the registry
    assert (tmp_path / 'registry.txt').read_text().splitlines() == \
        [osp.realpath(run)]
    check = ('import sys; from mmresize.trust import is_trusted; '
             'print(is_trusted(sys.argv[1]), is_trusted(sys.argv[2]))')
    out = subprocess.run(
        [sys.executable, '-c', check, str(run / 'iter_1.pth'),
         str(tmp_path / 'runs' / 'exp2' / 'iter_1.pth')],
        capture_output=True, text=True, check=True, cwd=str(tmp_path))
    assert out.stdout.split() == ['True', 'False']  # a later process


def test_a_test_runs_work_dir_is_not_trusted(tmp_path, monkeypatch):
    from mmresize.trust import REGISTRY_ENV
    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / 'registry.txt'))
    data = str(make_voc_detection(tmp_path, VOCDataset.METAINFO['classes'],
                                  num=2)) + '/'
    cfg = tiny_config(DET, data, tmp_path / 'out', checkpoint=False)
    build_runner(cfg, train=False)  # tools/test.py --work-dir OUT
    assert not is_trusted(tmp_path / 'out' / 'received.pth')
    assert not (tmp_path / 'registry.txt').exists()
    build_runner(cfg)  # tools/train.py --work-dir OUT
    assert is_trusted(tmp_path / 'out' / 'iter_1.pth')


def test_gated_task_checkpoint_is_refused_even_when_loaded_loosely(tmp_path):
    """mmengine's load_from / --resume load with strict=False, which would
    drop the gate and leave another resizer: the loader refuses instead."""
    import shutil
    trust_local_checkpoints()
    trust_dir(tmp_path / 'work')
    os.makedirs(tmp_path / 'work')
    state = {f'data_preprocessor.resizer.{k}': v
             for k, v in DownsizeNet().state_dict().items()}
    state['data_preprocessor.resizer.blend'] = torch.tensor(0.25)
    path = str(tmp_path / 'work' / 'iter_10.pth')
    torch.save(dict(state_dict=state, meta={}), path)
    model = torch.nn.Module()
    model.data_preprocessor = torch.nn.Module()
    model.data_preprocessor.resizer = DownsizeNet()
    with pytest.raises(ResizerCheckpointError,
                       match=r'0\.1 gated DownsizeNet checkpoint \(its gate '
                       r'g = 0\.25\).*InterpolateResizer'):
        load_checkpoint(model, path, strict=False, logger='silent')
    received = str(tmp_path / 'iter_10.pth')  # not trusted: weights-only
    shutil.copy(path, received)
    with pytest.raises(ResizerCheckpointError, match='gated'):
        load_local(received)
    del state['data_preprocessor.resizer.blend']
    torch.save(dict(state_dict=state, meta={}), path)
    load_checkpoint(model, path, strict=True, logger='silent')


def test_writer_refuses_a_record_needing_more_than_plain_data(tmp_path):
    out = tmp_path / 'resizer.pth'
    record = dict(state_dict={}, meta=dict(
        mmresize_resizer=Payload(str(tmp_path / 'marker'))))
    with pytest.raises(ResizerCheckpointError, match='GLOBAL exec'):
        save_atomic(record, str(out))
    assert list(tmp_path.iterdir()) == []
