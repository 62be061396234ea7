"""Speed and memory of every resizer, against a DeepLabv3+ forward.

Times forward (no grad) and forward+backward (gradients for the resizer's
parameters only; the image needs none) of each resizer at the two settings of
the paper's experiments, batch 1, float32, on this machine's threads, and in
the same run a DeepLabv3+-R50-D8 forward at the downsized Cityscapes size as
the yardstick. Peak memory per case is measured in a fresh child process
(resident-set growth on CPU, ``max_memory_allocated`` growth on CUDA). The
cost targets (3 and 4 convs against 2, forward+backward against forward)
are checked in the same run. ``--arch-cost`` also builds the compiled op
for this CPU (``-march=native``) and times DownsizeNet with it against the
installed, portable build. The code: ``mmresize.benchmark.speed``.

    python tools/benchmark_resizers.py [--device cpu] [--json out.json] \
        [--arch-cost]
    # on a GPU: batch 8, the training-step shares, the multiply-add floor
    python tools/benchmark_resizers.py --suite gpu --device cuda \
        --json gpu.json

A benchmark, not a test: it prints ratios against the yardstick measured in
the same run.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.benchmark.speed import (  # noqa: E402
    RESIZERS,
    arch_cost,
    arch_markdown,
    markdown,
    run,
    target_rows,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--resizers', nargs='+', default=RESIZERS,
                        choices=RESIZERS)
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the per-case peak-memory processes')
    parser.add_argument('--arch-cost', action='store_true',
                        help='also time the compiled op built for this CPU '
                        'against the installed portable build')
    parser.add_argument('--json', help='also write the rows to this file')
    parser.add_argument('--suite', choices=['paper', 'gpu'], default='paper',
                        help="'gpu': batch 8 at 1024x2048 and 512x512, each "
                        "resizer's share of a DeepLabv3+-R50 training step, "
                        'the multiply-add floor (mmresize.benchmark.'
                        'gpu_suite); for --device cuda')
    parser.add_argument('--quick', action='store_true',
                        help='with --suite gpu: toy sizes and a ResNet-18, a '
                        'check that it runs (the figures mean nothing)')
    args = parser.parse_args()
    if args.suite == 'gpu':
        from mmresize.benchmark import gpu_suite
        if args.arch_cost:
            parser.error('--arch-cost times the CPU op: not with --suite gpu')
        if not args.device.startswith('cuda') and not args.quick:
            parser.error('--suite gpu at its full sizes takes hours off a '
                         'GPU: give --device cuda, or --quick for a check')
        result = gpu_suite.run(args.device, args.repeats, args.resizers,
                               args.quick, not args.no_memory)
        print()
        print(gpu_suite.markdown(result))
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(result, f, indent=2)
        return
    rows = run(args.device, args.repeats, args.resizers, not args.no_memory)
    arch = arch_cost(args.device, args.repeats) if args.arch_cost else []
    print()
    print(markdown(rows, args.device))
    if arch:
        print()
        print(arch_markdown(arch))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(rows=rows, targets=target_rows(rows),
                           arch_cost=arch), f, indent=2)


if __name__ == '__main__':
    main()
