"""A detection set derived from CamVid's label maps: the same images, boxes
from the connected components of four object classes.

For transfer between tasks on the same images (segmentation -> detection,
as VOC seg -> VOC det in Ma & Li's Table 3). **Derived, not annotated**:
every 8-connected component of Car, Pedestrian, Bicyclist or SignSymbol
pixels (at least ``min_area`` pixels, and at least 2 pixels wide and tall:
a one-pixel-wide box has no width in mmdet's coordinates) becomes one box,
so an object cut in two by an occluder (a pole across a car) gives two
boxes, and touching objects of one class (a row of parked cars) give one.
``box_stats`` says what came out; ``docs/transfer.md`` gives the figures
for CamVid.

Written in Pascal VOC layout (``CamVidDet/{Annotations, ImageSets/Main,
JPEGImages}``; the images are the CamVid PNGs, linked or copied, read by
``mmresize.datasets.camvid_det.CamVidDetDataset``); VOC's coordinates:
1-based, last pixel included, so mmdet's VOC loader (which subtracts 1)
reads ``[x0, y0, x1, y1]``, the first and last pixel of the component.
Framework-free (numpy, scipy, OpenCV).
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence, Tuple
from xml.sax.saxutils import escape

import numpy as np

# CamVid label index -> name (mmresize.datasets.camvid.CamVidDataset order)
CLASSES: Dict[int, str] = {8: 'Car', 9: 'Pedestrian', 10: 'Bicyclist',
                           6: 'SignSymbol'}
DET_CLASSES: Tuple[str, ...] = ('Car', 'Pedestrian', 'Bicyclist',
                                'SignSymbol')
MIN_AREA = 16  # pixels: smaller components are label noise
MIN_SIDE = 2  # pixels: x1 == x0 would be a box of no width for mmdet
SPLITS = ('train', 'val')
IMAGE_EXTS = ('.png', '.jpg')  # a re-encoded copy keeps its PNG labels
Box = Tuple[str, int, int, int, int]  # class, x0, y0, x1, y1 (inclusive)


def label_to_boxes(label: np.ndarray, min_area: int = MIN_AREA,
                   classes: Dict[int, str] = CLASSES) -> List[Box]:
    """The boxes of one (H, W) label map: per class in ``classes``, one box
    per 8-connected component of at least ``min_area`` pixels whose box is
    at least ``MIN_SIDE`` pixels wide and tall, as (class,
    x0, y0, x1, y1), 0-based, first and last pixel included; in the order
    of ``classes``, then of the components' first pixels (raster order)."""
    from scipy import ndimage
    eight = np.ones((3, 3), dtype=bool)
    boxes: List[Box] = []
    for index, name in classes.items():
        components, count = ndimage.label(label == index, structure=eight)
        if not count:
            continue
        areas = np.bincount(components.ravel(), minlength=count + 1)
        for k, where in enumerate(ndimage.find_objects(components), start=1):
            if where is None or areas[k] < min_area:
                continue
            rows, cols = where
            if min(rows.stop - rows.start, cols.stop - cols.start) < MIN_SIDE:
                continue
            boxes.append((name, cols.start, rows.start, cols.stop - 1,
                          rows.stop - 1))
    return boxes


def voc_xml(filename: str, width: int, height: int,
            boxes: Sequence[Box]) -> str:
    """A Pascal VOC annotation (1-based, inclusive coordinates)."""
    objects = ''.join(
        f'\t<object>\n\t\t<name>{escape(name)}</name>\n'
        '\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n'
        '\t\t<difficult>0</difficult>\n\t\t<bndbox>\n'
        f'\t\t\t<xmin>{x0 + 1}</xmin>\n\t\t\t<ymin>{y0 + 1}</ymin>\n'
        f'\t\t\t<xmax>{x1 + 1}</xmax>\n\t\t\t<ymax>{y1 + 1}</ymax>\n'
        '\t\t</bndbox>\n\t</object>\n' for name, x0, y0, x1, y1 in boxes)
    return (f'<annotation>\n\t<folder>JPEGImages</folder>\n'
            f'\t<filename>{escape(filename)}</filename>\n'
            '\t<source>\n\t\t<database>CamVid, boxes derived from the label '
            'maps by mmresize</database>\n\t</source>\n'
            f'\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}'
            '</height>\n\t\t<depth>3</depth>\n\t</size>\n'
            f'\t<segmented>1</segmented>\n{objects}</annotation>\n')


