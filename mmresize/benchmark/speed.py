"""Speed and memory of every resizer, against a DeepLabv3+ forward.

Times forward (no grad) and forward+backward (gradients for the resizer's
parameters only; the image needs none) of each resizer at the two settings
of the paper's experiments, batch 1, float32, on this machine's threads
(``mmresize.benchmark.timing.median_ms``), and in the same run a
DeepLabv3+-R50-D8 forward at the downsized Cityscapes size as the
yardstick. Peak memory per case is measured in a fresh child process
(``mmresize.benchmark.memory``). The cost targets (3 and 4 convs against 2,
forward+backward against forward) are checked against the same run;
``arch_cost`` times DownsizeNet with the compiled op built for this CPU
(``-march=native``) against the installed, portable build.
"""
import multiprocessing as mp
import os.path as osp
from typing import List, Tuple

import torch

from mmresize.benchmark.memory import peak_growth_mb
from mmresize.benchmark.timing import median_ms

SETTINGS = [((300, 300), (100, 100)), ((1024, 2048), (307, 614))]
# The resizers timed, from the shared catalogue (mmresize.catalogue).
# (The start does not change the cost: the 3- and 4-conv DownsizeNets are
# the catalogue's near-bilinear ones.)
RESIZERS = ['bilinear', 'area', 'bilinear-aa', 'DownsizeNet',
            'DownsizeNet-nearbil-3conv', 'DownsizeNet-nearbil-4conv',
            'DownsizeNet-16nb', 'LearnableResizer', 'MullerResizer']
DEEPER = ('DownsizeNet-nearbil-3conv', 'DownsizeNet-nearbil-4conv')
YARDSTICK_CONFIG = ('mmseg::deeplabv3plus/'
                    'deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py')


WARMUP = 2  # untimed calls before each timing


def build_resizer(name: str, device: str) -> torch.nn.Module:
    import mmresize.resizers  # noqa: F401  registers the resizers
    from mmresize.catalogue import resizer_config
    from mmresize.registry import MODELS
    return MODELS.build(resizer_config(name)).to(device)


def build_seg_model(config: str, device: str) -> torch.nn.Module:
    """An mmseg model from ``config`` (e.g. ``'mmseg::...'``) with random
    weights, BN instead of SyncBN and no data preprocessor, on ``device``
    (training mode)."""
    from mmengine import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS as SEG_MODELS
    cfg = Config.fromstring(f"_base_ = ['{config}']", '.py')
    init_default_scope('mmseg')
    model_cfg = cfg.model
    model_cfg.pretrained = None
    model_cfg.data_preprocessor = None
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        if key in model_cfg and 'norm_cfg' in model_cfg[key]:
            model_cfg[key].norm_cfg = dict(type='BN', requires_grad=True)
    return SEG_MODELS.build(model_cfg).to(device)


def build_yardstick(device: str) -> torch.nn.Module:
    """DeepLabv3+-R50-D8 (mmseg's Cityscapes config), random weights."""
    return build_seg_model(YARDSTICK_CONFIG, device).eval()


def resizer_fns(name: str, in_hw: Tuple[int, int], out_hw: Tuple[int, int],
                device: str, batch: int = 1):
    """(forward, forward+backward) closures of one resizer on a random
    (batch, 3, H, W) input: forward without gradients, forward+backward
    with gradients for the resizer's parameters (the image needs none)."""
    x = torch.rand(batch, 3, *in_hw, device=device)
    model = build_resizer(name, device).train()

    def forward() -> None:
        with torch.no_grad():
            model(x, out_hw)

    def forward_backward() -> None:
        out = model(x, out_hw)
        if out.requires_grad:
            out.sum().backward()

    return forward, forward_backward


def case_fns(name: str, setting: int, device: str):
    """(forward, forward+backward) closures for one resizer and setting."""
    in_size, out_size = SETTINGS[setting]
    return resizer_fns(name, in_size, out_size, device)


def _child_peak(args: Tuple[str, int, str, str]) -> float:
    """In a fresh process: peak memory growth of one case (``peak_mb``)."""
    name, setting, device, which = args
    if name == 'yardstick':
        model = build_yardstick(device)
        x = torch.rand(1, 3, *SETTINGS[1][1], device=device)

        def fn():
            with torch.no_grad():
                model(x, mode='tensor')
    else:
        forward, forward_backward = case_fns(name, setting, device)
        fn = forward if which == 'forward' else forward_backward
    return peak_growth_mb(fn, device)


def peak_mb(name: str, setting: int, device: str, which: str) -> float:
    """Peak memory growth (MB) of one call, in a fresh process."""
    with mp.get_context('spawn').Pool(1) as pool:
        return pool.map(_child_peak, [(name, setting, device, which)])[0]


def time_yardstick(device: str, repeats: int) -> float:
    """Forward time (ms) of the yardstick at the downsized Cityscapes size."""
    model = build_yardstick(device)
    x = torch.rand(1, 3, *SETTINGS[1][1], device=device)

    def forward() -> None:
        with torch.no_grad():
            model(x, mode='tensor')

    return median_ms(forward, repeats, device, WARMUP)


