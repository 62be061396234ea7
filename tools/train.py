"""Train a detector or segmentor with an mmresize data preprocessor.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--data-root DIR] [--no-pretrained]
                                 [--trust-checkpoint]
                                 [--cfg-options key=value ...]

Works for mmdet and mmseg configs alike (the config's ``default_scope``
decides). Like mmdet's and mmseg's own ``tools/train.py``, plus: resuming and
loading checkpoints works under torch >= 2.6 without environment variables,
unpickling fully only checkpoints in the work dirs (others need
``--trust-checkpoint`` or load weights-only; ``mmresize.trust``),
``--amp`` works on CPU (bf16), ``--launcher pytorch`` works without GPUs
(gloo), and missing data or backbone weights stop the run before it starts,
with what to do (``mmresize.preflight``).
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
from mmresize.engine.amp import enable_amp  # noqa: E402
from mmresize.preflight import strip_downloads  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (fp16 on GPU, bf16 on CPU)')
    parser.add_argument(
        '--no-pretrained', action='store_true',
        help='train from scratch: drop the backbone weights the config '
        'would download (open-mmlab://, torchvision://, URLs)')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if args.no_pretrained:
        strip_downloads(cfg.model)
    stop_unless_ready(cfg, args, 'train', ('train', 'val'), weights=True)
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    trust_named_checkpoint(cfg, args)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
