"""mmresize.benchmark.transfer_study: sources, extraction, paired targets
with the frozen resizer, the Table 3 summary and its frozen-weights check.
The trainer is replaced by one that writes what a matrix run writes (the
source checkpoint is a real one, from a tiny training run)."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch

from mmresize.benchmark import transfer_study
from mmresize.catalogue import NAMING
from mmresize.cli import build_runner
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SOURCE_CFG = osp.join(ROOT, 'configs', 'deeplabv3plus_downsize_voc.py')
PREFIX = 'data_preprocessor.resizer.'
# the fake trainer's metric of each target variant, by seed
TARGET_MIOU = {'bilinear': [40.0, 42.0, 41.0],
               'DownsizeNet': [40.5, 42.5, 41.0],
               'frozen-camvid-1x': [41.0, 43.2, 41.9]}


@pytest.fixture(scope='module')
def source_checkpoint(tmp_path_factory, voc_seg_root):
    """A real training checkpoint with DownsizeNet (random start) and EMA
    weights, as the benchmark configs write them."""
    work = tmp_path_factory.mktemp('source')
    cfg = tiny_config(SOURCE_CFG, str(voc_seg_root), work, iters=2, **{
        'model.data_preprocessor.resizer.init': 'random',
        'custom_hooks': [dict(type='EMAHook', momentum=0.5,
                              update_buffers=True, priority=49)]})
    build_runner(cfg).train()
    return str(work / 'iter_2.pth')


def fake_matrix(source_checkpoint, seen):
    """run_matrix's stand-in: each run's result.json (and checkpoint)."""
    def run(specs, jobs=1, on_done=None, **kwargs):
        for spec in specs:
            seen.append(spec)
            os.makedirs(spec['out'], exist_ok=True)
            ckpt = osp.join(spec['out'], f'iter_{spec["iters"]}.pth')
            if spec['task'] == 'camvid' and 'resizer' not in spec and \
                    spec['out'].find('sources') >= 0:
                shutil.copyfile(source_checkpoint, ckpt)
                miou = 50.0
            else:
                miou = TARGET_MIOU[spec['variant']][spec['seed']]
            if 'resizer' in spec:  # the frozen resizer, as trained
                path = spec['resizer']['init_cfg']['checkpoint']
                weights = torch.load(path, weights_only=True)['state_dict']
                state = {PREFIX + k: v for k, v in weights.items()}
                torch.save(dict(state_dict=state, ema_state_dict={
                    'module.' + k: v for k, v in state.items()}), ckpt)
            metrics = {'mIoU': miou}
            record = dict(task=spec['task'], variant=spec['variant'],
                          naming=NAMING, seed=spec['seed'],
                          factor=spec['factor'], iters=spec['iters'],
                          train_seconds=1.0, resizer_share=0.1,
                          metrics=metrics, metrics_raw=metrics, drift=0.0,
                          code='abc', cfg_options=spec['cfg_options'])
            with open(osp.join(spec['out'], 'result.json'), 'w') as f:
                json.dump(record, f)
            with open(osp.join(spec['out'], 'log.txt'), 'w') as f:
                f.write('fake\n')
            if on_done:
                on_done(spec)
        return []
    return run


def test_study_pairs_the_frozen_resizer_with_its_twin(
        source_checkpoint, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(transfer_study, 'run_matrix',
                        fake_matrix(source_checkpoint, seen))
    work, kept = str(tmp_path / 'study'), str(tmp_path / 'kept')
    study = transfer_study.run_study(work, 'camvid', 'camvid-fcn', 0.3,
                                     multiples=[1], seeds=[0, 1, 2],
                                     results=kept)
    # one source at the task's schedule, then 3 variants x 3 seeds
    sources = [s for s in seen if 'sources' in s['out']]
    assert [(s['task'], s['variant'], s['iters']) for s in sources] == [
        ('camvid', 'DownsizeNet', 1000)]
    targets = [s for s in seen if 'targets' in s['out']]
    assert len(targets) == 9
    assert all(s['cfg_options'] == transfer_study.TARGET_OPTIONS
               for s in targets)
    frozen = [s for s in targets if 'resizer' in s]
    assert {s['variant'] for s in frozen} == {'frozen-camvid-1x'}
    resizer = frozen[0]['resizer']
    assert resizer['frozen'] is True and resizer['init'] == 'random'
    assert resizer['type'] == 'mmresize.DownsizeNet'
    # the extracted file holds the source's EMA weights
    source = torch.load(source_checkpoint, weights_only=False)
    extracted = torch.load(resizer['init_cfg']['checkpoint'],
                           weights_only=True)['state_dict']
    for key, value in extracted.items():
        assert torch.equal(value, source['state_dict'][PREFIX + key])
    # paired gains by hand: frozen +1.0, +1.2, +0.9; in place +0.5, +0.5, 0
    summary = study['summary']
    assert summary['frozen-camvid-1x']['gain']['gains'] == pytest.approx(
        [1.0, 1.2, 0.9])
    assert summary['frozen-camvid-1x']['gain']['verdict'] == 'better'
    assert summary['DownsizeNet']['gain']['verdict'] == 'no difference'
    assert all(study['frozen_unchanged'].values())
    assert len(study['frozen_unchanged']) == 3
    table = transfer_study.table(study)
    assert '| 1x | 41.00 ± 1.00 |' in table
    assert 'unchanged in every run: True (3 runs checked)' in table
    assert osp.isfile(osp.join(kept, 'camvid-fcn_0.3x_1000it',
                               'frozen-camvid-1x', 'seed2', 'result.json'))
    # resumed: nothing trains again
    seen.clear()
    transfer_study.run_study(work, 'camvid', 'camvid-fcn', 0.3, [1],
                             [0, 1, 2], results=kept)
    assert seen == []


def test_a_frozen_resizer_that_moved_is_refused(source_checkpoint, tmp_path,
                                                monkeypatch):
    monkeypatch.setattr(transfer_study, 'run_matrix',
                        fake_matrix(source_checkpoint, []))
    work = str(tmp_path / 'study')
    transfer_study.run_study(work, 'camvid', 'camvid-fcn', 0.3, [1], [0, 1])
    run = osp.join(work, 'targets', 'camvid-fcn_0.3x_1000it',
                   'frozen-camvid-1x', 'seed1')
    ckpt = torch.load(osp.join(run, 'iter_1000.pth'), weights_only=True)
    key = next(iter(ckpt['ema_state_dict']))
    ckpt['ema_state_dict'][key] = ckpt['ema_state_dict'][key] + 1e-6
    torch.save(ckpt, osp.join(run, 'iter_1000.pth'))
    with pytest.raises(transfer_study.FrozenChanged, match='seed 1'):
        transfer_study.run_study(work, 'camvid', 'camvid-fcn', 0.3, [1],
                                 [0, 1])