def run(device: str, repeats: int, names: List[str],
        memory: bool) -> List[dict]:
    rows = []
    yard_ms = time_yardstick(device, max(3, repeats // 3))
    rows.append(dict(name='DeepLabv3+-R50-D8 forward (yardstick)',
                     setting='307x614', forward_ms=yard_ms,
                     peak_mb=peak_mb('yardstick', 1, device, 'forward')
                     if memory else None))
    for setting, (in_size, out_size) in enumerate(SETTINGS):
        for name in names:
            forward, forward_backward = case_fns(name, setting, device)
            fwd = median_ms(forward, repeats, device, WARMUP)
            fwd_bwd = median_ms(forward_backward, repeats, device, WARMUP)
            rows.append(
                dict(
                    name=name,
                    setting=f'{in_size[0]}x{in_size[1]} -> '
                    f'{out_size[0]}x{out_size[1]}',
                    forward_ms=fwd,
                    forward_backward_ms=fwd_bwd,
                    share_of_yardstick=fwd / yard_ms,
                    backward_ratio=fwd_bwd / fwd,
                    peak_mb=peak_mb(name, setting, device, 'forward_backward')
                    if memory else None))
            print(f'  {rows[-1]["setting"]:>24} {name:<18} fwd {fwd:8.1f} ms'
                  f'  fwd+bwd {fwd_bwd:8.1f} ms', flush=True)
    return rows


# (what, value key, limit): issue targets, checked at 1024x2048 -> 307x614.
TARGETS = [(f'{DEEPER[0]} forward / DownsizeNet forward', 1.5),
           (f'{DEEPER[1]} forward / DownsizeNet forward', 2.2),
           ('DownsizeNet fwd+bwd / fwd', 2.5),
           (f'{DEEPER[0]} fwd+bwd / fwd', 2.5),
           (f'{DEEPER[1]} fwd+bwd / fwd', 2.5)]


def target_rows(rows: List[dict]) -> List[dict]:
    """The cost targets against this run's measurements (large setting)."""
    large = {r['name']: r for r in rows[1:]
             if r['setting'].startswith('1024x2048')}
    values = {}
    if 'DownsizeNet' in large:
        base = large['DownsizeNet']['forward_ms']
        for name in DEEPER:
            if name in large:
                values[f'{name} forward / DownsizeNet forward'] = \
                    large[name]['forward_ms'] / base
    for name in ('DownsizeNet', ) + DEEPER:
        if name in large:
            values[f'{name} fwd+bwd / fwd'] = large[name]['backward_ratio']
    return [dict(what=what, value=values[what], limit=limit,
                 met=values[what] <= limit)
            for what, limit in TARGETS if what in values]


def arch_cost(device: str, repeats: int) -> List[dict]:
    """DownsizeNet at 1024x2048 -> 307x614 with the installed (portable)
    compiled op and with one built here for this CPU (-march=native)."""
    import tempfile

    from torch.utils.cpp_extension import load

    from mmresize.resizers import fused
    source = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'csrc', 'texture_at_anchors.cpp')
    portable = fused._ext
    if portable is None:
        raise SystemExit('--arch-cost needs the compiled op: run '
                         'tools/setup.sh (MMRESIZE_WITH_OPS=1)')
    native = load(name='mmresize_ext_native', sources=[source],
                  extra_cflags=['-O3', '-march=native', '-fopenmp'],
                  extra_ldflags=['-fopenmp'],
                  build_directory=tempfile.mkdtemp(prefix='mmresize-native-'))
    rows = []
    for name in ('DownsizeNet', ) + DEEPER:
        forward, _ = case_fns(name, 1, device)
        times = {}
        for build, ext in (('portable', portable), ('native', native)):
            fused._ext = ext
            try:
                times[build] = median_ms(forward, repeats, device, WARMUP)
            finally:
                fused._ext = portable
        rows.append(dict(name=name, **times,
                         portable_over_native=times['portable'] /
                         times['native']))
        print(f'  {name:<18} portable {times["portable"]:7.1f} ms  native '
              f'{times["native"]:7.1f} ms', flush=True)
    return rows


def markdown(rows: List[dict], device: str) -> str:
    yard = rows[0]
    lines = [
        f'Device: {device}, threads: {torch.get_num_threads()}, torch '
        f'{torch.__version__}. Yardstick: {yard["name"]} at {yard["setting"]}'
        f' = {yard["forward_ms"]:.1f} ms.', '',
        '| setting | resizer | forward ms | fwd+bwd ms | fwd+bwd / fwd |'
        ' forward / yardstick | peak MB (fwd+bwd) |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    for row in rows[1:]:
        peak = '-' if row['peak_mb'] is None else f'{row["peak_mb"]:.0f}'
        lines.append(
            f'| {row["setting"]} | {row["name"]} | {row["forward_ms"]:.1f} | '
            f'{row["forward_backward_ms"]:.1f} | {row["backward_ratio"]:.2f}x '
            f'| {100 * row["share_of_yardstick"]:.1f}% | {peak} |')
    lines += ['', '| target (1024x2048 -> 307x614) | this run | limit | met |',
              '|---|---:|---:|---|']
    for t in target_rows(rows):
        lines.append(f'| {t["what"]} | {t["value"]:.2f}x | {t["limit"]}x | '
                     f'{"yes" if t["met"] else "no"} |')
    return '\n'.join(lines)


def arch_markdown(rows: List[dict]) -> str:
    from mmresize.resizers import fused
    lines = [f'Installed build: x86-64-v2 baseline with AVX2 and AVX-512 '
             f'kernels chosen at run time ({fused._ext.isa()} on this CPU); '
             'native: the op compiled here with -march=native.', '',
             '| resizer, forward at 1024x2048 -> 307x614 | installed '
             '(portable) ms | native ms | portable / native |',
             '|---|---:|---:|---:|']
    for r in rows:
        lines.append(f'| {r["name"]} | {r["portable"]:.1f} | '
                     f'{r["native"]:.1f} | {r["portable_over_native"]:.2f}x |')
    return '\n'.join(lines)
