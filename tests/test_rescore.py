"""mmresize.benchmark.rescore (tools/rescore_matrix.py): a finished run's
checkpoint is rescored with the EMA weights its record was measured with,
a record that disagrees is refused, and the paired table is the paired
gains computed by hand."""
import json
import os
import os.path as osp

import pytest
from mmengine.runner import Runner

from mmresize.benchmark import measure, rescore
from tests.data_factory import make_voc_segmentation
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCN = osp.join(ROOT, 'configs', 'fcn',
               'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')


def _finished_run(tmp_path):
    """A matrix run folder: 2 steps with EMAHook, its checkpoint, its
    dumped config and a result.json with the EMA weights' metrics."""
    run = tmp_path / 'matrix' / 'bilinear' / 'seed0'
    cfg = tiny_config(FCN, str(make_voc_segmentation(tmp_path)), run,
                      iters=2)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.5,
                             update_buffers=True, priority=49)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = measure.evaluate(runner, ema=True)
    raw = measure.evaluate(runner, ema=False)
    record = dict(task='voc-tiny', variant='bilinear', naming=2, seed=0,
                  factor=0.3, iters=2, code='x', cfg_options={},
                  metrics=metrics, metrics_raw=raw)
    (run / 'result.json').write_text(json.dumps(record))
    return str(run), metrics, raw


def test_rescored_run_is_its_ema_record_and_a_wrong_record_is_refused(
        tmp_path):
    run, metrics, raw = _finished_run(tmp_path)
    before = sorted(os.listdir(run))
    # EMA and raw weights score apart: a rescore of the raw ones would fail
    assert abs(metrics['mIoU'] - raw['mIoU']) > rescore.RECORD_TOLERANCE
    scores = rescore.rescore_run(run, [1, 3], str(tmp_path / 'work'),
                                 trust_checkpoint=True)
    assert scores['mIoU'] == pytest.approx(metrics['mIoU'], abs=1e-6)
    assert {'all/mIoU', 'band1/mIoU', 'band3/mIoU', 'band1/aAcc'} <= set(
        scores)
    # VOC's ignore index is 255, as the run's own evaluator's
    assert scores['all/mIoU'] == scores['mIoU']
    # nothing was written into the run's folder
    assert sorted(os.listdir(run)) == before
    # a record of other weights is refused
    path = osp.join(run, 'result.json')
    with open(path) as f:
        record = json.load(f)
    record['metrics']['mIoU'] += 5
    with open(path, 'w') as f:
        json.dump(record, f)
    with pytest.raises(rescore.RescoreError, match='not the one that was'):
        rescore.rescore_run(run, [1], str(tmp_path / 'work2'),
                            trust_checkpoint=True)


def test_run_folders_are_found_and_an_incomplete_one_is_refused(tmp_path):
    matrix = tmp_path / 'm'
    for variant, seed in (('bilinear', 0), ('bilinear', 1), ('area', 0)):
        run = matrix / variant / f'seed{seed}'
        run.mkdir(parents=True)
        (run / 'result.json').write_text(json.dumps(dict(
            task='t', variant=variant, seed=seed, factor=0.2, iters=5,
            code='c', cfg_options={}, metrics=dict(mIoU=1.0))))
    runs = rescore.runs_of([str(matrix)])
    assert runs == {'bilinear': {0: str(matrix / 'bilinear' / 'seed0'),
                                 1: str(matrix / 'bilinear' / 'seed1')},
                    'area': {0: str(matrix / 'area' / 'seed0')}}
    with pytest.raises(rescore.RescoreError, match='iter_5.pth'):
        rescore.run_files(runs['area'][0])
    with pytest.raises(rescore.RescoreError, match='in two matrix folders'):
        rescore.runs_of([str(matrix), str(matrix)])
    det = tmp_path / 'det' / 'bilinear' / 'seed0'
    det.mkdir(parents=True)
    (det / 'result.json').write_text(json.dumps(dict(
        task='bccd-lite0', variant='bilinear', seed=0, factor=0.3, iters=5,
        code='c', cfg_options={}, metrics={'pascal_voc/mAP': 0.5})))
    with pytest.raises(rescore.RescoreError, match='for segmentation'):
        rescore.runs_of([str(tmp_path / 'det')])


def test_paired_table_by_hand():
    scores = {
        'bilinear': {0: {'mIoU': 40.0, 'b': 20.0}, 1: {'mIoU': 42.0,
                                                       'b': 21.0}},
        'area': {0: {'mIoU': 41.0, 'b': 23.0}, 1: {'mIoU': 42.0, 'b': 24.0},
                 2: {'mIoU': 50.0, 'b': 30.0}},
    }
    rows = rescore.paired_table(scores, ['mIoU', 'b'], 'bilinear')
    assert [(r['variant'], r['key'], r['seeds'], r['gains']) for r in rows] \
        == [('area', 'mIoU', [0, 1], [1.0, 0.0]),
            ('area', 'b', [0, 1], [3.0, 3.0])]
    # gains 1 and 0: mean 0.5, sd sqrt(0.5), t(1) = 12.7062047
    half = 12.7062047 * 0.5 ** 0.5 / 2 ** 0.5
    assert rows[0]['interval']['low'] == pytest.approx(0.5 - half)
    assert rows[0]['verdict'] == 'no difference'
    with pytest.raises(rescore.RescoreError, match="no 'nearest' runs"):
        rescore.paired_table(scores, ['mIoU'], 'nearest')


@pytest.mark.parametrize('bands', [[0], [2, 2], [1.5], []])
def test_bad_band_widths_say_what_was_wrong(bands):
    with pytest.raises(rescore.RescoreError, match='band widths'):
        rescore.check_bands(bands)


