"""See what a resizer learned: PNGs of original / bilinear / learned output
and (DownsizeNet) its per-pixel coefficient maps.

    python tools/visualize_resizer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER \\
        [--out-dir vis] [--scale 0.3 | --size H W]

CHECKPOINT is a task checkpoint from tools/train.py or a resizer checkpoint
from tools/transfer_resizer.py. The target size defaults to the config's
target_scale / target_size applied to each image.
"""
import argparse
import os
import os.path as osp
import sys

import cv2

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmresize.checkpoint import load_local  # noqa: E402
from mmresize.visualization import normalise, resizer_panels, save_figure  # noqa: E402

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def load_resizer(config: str, checkpoint: str):
    from mmengine.config import Config

    import mmresize.resizers  # noqa: F401
    from mmresize.registry import MODELS
    from mmresize.transfer import PREFIX
    cfg = Config.fromfile(config)
    pre = cfg.model.data_preprocessor
    resizer_cfg = {k: v for k, v in pre.resizer.items()
                   if k not in ('init_cfg', 'frozen')}
    resizer = MODELS.build(resizer_cfg).eval()
    state = load_local(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    if any(k.startswith(PREFIX) for k in state):
        state = {k[len(PREFIX):]: v for k, v in state.items()
                 if k.startswith(PREFIX)}
    resizer.load_state_dict(state, strict=True)
    return resizer, pre


def images_in(path: str):
    if osp.isdir(path):
        return sorted(osp.join(path, f) for f in os.listdir(path)
                      if f.lower().endswith(IMAGE_EXTS))
    if not osp.isfile(path):
        raise FileNotFoundError(f'no image or folder at {path}')
    return [path]


def target_size(pre, shape, args):
    if args.size:
        return tuple(args.size)
    if args.scale:
        fy = fx = args.scale
    elif pre.get('target_size'):
        return tuple(pre.target_size)
    else:
        scale = pre.target_scale
        fy, fx = (scale, scale) if isinstance(scale, (int, float)) else scale
    return max(1, round(shape[0] * fy)), max(1, round(shape[1] * fx))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', help='an image file or a folder of them')
    parser.add_argument('--out-dir', default='vis')
    parser.add_argument('--scale', type=float)
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'))
    args = parser.parse_args()
    resizer, pre = load_resizer(args.config, args.checkpoint)
    mean = pre.get('mean', [0, 0, 0])
    std = pre.get('std', [1, 1, 1])
    bgr_to_rgb = pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False)
    os.makedirs(args.out_dir, exist_ok=True)
    for path in images_in(args.images):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'cannot read image {path}')
        size = target_size(pre, image.shape, args)
        x = normalise(image, mean, std, bgr_to_rgb)
        panels = resizer_panels(resizer, x, size)
        shown = image[..., ::-1] if bgr_to_rgb else image
        out = osp.join(args.out_dir,
                       osp.splitext(osp.basename(path))[0] + '_resizer.png')
        save_figure(out, shown, panels, mean, std,
                    title=f'{type(resizer).__name__}: {osp.basename(path)}')
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
