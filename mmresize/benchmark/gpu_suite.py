"""The GPU measurements of the resizers, in one run (``tools/
benchmark_resizers.py --suite gpu``):

- every resizer's forward (no grad) and forward+backward (gradients for its
  parameters; the image needs none), DownsizeNet's variants both on the
  PyTorch path and through the fused Triton kernel
  (``mmresize/resizers/fused_triton.py``) where CUDA and Triton are there,
  at 1024x2048 -> 307x614 and 512x512 -> 154x154, batch 8, float32, with
  device synchronisation (``mmresize.benchmark.timing``), and the peak
  memory each call adds (``torch.cuda.max_memory_allocated``; resident-set
  growth on the CPU);
- each resizer's share of a DeepLabv3+-R50-D8 training step on 512x1024
  crops at 0.3x (batch 8): the resizer's forward+backward on the crops
  over the whole step (resizer, model forward and backward at 154x307,
  SGD update);
- the multiply-add floor of DownsizeNet's forward+backward: each layer's
  forward multiply-adds once and its backward twice (input and weight
  gradients), but the first conv's backward once (the image needs no
  gradient): ``2 * 432 H W + 3 * 2384 h w`` an image
  (``mmresize.benchmark.cost``), at the float32 rate this device reaches on
  a large matrix product in the same run, and the measured time over that
  floor. The whole suite runs in strict float32 (TF32 off for matrix
  products and cuDNN convolutions), as the floor assumes.
- peak memory is measured in this process, on a fresh resizer (no
  gradients held) each time: on CUDA the growth of
  ``max_memory_allocated`` (activations, gradients, workspace), on the CPU
  the resident set's growth, which earlier cases' freed memory hides.

``quick=True`` runs the same code at toy sizes with a ResNet-18 model (a
check that it runs, e.g. on a CPU; its figures mean nothing).
"""
import contextlib
import os
from typing import Dict, Iterator, List, Sequence, Tuple

import torch

from mmresize.benchmark.memory import peak_growth_mb
from mmresize.benchmark.speed import (
    RESIZERS,
    WARMUP,
    build_resizer,
    build_seg_model,
    resizer_fns,
)
from mmresize.benchmark.timing import median_ms
from mmresize.preprocessors.core import round_half_up

HW = Tuple[int, int]
SETTINGS: List[Tuple[HW, HW]] = [((1024, 2048), (307, 614)),
                                 ((512, 512), (154, 154))]
BATCH = 8
STEP_CROP, STEP_FACTOR = (512, 1024), 0.3
STEP_MODEL = ('mmseg::deeplabv3plus/'
              'deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py')
QUICK_SETTINGS: List[Tuple[HW, HW]] = [((64, 128), (19, 38)),
                                       ((32, 32), (10, 10))]
QUICK_BATCH, QUICK_CROP = 2, (64, 128)
QUICK_MODEL = ('mmseg::deeplabv3plus/'
               'deeplabv3plus_r18b-d8_4xb2-80k_cityscapes-512x1024.py')
# goals of issue 23 (benchmarks, not tests)
SHARE_GOAL, FLOOR_GOAL = 0.05, 3.0


