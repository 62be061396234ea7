"""mmresize.benchmark.equal_cost: the bilinear factor of equal cost, the
curve over a task's matrices, pairs across factors (refused across set-ups)
and the plot."""
import json
import os
import os.path as osp

import pytest

from mmresize.benchmark import equal_cost
from mmresize.benchmark.report import MismatchedRuns

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def fake_costs(monkeypatch, variant_cost):
    """Bilinear costs 1 GMAC per 0.1 of factor, rounded down to steps of
    0.25 GMAC (whole feature-map cells); the variant costs
    ``variant_cost``."""
    calls = []

    def gmacs(task, variant, factor, cfg_options=None):
        calls.append((variant, factor))
        if variant == 'bilinear':
            return int(factor * 10 / 0.25) * 0.25
        return variant_cost

    monkeypatch.setattr(equal_cost, 'model_gmacs', gmacs)
    return calls


def test_smallest_grid_factor_that_costs_as_much(monkeypatch):
    fake_costs(monkeypatch, 4.3)
    # 4.3 less 1% is 4.257: bilinear reaches 4.5 at 0.45 (4.25 below it)
    factor, mine, theirs = equal_cost.equal_cost_factor('camvid', 'X', 0.3)
    assert (factor, mine, theirs) == (0.45, 4.3, 4.5)
    # within 1% is equal: 4.28 less 1% is 4.237, which 4.25 meets at 0.425
    fake_costs(monkeypatch, 4.28)
    assert equal_cost.equal_cost_factor('camvid', 'X', 0.3)[0] == 0.425
    # a resizer costing as much as bilinear: the factor itself
    fake_costs(monkeypatch, 3.0)
    assert equal_cost.equal_cost_factor('camvid', 'X', 0.3)[0] == 0.3


def test_factors_above_one_are_refused(monkeypatch):
    fake_costs(monkeypatch, 4.3)
    with pytest.raises(ValueError, match='downsizes'):
        equal_cost.equal_cost_factor('camvid', 'X', 1.2)


def test_the_variant_cost_is_returned_as_counted(monkeypatch):
    # 3.0 less 1% and back is 2.9999999999999996; the count is returned
    fake_costs(monkeypatch, 3.0)
    assert equal_cost.equal_cost_factor('camvid', 'X', 0.2)[1] == 3.0


def test_no_factor_when_bilinear_at_full_size_costs_less(monkeypatch):
    fake_costs(monkeypatch, 11.0)
    assert equal_cost.equal_cost_factor('camvid', 'X', 0.3) == (None, 11.0,
                                                                10.0)


def record(variant, seed, factor, miou, gmacs, code='abc'):
    metrics = {'mIoU': miou}
    return dict(task='camvid', variant=variant, naming=2, seed=seed,
                factor=factor, iters=1000, metrics=metrics,
                metrics_raw=metrics, code=code, cfg_options={},
                inference=dict(model_gmacs=gmacs, latency_ratio=1.0))


def write(root, run):
    out = osp.join(root, f'camvid_{run["factor"]}x_1000it', run['variant'],
                   f'seed{run["seed"]}')
    os.makedirs(out)
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(run, f)


def matrix_root(tmp_path, code_at_045='abc'):
    root = str(tmp_path)
    for seed, (b3, b45, d3) in enumerate([(40.0, 44.0, 43.0),
                                          (41.0, 46.0, 44.5),
                                          (42.0, 45.0, 44.0)]):
        write(root, record('bilinear', seed, 0.3, b3, 3.0))
        write(root, record('bilinear', seed, 0.45, b45, 4.5, code_at_045))
        write(root, record('DownsizeNet', seed, 0.3, d3, 4.3))
    # another schedule of the task: not part of this curve
    other = record('bilinear', 0, 0.3, 10.0, 3.0)
    os.makedirs(osp.join(root, 'camvid_0.3x_600it', 'bilinear', 'seed0'))
    with open(osp.join(root, 'camvid_0.3x_600it', 'bilinear', 'seed0',
                       'result.json'), 'w') as f:
        json.dump(dict(other, iters=600), f)
    return root


def test_curve_and_the_pair_at_equal_cost(tmp_path):
    rows = equal_cost.curve(matrix_root(tmp_path), 'camvid', 1000)
    assert [(r['factor'], r['variant']) for r in rows] == [
        (0.3, 'bilinear'), (0.3, 'DownsizeNet'), (0.45, 'bilinear')]
    assert rows[0]['metric']['mean'] == pytest.approx(41.0)
    assert rows[1]['model_gmacs'] == pytest.approx(4.3)
    # by seed: 43 - 44, 44.5 - 46, 44 - 45
    gain = equal_cost.compare(rows, 'DownsizeNet', 0.3, 0.45)
    assert gain['seeds'] == [0, 1, 2]
    assert gain['gains'] == pytest.approx([-1.0, -1.5, -1.0])
    assert gain['verdict'] == 'worse'
    # and bilinear at the same factor: +3, +3.5, +2
    assert equal_cost.compare(rows, 'DownsizeNet', 0.3, 0.3)[
        'verdict'] == 'better'
    assert equal_cost.compare(rows, 'DownsizeNet', 0.3, 0.5) == dict(
        missing='bilinear x0.5')


def test_pairs_across_factors_must_share_the_code(tmp_path):
    rows = equal_cost.curve(matrix_root(tmp_path, code_at_045='def'),
                            'camvid', 1000)
    with pytest.raises(MismatchedRuns, match='differ in code'):
        equal_cost.compare(rows, 'DownsizeNet', 0.3, 0.45)


def test_a_matrix_of_two_set_ups_is_refused(tmp_path):
    root = matrix_root(tmp_path)
    write(root, record('DownsizeNet', 3, 0.45, 40.0, 4.3, code='zzz'))
    write(root, record('bilinear', 3, 0.45, 40.0, 4.5))
    with pytest.raises(MismatchedRuns, match='differ in code'):
        equal_cost.curve(root, 'camvid', 1000)


def test_plot_is_written(tmp_path):
    root = matrix_root(tmp_path)
    path = osp.join(root, 'curve.png')
    equal_cost.plot(equal_cost.curve(root, 'camvid', 1000), 'camvid', path)
    assert osp.getsize(path) > 1000


def test_model_gmacs_is_what_a_run_recorded(monkeypatch):
    """The cost from the built model equals the one a trained run measured
    on its first test image (camvid-lite0, bilinear at 0.2x)."""
    from tests import real_data
    real_data.require('camvid', 'val')
    monkeypatch.setenv('MMRESIZE_DATA', real_data.data_root())
    path = osp.join(ROOT, 'configs', 'benchmarks', 'results', 'runs',
                    'camvid-lite0_0.2x_1000it', 'bilinear', 'seed0',
                    'result.json')
    with open(path) as f:
        recorded = json.load(f)['inference']['model_gmacs']
    assert equal_cost.model_gmacs('camvid-lite0', 'bilinear', 0.2) == \
        pytest.approx(recorded, rel=1e-9)
