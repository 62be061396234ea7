"""Time exported graphs against each other: ONNX Runtime, in turns, in one
process (``mmresize.deploy.onnx_latencies``), on one image.

    python tools/onnx_latency.py twin.onnx module.onnx deployed.onnx \\
        [--repeats 20] [--threads 0] [--images FILE_OR_FOLDER] \\
        [--profile N [--match resizer]]

Prints each graph's median latency and its ratio to the first (e.g. the
bilinear twin: the difference is the resizer's cost). The input size is
the first graph's; the image is the first of --images (resized to it), else
a procedural one. ``--profile N`` then lists each graph's N costliest nodes
(ONNX Runtime's profiler, median kernel time; ``--match`` keeps the nodes
whose name contains it, e.g. ``resizer``) and their sum.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('graphs', nargs='+', help='ONNX files, the first '
                        'the baseline')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=0,
                        help="ONNX Runtime's threads (0: its default)")
    parser.add_argument('--images', help='image file or folder')
    parser.add_argument('--profile', type=int, default=0, metavar='N',
                        help="then list each graph's N costliest nodes")
    parser.add_argument('--match', default='',
                        help='with --profile: only nodes whose name '
                        'contains this')
    args = parser.parse_args()
    import onnx

    from mmresize.deploy import onnx_latencies
    from tools.export import check_images
    for path in args.graphs:
        if not osp.isfile(path):
            sys.exit(f'{path} does not exist')
    dims = onnx.load(args.graphs[0]).graph.input[0].type.tensor_type.shape.dim
    shape = (dims[2].dim_value, dims[3].dim_value)
    image = check_images(args.images, 1, shape)[0]
    times = onnx_latencies(args.graphs, image, args.repeats, args.threads)
    print(f'{shape[0]}x{shape[1]}, {args.repeats} turns, ONNX Runtime '
          f'threads {args.threads or "default"}, no spinning:')
    for path, ms in zip(args.graphs, times):
        print(f'  {osp.basename(path):40s} {ms:9.2f} ms  '
              f'{ms / times[0]:.2f}x the first')
    if args.profile:
        for path in args.graphs:
            print_profile(path, image, args)


def print_profile(path: str, image, args: argparse.Namespace) -> None:
    """The graph's ``--profile`` costliest nodes matching ``--match``."""
    from mmresize.deploy import onnx_node_profile
    nodes = [row for row in onnx_node_profile(path, image, args.repeats,
                                              args.threads)
             if args.match in row[2]]
    which = f' matching {args.match!r}' if args.match else ''
    total = sum(ms for ms, _, _ in nodes)
    print(f'{osp.basename(path)}: {len(nodes)} nodes{which}, {total:.3f} ms '
          'of kernels (median per node); the costliest:')
    for ms, op, name in nodes[:args.profile]:
        print(f'  {ms:8.3f} ms  {op:18s} {name}')


if __name__ == '__main__':
    main()
