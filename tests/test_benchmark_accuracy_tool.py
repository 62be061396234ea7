"""tools/benchmark_accuracy.py: results found on disk are summarised over
seeds (mean, sample std) into the table, and the training variants change
only what they say (the resizer's learning rate)."""
import importlib.util
import json
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_accuracy', osp.join(ROOT, 'tools', 'benchmark_accuracy.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_result(tool, work, variant, seed, mAP, platelets):
    out = tool.run_dir(str(work), 'bccd', 0.3, 50, variant, seed)
    os.makedirs(out, exist_ok=True)
    metrics = {'pascal_voc/mAP': mAP, 'pascal_voc/AP.Platelets': platelets}
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(dict(task='bccd', variant=variant, seed=seed, factor=0.3,
                       iters=50, train_seconds=10.0 + seed / 2,
                       resizer_share=0.1, metrics=metrics, drift=seed,
                       gate=None if variant == 'bilinear' else -0.5), f)


def test_runs_on_disk_are_summarised_over_seeds(tool, tmp_path):
    write_result(tool, tmp_path, 'DownsizeNet', 0, 0.48, 12.0)
    write_result(tool, tmp_path, 'bilinear', 1, 0.50, 20.0)
    write_result(tool, tmp_path, 'bilinear', 0, 0.40, 10.0)
    folder = tool.matrix_dir(str(tmp_path), 'bccd', 0.3, 50)
    assert folder.endswith('bccd_0.3x_50it')
    results = tool.load_results(folder)
    # catalogue order (bilinear first), then seed order
    assert [(r['variant'], r['seed']) for r in results] == [
        ('bilinear', 0), ('bilinear', 1), ('DownsizeNet', 0)]
    summary = tool.summarise(results, 'bccd')
    # mAP fractions are shown as percent; per-class AP is percent already
    assert summary['bilinear']['metric']['mean'] == pytest.approx(45.0)
    assert summary['bilinear']['metric']['std'] == pytest.approx(
        math.sqrt(((40 - 45)**2 + (50 - 45)**2) / 1))
    assert summary['bilinear']['thin']['Platelets']['mean'] == 15.0
    assert summary['DownsizeNet']['metric']['std'] == 0.0
    table = tool.markdown(summary, 'bccd', 0.3, 50)
    tool.plot(summary, 'bccd', str(tmp_path / 'plot.png'))
    assert (tmp_path / 'plot.png').stat().st_size > 1000
    # gain is paired by seed: DownsizeNet seed 0 against bilinear seed 0
    assert summary['DownsizeNet']['paired_gain']['mean'] == pytest.approx(8.0)
    assert '| bilinear | 2 | 45.00 ± 7.07 | +0.00 ± 0.00 | 15.0 ± 7.1 | 10 ' \
        '| 10.0% | 0.50 |  |' in table
    assert '| DownsizeNet | 1 | 48.00 ± 0.00 | +8.00 ± 0.00 |' in table
    assert table.rstrip().endswith('| 0.00 | -0.500 |')


def test_lr10_variant_multiplies_only_the_resizer_lr(tool, tmp_path):
    cfg = tool.build_cfg('camvid', 'DownsizeNet-lr10', 0, 0.3, 10,
                         str(tmp_path))
    init_default_scope(cfg.default_scope)
    from mmseg.registry import MODELS

    import mmresize.seg  # noqa: F401 (registers the preprocessor)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    resizer = {id(p) for p in model.data_preprocessor.resizer.parameters()}
    lrs = {True: set(), False: set()}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lrs[id(p) in resizer].add(group['lr'])
    assert lrs[True] == {10 * base_lr}
    assert lrs[False] == {base_lr}


def test_drift_is_zero_for_bilinear_start_and_not_for_area(
        tool, tmp_path, monkeypatch):
    shared = osp.join(ROOT, '..', 'shared', 'data')
    if not osp.isdir(osp.join(shared, 'camvid')):
        pytest.skip(f'{shared}/camvid absent: the real datasets ship only '
                    'with the development machines (see shared/data)')
    monkeypatch.setenv('MMRESIZE_DATA', shared)
    from mmresize.resizers import DownsizeNet
    checkpoint = str(tmp_path / 'start.pth')
    torch.save({'state_dict': {f'data_preprocessor.resizer.{k}': v
                               for k, v in DownsizeNet().state_dict().items()}},
               checkpoint)
    cfg = tool.build_cfg('camvid', 'DownsizeNet', 0, 0.3, 10, str(tmp_path))
    start = tool.resizer_drift(cfg, checkpoint, images=2)
    assert start['gate'] == 0.0
    assert start['drift'] < 1e-3  # exactly bilinear up to float round-off

    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    cfg = tool.build_cfg('camvid', 'area', 0, 0.3, 10, str(tmp_path))
    area = tool.resizer_drift(cfg, empty, images=2)
    assert area['gate'] is None
    assert area['drift'] > 0.5  # area averaging differs from bilinear
