"""Score a segmentation matrix's trained runs again with the boundary-band
mIoU, from their checkpoints, and pair every variant with bilinear.

    python tools/rescore_matrix.py MATRIX_DIR [MATRIX_DIR ...] \\
        --bands 2 5 10 --out rescore.json [--work-dir DIR]

MATRIX_DIR is a ``--work-dir`` matrix folder of ``tools/benchmark_accuracy.py``
(``TASK_FACTORx_ITERSit``, runs with their checkpoints); several folders
(seeds run in two sessions) are pooled when they make one matrix. Each
run's EMA weights are tested once with mIoU and the band mIoU of each
width (pixels within d of a ground-truth label change, in the original
image: ``mmresize/evaluation/trimap.py``); the rescored mIoU must equal the
recorded one. Writes every run's scores and the paired table to --out and
prints the table. The code: ``mmresize.benchmark.rescore``.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.benchmark.report import MismatchedRuns  # noqa: E402
from mmresize.benchmark.rescore import (  # noqa: E402
    RescoreError,
    paired_table,
    rescore_run,
    runs_of,
)


def table(rows: list) -> str:
    """The paired rows as markdown."""
    lines = ['| variant | metric | seeds | paired gain vs bilinear [95% CI] '
             '| verdict |', '|---|---|---:|---|---|']
    for row in rows:
        interval = row['interval']
        gain = (f'{row["mean"]:+.2f} [{interval["low"]:+.2f}, '
                f'{interval["high"]:+.2f}]' if interval else
                (f'{row["mean"]:+.2f}' if row['mean'] is not None else '-'))
        lines.append(f'| {row["variant"]} | {row["key"]} | '
                     f'{len(row["seeds"])} | {gain} | {row["verdict"]} |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('matrix_dirs', nargs='+')
    parser.add_argument('--bands', type=int, nargs='+', default=[2, 5, 10],
                        help='band half-widths in pixels of the original '
                        'image')
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--work-dir', default='work_dirs/rescore',
                        help="the test runners' logs")
    parser.add_argument('--force', action='store_true',
                        help='overwrite --out')
    args = parser.parse_args()
    if osp.exists(args.out) and not args.force:
        sys.exit(f'{args.out} exists; pass --force to overwrite it')
    try:
        runs = runs_of(args.matrix_dirs)
        scores = {}
        for variant, seeds in runs.items():
            for seed, run in sorted(seeds.items()):
                work = osp.join(args.work_dir, variant, f'seed{seed}')
                os.makedirs(work, exist_ok=True)
                print(f'{variant} seed {seed}: {run}', flush=True)
                scores.setdefault(variant, {})[seed] = rescore_run(
                    run, args.bands, work)
        keys = ['mIoU'] + [f'band{d}/mIoU' for d in args.bands]
        rows = paired_table(scores, keys, 'bilinear')
    except (RescoreError, MismatchedRuns) as err:
        sys.exit(str(err))
    with open(args.out, 'w') as f:
        json.dump(dict(bands=args.bands, runs=runs, scores=scores,
                       paired=rows), f, indent=2)
    print(table(rows))


if __name__ == '__main__':
    main()
