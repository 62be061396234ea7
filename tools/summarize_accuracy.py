"""Tables, verdicts and a plot from a folder of benchmark_accuracy runs.

Reads every ``VARIANT/seedN/result.json`` under a matrix folder written by
``tools/benchmark_accuracy.py`` and writes ``summary.json``, ``summary.md``
and ``gain_vs_overhead.png`` there. For each variant: the metric (EMA
weights; raw final weights alongside), its paired gain over bilinear with a
95% t-interval over seeds and a verdict (``mmresize.evaluation.paired``),
per-class scores of the thin classes, training time, the resizer's share of
a training step, how far its output is from bilinear, and whether any run
shared the CPU with other work (5-minute load average above cores + 1 at
the end of training).

    python tools/summarize_accuracy.py work_dirs/benchmark_accuracy/camvid_0.3x_1000it
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmresize.catalogue import ALL_VARIANTS, TASKS  # noqa: E402
from mmresize.evaluation.paired import mean_std, paired_gain  # noqa: E402

BASELINE = 'bilinear'
MARKERS = 'osD^vP<>'  # one per variant in the plot, in summary order


def load_results(folder: str) -> List[dict]:
    """Every finished run under ``folder``: catalogue order (unknown
    variants after), then seed order."""
    found = sorted(d for d in os.listdir(folder)
                   if osp.isdir(osp.join(folder, d)))
    order = [v for v in ALL_VARIANTS if v in found] + [
        v for v in found if v not in ALL_VARIANTS]
    results = []
    for variant in order:
        vdir = osp.join(folder, variant)
        seeds = sorted((d for d in os.listdir(vdir) if d.startswith('seed')),
                       key=lambda d: int(d[4:]))
        for seed in seeds:
            path = osp.join(vdir, seed, 'result.json')
            if osp.isfile(path):
                with open(path) as f:
                    results.append(json.load(f))
    return results


def shared_cpu(result: dict) -> bool:
    """Whether other work shared the CPU at the end of this run's training."""
    host = result.get('host')
    return bool(host) and host['loadavg_at_end'][1] > host['cpus'] + 1


def summarise(results: List[dict], task: str) -> Dict[str, dict]:
    """Per variant: metric, paired gains with CI and verdict, diagnostics."""
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


def _num(ms: Dict[str, Optional[float]], fmt: str = '.2f',
         scale: float = 1.0, std: bool = False, suffix: str = '') -> str:
    """A mean (± std) cell; '-' where there were no values."""
    if ms['mean'] is None:
        return '-'
    cell = f'{scale * ms["mean"]:{fmt}}{suffix}'
    return cell + (f' ± {scale * ms["std"]:{fmt}}' if std else '')


def _gain_cell(gain: dict) -> str:
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
            f'{_num(s["metric"], std=True)} | '
            f'{"" if is_base else _gain_cell(s["gain"])} | '
            f'{"" if is_base else s["gain"]["verdict"]} | '
            f'{"" if is_base else _gain_cell(s["gain_raw"])} | '
            f'{"" if is_base else s["gain_raw"]["verdict"]} | ' +
            ' | '.join(_num(s['thin'][c], '.1f') for c in thin) +
            f' | {_num(s["train_seconds"], ".0f")} | '
            f'{_num(s["resizer_share"], ".1f", 100, suffix="%")} | '
            f'{_num(s["drift"])} | '
            f'{", ".join(map(str, s["shared_cpu_seeds"])) or "none"} |')
    codes = sorted({c for s in summary.values() for c in s['code']})
    lines += ['', 'Code (git commit) of these runs: ' + ', '.join(codes)]
    return '\n'.join(lines) + '\n'


def _seed_list(seeds: List[int]) -> str:
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
            cell = f'{_gain_cell(gain)} ({_seed_list(gain["seeds"])})'
            verdict = gain['verdict']
        lines.append(
            f'| {variant} | {len(s["seeds"])} | {_num(s["metric"], std=True)}'
            f' | {cell} | {verdict} | '
            f'{_num(s["resizer_share"], ".1f", 100, suffix="%")} | '
            f'{_num(s["drift"])} |')
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
        raise SystemExit(f'no result.json under {folder}')
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='a TASK_FACTORx_ITERSit folder')
    parser.add_argument('--compact', action='store_true',
                        help="also print the short table README shows")
    args = parser.parse_args()
    print(write_summary(args.folder))
    if args.compact:
        with open(osp.join(args.folder, 'summary.json')) as f:
            saved = json.load(f)
        print('\n' + compact(saved['summary'], saved['runs'][0]['task']))


if __name__ == '__main__':
    main()
