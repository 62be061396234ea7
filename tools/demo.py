"""The main job on an embedded default: no dataset, no download, minutes.

Generates a small segmentation set of its own (procedural textures and thin
structures, exactly what bilinear downsizing destroys), trains DeepLabv3+
(ResNet-18, from scratch) on 0.25x-downsized images with DownsizeNet (the
catalogue's, the default start) and with bilinear for each seed (same
seed: same model initialisation and data order), evaluates them with
mmseg's IoUMetric at the original resolution, and writes to the work dir:
metrics.md (per seed, mean, paired gain with its 95% t-interval and
verdict) / metrics.json, demo.png (original / bilinear / DownsizeNet inputs
and predictions, first seed) and the trained resizer of the first seed as
a transferable checkpoint. The code: ``mmresize.benchmark.demo``.

    python tools/demo.py [--work-dir work_dirs/demo] [--iters 400] \
        [--seeds 0 1 2]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.benchmark.demo import run_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--iters', type=int, default=400)
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    args = parser.parse_args()
    print(run_demo(args.work_dir, args.iters, args.seeds))


if __name__ == '__main__':
    main()
