"""mmresize.benchmark.report: runs of two set-ups are never paired (each
field named with both values), records of the first variant names are read
in the current ones, and new records say which naming and resizer they
ran."""
import json
import os
import os.path as osp

import pytest

from mmresize.benchmark import matrix, report
from mmresize.catalogue import ALL_VARIANTS, LEGACY_NAMES, VARIANTS


def record(variant, seed, **fields):
    """A result record as the matrix writes it (naming 2)."""
    metrics = {'mIoU': 50.0 + seed, 'IoU.Pole': 1.0}
    return dict(dict(task='camvid', variant=variant, naming=2, seed=seed,
                     factor=0.3, iters=1000, train_seconds=1.0,
                     resizer_share=0.1, metrics=metrics, metrics_raw=metrics,
                     drift=0.5, code='abc123', cfg_options={}), **fields)


def write(folder, run, name=None):
    """Save ``run`` as ``folder/NAME/seedN/result.json`` (NAME: its
    variant)."""
    out = osp.join(folder, name or run['variant'], f'seed{run["seed"]}')
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(run, f)


def test_one_set_up_is_summarised():
    runs = [record('bilinear', 0), record('bilinear', 1),
            record('DownsizeNet', 0, metrics={'mIoU': 52.0}),
            record('DownsizeNet', 1, metrics={'mIoU': 53.0},
                   cfg_options=None)]  # no options recorded: none given
    gain = report.summarise(runs, 'camvid')['DownsizeNet']['gain']
    assert gain['gains'] == [2.0, 2.0]


@pytest.mark.parametrize('field, value, theirs', [
    ('task', 'camvid-fcn', 'camvid'),
    ('factor', 0.5, 0.3),
    ('iters', 500, 1000),
    ('code', 'def456+dirty', 'abc123'),
    ('cfg_options', {'env_cfg.cudnn_benchmark': False}, {}),
])
def test_runs_of_two_set_ups_are_refused(field, value, theirs):
    runs = [record('bilinear', 0), record('bilinear', 1),
            record('DownsizeNet', 0), record('DownsizeNet', 1,
                                             **{field: value})]
    with pytest.raises(report.MismatchedRuns) as err:
        report.summarise(runs, 'camvid')
    message = str(err.value)
    assert f'differ in {field}: {value!r} vs {theirs!r}' in message
    assert 'DownsizeNet seed 1' in message


@pytest.mark.parametrize('field, value', [('code', 'def456'),
                                          ('cfg_options', {'a': 1})])
def test_code_and_options_may_differ_between_seeds(field, value):
    """A folder may hold seeds run by two commits (camvid's CPU runs):
    what must agree is each pair of a seed."""
    runs = [record('bilinear', 0), record('bilinear', 1, **{field: value}),
            record('area', 0), record('area', 1, **{field: value})]
    assert report.summarise(runs, 'camvid')['area']['gain']['seeds'] == [0, 1]


def test_the_summary_tool_refuses_a_mixed_folder(tmp_path):
    write(str(tmp_path), record('bilinear', 0))
    write(str(tmp_path), record('area', 0, iters=600))
    with pytest.raises(report.MismatchedRuns, match='iters: 600 vs 1000'):
        report.write_summary(str(tmp_path))
    assert not (tmp_path / 'summary.json').exists()


def test_legacy_records_are_read_in_the_current_names(tmp_path):
    """Records without ``naming`` used the first names: their old
    'DownsizeNet' is 'DownsizeNet-nearbil' now, their 'DownsizeNet-random'
    'DownsizeNet'; new records are read as written."""
    folder = str(tmp_path)
    for old in ('DownsizeNet', 'DownsizeNet-random', 'DownsizeNet-16nb'):
        legacy = record(old, 0)
        del legacy['naming']
        write(folder, legacy, 'old-' + old)
    write(folder, record('DownsizeNet-16nb', 0))
    write(folder, record('bilinear', 0))
    names = [r['variant'] for r in report.load_results(folder)]
    assert names == ['bilinear', 'DownsizeNet', 'DownsizeNet-nearbil',
                     'DownsizeNet-16nb', 'DownsizeNet-nearbil-16nb']
    assert set(LEGACY_NAMES.values()) <= set(ALL_VARIANTS)
    with pytest.raises(ValueError, match='unknown variant naming 3'):
        report.read_result(_saved(tmp_path, record('area', 0, naming=3)))


def _saved(tmp_path, run):
    path = tmp_path / 'one.json'
    path.write_text(json.dumps(run))
    return str(path)


def test_a_legacy_folder_is_not_resumed_as_the_new_variant(tmp_path):
    """An old work dir's 'DownsizeNet' folder holds near-bilinear runs: a
    matrix asking for today's 'DownsizeNet' must not take them as done."""
    legacy = record('DownsizeNet', 0)
    del legacy['naming']
    work = str(tmp_path)
    write(matrix.matrix_dir(work, 'camvid', 0.3, 1000), legacy)
    with pytest.raises(SystemExit, match='run of DownsizeNet-nearbil'):
        matrix.pending_runs(work, ['camvid'], 0.3, 1000, ['DownsizeNet'], [0])


def test_new_records_name_their_naming_and_resizer():
    assert matrix.resizer_record('DownsizeNet-nearbil-lr10') == dict(
        type='mmresize.DownsizeNet', args=dict(init='near_bilinear'))
    assert matrix.resizer_record('DownsizeNet') == dict(
        type='mmresize.DownsizeNet', args={})
    assert VARIANTS['DownsizeNet'] == dict(type='mmresize.DownsizeNet')


def test_one_formatter_for_gain_cells():
    assert report.gain_cell(dict(mean=None)) == ''
    assert report.gain_cell(dict(mean=1.234, interval=None)) == '+1.23'
    assert report.gain_cell(dict(mean=-0.5, interval=dict(
        low=-1.004, high=0.006))) == '-0.50 [-1.00, +0.01]'
    assert report.mean_cell(dict(mean=None, std=None)) == '-'
    assert report.mean_cell(dict(mean=0.1234, std=0.01), '.1f', 100,
                            std=True, suffix='%') == '12.3% ± 1.0'