@contextlib.contextmanager
def strict_float32() -> Iterator[None]:
    """TF32 off for CUDA matrix products and cuDNN convolutions inside."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


def float32_tflops(device: str, size: int = 8192, repeats: int = 5) -> float:
    """The float32 rate (TFLOP/s) of a size x size matrix product here, in
    strict float32: the yardstick of the multiply-add floor."""
    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    with strict_float32():
        ms = median_ms(lambda: a @ b, repeats, device, WARMUP)
    return 2 * size ** 3 / (ms / 1000) / 1e12


def resizer_case(name: str, in_hw: HW, out_hw: HW, batch: int,
                 device: str, repeats: int,
                 memory: bool = True) -> Dict[str, float]:
    """Forward and forward+backward times (ms) and (with ``memory``) the
    peak MB of a forward+backward of one case."""
    forward, forward_backward = resizer_fns(name, in_hw, out_hw, device,
                                            batch)
    times = dict(
        forward_ms=median_ms(forward, repeats, device, WARMUP),
        forward_backward_ms=median_ms(forward_backward, repeats, device,
                                      WARMUP))
    if not memory:
        return times
    del forward, forward_backward  # their gradients too
    _, fresh = resizer_fns(name, in_hw, out_hw, device, batch)
    return dict(times, peak_mb=peak_growth_mb(fresh, device))


def step_shares(names: Sequence[str], crop: HW, batch: int, config: str,
                device: str, repeats: int) -> List[dict]:
    """Each resizer's forward+backward over a whole training step (crops
    ``crop`` at ``STEP_FACTOR``: resizer, model forward/backward, SGD)."""
    model = build_seg_model(config, device).train()
    out_hw = tuple(round_half_up(s * STEP_FACTOR) for s in crop)
    x = torch.rand(batch, 3, *crop, device=device)
    rows = []
    for name, path in case_paths(names, device):
        resizer = build_resizer(name, device).train()
        params = list(model.parameters()) + list(resizer.parameters())
        optimizer = torch.optim.SGD(params, lr=1e-4)

        def resizer_only() -> None:
            out = resizer(x, out_hw)
            if out.requires_grad:
                out.sum().backward()

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            logits = model(resizer(x, out_hw), mode='tensor')
            logits.float().mean().backward()
            optimizer.step()

        try:
            with code_path(path):
                resizer_ms = median_ms(resizer_only, repeats, device, WARMUP)
                step_ms = median_ms(step, repeats, device, WARMUP)
        except Exception as error:
            if path == 'pytorch':
                raise
            print(f'  step share {name} {path}: FAILED {error!r}', flush=True)
            rows.append(dict(name=name, path=path, error=repr(error)))
            continue
        rows.append(dict(name=name, path=path, resizer_ms=resizer_ms,
                         step_ms=step_ms, share=resizer_ms / step_ms))
        print(f'  step share {name:<26} {path:<7} '
              f'{100 * resizer_ms / step_ms:5.1f}% '
              f'({resizer_ms:.1f} of {step_ms:.1f} ms)', flush=True)
    return rows


def case_paths(names: Sequence[str],
               device: str) -> List[Tuple[str, str]]:
    """(resizer, code path) pairs to measure: every DownsizeNet variant the
    kernels cover on both the PyTorch path and the fused Triton kernel
    where CUDA and Triton are there (and ``MMRESIZE_TRITON`` is not 0),
    everything else on its one path."""
    from mmresize.resizers import DownsizeNet, fused_triton
    triton = (torch.device(device).type == 'cuda' and fused_triton.HAS_TRITON
              and os.environ.get('MMRESIZE_TRITON', '1') != '0')
    pairs = []
    for name in names:
        pairs.append((name, 'pytorch'))
        resizer = build_resizer(name, 'cpu') if triton else None
        if isinstance(resizer, DownsizeNet) and fused_triton.supports(resizer):
            pairs.append((name, 'triton'))
    return pairs


@contextlib.contextmanager
def code_path(path: str) -> Iterator[None]:
    """Run DownsizeNet on the PyTorch path ('pytorch': the fused Triton
    kernel off) or through the kernel ('triton': raises if a call inside
    did not take it, so that no row is mislabelled)."""
    from mmresize.resizers import fused_triton
    if path != 'triton':
        with fused_triton.disabled():
            yield
        return
    calls = []
    real = fused_triton.resize

    def counted(*args):
        calls.append(1)
        return real(*args)

    fused_triton.resize = counted
    try:
        yield
    finally:
        fused_triton.resize = real
    if not calls:
        raise RuntimeError('the fused Triton kernel did not run on this path')


def floor_ms(in_hw: HW, out_hw: HW, batch: int, tflops: float) -> float:
    """DownsizeNet-2conv forward+backward at the multiply-add floor, 2
    FLOPs a multiply-add at ``tflops``: the first conv (its forward
    multiply-adds counted by ``resizer_macs`` on the input alone) forward
    and weight gradient, 2x; the rest forward, input and weight gradients,
    3x."""
    from mmresize.benchmark.cost import resizer_macs
    from mmresize.resizers import DownsizeNet
    total = resizer_macs(DownsizeNet(), in_hw, out_hw)
    first = in_hw[0] * in_hw[1] * 3 * 16 * 9  # the dense 3 -> 16 3x3 conv
    macs = batch * (2 * first + 3 * (total - first))
    return 2 * macs / (tflops * 1e12) * 1000


def run(device: str, repeats: int, names: Sequence[str] = tuple(RESIZERS),
        quick: bool = False, memory: bool = True) -> dict:
    """The whole suite, in strict float32; returns its rows (see the
    module docstring). ``memory=False`` skips the peak-memory calls."""
    with strict_float32():
        return _run(device, repeats, names, quick, memory)


def _run(device: str, repeats: int, names: Sequence[str], quick: bool,
         memory: bool) -> dict:
    settings = QUICK_SETTINGS if quick else SETTINGS
    batch = QUICK_BATCH if quick else BATCH
    tflops = float32_tflops(device, 256 if quick else 8192)
    print(f'float32 matrix product: {tflops:.3g} TFLOP/s', flush=True)
    cases = []
    for in_hw, out_hw in settings:
        for name, path in case_paths(names, device):
            try:
                with code_path(path):
                    times = resizer_case(name, in_hw, out_hw, batch, device,
                                         repeats, memory)
            except Exception as error:  # one failed case loses no other
                if path == 'pytorch':
                    raise
                print(f'  {name} {path}: FAILED {error!r}', flush=True)
                cases.append(dict(name=name, path=path, batch=batch,
                                  setting=f'{in_hw[0]}x{in_hw[1]} -> '
                                  f'{out_hw[0]}x{out_hw[1]}',
                                  error=repr(error)))
                continue
            row = dict(name=name, setting=f'{in_hw[0]}x{in_hw[1]} -> '
                       f'{out_hw[0]}x{out_hw[1]}', batch=batch, path=path,
                       **times)
            if name == 'DownsizeNet':
                row['floor_ms'] = floor_ms(in_hw, out_hw, batch, tflops)
                row['over_floor'] = row['forward_backward_ms'] / \
                    row['floor_ms']
            cases.append(row)
            print(f'  {row["setting"]:>24} {name:<26} {path:<7} fwd '
                  f'{row["forward_ms"]:8.2f} ms  fwd+bwd '
                  f'{row["forward_backward_ms"]:8.2f} ms', flush=True)
    shares = step_shares(names, QUICK_CROP if quick else STEP_CROP, batch,
                         QUICK_MODEL if quick else STEP_MODEL, device,
                         repeats)
    return dict(device=device_name(device), torch=torch.__version__,
                float32_tflops=tflops, quick=quick, cases=cases,
                step_model=QUICK_MODEL if quick else STEP_MODEL,
                step_crop=list(QUICK_CROP if quick else STEP_CROP),
                batch=batch, step_shares=shares)


def device_name(device: str) -> str:
    if torch.device(device).type == 'cuda':
        return torch.cuda.get_device_name(torch.device(device))
    from mmresize.benchmark.provenance import cpu_name
    return cpu_name()


def markdown(result: dict) -> str:
    """The suite's tables, with the goals checked against this run."""
    lines = [f'{result["device"]}, torch {result["torch"]}; float32 matrix '
             f'product {result["float32_tflops"]:.3g} TFLOP/s (TF32 off)'
             + (' -- quick sizes: figures mean nothing' if result['quick']
                else ''), '',
             '| setting (batch) | resizer | path | forward ms | fwd+bwd ms | '
             'peak MB (fwd+bwd) | fwd+bwd / multiply-add floor |',
             '|---|---|---|---:|---:|---:|---:|']
    for r in result['cases']:
        if 'error' in r:
            lines.append(f'| {r["setting"]} ({r["batch"]}) | {r["name"]} | '
                         f'{r["path"]} | failed: {r["error"]} | | | |')
            continue
        floor = (f'{r["over_floor"]:.1f}x (floor {r["floor_ms"]:.3f} ms)'
                 if 'over_floor' in r else '')
        peak = f'{r["peak_mb"]:.0f}' if 'peak_mb' in r else '-'
        lines.append(f'| {r["setting"]} ({r["batch"]}) | {r["name"]} | '
                     f'{r["path"]} | {r["forward_ms"]:.2f} | '
                     f'{r["forward_backward_ms"]:.2f} | {peak} | {floor} |')
    crop = 'x'.join(str(s) for s in result['step_crop'])
    model = result['step_model'].rsplit('/', 1)[-1]
    lines += ['', f'| resizer | path | share of a training step of {model} '
              f'({crop} crops at {STEP_FACTOR}x, batch {result["batch"]}) | '
              'resizer ms | step ms |',
              '|---|---|---:|---:|---:|']
    for r in result['step_shares']:
        if 'error' in r:
            lines.append(f'| {r["name"]} | {r["path"]} | failed: '
                         f'{r["error"]} | | |')
            continue
        lines.append(f'| {r["name"]} | {r.get("path", "pytorch")} | '
                     f'{100 * r["share"]:.1f}% | '
                     f'{r["resizer_ms"]:.1f} | {r["step_ms"]:.1f} |')
    lines += ['', '| goal | path | this run | met |', '|---|---|---:|---|']
    for r in result['step_shares']:
        if r['name'] == 'DownsizeNet' and 'error' not in r:
            lines.append(
                f'| DownsizeNet-2conv at most {100 * SHARE_GOAL:.0f}% of the '
                f'step | {r.get("path", "pytorch")} | {100 * r["share"]:.1f}%'
                f' | {"yes" if r["share"] <= SHARE_GOAL else "no"} |')
    for r in result['cases']:
        if 'over_floor' in r and r['setting'].startswith(
                f'{SETTINGS[0][0][0]}x'):
            lines.append(
                f'| fwd+bwd within {FLOOR_GOAL:.0f}x of the floor at '
                f'1024x2048 | {r["path"]} | {r["over_floor"]:.1f}x | '
                f'{"yes" if r["over_floor"] <= FLOOR_GOAL else "no"} |')
    return '\n'.join(lines)


__all__ = ['case_paths', 'code_path', 'float32_tflops', 'floor_ms',
           'markdown', 'run', 'step_shares']
