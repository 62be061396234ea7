"""Accuracy at equal cost: is a learned resizer better than feeding the
model a larger bilinear image for the same compute?

A learned resizer at factor f costs more than bilinear at f (it reads the
full-resolution input). Its fair comparison is bilinear at the factor
``f_b`` where the whole model costs the same multiply-adds
(``model_gmacs``: resizer included, ``mmresize.benchmark.cost``).
``equal_cost_factor`` finds it from the built models (no training; costs
within 1% are equal); the matrix then runs bilinear there with the same
seeds, and ``compare`` pairs the two by seed (same task, schedule, code
and config options: ``mmresize.benchmark.report.check_pairable``) with a
95% t-interval. ``curve`` gathers every factor's matrix of a task (each
checked as one set-up), and ``plot`` draws the metric against
``model_gmacs``: bilinear's resolution curve through its factors, every
other variant a point with its interval.
"""
import functools
import json
import math
import os
import os.path as osp
import re
import tempfile
from typing import Dict, List, Optional, Tuple

from mmresize.benchmark.report import (
    BASELINE,
    MARKERS,
    check_matrix,
    check_pairable,
    load_results,
)
from mmresize.catalogue import TASKS
from mmresize.evaluation.paired import mean_std, paired_gain, t_interval

# costs within this share of each other are equal (fixed interpolations
# differ from bilinear by the few multiply-adds of their own resize)
EQUAL_COST_TOLERANCE = 0.01
# what runs compared across factors must share (the factor differs)
CROSS_FACTOR_FIELDS = ('task', 'iters', 'code', 'cfg_options')
_MATRIX_DIR = re.compile(r'^(?P<task>.+)_(?P<factor>[0-9.]+)x_(?P<iters>\d+)it$')


@functools.lru_cache(maxsize=None)
def _cached_gmacs(task: str, variant: str, factor: float,
                  options: str) -> float:
    from mmengine.registry import MODELS, init_default_scope

    from mmresize.benchmark.matrix import build_cfg
    from mmresize.benchmark.measure import cost_record, first_test_batch
    cfg = build_cfg(task, variant, 0, factor, 1, tempfile.gettempdir(),
                    json.loads(options) or None)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).eval()
    record = cost_record(model, first_test_batch(cfg))
    if 'cost_error' in record:
        raise RuntimeError(f'{task} {variant} x{factor}: the multiply-add '
                           f'count failed: {record["cost_error"]}')
    return float(record['model_gmacs'])


def model_gmacs(task: str, variant: str, factor: float,
                cfg_options: Optional[dict] = None) -> float:
    """Multiply-adds (G) of the task's model with ``variant``'s resizer at
    ``factor``, on the task's first test image, resizer included: what a
    run's ``inference.model_gmacs`` records, from the built (untrained)
    model (cached). Needs the task's data ($MMRESIZE_DATA)."""
    return _cached_gmacs(task, variant, float(factor),
                         json.dumps(cfg_options or {}, sort_keys=True))


def equal_cost_factor(task: str, variant: str, factor: float,
                      cfg_options: Optional[dict] = None,
                      resolution: float = 0.001,
                      tolerance: float = EQUAL_COST_TOLERANCE
                      ) -> Tuple[Optional[float], float, float]:
    """The smallest bilinear factor, a multiple of ``resolution`` from
    ``factor`` up, at which the model costs at least what it costs with
    ``variant`` at ``factor``, less ``tolerance`` (relative).

    Returns (that factor, or None if bilinear at 1.0 costs less; the
    variant's GMACs; bilinear's GMACs at that factor). Bilinear's cost
    rises with the factor in steps (the downsized size is whole pixels,
    the feature maps whole cells), so the cost there can exceed the
    variant's: both are reported. Binary search over the grid: it relies on
    bilinear's cost never falling as the factor grows (true of the
    preprocessors' sizes; checked at the ends).
    """
    if not 0 < factor <= 1:
        raise ValueError(f'factor must be in (0, 1], got {factor}: mmresize '
                         'downsizes')
    mine = model_gmacs(task, variant, factor, cfg_options)
    target = (1 - tolerance) * mine
    low = math.ceil(round(factor / resolution, 6))
    high = round(1 / resolution)

    def cost(k: int) -> float:
        return model_gmacs(task, BASELINE, round(k * resolution, 6),
                           cfg_options)

    if cost(high) < cost(low):
        raise RuntimeError(f'{task}: bilinear costs less at 1.0x than at '
                           f'{factor}x; the search assumes it does not')
    if cost(high) < target:
        return None, mine, cost(high)
    while low < high:  # smallest k in [low, high] with cost(k) >= target
        mid = (low + high) // 2
        if cost(mid) >= target:
            high = mid
        else:
            low = mid + 1
    return round(high * resolution, 6), mine, cost(high)


