"""Tables, verdicts and a plot from a folder of benchmark_accuracy runs.

Reads every ``VARIANT/seedN/result.json`` under a matrix folder written by
``tools/benchmark_accuracy.py`` (records of the first variant names are
read in the current ones) and writes ``summary.json``, ``summary.md`` and
``gain_vs_overhead.png`` there: per variant the metric, its paired gain
over bilinear with a 95% t-interval and verdict, thin-class scores and the
resizer's costs. Refuses to pair runs that differ in task, factor,
iterations, code or config options. The code: ``mmresize.benchmark.report``.

    python tools/summarize_accuracy.py work_dirs/benchmark_accuracy/camvid_0.3x_1000it
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.benchmark.report import (  # noqa: E402
    MismatchedRuns,
    compact,
    write_summary,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='a TASK_FACTORx_ITERSit folder')
    parser.add_argument('--compact', action='store_true',
                        help="also print the short table README shows")
    args = parser.parse_args()
    try:
        print(write_summary(args.folder))
    except (MismatchedRuns, FileNotFoundError) as err:
        sys.exit(str(err))
    if args.compact:
        with open(osp.join(args.folder, 'summary.json')) as f:
            saved = json.load(f)
        print('\n' + compact(saved['summary'], saved['runs'][0]['task']))


if __name__ == '__main__':
    main()
