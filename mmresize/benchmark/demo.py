"""The demo: the main job on an embedded default, no dataset, no download,
minutes (``tools/demo.py``).

Generates a small segmentation set of its own (procedural textures and thin
structures, exactly what bilinear downsizing destroys), trains DeepLabv3+
(ResNet-18, from scratch) on 0.25x-downsized images with the catalogue's
``DownsizeNet`` (the default start) and with bilinear for each seed (same
seed: same model initialisation and data order), evaluates them with
mmseg's IoUMetric at the original resolution, and writes to the work dir:
metrics.md (per seed, mean, paired gain with its 95% t-interval and
verdict) / metrics.json, demo.png (original / bilinear / DownsizeNet inputs
and predictions, first seed) and the trained resizer of the first seed as a
transferable checkpoint.
"""
import json
import os
import os.path as osp
import time
from typing import Sequence

import cv2
import numpy as np

from mmresize.benchmark.provenance import ROOT

CLASSES = ('background', 'thin line', 'fine texture')
PALETTE = [[0, 0, 0], [255, 64, 64], [64, 160, 255]]
VARIANTS = ('bilinear', 'DownsizeNet')


def make_sample(rng: np.random.Generator, height: int = 192,
                width: int = 256):
    """One image and label: smooth background, fine checkerboard patches
    (class 2) next to flat patches of the same mean colour (background), and
    1-2 px lines (class 1)."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = rng.uniform(60, 140, 3)
    image = np.clip(base + 12 * np.sin(xx / rng.uniform(15, 40)) [..., None] +
                    rng.normal(0, 4, (height, width, 3)), 0, 255)
    labels = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(2, 5)):
        h, w = rng.integers(24, 64, 2)
        y, x = rng.integers(0, height - h), rng.integers(0, width - w)
        color = rng.uniform(80, 200, 3)
        if rng.random() < 0.5:  # fine texture: a 2-pixel checkerboard
            check = ((yy[y:y + h, x:x + w] // 2 + xx[y:y + h, x:x + w] // 2)
                     % 2)[..., None]
            image[y:y + h, x:x + w] = color + (check * 2 - 1) * 60
            labels[y:y + h, x:x + w] = 2
        else:  # the same mean colour, flat: background
            image[y:y + h, x:x + w] = color
    for _ in range(rng.integers(2, 6)):
        p1 = tuple(int(v) for v in (rng.integers(0, width),
                                    rng.integers(0, height)))
        p2 = tuple(int(v) for v in (rng.integers(0, width),
                                    rng.integers(0, height)))
        thickness = int(rng.integers(1, 3))
        cv2.line(image, p1, p2, (250, 250, 250), thickness)
        cv2.line(labels, p1, p2, 1, thickness)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def make_dataset(root: str, train: int = 48, val: int = 12) -> str:
    rng = np.random.default_rng(0)
    for split, count in (('train', train), ('val', val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        os.makedirs(osp.join(root, split + 'annot'), exist_ok=True)
        for i in range(count):
            image, labels = make_sample(rng)
            cv2.imwrite(osp.join(root, split, f'{i:04d}.png'), image)
            cv2.imwrite(osp.join(root, split + 'annot', f'{i:04d}.png'),
                        labels)
    return root


def build_cfg(data_root: str, variant: str, iters: int, work_dir: str,
              seed: int = 0):
    from mmengine.config import Config

    from mmresize.catalogue import resizer_config
    from mmresize.engine.schedules import set_iterations
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'benchmarks',
                 'camvid_deeplabv3plus_r18_os16.py'))
    pre = cfg.model.data_preprocessor
    pre.resizer = resizer_config(variant)
    pre.target_scale = 0.25
    pre.seg_pad_val = 255
    cfg.model.decode_head.update(num_classes=len(CLASSES), ignore_index=255)
    metainfo = dict(classes=CLASSES, palette=PALETTE)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.update(
            type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
            img_suffix='.png', seg_map_suffix='.png', ignore_index=255)
    # The benchmark config's EMA is not part of the demo: it evaluates the
    # final weights.
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'EMAHook']
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    set_iterations(cfg, iters)
    cfg.log_level = 'WARNING'
    return cfg


def predict(runner, image_bgr: np.ndarray) -> np.ndarray:
    import torch
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(
        img_shape=image_bgr.shape[:2], ori_shape=image_bgr.shape[:2]))
    inputs = torch.from_numpy(image_bgr).permute(2, 0, 1).contiguous()
    with torch.no_grad():
        out = runner.model.test_step(dict(inputs=[inputs],
                                          data_samples=[sample]))[0]
    return out.pred_sem_seg.data[0].numpy()


def colour(labels: np.ndarray) -> np.ndarray:
    return np.array(PALETTE, np.uint8)[labels]


def figure(path: str, runners: dict, data_root: str, count: int = 2) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import torch
    import torch.nn.functional as F

    from mmresize.visualization import denormalise, resizer_input
    fig, axes = plt.subplots(count, 6, figsize=(19, 3.2 * count),
                             squeeze=False)
    for row in range(count):
        name = f'{row:04d}.png'
        image = cv2.imread(osp.join(data_root, 'val', name))
        labels = cv2.imread(osp.join(data_root, 'valannot', name), 0)
        pre = runners['DownsizeNet'].model.data_preprocessor
        mean, std = pre.mean.flatten().tolist(), pre.std.flatten().tolist()
        x, size = resizer_input(pre, image, 'mmseg')
        with torch.no_grad():
            small = {
                'bilinear': F.interpolate(x, size, mode='bilinear',
                                          align_corners=False),
                'DownsizeNet': pre.resizer(x, size)}
        panels = [('image', image[..., ::-1]),
                  ('bilinear 0.25x', denormalise(small['bilinear'], mean,
                                                 std)),
                  ('DownsizeNet 0.25x', denormalise(small['DownsizeNet'],
                                                    mean, std)),
                  ('ground truth', colour(labels)),
                  ('prediction: bilinear', colour(
                      predict(runners['bilinear'], image))),
                  ('prediction: DownsizeNet', colour(
                      predict(runners['DownsizeNet'], image)))]
        for ax, (title, shown) in zip(axes[row], panels):
            ax.imshow(shown, interpolation='nearest')
            ax.set_title(title)
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def metrics_table(metrics: dict) -> str:
    """Markdown: per seed, then mean ± std and the paired gain over
    bilinear with its 95% t-interval and verdict. ``metrics``: variant ->
    seed -> mmseg metrics."""
    from mmresize.benchmark.report import gain_cell, mean_cell
    from mmresize.evaluation.paired import mean_std, paired_gain
    head = '| resizer | seed | mIoU | ' + ' | '.join(CLASSES) + ' |'
    rule = '|---|---|---:|' + '---:|' * len(CLASSES)
    lines = [head, rule]
    for variant, by_seed in metrics.items():
        for seed, m in by_seed.items():
            lines.append(f'| {variant} | {seed} | {m["mIoU"]:.2f} | ' +
                         ' | '.join(f'{m["IoU." + c]:.2f}' for c in CLASSES)
                         + ' |')
    lines += ['', '| resizer | seeds | mIoU (mean ± std) | gain vs bilinear '
              '[95% CI] | verdict | ' + ' | '.join(CLASSES) + ' |',
              '|---|---:|---:|---|---|' + '---:|' * len(CLASSES)]
    base = {s: m['mIoU'] for s, m in metrics['bilinear'].items()}
    for variant, by_seed in metrics.items():
        miou = {s: m['mIoU'] for s, m in by_seed.items()}
        gain = paired_gain(miou, base)
        is_base = variant == 'bilinear'
        ms = mean_std(list(miou.values()))
        lines.append(
            f'| {variant} | {len(miou)} | {mean_cell(ms, std=True)} '
            f'| {"" if is_base else gain_cell(gain)} | '
            f'{"" if is_base else gain["verdict"]} | ' + ' | '.join(
                mean_cell(mean_std([m["IoU." + c] for m in by_seed.values()]))
                for c in CLASSES) + ' |')
    return '\n'.join(lines) + '\n'


def run_demo(work_dir: str, iters: int, seeds: Sequence[int]) -> str:
    """Train and test both variants on every seed in ``work_dir``; write
    the metrics, figure and resizer checkpoint; return the metrics table."""
    from mmresize.cli import build_runner
    from mmresize.resizers.checkpoint import trust_local_checkpoints
    from mmresize.transfer import extract, save_atomic
    trust_local_checkpoints()
    start = time.time()
    os.makedirs(work_dir, exist_ok=True)
    data_root = make_dataset(osp.join(work_dir, 'data'))
    print(f'[demo] generated 48 train / 12 val images in {data_root}',
          flush=True)
    first = seeds[0]
    runners, metrics = {}, {v: {} for v in VARIANTS}
    for seed in seeds:
        for variant in VARIANTS:
            print(f'[demo] seed {seed}: training DeepLabv3+ (ResNet-18) with '
                  f'{variant} at 0.25x for {iters} iterations...',
                  flush=True)
            cfg = build_cfg(data_root, variant, iters,
                            osp.join(work_dir, variant, f'seed{seed}'),
                            seed)
            runner = build_runner(cfg)  # its own visualizer, work dir
            runner.train()
            result = {k: float(v) for k, v in runner.test().items()}
            metrics[variant][seed] = result
            if seed == first:
                runners[variant] = runner
            print(f'[demo] seed {seed} {variant}: mIoU {result["mIoU"]:.2f} '
                  f'({time.time() - start:.0f} s so far)', flush=True)
    table = metrics_table(metrics)
    with open(osp.join(work_dir, 'metrics.md'), 'w') as f:
        f.write(table)
    with open(osp.join(work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)
    figure(osp.join(work_dir, 'demo.png'), runners, data_root)
    checkpoint = osp.join(work_dir, 'DownsizeNet', f'seed{first}',
                          f'iter_{iters}.pth')
    resizer_path = osp.join(work_dir, 'downsizenet_resizer.pth')
    save_atomic(extract(checkpoint), resizer_path, force=True)
    print(f'[demo] wrote {work_dir}/metrics.md, demo.png and '
          f'{resizer_path} in {time.time() - start:.0f} s')
    return table

