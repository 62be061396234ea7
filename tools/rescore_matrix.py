"""Score a segmentation matrix's trained runs again with the boundary-band
mIoU, from their checkpoints, and pair every variant with bilinear.

    python tools/rescore_matrix.py MATRIX_DIR [MATRIX_DIR ...] \\
        --bands 2 5 10 --out rescore.json [--resume | --force] \\
        [--work-dir DIR] [--trust-checkpoint]

MATRIX_DIR is a ``--work-dir`` matrix folder of ``tools/benchmark_accuracy.py``
(``TASK_FACTORx_ITERSit``, runs with their checkpoints); several folders
(seeds run in two sessions) are pooled when they make one matrix. Each
run's EMA weights are tested once with its own evaluator (which must
reproduce the recorded mIoU), mIoU with the dataset's ignore index
(``all/mIoU``) and the band mIoU of each width (pixels within d of a
ground-truth label change, in the original image, ``band{d}/mIoU``:
``mmresize/evaluation/trimap.py``). --out is written after every run (the
scores so far) and at the end with the paired table, which is printed;
``--resume`` keeps what an earlier --out holds for the same runs and bands
(a matrix grown by more seeds is scored only for the new ones).
The checkpoints are unpickled under ``mmresize.trust``'s rules, or
because --trust-checkpoint says they are yours. The code:
``mmresize.benchmark.rescore``.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.benchmark.report import (  # noqa: E402
    BASELINE,
    MismatchedRuns,
    gain_cell,
)
from mmresize.benchmark.rescore import (  # noqa: E402
    RescoreError,
    check_bands,
    kept_scores,
    paired_table,
    rescore_run,
    runs_of,
)
from mmresize.trust import UntrustedCheckpointError  # noqa: E402


def table(rows: list) -> str:
    """The paired rows as markdown."""
    lines = [f'| variant | metric | seeds | paired gain vs {BASELINE} '
             '[95% CI] | verdict |', '|---|---|---:|---|---|']
    for row in rows:
        lines.append(f'| {row["variant"]} | {row["key"]} | '
                     f'{len(row["seeds"])} | {gain_cell(row) or "-"} | '
                     f'{row["verdict"]} |')
    return '\n'.join(lines)


def plain(value):
    """JSON without NaN (a class absent from a band scores NaN): None."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write(path: str, record: dict) -> None:
    """The record as JSON, replacing ``path`` only once it is whole."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(plain(record), f, indent=2)
    os.replace(tmp, path)


def read_previous(path: str) -> dict:
    """An earlier --out, or exit saying why it cannot be resumed."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as err:
        sys.exit(f'cannot resume from {path} ({err}); pass --force to '
                 'score every run again')
    if not isinstance(record, dict) or 'runs' not in record:
        sys.exit(f'{path} is not a rescore record (no "runs"); pass --force '
                 'to score every run again')
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('matrix_dirs', nargs='+')
    parser.add_argument('--bands', type=int, nargs='+', default=[2, 5, 10],
                        help='band half-widths in pixels of the original '
                        'image')
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--work-dir', default='work_dirs/rescore',
                        help="the test runners' logs")
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='the runs\' checkpoints are yours: unpickle '
                        'them fully (mmresize.trust)')
    parser.add_argument('--force', action='store_true',
                        help='overwrite --out, scoring every run again')
    parser.add_argument('--resume', action='store_true',
                        help='keep the scores --out already holds for the '
                        'same runs and bands; score only the others')
    args = parser.parse_args()
    resume = osp.exists(args.out) and args.resume and not args.force
    if osp.exists(args.out) and not (args.force or args.resume):
        sys.exit(f'{args.out} exists; pass --resume to score only the runs '
                 'it lacks, or --force to overwrite it')
    try:
        bands = check_bands(args.bands)
        runs = runs_of(args.matrix_dirs)
        scores = {}
        if resume:
            scores = kept_scores(read_previous(args.out), runs, bands)
        record = dict(bands=bands, runs=runs, scores=scores, complete=False)
        for variant, seeds in runs.items():
            for seed, run in sorted(seeds.items()):
                if seed in scores.get(variant, {}):
                    print(f'{variant} seed {seed}: kept from {args.out}')
                    continue
                work = osp.join(args.work_dir, variant, f'seed{seed}')
                os.makedirs(work, exist_ok=True)
                print(f'{variant} seed {seed}: {run}', flush=True)
                record['scores'].setdefault(variant, {})[seed] = rescore_run(
                    run, bands, work, args.trust_checkpoint)
                write(args.out, record)
        keys = ['mIoU', 'all/mIoU'] + [f'band{d}/mIoU' for d in bands]
        record['paired'] = paired_table(record['scores'], keys, BASELINE)
    except (RescoreError, MismatchedRuns, UntrustedCheckpointError) as err:
        sys.exit(str(err))
    record['complete'] = True
    write(args.out, record)
    print(table(record['paired']))


if __name__ == '__main__':
    main()
