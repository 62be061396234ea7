"""Evaluate a checkpoint: mAP (mmdet configs) or mIoU (mmseg configs).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
                         [--data-root DIR] [--trust-checkpoint]
                         [--cfg-options key=value ...]

Predictions are mapped back to the original image size before the metric.
CHECKPOINT is unpickled fully only if it lies in a work dir (the run's,
./work_dirs/ or MMRESIZE_TRUSTED_DIRS) or with --trust-checkpoint; any other
file is loaded weights-only (``mmresize.trust``).
"""
import argparse
import os.path as osp
import sys
import warnings

# mmengine imports pkg_resources (deprecated in setuptools >= 81): harmless
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmresize.cli import (  # noqa: E402
    add_common_args,
    build_runner,
    load_config,
    stop_unless_ready,
    trust_named_checkpoint,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump raw predictions to this pickle')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args)
    stop_unless_ready(cfg, args, 'test', ('test', ), weights=False)
    cfg.load_from = args.checkpoint
    trust_named_checkpoint(cfg, args)
    if args.out:
        evaluators = cfg.test_evaluator
        cfg.test_evaluator = ([evaluators] if isinstance(evaluators, dict)
                              else list(evaluators))
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=args.out))
    build_runner(cfg, train=False).test()


if __name__ == '__main__':
    main()
