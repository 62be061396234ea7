"""The frozen-transfer study: DownsizeNet trained inside a source task at 1x,
2x, 3x its schedule, extracted, frozen ahead of a target task; against the
target's bilinear twin and the resizer trained in place, paired by seed.

    python tools/transfer_study.py --source camvid-lite0 --target bccd-lite0 \\
        --factor 0.3 --multiples 1 2 3 --seeds 0 1 2 3 4 --jobs 2 \\
        --results-dir configs/benchmarks/results/transfer

Resumable: finished runs (and the extracted resizers) are kept in
--work-dir (and the target runs in --results-dir). Writes study.json and
study.md (the table in the layout of the paper's Table 3, with paired gains,
95% CIs, verdicts and the check that every frozen resizer is bitwise
unchanged at the end) into the target matrix folder, and prints the table.
The code: ``mmresize.benchmark.transfer_study``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.catalogue import TASKS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', required=True, choices=list(TASKS))
    parser.add_argument('--target', required=True, choices=list(TASKS))
    parser.add_argument('--factor', type=float, default=0.3)
    parser.add_argument('--multiples', type=int, nargs='+', default=[1, 2, 3],
                        help="source schedules, in multiples of the source "
                        "task's")
    parser.add_argument('--seeds', type=int, nargs='+',
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--source-seed', type=int, default=0)
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument('--work-dir', default='work_dirs/transfer_study')
    parser.add_argument('--results-dir',
                        help='also keep finished target runs here (and '
                        'resume from them)')
    args = parser.parse_args()
    from mmresize.benchmark.transfer_study import (
        FrozenChanged,
        run_study,
        table,
    )
    try:
        study = run_study(args.work_dir, args.source, args.target,
                          args.factor, args.multiples, args.seeds,
                          args.source_seed, args.jobs, args.results_dir)
    except (FrozenChanged, RuntimeError) as err:
        sys.exit(str(err))
    print(table(study))


if __name__ == '__main__':
    main()
