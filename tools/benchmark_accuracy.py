"""What a resizer buys and costs on real images: accuracy over seeds.

For a task and a downsizing factor, trains every resizer variant with the
same seed, schedule and pipeline, evaluates at the original resolution and
reports mean and standard deviation over seeds of mIoU (CamVid, with
per-class IoU) or mAP (BCCD, with per-class AP), the training time and the
resizer's share of a training step. Each run is saved as it finishes
(``WORK/TASK_FACTORx_ITERSit/VARIANT/seedN/result.json``), so an
interrupted matrix resumes where it stopped, and ablations run later join
the same tables. Writes ``summary.json``, ``summary.md`` and
``gain_vs_overhead.png`` in ``WORK/TASK_FACTORx_ITERSit`` from every run
found there.

    python tools/benchmark_accuracy.py --task camvid --factor 0.3 \\
        --seeds 0 1 2 --iters 300 [--variants ...] [--quick]

Data: $MMRESIZE_DATA/{camvid,bccd} (default ../shared/data).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

VARIANTS: Dict[str, dict] = {
    'bilinear': dict(type='mmresize.InterpolateResizer', mode='bilinear'),
    'area': dict(type='mmresize.InterpolateResizer', mode='area'),
    'bilinear-aa': dict(type='mmresize.InterpolateResizer', mode='bilinear',
                        antialias=True),
    'DownsizeNet': dict(type='mmresize.DownsizeNet'),
    'DownsizeNet-16nb': dict(type='mmresize.DownsizeNet', kernel='bicubic'),
    'LearnableResizer': dict(type='mmresize.LearnableResizer'),
    'DownsizeNet-3conv': dict(type='mmresize.DownsizeNet', num_convs=3),
    'DownsizeNet-4conv': dict(type='mmresize.DownsizeNet', num_convs=4),
    'DownsizeNet-sigmoid': dict(type='mmresize.DownsizeNet',
                                coef_act='sigmoid'),
    'DownsizeNet-random': dict(type='mmresize.DownsizeNet', init='random'),
    'DownsizeNet-prior': dict(type='mmresize.DownsizeNet',
                              learned_start='prior'),
}
# Variants that change the training of the resizer, not the resizer itself:
# name -> (resizer variant, config options merged over the task's config).
TRAINING_VARIANTS: Dict[str, Tuple[str, dict]] = {
    'DownsizeNet-lr10': ('DownsizeNet', {
        'optim_wrapper.paramwise_cfg': dict(custom_keys={
            'data_preprocessor.resizer': dict(lr_mult=10.0)})}),
}
MAIN = ['bilinear', 'area', 'bilinear-aa', 'DownsizeNet', 'DownsizeNet-16nb',
        'LearnableResizer']
CAMVID = dict(metric='mIoU', per_class='IoU.',
              thin=['Pole', 'SignSymbol', 'Fence', 'Pedestrian', 'Bicyclist'],
              metric_scale=1.0, iters=300)
# mmdet's VOCMetric reports mAP as a fraction (PerClassVOCMetric's AP.<class>
# are percent already); tables show percent.
BCCD = dict(metric='pascal_voc/mAP', per_class='pascal_voc/AP.',
            thin=['Platelets'], metric_scale=100.0, iters=200)
TASKS = {
    'camvid': dict(
        CAMVID, config='configs/benchmarks/camvid_deeplabv3plus_r18_os16.py'),
    'camvid-fcn': dict(
        CAMVID, config='configs/benchmarks/camvid_fcn_r18_os16.py'),
    # BCCD's main detector is the RefineDet-style one: from scratch it reaches
    # ~78 mAP (Platelets ~60) in 200 iterations, where CenterNet-R18 is at
    # ~21 mAP with Platelets at 0, too early for a ranking to mean anything.
    'bccd': dict(BCCD, config='configs/benchmarks/bccd_refinedet_r18.py'),
    'bccd-centernet': dict(
        BCCD, config='configs/benchmarks/bccd_centernet_r18.py'),
}
ALL_VARIANTS = list(VARIANTS) + list(TRAINING_VARIANTS)


def matrix_dir(work: str, task: str, factor: float, iters: int) -> str:
    """One folder per (task, factor, schedule): its runs are comparable."""
    return osp.join(work, f'{task}_{factor}x_{iters}it')


def run_dir(work: str, task: str, factor: float, iters: int, variant: str,
            seed: int) -> str:
    return osp.join(matrix_dir(work, task, factor, iters), variant,
                    f'seed{seed}')


def load_results(folder: str) -> List[dict]:
    """Every finished run under ``folder``, in catalogue then seed order."""
    results = []
    for variant in ALL_VARIANTS:
        vdir = osp.join(folder, variant)
        seeds = sorted(os.listdir(vdir)) if osp.isdir(vdir) else []
        for seed in seeds:
            path = osp.join(vdir, seed, 'result.json')
            if osp.isfile(path):
                with open(path) as f:
                    results.append(json.load(f))
    return results


def build_cfg(task: str, variant: str, seed: int, factor: float, iters: int,
              out: str):
    from mmengine.config import Config

    from mmresize.training import set_iterations
    cfg = Config.fromfile(osp.join(ROOT, TASKS[task]['config']))
    resizer, options = TRAINING_VARIANTS.get(variant, (variant, {}))
    cfg.model.data_preprocessor.resizer = VARIANTS[resizer]
    cfg.merge_from_dict(options)
    cfg.model.data_preprocessor.target_scale = factor
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = out
    set_iterations(cfg, iters)
    return cfg


def resizer_inputs(pre, batch: dict):
    """What the preprocessor's resizer sees: (B, 3, H, W) normalised RGB
    images and the target (h, w)."""
    import torch
    with torch.no_grad():
        inputs = pre.cast_data(batch)['inputs']
        x = torch.stack([i.float() for i in inputs])
        x = (x[:, [2, 1, 0]] - pre.mean) / pre.std
    size = (round(x.shape[2] * pre.target_value[0]),
            round(x.shape[3] * pre.target_value[1]))
    return x, size


def resizer_drift(cfg, checkpoint: str, images: int = 4) -> dict:
    """How far the trained resizer's output is from bilinear interpolation.

    Builds the preprocessor of ``cfg``, loads the resizer weights of
    ``checkpoint`` and downsizes the first ``images`` test images. Returns
    ``drift``: mean |resizer - F.interpolate(bilinear)| in 0-255 pixel units,
    and ``gate``: DownsizeNet's blend gate g (None for other resizers); at
    g <= 0 DownsizeNet's output IS bilinear.
    """
    import torch
    import torch.nn.functional as F
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import Runner

    from mmresize.checkpoint import load_local
    from mmresize.transfer import resizer_state_dict

    init_default_scope(cfg.default_scope)
    pre = MODELS.build(cfg.model.data_preprocessor)
    state = load_local(checkpoint, map_location='cpu')['state_dict']
    pre.resizer.load_state_dict(resizer_state_dict(state))
    pre.eval()
    loader = Runner.build_dataloader(
        dict(cfg.test_dataloader, batch_size=images, num_workers=0,
             persistent_workers=False))
    x, size = resizer_inputs(pre, next(iter(loader)))
    with torch.no_grad():
        diff = pre.resizer(x, size) - F.interpolate(
            x, size, mode='bilinear', align_corners=False)
    gate = getattr(pre.resizer, 'blend', None)
    return dict(drift=float((diff * pre.std).abs().mean()),
                gate=None if gate is None else float(gate))


def step_share(runner, batches: int = 3) -> float:
    """Resizer forward+backward time over a whole training step."""
    model = runner.model
    loader_cfg = dict(runner.cfg.train_dataloader, num_workers=0,
                      persistent_workers=False)
    loader = iter(runner.build_dataloader(loader_cfg))
    step_times, resizer_times = [], []
    for _ in range(batches):
        batch = next(loader)
        start = time.perf_counter()
        model.train_step(batch, runner.optim_wrapper)
        step_times.append(time.perf_counter() - start)
        pre = model.data_preprocessor
        x, size = resizer_inputs(pre, batch)
        start = time.perf_counter()
        out = pre.resizer(x, size)
        if out.requires_grad:
            out.sum().backward()
        resizer_times.append(time.perf_counter() - start)
    runner.optim_wrapper.zero_grad()
    return statistics.median(resizer_times) / statistics.median(step_times)


def run_one(task: str, variant: str, seed: int, factor: float, iters: int,
            out: str) -> dict:
    """Train and test one variant; returns (and saves) its result."""
    from mmengine.runner import Runner

    from mmresize.checkpoint import trust_local_checkpoints
    trust_local_checkpoints()
    cfg = build_cfg(task, variant, seed, factor, iters, out)
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    metrics = {k: float(v) for k, v in runner.test().items()}
    drift = resizer_drift(cfg, osp.join(out, f'iter_{iters}.pth'))
    result = dict(task=task, variant=variant, seed=seed, factor=factor,
                  iters=iters, train_seconds=train_s,
                  resizer_share=step_share(runner), metrics=metrics,
                  **drift)
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def add_missing_drift(work: str, results: List[dict]) -> None:
    """Measure ``resizer_drift`` for runs saved before it was recorded, from
    their checkpoints, and save it into their result.json."""
    for r in results:
        if 'drift' in r:
            continue
        out = run_dir(work, r['task'], r['factor'], r['iters'], r['variant'],
                      r['seed'])
        cfg = build_cfg(r['task'], r['variant'], r['seed'], r['factor'],
                        r['iters'], out)
        r.update(resizer_drift(cfg, osp.join(out, f'iter_{r["iters"]}.pth')))
        with open(osp.join(out, 'result.json'), 'w') as f:
            json.dump(r, f, indent=2)


def summarise(results: List[dict], task: str) -> dict:
    spec = TASKS[task]
    by_variant: Dict[str, List[dict]] = {}
    for r in results:
        by_variant.setdefault(r['variant'], []).append(r)

    def stats(values):
        return dict(mean=statistics.fmean(values),
                    std=statistics.stdev(values) if len(values) > 1 else 0.0)

    def value(r):
        return spec['metric_scale'] * r['metrics'][spec['metric']]

    base = {r['seed']: value(r) for r in by_variant.get('bilinear', [])}
    summary = {}
    for variant, runs in by_variant.items():
        paired = [value(r) - base[r['seed']] for r in runs
                  if r['seed'] in base]
        summary[variant] = dict(
            seeds=sorted(r['seed'] for r in runs),
            metric=stats([value(r) for r in runs]),
            paired_gain=stats(paired) if paired else None,
            thin={c: stats([r['metrics'][spec['per_class'] + c]
                            for r in runs])
                  for c in spec['thin']},
            train_seconds=stats([r['train_seconds'] for r in runs]),
            resizer_share=stats([r['resizer_share'] for r in runs]),
            drift=stats([r['drift'] for r in runs]),
            gate=None if runs[0]['gate'] is None else stats(
                [r['gate'] for r in runs]))
    return summary


def markdown(summary: dict, task: str, factor: float, iters: int) -> str:
    spec = TASKS[task]
    head = (f'| resizer | seeds | {spec["metric"]} | gain vs bilinear '
            '(paired by seed) | ' +
            ' | '.join(spec['thin']) +
            ' | train time (s) | resizer share of step | '
            '\\|out − bilinear\\| (0-255) | gate g |')
    lines = [f'{task}, factor {factor}, {iters} iterations per run; mean ± '
             'std over seeds. Last two columns: how far the trained '
             "resizer's output is from bilinear on 4 test images, and "
             "DownsizeNet's blend gate (g <= 0: its output is bilinear).",
             '', head, '|' + '---|' * (8 + len(spec['thin']))]
    for variant, s in summary.items():
        gain = '' if s['paired_gain'] is None else (
            f'{s["paired_gain"]["mean"]:+.2f} ± {s["paired_gain"]["std"]:.2f}')
        gate = '' if s['gate'] is None else f'{s["gate"]["mean"]:+.3f}'
        thin = ' | '.join(f'{s["thin"][c]["mean"]:.1f} ± '
                          f'{s["thin"][c]["std"]:.1f}' for c in spec['thin'])
        lines.append(
            f'| {variant} | {len(s["seeds"])} | {s["metric"]["mean"]:.2f} ± '
            f'{s["metric"]["std"]:.2f} | {gain} | {thin} | '
            f'{s["train_seconds"]["mean"]:.0f} | '
            f'{100 * s["resizer_share"]["mean"]:.1f}% | '
            f'{s["drift"]["mean"]:.2f} | {gate} |')
    return '\n'.join(lines) + '\n'


def plot(summary: dict, task: str, path: str) -> None:
    """Paired gain over bilinear (error bar: its std over seeds) against the
    resizer's share of a training step."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for variant, s in summary.items():
        if s['paired_gain'] is None:
            continue
        x = 100 * s['resizer_share']['mean']
        y = s['paired_gain']['mean']
        ax.errorbar(x, y, yerr=s['paired_gain']['std'], fmt='o', capsize=3)
        ax.annotate(f'{variant} ({len(s["seeds"])})', (x, y),
                    textcoords='offset points', xytext=(5, 5), fontsize=7)
    ax.axhline(0, color='grey', lw=0.8)
    ax.set_xlabel('resizer share of a training step (%)')
    ax.set_ylabel(f'{TASKS[task]["metric"]} gain over bilinear (paired)')
    ax.set_title(f'{task}: gain vs overhead (seeds in brackets; bar: std)',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', choices=list(TASKS), default='camvid')
    parser.add_argument('--factor', type=float, default=0.3)
    parser.add_argument('--variants', nargs='+', default=MAIN,
                        choices=ALL_VARIANTS)
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int,
                        help='iterations per run (default: the task\'s, '
                        'chosen so one run takes a few minutes on 2 cores)')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_accuracy')
    parser.add_argument('--quick', action='store_true',
                        help='sanity run: 2 variants, 1 seed, 20 iterations')
    parser.add_argument('--run-one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:  # child process: one run, isolated
        run_one(**json.loads(args.run_one))
        return
    if args.quick:
        args.variants, args.seeds, args.iters = ['bilinear', 'DownsizeNet'], [
            0], 20
        args.work_dir = osp.join(args.work_dir, 'quick')
    args.iters = args.iters or TASKS[args.task]['iters']
    runs = [(v, s) for s in args.seeds for v in args.variants]
    metric = TASKS[args.task]['metric']
    for n, (variant, seed) in enumerate(runs, 1):
        out = run_dir(args.work_dir, args.task, args.factor, args.iters,
                      variant, seed)
        done = osp.join(out, 'result.json')
        if not osp.isfile(done):
            print(f'[{n}/{len(runs)}] {args.task} x{args.factor} {variant} '
                  f'seed {seed}: training {args.iters} iterations...',
                  flush=True)
            os.makedirs(out, exist_ok=True)
            spec = dict(task=args.task, variant=variant, seed=seed,
                        factor=args.factor, iters=args.iters, out=out)
            with open(osp.join(out, 'log.txt'), 'w') as log:
                code = subprocess.call(
                    [sys.executable, __file__, '--run-one', json.dumps(spec)],
                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            if code != 0:
                sys.exit(f'run failed ({code}); see {out}/log.txt')
        with open(done) as f:
            result = json.load(f)
        print(f'[{n}/{len(runs)}] {variant} seed {seed}: {metric} '
              f'{result["metrics"][metric]:.3f}, '
              f'{result["train_seconds"]:.0f} s', flush=True)
    folder = matrix_dir(args.work_dir, args.task, args.factor, args.iters)
    results = load_results(folder)
    add_missing_drift(args.work_dir, results)
    summary = summarise(results, args.task)
    with open(osp.join(folder, 'summary.json'), 'w') as f:
        json.dump(dict(runs=results, summary=summary), f, indent=2)
    table = markdown(summary, args.task, args.factor, args.iters)
    with open(osp.join(folder, 'summary.md'), 'w') as f:
        f.write(table)
    if 'bilinear' in summary:
        plot(summary, args.task, osp.join(folder, 'gain_vs_overhead.png'))
    print(table)


if __name__ == '__main__':
    main()
