"""Extract a trained resizer from a task checkpoint, to reuse it frozen.

    python tools/transfer_resizer.py SRC_CHECKPOINT OUT.pth [--ema]
                                     [--check TARGET_CONFIG] [--force]
                                     [--trust-checkpoint]

SRC_CHECKPOINT is a checkpoint written by tools/train.py with an mmresize
preprocessor (detection or segmentation). Such a checkpoint needs full
unpickling, which runs code named in the file, so it is unpickled only if
it lies under ./work_dirs/ or a folder in MMRESIZE_TRUSTED_DIRS, or with
--trust-checkpoint (for your own file elsewhere); any other file is read
weights-only, which a full training checkpoint fails, with what to do
(``mmresize.trust``). OUT.pth holds only tensors and plain data, so it can
be shared and is always read weights-only: the resizer's weights plus its
type, constructor arguments, the source config and iteration, and a sha256
of the weights. With --check, the target config's resizer must have the same
type, arguments and tensor shapes, or nothing is written. The source file is
only read; OUT.pth is written atomically and an existing file is kept unless
--force. Use the result in a config as

    resizer=dict(type='mmresize.DownsizeNet', ..., frozen=True,
                 init_cfg=dict(type='Pretrained', checkpoint='OUT.pth'))
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmresize.transfer import (ResizerCheckpointError, check_against_config,  # noqa
                               extract, save_atomic)
from mmresize.trust import UntrustedCheckpointError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='task checkpoint from train.py')
    parser.add_argument('out', help='resizer checkpoint to write')
    parser.add_argument('--ema', action='store_true',
                        help='take the EMA weights (EMAHook)')
    parser.add_argument('--check', metavar='CONFIG',
                        help='verify against the resizer of this config')
    parser.add_argument('--force', action='store_true',
                        help='overwrite OUT if it exists')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle SRC_CHECKPOINT fully although it is outside the work '
        'dirs: only for your own file (unpickling runs code in it)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if osp.abspath(args.out) == osp.abspath(args.checkpoint):
            raise ResizerCheckpointError(
                'OUT must differ from the source checkpoint')
        if osp.exists(args.out) and not args.force:
            raise ResizerCheckpointError(
                f'{args.out} exists; pass --force to overwrite it')
        resizer = extract(args.checkpoint, ema=args.ema,
                          trusted=args.trust_checkpoint)
        if args.check:
            check_against_config(resizer, args.check)
        save_atomic(resizer, args.out, force=args.force)
    except (ResizerCheckpointError, UntrustedCheckpointError) as err:
        print(f'transfer_resizer: error: {err}', file=sys.stderr)
        return 1
    record = resizer['meta']['mmresize_resizer']
    print(f'wrote {args.out}: {record["type"]} {record["args"]}, '
          f'{len(resizer["state_dict"])} tensors, from iteration '
          f'{record["source_iter"]} of {args.checkpoint}, sha256 '
          f'{record["sha256"][:16]}...')
    return 0


if __name__ == '__main__':
    sys.exit(main())