def matrices(root: str, task: str, iters: int) -> Dict[float, str]:
    """factor -> matrix folder ``TASK_Fx_ITERSit`` under ``root``."""
    found = {}
    for name in sorted(os.listdir(root)):
        match = _MATRIX_DIR.match(name)
        if match and match['task'] == task and int(match['iters']) == iters:
            found[float(match['factor'])] = osp.join(root, name)
    return found


def curve(root: str, task: str, iters: int) -> List[dict]:
    """One row per (factor, variant) of the task's matrices under ``root``:
    the metric per seed, its mean with a 95% t-interval of the mean, the
    mean ``model_gmacs`` and latency ratio of the runs, and the runs."""
    spec = TASKS[task]
    rows = []
    for factor, folder in sorted(matrices(root, task, iters).items()):
        results = load_results(folder)
        check_matrix(results)  # one set-up per folder, as summaries ask
        by_variant: Dict[str, List[dict]] = {}
        for run in results:
            by_variant.setdefault(run['variant'], []).append(run)
        for variant, runs in by_variant.items():
            values = {r['seed']: spec['metric_scale']
                      * r['metrics'][spec['metric']] for r in runs
                      if spec['metric'] in r.get('metrics', {})}
            costs = [r['inference']['model_gmacs'] for r in runs
                     if 'model_gmacs' in r.get('inference', {})]
            ratios = [r['inference']['latency_ratio'] for r in runs
                      if 'latency_ratio' in r.get('inference', {})]
            rows.append(dict(
                factor=factor, variant=variant, values=values,
                metric=mean_std(list(values.values())),
                interval=t_interval(list(values.values())),
                model_gmacs=mean_std(costs)['mean'] if costs else None,
                latency_ratio=mean_std(ratios)['mean'] if ratios else None,
                runs=runs))
    return rows


def compare(rows: List[dict], variant: str, factor: float,
            bilinear_factor: float) -> dict:
    """``variant`` at ``factor`` against bilinear at ``bilinear_factor``
    (its equal-cost factor), paired by seed: the gain with its 95%
    t-interval and verdict (``paired_gain``). Refuses
    (``MismatchedRuns``) pairs of other schedules, code or options."""
    mine = _row(rows, variant, factor)
    base = _row(rows, BASELINE, bilinear_factor)
    if mine is None or base is None:
        missing = (f'{variant} x{factor}' if mine is None
                   else f'bilinear x{bilinear_factor}')
        return dict(missing=missing)
    base_runs = {r['seed']: r for r in base['runs']}
    for run in mine['runs']:
        if run['seed'] in base_runs:
            check_pairable(run, base_runs[run['seed']], CROSS_FACTOR_FIELDS)
    return paired_gain(mine['values'], base['values'])


def _row(rows: List[dict], variant: str, factor: float) -> Optional[dict]:
    """The curve's row of ``variant`` at ``factor``, if any."""
    for row in rows:
        if row['variant'] == variant and abs(row['factor'] - factor) < 1e-9:
            return row
    return None


def plot(rows: List[dict], task: str, path: str,
         x: str = 'model_gmacs') -> None:
    """The metric (mean, 95% t-interval of the mean) against ``x``
    (``'model_gmacs'`` or ``'latency_ratio'``): bilinear as a line through
    its factors, every other (variant, factor) a marker."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))

    def err(row):
        return 0 if row['interval'] is None else row['interval']['half_width']

    base = sorted((r for r in rows if r['variant'] == BASELINE
                   and r[x] is not None), key=lambda r: r[x])
    if base:
        ax.errorbar([r[x] for r in base], [r['metric']['mean'] for r in base],
                    yerr=[err(r) for r in base], fmt='-', color='black',
                    capsize=3, label='bilinear (resolution curve)')
        for r in base:
            ax.annotate(f'{r["factor"]:g}x', (r[x], r['metric']['mean']),
                        textcoords='offset points', xytext=(4, -10),
                        fontsize=7)
    others = [r for r in rows if r['variant'] != BASELINE
              and r[x] is not None]
    for i, r in enumerate(others):
        seeds = len(r['values'])
        ax.errorbar(r[x], r['metric']['mean'], yerr=err(r),
                    fmt=MARKERS[i % len(MARKERS)], capsize=3,
                    label=f'{r["variant"]} {r["factor"]:g}x ({seeds} seed'
                          f'{"s" * (seeds != 1)})')
    ax.set_xlabel({'model_gmacs': 'GMACs per image, resizer included',
                   'latency_ratio': 'test-step latency / bilinear twin'}[x])
    ax.set_ylabel(TASKS[task]['metric'])
    ax.set_title(f'{task}: accuracy against cost (mean, 95% CI of the mean)',
                 fontsize=9)
    ax.legend(loc='upper left', bbox_to_anchor=(1.02, 1), fontsize=7,
              frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = ['compare', 'curve', 'equal_cost_factor', 'matrices',
           'model_gmacs', 'plot']
