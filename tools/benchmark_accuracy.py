"""What a resizer buys and costs on real images: the paired, resumable matrix.

For a task and a downsizing factor, trains every resizer variant on every
seed with the same schedule and pipeline; runs with the same seed are truly
paired (same model initialisation and data order). Each run is one
subprocess and is saved as it finishes
(``WORK/TASK_FACTORx_ITERSit/VARIANT/seedN/result.json``), so an
interrupted matrix resumes where it stopped; at the end the tables and plot
of every run in the folder are written (as ``tools/summarize_accuracy.py``
does). The code: ``mmresize.benchmark.matrix``.

    python tools/benchmark_accuracy.py --task camvid --factor 0.3 \\
        --seeds 0 1 2 3 4 [--variants ...] [--iters N] [--jobs 2] [--quick]

Data: $MMRESIZE_DATA/{camvid,bccd} (default data/). On a GPU the
runs use it (mmengine's choice); several runs can share one GPU
(``--jobs``); ``--window`` finishes inside a fixed time.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmresize.benchmark.matrix import (  # noqa: E402
    keep_result,
    matrix_dir,
    pending_runs,
    run_matrix,
    run_one,
)
from mmresize.benchmark.report import MismatchedRuns, write_summary  # noqa: E402
from mmresize.catalogue import ALL_VARIANTS, MAIN_VARIANTS, TASKS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', nargs='+', choices=list(TASKS),
                        default=['camvid'],
                        help='one or more tasks; their runs interleave')
    parser.add_argument('--factor', type=float, default=0.3)
    parser.add_argument('--variants', nargs='+', default=MAIN_VARIANTS,
                        choices=ALL_VARIANTS)
    parser.add_argument('--seeds', nargs='+', type=int,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--iters', type=int,
                        help="iterations per run (default: each task's)")
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at once, each with cores // jobs threads '
                        '(2 on 2 cores: about 1.25x the throughput of 1; '
                        'then every run shares the CPU with another)')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_accuracy')
    parser.add_argument(
        '--results-dir',
        help='also keep each finished run\'s result.json (and log) here, '
        'e.g. configs/benchmarks/results/runs; runs with a result there are '
        'skipped, so a matrix resumes from results kept in the repository')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides for every run, key=value as in '
        'tools/train.py (recorded in each result.json); runs with other '
        'options belong in their own --work-dir/--results-dir')
    parser.add_argument(
        '--window', type=float, metavar='SECONDS',
        help='finish inside this many seconds: start a run only if it is '
        'expected to end in time (as long as the slowest finished run, or '
        '--run-seconds before any); the rest resume next time')
    parser.add_argument(
        '--run-seconds', type=float, default=0.0,
        help='expected length of one run before any has finished '
        '(with --window)')
    parser.add_argument('--quick', action='store_true',
                        help='sanity run: 2 variants, 1 seed, 20 iterations')
    parser.add_argument('--run-one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:  # one run, isolated (the matrix's children use -m)
        run_one(**json.loads(args.run_one))
        return
    if args.quick:
        args.variants, args.seeds, args.iters = ['bilinear', 'DownsizeNet'], [
            0], 20
        args.work_dir = osp.join(args.work_dir, 'quick')
    specs = pending_runs(args.work_dir, args.task, args.factor, args.iters,
                         args.variants, args.seeds, args.results_dir,
                         args.cfg_options)
    keep = None if not args.results_dir else (
        lambda spec: keep_result(spec, args.work_dir, args.results_dir))
    failed = run_matrix(specs, args.jobs, keep, args.window,
                        args.run_seconds)
    for task in args.task:
        folder = matrix_dir(args.results_dir or args.work_dir, task,
                            args.factor, args.iters or TASKS[task]['iters'])
        if osp.isdir(folder):
            try:
                print(write_summary(folder))
            except FileNotFoundError:
                print(f'{folder}: no finished run to summarise yet')
            except MismatchedRuns as err:
                sys.exit(f'{folder}: {err}')
    if failed:
        sys.exit(f'{len(failed)} run(s) failed; see their log.txt')


if __name__ == '__main__':
    main()
