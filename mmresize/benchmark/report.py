"""Tables, verdicts and a plot from a folder of benchmark matrix runs.

Reads every ``VARIANT/seedN/result.json`` under a matrix folder
(``mmresize.benchmark.matrix``), translating the variant names of records
written before the current naming (no ``naming`` field:
``mmresize.catalogue.LEGACY_NAMES``), and writes ``summary.json``,
``summary.md`` and ``gain_vs_overhead.png`` there. For each variant: the
metric (EMA weights; raw final weights alongside), its paired gain over
bilinear with a 95% t-interval over seeds and a verdict
(``mmresize.evaluation.paired``), per-class scores of the thin classes,
training time, the resizer's share of a training step, how far its output
is from bilinear, and whether any run shared the CPU with other work
(``shared_cpu``: the 1-minute load sampled through training above
cores + 1 in a tenth of the samples and at least two; for older records,
the 5-minute load average at the end of training above cores + 1).

Runs are paired by seed only where they are one set-up: a folder holds one
task, factor and schedule, and a run is paired with the baseline's run of
its seed only if both ran the same code and config options; anything else
raises ``MismatchedRuns`` naming the field and the two values.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmresize.catalogue import ALL_VARIANTS, TASKS, current_name
from mmresize.evaluation.paired import mean_std, paired_gain

BASELINE = 'bilinear'
MARKERS = 'osD^vP<>'  # one per variant in the plot, in summary order
# what makes runs one matrix (every run of a folder) and what paired runs
# must share besides (a run and the baseline's run of its seed)
MATRIX_FIELDS = ('task', 'factor', 'iters')
PAIRED_FIELDS = MATRIX_FIELDS + ('code', 'cfg_options')


class MismatchedRuns(ValueError):
    """Runs of two set-ups were about to be compared as one."""


def read_result(path: str) -> dict:
    """One run's record, its ``variant`` in the current names (records
    without a ``naming`` field used the first ones)."""
    with open(path) as f:
        record = json.load(f)
    if 'variant' in record:
        record['variant'] = current_name(record['variant'],
                                         record.get('naming', 1))
    return record


def _variant_order(variant: str) -> Tuple[int, str]:
    """Catalogue order, unknown variants after (by name)."""
    if variant in ALL_VARIANTS:
        return ALL_VARIANTS.index(variant), ''
    return len(ALL_VARIANTS), variant


def load_results(folder: str) -> List[dict]:
    """Every finished run under ``folder`` (``VARIANT/seedN/result.json``),
    names translated (``read_result``): catalogue order (unknown variants
    after), then seed order."""
    results = []
    for variant in sorted(os.listdir(folder)):
        vdir = osp.join(folder, variant)
        if not osp.isdir(vdir):
            continue
        for seed in os.listdir(vdir):
            path = osp.join(vdir, seed, 'result.json')
            if seed.startswith('seed') and osp.isfile(path):
                results.append(read_result(path))
    return sorted(results,
                  key=lambda r: (_variant_order(r['variant']), r['seed']))


def _field(run: dict, field: str):
    """A pairing field of a record; no options recorded = none given."""
    value = run.get(field)
    return {} if field == 'cfg_options' and value is None else value


def _name(run: dict) -> str:
    return f'{run.get("variant")} seed {run.get("seed")}'


def check_pairable(run: dict, other: dict,
                   fields: Tuple[str, ...] = PAIRED_FIELDS) -> None:
    """Raise ``MismatchedRuns`` where ``run`` and ``other`` differ in one of
    ``fields``, naming the field and both values."""
    for field in fields:
        mine, theirs = _field(run, field), _field(other, field)
        if mine != theirs:
            raise MismatchedRuns(
                f'{_name(run)} and {_name(other)} differ in {field}: '
                f'{mine!r} vs {theirs!r}. Runs of two set-ups must not be '
                'paired: keep each set-up in its own results folder (its '
                'own --work-dir / --results-dir) and rerun the odd one.')


def check_matrix(results: List[dict]) -> None:
    """Every run of one folder is of one task, factor and schedule, and
    each run is pairable with the baseline's run of its seed (same code
    and config options too); ``MismatchedRuns`` otherwise."""
    for run in results[1:]:
        check_pairable(run, results[0], MATRIX_FIELDS)
    base = {r['seed']: r for r in results if r['variant'] == BASELINE}
    for run in results:
        if run['variant'] != BASELINE and run['seed'] in base:
            check_pairable(run, base[run['seed']])


# a run shared the CPU when the 1-minute load exceeded the cores by more
# than one (another process's worth) in at least one in SHARED_EVERY of
# its samples taken during training, and in at least SHARED_MIN of them
SHARED_EVERY = 10
SHARED_MIN = 2


def shared_cpu(result: dict) -> bool:
    """Whether other work shared the CPU during this run's training: the
    1-minute load sampled through training (``LoadSampler``; the first
    sample, the minute before training, left out) above ``cpus + 1`` in
    at least one in ``SHARED_EVERY`` of the samples and at least ``SHARED_MIN``
    of them (one spike is not sharing); for records without samples
    (before e28fdd2), the 5-minute load at the end above ``cpus + 1``.
    """
    host = result.get('host')
    if not host:
        return False
    limit = host['cpus'] + 1
    samples = host.get('loadavg_1min', {}).get('samples', [])[1:]
    if samples:
        above = sum(s > limit for s in samples)
        needed = max(SHARED_MIN, math.ceil(len(samples) / SHARED_EVERY))
        return above >= needed
    return host['loadavg_at_end'][1] > limit


def summarise(results: List[dict], task: str) -> Dict[str, dict]:
    """Per variant: metric, paired gains with CI and verdict, diagnostics.
    Refuses (``MismatchedRuns``) runs that are not one matrix or pairs
    that are not one set-up (``check_matrix``)."""
    check_matrix(results)
    spec = TASKS[task]
    by_variant: Dict[str, List[dict]] = {}
    for r in results:
        by_variant.setdefault(r['variant'], []).append(r)

    def values(runs, key='metrics'):
        return {r['seed']: spec['metric_scale'] * r[key][spec['metric']]
                for r in runs if key in r}

    base = by_variant.get(BASELINE, [])
    summary = {}
    for variant, runs in by_variant.items():
        summary[variant] = dict(
            seeds=sorted(r['seed'] for r in runs),
            metric=mean_std(list(values(runs).values())),
            gain=paired_gain(values(runs), values(base)),
            gain_raw=paired_gain(values(runs, 'metrics_raw'),
                                 values(base, 'metrics_raw')),
            thin={c: mean_std([r['metrics'][spec['per_class'] + c]
                               for r in runs
                               if spec['per_class'] + c in r['metrics']])
                  for c in spec['thin']},
            train_seconds=mean_std([r['train_seconds'] for r in runs]),
            resizer_share=mean_std([r['resizer_share'] for r in runs]),
            drift=mean_std([r['drift'] for r in runs]),
            shared_cpu_seeds=[r['seed'] for r in runs if shared_cpu(r)],
            code=sorted({r.get('code') or 'not recorded' for r in runs}))
    return summary


def mean_cell(ms: Dict[str, Optional[float]], fmt: str = '.2f',
         scale: float = 1.0, std: bool = False, suffix: str = '') -> str:
    """A mean (± std) cell; '-' where there were no values."""
    if ms['mean'] is None:
        return '-'
    cell = f'{scale * ms["mean"]:{fmt}}{suffix}'
    return cell + (f' ± {scale * ms["std"]:{fmt}}' if std else '')


def gain_cell(gain: dict) -> str:
    """A paired gain cell: '+1.23 [+0.10, +2.36]' (mean and its 95%
    t-interval), '+1.23' without an interval, '' without paired seeds."""
    if gain['mean'] is None:
        return ''
    interval = gain['interval']
    if interval is None:
        return f'{gain["mean"]:+.2f}'
    return (f'{gain["mean"]:+.2f} [{interval["low"]:+.2f}, '
            f'{interval["high"]:+.2f}]')


def markdown(summary: Dict[str, dict], task: str, factor: float,
             iters: int) -> str:
    """The results table (one row per variant) with a header paragraph."""
    spec = TASKS[task]
    thin = spec['thin']
    lines = [
        f'{task}, factor {factor}, {iters} iterations per run. Metric of the '
        'EMA weights, mean ± std over seeds; gains paired by seed against '
        'bilinear (same model initialisation and data order) with the 95% '
        't-interval over seeds; verdict from that interval. "raw": the same '
        'for the final weights without EMA. The metric column averages '
        'every seed a variant has; gains use the seeds it shares with '
        'bilinear. Per-class: mean over seeds. '
        '|out − bilinear|: mean distance of the trained resizer\'s output '
        'from bilinear on 4 test images, 0-255 grey levels.', '',
        f'| resizer | seeds | {spec["metric"]} | gain vs bilinear [95% CI] | '
        'verdict | raw: gain [95% CI] | raw verdict | ' + ' | '.join(thin) +
        ' | train time (s) | resizer share of step | \\|out − bilinear\\| | '
        'seeds on a shared CPU |',
        '|---|---:|---:|---|---|---|---|' + '---:|' * len(thin) +
        '---:|---:|---:|---|']
    for variant, s in summary.items():
        is_base = variant == BASELINE
        lines.append(
            f'| {variant} | {len(s["seeds"])} | '
            f'{mean_cell(s["metric"], std=True)} | '
            f'{"" if is_base else gain_cell(s["gain"])} | '
            f'{"" if is_base else s["gain"]["verdict"]} | '
            f'{"" if is_base else gain_cell(s["gain_raw"])} | '
            f'{"" if is_base else s["gain_raw"]["verdict"]} | ' +
            ' | '.join(mean_cell(s['thin'][c], '.1f') for c in thin) +
            f' | {mean_cell(s["train_seconds"], ".0f")} | '
            f'{mean_cell(s["resizer_share"], ".1f", 100, suffix="%")} | '
            f'{mean_cell(s["drift"])} | '
            f'{", ".join(map(str, s["shared_cpu_seeds"])) or "none"} |')
    codes = sorted({c for s in summary.values() for c in s['code']})
    lines += ['', 'Code (git commit) of these runs: ' + ', '.join(codes)]
    return '\n'.join(lines) + '\n'


def seed_list(seeds: List[int]) -> str:
    """'0-5' for a run of three or more consecutive seeds, else '0, 2'."""
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f'{seeds[0]}-{seeds[-1]}'
    return ', '.join(map(str, seeds))


def compact(summary: Dict[str, dict], task: str) -> str:
    """The short table README shows: metric, paired gain with its seeds,
    verdict, resizer share of a step and distance from bilinear."""
    metric = TASKS[task]['metric'].split('/')[-1]
    lines = [f'| resizer | seeds | {metric} (EMA), mean ± sd | paired gain '
             'vs bilinear [95% CI] (paired seeds) | verdict | resizer share '
             'of a step | output vs bilinear (grey levels) |',
             '|---|---:|---:|---|---|---:|---:|']
    for variant, s in summary.items():
        gain = s['gain']
        cell, verdict = '', ''
        if variant != BASELINE and gain['mean'] is not None:
            cell = f'{gain_cell(gain)} ({seed_list(gain["seeds"])})'
            verdict = gain['verdict']
        lines.append(
            f'| {variant} | {len(s["seeds"])} | {mean_cell(s["metric"], std=True)}'
            f' | {cell} | {verdict} | '
            f'{mean_cell(s["resizer_share"], ".1f", 100, suffix="%")} | '
            f'{mean_cell(s["drift"])} |')
    return '\n'.join(lines)


def plot(summary: Dict[str, dict], task: str, path: str) -> None:
    """Paired gain over bilinear with its 95% CI against the resizer's share
    of a training step."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4))
    shown = 0
    for variant, s in summary.items():
        gain = s['gain']
        if variant == BASELINE or gain['mean'] is None:
            continue
        interval = gain['interval']
        err = 0 if interval is None else interval['half_width']
        seeds = len(gain['seeds'])
        # named in a legend, each with its own marker: labels beside the
        # points overlap where resizers cost about the same
        ax.errorbar(100 * s['resizer_share']['mean'], gain['mean'],
                    yerr=err, fmt=MARKERS[shown % len(MARKERS)], capsize=3,
                    label=f'{variant} ({seeds} seed{"s" * (seeds != 1)})')
        shown += 1
    ax.axhline(0, color='grey', lw=0.8)
    ax.set_xlabel('resizer share of a training step (%)')
    ax.set_ylabel(f'{TASKS[task]["metric"]} gain over bilinear (paired)')
    ax.set_title(f'{task}: paired gain, 95% CI, vs overhead', fontsize=9)
    if shown:
        ax.legend(loc='upper left', bbox_to_anchor=(1.02, 1), fontsize=7,
                  frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_summary(folder: str) -> str:
    """Write summary.{json,md} and the plot for ``folder``; return the
    table."""
    results = load_results(folder)
    if not results:
        raise FileNotFoundError(
            f'no VARIANT/seedN/result.json under {folder}: give a '
            'TASK_FACTORx_ITERSit folder of tools/benchmark_accuracy.py')
    first = results[0]
    task, factor, iters = first['task'], first['factor'], first['iters']
    summary = summarise(results, task)
    with open(osp.join(folder, 'summary.json'), 'w') as f:
        json.dump(dict(runs=results, summary=summary), f, indent=2)
    table = markdown(summary, task, factor, iters)
    with open(osp.join(folder, 'summary.md'), 'w') as f:
        f.write(table)
    if BASELINE in summary:
        plot(summary, task, osp.join(folder, 'gain_vs_overhead.png'))
    return table
