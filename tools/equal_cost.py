"""Accuracy at equal cost: each learned resizer against bilinear at the
factor where the whole model costs the same multiply-adds.

    # before the matrix: where bilinear costs what each resizer costs
    python tools/equal_cost.py plan --task camvid-lite0 --factor 0.3 \\
        --variants DownsizeNet MullerResizer LearnableResizer
    # after it: the curve, the plot, and each pair's gain with a 95% CI
    python tools/equal_cost.py report configs/benchmarks/results/runs \\
        --task camvid-lite0 --iters 2000

Both build the models to count their multiply-adds (no training; the
task's data must be in $MMRESIZE_DATA). ``plan`` prints, per variant, its
GMACs per image (resizer included), the bilinear factor of equal cost and
the command that runs bilinear there. ``report`` reads every
TASK_Fx_ITERSit matrix under the folder (each must be one set-up) and
writes ``TASK_ITERSit_equal_cost.{md,json}`` and ``..._equal_cost.png``
(metric against GMACs) there; pairs across factors must share task,
schedule, code and config options (a row says where they do not, or where
the cost could not be counted). The code: ``mmresize.benchmark.equal_cost``.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.catalogue import ALL_VARIANTS, TASKS  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    plan = sub.add_parser('plan', help='equal-cost bilinear factors')
    plan.add_argument('--task', required=True, choices=list(TASKS))
    plan.add_argument('--factor', type=float, required=True)
    plan.add_argument('--variants', nargs='+', required=True,
                      choices=ALL_VARIANTS)
    plan.add_argument('--iters', type=int, default=None,
                      help="the resizers' schedule, for the printed "
                      "commands (default: the task's)")
    report = sub.add_parser('report', help='curve, plot and paired gains')
    report.add_argument('root', help='folder holding TASK_Fx_ITERSit '
                        'matrices, e.g. configs/benchmarks/results/runs')
    report.add_argument('--task', required=True, choices=list(TASKS))
    report.add_argument('--iters', type=int, required=True)
    return parser.parse_args()


def run_plan(args: argparse.Namespace) -> None:
    from mmresize.benchmark.equal_cost import equal_cost_factor
    print(f'| variant at {args.factor}x | GMACs | bilinear factor of equal '
          'cost | bilinear GMACs there |\n|---|---:|---:|---:|')
    factors = []
    for variant in args.variants:
        fb, cost, base = equal_cost_factor(args.task, variant, args.factor)
        cell = 'above 1.0x' if fb is None else f'{fb:g}x'
        print(f'| {variant} | {cost:.3f} | {cell} | {base:.3f} |')
        if fb is not None:
            factors.append(fb)
    iters = args.iters or TASKS[args.task]['iters']
    for fb in sorted(set(factors)):
        print(f'python tools/benchmark_accuracy.py --task {args.task} '
              f'--factor {fb:g} --variants bilinear --iters {iters} '
              '--seeds SEEDS  # the seeds, --cfg-options and --results-dir '
              "of the resizers' runs")


def run_report(args: argparse.Namespace) -> None:
    from mmresize.benchmark.equal_cost import (
        compare,
        curve,
        equal_cost_factor,
        plot,
    )
    from mmresize.benchmark.report import BASELINE, MismatchedRuns, gain_cell
    try:
        rows = curve(args.root, args.task, args.iters)
    except MismatchedRuns as err:
        sys.exit(str(err))
    if not rows:
        sys.exit(f'no {args.task}_Fx_{args.iters}it matrix under {args.root}')
    lines = [f'{args.task}, {args.iters} iterations: metric (mean ± std over '
             'seeds, 95% CI of the mean), GMACs per image with the resizer, '
             'test-step latency against the bilinear twin.', '',
             '| factor | variant | seeds | metric | 95% CI | GMACs | '
             'latency vs bilinear twin |', '|---:|---|---:|---:|---|---:|---:|']
    for r in rows:
        ci = r['interval']
        lines.append(
            f'| {r["factor"]:g} | {r["variant"]} | {len(r["values"])} | '
            f'{r["metric"]["mean"]:.2f} ± {r["metric"]["std"]:.2f} | '
            + ('' if ci is None else f'[{ci["low"]:.2f}, {ci["high"]:.2f}]')
            + f' | {_num(r["model_gmacs"], ".3f")} | '
            f'{_num(r["latency_ratio"], ".2f", "x")} |')
    lines += ['', '| variant | factor | bilinear factor of equal cost | '
              'paired gain [95% CI] | verdict |', '|---|---:|---:|---|---|']
    pairs = []
    for r in rows:
        if r['variant'] == BASELINE:
            continue
        lead = f'| {r["variant"]} | {r["factor"]:g} |'
        try:
            fb, _, _ = equal_cost_factor(
                args.task, r['variant'], r['factor'],
                r['runs'][0].get('cfg_options') or None)
        except (RuntimeError, FileNotFoundError) as err:
            lines.append(f'{lead} cost not countable: {err} | | |')
            continue
        if fb is None:
            lines.append(f'{lead} above 1.0x | | |')
            continue
        try:
            gain = compare(rows, r['variant'], r['factor'], fb)
        except MismatchedRuns as err:
            lines.append(f'{lead} {fb:g} | not paired: {err} | |')
            continue
        if 'missing' in gain:
            lines.append(f'{lead} {fb:g} | bilinear x{fb:g} not run yet | |')
        else:
            lines.append(f'{lead} {fb:g} | {gain_cell(gain)} | '
                         f'{gain["verdict"]} |')
        pairs.append(dict(variant=r['variant'], factor=r['factor'],
                          bilinear_factor=fb, gain=gain))
    stem = osp.join(args.root, f'{args.task}_{args.iters}it_equal_cost')
    with open(stem + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(stem + '.json', 'w') as f:
        json.dump(dict(curve=[{k: v for k, v in r.items() if k != 'runs'}
                              for r in rows], pairs=pairs), f, indent=2)
    plot(rows, args.task, stem + '.png')
    print('\n'.join(lines))
    print(f'\nwrote {stem}.md, .json, .png')


def _num(value, fmt: str, suffix: str = '') -> str:
    return '' if value is None else f'{value:{fmt}}{suffix}'


def main() -> None:
    args = parse_args()
    run_plan(args) if args.command == 'plan' else run_report(args)


if __name__ == '__main__':
    main()
