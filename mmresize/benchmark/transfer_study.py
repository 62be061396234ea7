"""The frozen-transfer study: a DownsizeNet trained inside a source task,
frozen ahead of a target task, against the target's bilinear twin and the
same resizer trained in place (Ma & Li, BMVC 2022, Table 3;
``docs/transfer.md``).

1. **Sources**: the source task trained with DownsizeNet at the factor for
   each multiple of its schedule (the Table 3 axis: 1x, 2x, 3x), one seed
   (``source_seed``), as matrix runs (``mmresize.benchmark.matrix``).
2. **Extraction**: each source's resizer (its EMA weights, the ones its
   metric was measured with) into ``SOURCE_RUN/resizer.pth``
   (``mmresize.transfer``; weights-only, with its checksum).
3. **Targets**, truly paired by seed (same model initialisation and data
   order): ``bilinear``, ``DownsizeNet`` (trained in place: the upper
   reference) and one ``frozen-SOURCE-Mx`` per source (the extracted
   resizer, ``frozen=True``, loaded by ``init_cfg``); every target run
   uses ``FrozenAwareOptimWrapperConstructor`` (same options for all, so
   they pair).
4. **Summary**: per variant the metric, its paired gain over bilinear with
   the 95% t-interval and verdict (``mmresize.benchmark.report``), laid out
   as Table 3 (rows: pretraining length), and for every frozen run the
   check that its resizer in the final checkpoint (EMA and raw weights) is
   bitwise the extracted one: ``FrozenChanged`` otherwise.

Resumable like the matrix: finished runs and extracted files are kept.
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch

from mmresize.benchmark.matrix import (
    pending_runs,
    run_dir,
    run_matrix,
)
from mmresize.catalogue import TASKS

SOURCE_VARIANT = 'DownsizeNet'
IN_PLACE = 'DownsizeNet'
TARGET_OPTIONS = {
    'optim_wrapper.constructor': 'FrozenAwareOptimWrapperConstructor'}


class FrozenChanged(RuntimeError):
    """A frozen transferred resizer's weights changed during training."""


def frozen_name(source_task: str, multiple: int) -> str:
    """The target variant of the resizer from ``source_task`` at
    ``multiple`` times its schedule."""
    return f'frozen-{source_task}-{multiple}x'


def source_specs(work: str, source_task: str, factor: float,
                 multiples: Sequence[int], source_seed: int) -> List[dict]:
    """The source runs still to train (one per schedule multiple)."""
    base = TASKS[source_task]['iters']
    specs = []
    for multiple in multiples:
        specs += pending_runs(osp.join(work, 'sources'), [source_task],
                              factor, base * multiple, [SOURCE_VARIANT],
                              [source_seed])
    return specs


def source_dir(work: str, source_task: str, factor: float, multiple: int,
               source_seed: int) -> str:
    return run_dir(osp.join(work, 'sources'), source_task, factor,
                   TASKS[source_task]['iters'] * multiple, SOURCE_VARIANT,
                   source_seed)


def extract_source(run: str) -> str:
    """``run/resizer.pth`` from the source run's final checkpoint (its EMA
    weights where it has them, as the benchmark configs do), written once;
    returns its path."""
    from mmresize.transfer import extract, read_task_checkpoint, save_atomic
    out = osp.join(run, 'resizer.pth')
    if not osp.isfile(out):
        with open(osp.join(run, 'result.json')) as f:
            iters = json.load(f)['iters']
        path = osp.join(run, f'iter_{iters}.pth')
        ema = 'ema_state_dict' in read_task_checkpoint(path, trusted=True)
        save_atomic(extract(path, ema=ema, trusted=True), out)
    return out


def frozen_resizer(resizer_file: str) -> dict:
    """The target's resizer config for an extracted file: the source's
    type and arguments, frozen, loaded by ``init_cfg``."""
    from mmresize.resizers.checkpoint import load_local
    record = load_local(resizer_file)['meta']['mmresize_resizer']
    return dict(record['args'], type=f'mmresize.{record["type"]}',
                frozen=True, init_cfg=dict(type='Pretrained',
                                           checkpoint=osp.abspath(
                                               resizer_file)))


def target_specs(work: str, target_task: str, factor: float,
                 frozen: Dict[str, str], seeds: Sequence[int],
                 results: Optional[str] = None) -> List[dict]:
    """The target runs still to train: bilinear, DownsizeNet in place and
    every frozen variant (name -> extracted file), seed-major."""
    specs = []
    for seed in seeds:
        specs += pending_runs(osp.join(work, 'targets'), [target_task],
                              factor, None, ['bilinear', IN_PLACE], [seed],
                              results, TARGET_OPTIONS)
        for name, path in frozen.items():
            for spec in pending_runs(osp.join(work, 'targets'),
                                     [target_task], factor, None, [name],
                                     [seed], results, TARGET_OPTIONS):
                specs.append(dict(spec, resizer=frozen_resizer(path)))
    return specs