def box_stats(boxes: Dict[str, List[Box]]) -> Dict[str, dict]:
    """Per class: boxes, images holding one, median width and height, and
    the share of boxes under 16 and under 32 pixels on their longer side;
    ``boxes``: image id -> its boxes."""
    stats = {}
    for name in DET_CLASSES:
        sizes = np.array([(x1 - x0 + 1, y1 - y0 + 1)
                          for bs in boxes.values()
                          for c, x0, y0, x1, y1 in bs if c == name],
                         dtype=float).reshape(-1, 2)
        longer = sizes.max(axis=1) if len(sizes) else sizes[:, 0]
        stats[name] = dict(
            boxes=int(len(sizes)),
            images=sum(any(b[0] == name for b in bs)
                       for bs in boxes.values()),
            median_width=float(np.median(sizes[:, 0])) if len(sizes) else None,
            median_height=float(np.median(sizes[:, 1])) if len(sizes)
            else None,
            under_16px=float((longer < 16).mean()) if len(sizes) else None,
            under_32px=float((longer < 32).mean()) if len(sizes) else None)
    return stats


def _image_label_pairs(src: str, split: str) -> List[Tuple[str, str]]:
    """(image, label map) paths of a split, checked before anything is
    written: ``SPLIT/ID.png`` (or ``.jpg``) with ``SPLITannot/ID.png``."""
    images, labels = osp.join(src, split), osp.join(src, split + 'annot')
    for folder in (images, labels):
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{folder} is missing: give the CamVid folder holding '
                'train/, trainannot/, val/, valannot/')
    names = sorted(f for f in os.listdir(images)
                   if osp.splitext(f)[1].lower() in IMAGE_EXTS)
    if not names:
        raise FileNotFoundError(f'no {"/".join(IMAGE_EXTS)} images in '
                                f'{images}')
    pairs = [(osp.abspath(osp.join(images, n)),
              osp.join(labels, osp.splitext(n)[0] + '.png')) for n in names]
    missing = [label for _, label in pairs if not osp.isfile(label)]
    if missing:
        raise FileNotFoundError(f'no label map {missing[0]} (and '
                                f'{len(missing) - 1} more) for the images '
                                f'in {images}; nothing was written')
    return pairs


def convert(src: str, dst: str, min_area: int = MIN_AREA,
            copy: bool = False, splits: Sequence[str] = SPLITS) -> dict:
    """Write ``dst/CamVidDet`` from the CamVid folder ``src``
    (``SPLIT/`` images, ``SPLITannot/`` label maps); returns (and writes as
    ``CamVidDet/STATS.json``) the box statistics per split. Images are
    linked (absolute symlinks), or copied with ``copy``. Refuses an
    existing ``dst/CamVidDet``; every image's label map is checked before
    anything is written."""
    import cv2
    root = osp.join(dst, 'CamVidDet')
    if osp.exists(root):
        raise FileExistsError(f'{root} exists: remove it or give another '
                              'destination (nothing is overwritten)')
    pairs = {split: _image_label_pairs(src, split) for split in splits}
    for sub in ('Annotations', 'ImageSets/Main', 'JPEGImages'):
        os.makedirs(osp.join(root, sub))
    stats = dict(min_area=min_area, min_side=MIN_SIDE, splits={})
    for split, split_pairs in pairs.items():
        boxes: Dict[str, List[Box]] = {}
        for image, label_path in split_pairs:
            name = osp.basename(image)
            image_id = osp.splitext(name)[0]
            label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
            if label is None:
                raise ValueError(f'{label_path} is not an image: give '
                                 "CamVid's single-channel label maps")
            boxes[image_id] = label_to_boxes(label, min_area)
            height, width = label.shape[:2]
            with open(osp.join(root, 'Annotations', image_id + '.xml'),
                      'w') as f:
                f.write(voc_xml(name, width, height, boxes[image_id]))
            target = osp.join(root, 'JPEGImages', name)
            shutil.copyfile(image, target) if copy else os.symlink(image,
                                                                   target)
        with open(osp.join(root, 'ImageSets', 'Main', split + '.txt'),
                  'w') as f:
            f.write(''.join(osp.splitext(osp.basename(i))[0] + '\n'
                            for i, _ in split_pairs))
        stats['splits'][split] = dict(images=len(split_pairs),
                                      classes=box_stats(boxes))
    with open(osp.join(root, 'STATS.json'), 'w') as f:
        json.dump(stats, f, indent=2)
    return stats


__all__ = ['CLASSES', 'DET_CLASSES', 'MIN_AREA', 'MIN_SIDE', 'box_stats',
           'convert',
           'label_to_boxes', 'voc_xml']
