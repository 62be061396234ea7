"""See what a resizer learned: PNGs of original / bilinear / learned output
and (DownsizeNet) its per-pixel coefficient maps.

    python tools/visualize_resizer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER \\
        [--out-dir vis] [--size H W]

CHECKPOINT is a task checkpoint from tools/train.py or a resizer checkpoint
from tools/transfer_resizer.py. Each image goes through the config's data
preprocessor (normalisation, padding), and the resizer's real input is
captured; the target size is the preprocessor's unless --size is given.
"""
import argparse
import os
import os.path as osp
import sys

import cv2

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmresize.transfer import standalone_preprocessor  # noqa: E402
from mmresize.visualization import (  # noqa: E402
    resizer_input,
    resizer_panels,
    save_figure,
)

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def load_preprocessor(config: str, checkpoint: str):
    """The config's data preprocessor with the checkpoint's resizer weights
    (a task checkpoint or a resizer checkpoint); also returns the config."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    return standalone_preprocessor(cfg.model.data_preprocessor,
                                   checkpoint), cfg


def images_in(path: str):
    if osp.isdir(path):
        return sorted(osp.join(path, f) for f in os.listdir(path)
                      if f.lower().endswith(IMAGE_EXTS))
    if not osp.isfile(path):
        raise FileNotFoundError(f'no image or folder at {path}')
    return [path]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', help='an image file or a folder of them')
    parser.add_argument('--out-dir', default='vis')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle a task CHECKPOINT fully although it lies outside '
        'your work dirs (only files you trust: unpickling runs code)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help="target size (default: the preprocessor's "
                        'target_scale / target_size for each image)')
    args = parser.parse_args()
    if args.trust_checkpoint:
        from mmresize.trust import trust_file
        trust_file(args.checkpoint)
    pre, cfg = load_preprocessor(args.config, args.checkpoint)
    resizer = pre.resizer
    mean, std = pre.mean.flatten().tolist(), pre.std.flatten().tolist()
    rgb = pre.converts_bgr_to_rgb()
    os.makedirs(args.out_dir, exist_ok=True)
    for path in images_in(args.images):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'cannot read image {path}')
        x, size = resizer_input(pre, image, cfg.default_scope, path)
        panels = resizer_panels(resizer, x, tuple(args.size or size))
        shown = image[..., ::-1] if rgb else image
        out = osp.join(args.out_dir,
                       osp.splitext(osp.basename(path))[0] + '_resizer.png')
        save_figure(out, shown, panels, mean, std,
                    title=f'{type(resizer).__name__}: {osp.basename(path)}')
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