@pytest.mark.parametrize('dataset', [
    dict(type='CamVidDataset', data_root='x'),
    dict(type='CamVidDataset', data_root='x', ignore_index=7),
    dict(type='PascalVOCDataset', data_root='x', ann_file='y'),
])
def test_ignore_index_is_the_one_the_dataset_builds_with(dataset, tmp_path):
    """Read from the config, against the index of the dataset built."""
    from mmengine.registry import DATASETS, init_default_scope

    import mmresize.seg  # noqa: F401
    from tests.data_factory import make_voc_segmentation
    init_default_scope('mmseg')
    root = str(make_voc_segmentation(tmp_path))
    built = dict(dataset, data_root=root)
    if dataset['type'] == 'CamVidDataset':
        import cv2
        import numpy as np
        for sub in ('val', 'valannot'):
            (tmp_path / sub).mkdir()
            cv2.imwrite(str(tmp_path / sub / 'a.png'),
                        np.zeros((4, 4, 3 if sub == 'val' else 1), np.uint8))
        built.update(data_root=str(tmp_path),
                     data_prefix=dict(img_path='val', seg_map_path='valannot'))
    else:
        built.update(ann_file='ImageSets/Segmentation/val.txt',
                     data_prefix=dict(img_path='JPEGImages',
                                      seg_map_path='SegmentationClass'))
    expected = DATASETS.build(built).ignore_index
    assert rescore.dataset_ignore_index(dataset) == expected
    with pytest.raises(rescore.RescoreError, match='unknown dataset'):
        rescore.dataset_ignore_index(dict(type='NoSuchDataset'))


def _fake_matrix(matrix, seeds):
    for variant in ('bilinear', 'area'):
        for seed in seeds:
            run = matrix / variant / f'seed{seed}'
            run.mkdir(parents=True, exist_ok=True)
            (run / 'result.json').write_text(json.dumps(dict(
                task='t', variant=variant, seed=seed, factor=0.2, iters=5,
                code='c', cfg_options={}, metrics=dict(mIoU=1.0))))


def test_resume_scores_only_the_runs_the_earlier_file_lacks(
        tmp_path, monkeypatch):
    """A matrix grown by a seed: with --resume only its runs are rescored,
    the earlier scores (a NaN among them) are kept as they were."""
    import math
    import sys

    from tools import rescore_matrix
    calls = []

    def fake_rescore(run, bands, work, trust):
        calls.append(run)
        variant, seed = run.split(os.sep)[-2], int(run[-1])
        base = 40.0 + seed + (1.0 if variant == 'area' else 0.0)
        with open(osp.join(run, 'result.json')) as f:  # reproduced
            recorded = json.load(f)['metrics']['mIoU']
        return {'mIoU': recorded, 'all/mIoU': base, 'band2/mIoU': base / 2,
                'band2/IoU.Pole': float('nan')}

    monkeypatch.setattr(rescore_matrix, 'rescore_run', fake_rescore)
    matrix, out = tmp_path / 'm', str(tmp_path / 'r.json')

    def tool(*extra, dirs=(matrix,)):
        monkeypatch.setattr(sys, 'argv', [
            'rescore_matrix.py', *map(str, dirs), '--bands', '2', '--out',
            out, '--work-dir', str(tmp_path / 'w'), *extra])
        rescore_matrix.main()

    _fake_matrix(matrix, [0])
    tool()
    assert len(calls) == 2
    with pytest.raises(SystemExit, match='--resume'):
        tool()
    _fake_matrix(matrix, [1])
    calls.clear()
    tool('--resume')
    assert sorted(calls) == [str(matrix / 'area' / 'seed1'),
                             str(matrix / 'bilinear' / 'seed1')]
    with open(out) as f:
        record = json.load(f)
    assert record['complete']
    assert record['scores']['area']['0']['all/mIoU'] == 41.0
    assert record['scores']['area']['0']['band2/IoU.Pole'] is None
    row = next(r for r in record['paired'] if r['key'] == 'all/mIoU')
    assert row['seeds'] == [0, 1] and row['mean'] == pytest.approx(1.0)
    kept = rescore.kept_scores(record, rescore.runs_of([str(matrix)]), [2])
    assert math.isnan(kept['area'][0]['band2/IoU.Pole'])
    with pytest.raises(SystemExit, match='bands'):
        tool('--resume', '--bands', '2', '5')
    # nothing new: nothing scored
    calls.clear()
    tool('--resume')
    assert calls == []
    # a run made again (its record changed) is scored again
    result = matrix / 'bilinear' / 'seed0' / 'result.json'
    redone = json.loads(result.read_text())
    redone['metrics']['mIoU'] = 2.0
    result.write_text(json.dumps(redone))
    tool('--resume')
    assert calls == [str(matrix / 'bilinear' / 'seed0')]
    # a run now read from another folder is not the run that was scored
    moved = tmp_path / 'm2' / 'area'
    moved.mkdir(parents=True)
    os.rename(matrix / 'area' / 'seed1', moved / 'seed1')
    calls.clear()
    tool('--resume', dirs=(matrix, tmp_path / 'm2'))
    assert calls == [str(moved / 'seed1')]
    calls.clear()
    tool('--force', dirs=(matrix, tmp_path / 'm2'))
    assert len(calls) == 4
    with open(out, 'w') as f:  # cut off mid-write
        f.write('{"bands": [2], "runs"')
    with pytest.raises(SystemExit, match='cannot resume'):
        tool('--resume')