def frozen_unchanged(run: str, resizer_file: str) -> bool:
    """Whether the resizer in the run's final checkpoint (the EMA weights in
    ``state_dict`` and the raw ones in ``ema_state_dict``) is bitwise the
    extracted one."""
    from mmresize.resizers.checkpoint import load_local
    from mmresize.transfer import read_task_checkpoint, resizer_state_dict
    with open(osp.join(run, 'result.json')) as f:
        iters = json.load(f)['iters']
    checkpoint = read_task_checkpoint(osp.join(run, f'iter_{iters}.pth'),
                                      trusted=True)
    expected = load_local(resizer_file)['state_dict']
    states = [checkpoint['state_dict']]
    if 'ema_state_dict' in checkpoint:
        states.append({k[len('module.'):]: v for k, v in
                       checkpoint['ema_state_dict'].items()
                       if k.startswith('module.')})
    for state in states:
        got = resizer_state_dict(state)
        if set(got) != set(expected) or not all(
                torch.equal(got[k], expected[k]) for k in expected):
            return False
    return True


def run_study(work: str, source_task: str, target_task: str, factor: float,
              multiples: Sequence[int], seeds: Sequence[int],
              source_seed: int = 0, jobs: int = 1,
              results: Optional[str] = None) -> dict:
    """Sources, extraction, targets, summary (see the module docstring);
    returns the summary (also written as ``work/targets/.../study.json``
    and ``study.md``). ``results``: where finished target runs are also
    kept (and resumed from)."""
    from mmresize.benchmark.matrix import keep_result
    failed = run_matrix(source_specs(work, source_task, factor, multiples,
                                     source_seed), jobs)
    if failed:
        raise RuntimeError(f'{len(failed)} source run(s) failed: see '
                           f'{failed[0]["out"]}/log.txt')
    frozen = {frozen_name(source_task, m): extract_source(
        source_dir(work, source_task, factor, m, source_seed))
        for m in multiples}
    on_done = ((lambda spec: keep_result(spec, osp.join(work, 'targets'),
                                         results)) if results else None)
    failed = run_matrix(target_specs(work, target_task, factor, frozen,
                                     seeds, results), jobs, on_done)
    if failed:
        raise RuntimeError(f'{len(failed)} target run(s) failed: see '
                           f'{failed[0]["out"]}/log.txt')
    return summarise_study(work, source_task, target_task, factor, frozen,
                           multiples, seeds)


def summarise_study(work: str, source_task: str, target_task: str,
                    factor: float, frozen: Dict[str, str],
                    multiples: Sequence[int], seeds: Sequence[int]) -> dict:
    """The Table 3 summary of finished target runs; raises
    ``FrozenChanged`` if a frozen resizer moved."""
    from mmresize.benchmark.matrix import matrix_dir
    from mmresize.benchmark.report import load_results, summarise
    folder = matrix_dir(osp.join(work, 'targets'), target_task, factor,
                        TASKS[target_task]['iters'])
    summary = summarise(load_results(folder), target_task)
    checks = {}
    for name, path in frozen.items():
        for seed in seeds:
            run = run_dir(osp.join(work, 'targets'), target_task, factor,
                          TASKS[target_task]['iters'], name, seed)
            if osp.isfile(osp.join(run, 'result.json')):
                checks[f'{name} seed {seed}'] = frozen_unchanged(run, path)
    moved = [k for k, ok in checks.items() if not ok]
    if moved:
        raise FrozenChanged(f'frozen resizer weights changed in: {moved}')
    study = dict(source_task=source_task, target_task=target_task,
                 factor=factor, multiples=list(multiples),
                 frozen_unchanged=checks, summary=summary)
    with open(osp.join(folder, 'study.json'), 'w') as f:
        json.dump(study, f, indent=2)
    with open(osp.join(folder, 'study.md'), 'w') as f:
        f.write(table(study) + '\n')
    return study


def table(study: dict) -> str:
    """Table 3's layout: a row per pretraining length; bilinear, frozen
    transfer and trained in place, each with its paired gain."""
    from mmresize.benchmark.report import gain_cell, mean_cell
    summary = study['summary']

    def cell(variant: str) -> str:
        s = summary.get(variant)
        if s is None:
            return 'not run'
        text = mean_cell(s['metric'], std=True)
        if variant != 'bilinear' and s['gain']['mean'] is not None:
            text += f'; {gain_cell(s["gain"])} {s["gain"]["verdict"]}'
        return text

    metric = TASKS[study['target_task']]['metric']
    lines = [f'{study["source_task"]} -> {study["target_task"]} at '
             f'{study["factor"]}x: {metric} (mean ± std over seeds; paired '
             'gain over bilinear [95% CI], verdict). Frozen weights '
             'unchanged in every run: '
             f'{all(study["frozen_unchanged"].values())} '
             f'({len(study["frozen_unchanged"])} runs checked).', '',
             '| source schedule | bilinear | frozen transfer | trained in '
             'place |', '|---|---|---|---|']
    for multiple in study['multiples']:
        lines.append(f'| {multiple}x | {cell("bilinear")} | '
                     f'{cell(frozen_name(study["source_task"], multiple))} | '
                     f'{cell(IN_PLACE)} |')
    return '\n'.join(lines)


__all__ = ['FrozenChanged', 'extract_source', 'frozen_name',
           'frozen_resizer', 'frozen_unchanged', 'run_study',
           'summarise_study', 'table']
