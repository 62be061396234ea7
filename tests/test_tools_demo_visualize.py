"""tools/demo.py and tools/visualize_resizer.py run end to end."""
import inspect
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import torch

from mmresize.resizers import DownsizeNet

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run(*args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, text=True,
                            capture_output=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def task_checkpoint(resizer, folder):
    """A task checkpoint holding only ``resizer``'s weights."""
    path = folder / 'task.pth'
    torch.save({'state_dict': {f'data_preprocessor.resizer.{k}': v
                               for k, v in resizer.state_dict().items()}},
               path)
    return path


def test_visualize_resizer_writes_pngs(tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ('a.png', 'b.jpg'):
        cv2.imwrite(str(images / name),
                    rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
    checkpoint = task_checkpoint(DownsizeNet(init='random'), tmp_path)
    config = tmp_path / 'config.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/deeplabv3plus_downsize_voc.py']\n"
        "model = dict(data_preprocessor=dict(resizer=dict(init='random')))\n")
    out = run('tools/visualize_resizer.py', str(config), str(checkpoint),
              str(images), '--out-dir', str(tmp_path / 'vis'))
    for stem in ('a', 'b'):
        png = cv2.imread(str(tmp_path / 'vis' / f'{stem}_resizer.png'))
        assert png is not None and png.shape[0] > 100, out


def test_demo_runs_end_to_end(tmp_path):
    out = run('tools/demo.py', '--work-dir', str(tmp_path), '--iters', '2',
              '--seeds', '0', '1')
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert set(metrics) == {'bilinear', 'DownsizeNet'}
    assert all(set(by_seed) == {'0', '1'} for by_seed in metrics.values())
    # the report's paired gain is the mean of the per-seed differences
    gains = [metrics['DownsizeNet'][s]['mIoU'] - metrics['bilinear'][s]['mIoU']
             for s in ('0', '1')]
    table = (tmp_path / 'metrics.md').read_text()
    assert '| DownsizeNet | 2 | ' in table
    assert f'| {sum(gains) / 2:+.2f} [' in table
    assert cv2.imread(str(tmp_path / 'demo.png')) is not None
    # each run's visualizer writes under its own work dir, not the first's
    for run_dir in (tmp_path / v / f'seed{s}' for v in metrics
                    for s in ('0', '1')):
        assert list(run_dir.glob('*/vis_data/config.py')), run_dir
    resizer = torch.load(tmp_path / 'downsizenet_resizer.pth',
                         weights_only=False)
    record = resizer['meta']['mmresize_resizer']
    assert record['type'] == 'DownsizeNet'
    # the catalogue's DownsizeNet: the default start, DownsizeNet()'s
    default = inspect.signature(DownsizeNet).parameters['init'].default
    assert record['args']['init'] == default == 'random'
    assert '[demo]' in out


def test_visualize_resizer_draws_learned_zoom_grid(tmp_path):
    """LearnedZoom: the warped sampling grid is drawn over the original."""
    from mmresize.resizers import LearnedZoom
    from mmresize.visualization import resizer_panels
    images = tmp_path / 'images'
    images.mkdir()
    cv2.imwrite(str(images / 'a.png'), np.random.default_rng(0).integers(
        0, 255, (60, 80, 3), dtype=np.uint8))
    torch.manual_seed(0)
    zoom = LearnedZoom(saliency='prior')
    with torch.no_grad():
        zoom.prior_x.normal_(0, 3)
    panels = resizer_panels(zoom, torch.rand(1, 3, 60, 80), (18, 24))
    steps = panels['grid_cols'].diff()
    assert steps.max() > 1.2 * steps.min()  # a warped grid, not a uniform one
    checkpoint = task_checkpoint(zoom, tmp_path)
    config = tmp_path / 'config.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/deeplabv3plus_downsize_voc.py']\n"
        "model = dict(type='ZoomEncoderDecoder', data_preprocessor=dict("
        "resizer=dict(_delete_=True, type='mmresize.LearnedZoom', "
        "saliency='prior')))\n")
    out = run('tools/visualize_resizer.py', str(config), str(checkpoint),
              str(images), '--out-dir', str(tmp_path / 'vis'))
    png = cv2.imread(str(tmp_path / 'vis' / 'a_resizer.png'))
    assert png is not None and png.shape[1] > 4 * 200, out
