"""A copy of CamVid with its images re-encoded as JPEG, labels untouched.

The CamVid images are 123 MB of PNG; a machine reached through a transfer
limit (for example an offline GPU box fed by ``tools/offline_bundle.sh``) may
not take them. This writes ``OUT/{train,val}/*.jpg`` (4:4:4 chroma, the
given quality) and copies ``OUT/{trainannot,valannot}/*.png`` unchanged,
then records in ``OUT/REENCODED.json`` how far the pixels moved (mean and
largest absolute change in 0-255 grey levels, over every image): a run on
the copy is a run on slightly different images, and its results must say
so. Configs read the copy with ``img_suffix='.jpg'`` on ``CamVidDataset``.

    python tools/reencode_camvid.py data/camvid OUT/camvid --quality 95
"""
import argparse
import json
import os
import os.path as osp
import shutil
from typing import Dict

import cv2
import numpy as np

IMAGE_DIRS = ('train', 'val')
LABEL_DIRS = ('trainannot', 'valannot')


def reencode(image: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a (H, W, 3) uint8 image, 4:4:4 chroma (no subsampling:
    thin coloured structures keep their colour)."""
    ok, data = cv2.imencode('.jpg', image, [
        cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
    if not ok:
        raise RuntimeError('OpenCV could not encode a JPEG')
    return data.tobytes()


def reencode_camvid(src: str, dst: str, quality: int) -> Dict[str, float]:
    """Write the re-encoded copy; returns (and saves) the pixel change."""
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f'JPEG quality must be an int in 1-100, got '
                         f'{quality!r}')
    for name in IMAGE_DIRS + LABEL_DIRS:
        if not osp.isdir(osp.join(src, name)):
            raise FileNotFoundError(
                f'{osp.join(src, name)} is missing: point SRC at a CamVid '
                'folder holding train/, val/, trainannot/, valannot/')
    total, pixels, largest, images = 0.0, 0, 0, 0
    for name in IMAGE_DIRS:
        os.makedirs(osp.join(dst, name), exist_ok=True)
        for file in sorted(os.listdir(osp.join(src, name))):
            if not file.endswith('.png'):
                continue
            path = osp.join(src, name, file)
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f'{path} is not a readable image: remove '
                                 'or replace it')
            data = reencode(image, quality)
            out = osp.join(dst, name, file[:-len('.png')] + '.jpg')
            with open(out, 'wb') as f:
                f.write(data)
            back = cv2.imdecode(np.frombuffer(data, np.uint8),
                                cv2.IMREAD_COLOR)
            change = np.abs(back.astype(np.int16) - image.astype(np.int16))
            total += float(change.sum())
            pixels += change.size
            largest = max(largest, int(change.max()))
            images += 1
    for name in LABEL_DIRS:
        shutil.copytree(osp.join(src, name), osp.join(dst, name),
                        dirs_exist_ok=True)
    record = dict(quality=quality, chroma='4:4:4', images=images,
                  mean_abs_change=total / max(pixels, 1),
                  max_abs_change=largest)
    with open(osp.join(dst, 'REENCODED.json'), 'w') as f:
        json.dump(record, f, indent=2)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='CamVid folder (train/, val/, ...)')
    parser.add_argument('dst', help='where the copy goes')
    parser.add_argument('--quality', type=int, default=95,
                        help='JPEG quality, 1-100 (default 95)')
    args = parser.parse_args()
    try:
        record = reencode_camvid(args.src, args.dst, args.quality)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    print(json.dumps(record))


if __name__ == '__main__':
    main()
