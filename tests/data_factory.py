"""Tiny datasets in each config's own on-disk layout (shared per session by
the fixtures in tests/conftest.py).

Images hold random rectangles on noise; every layout is the one the real
dataset class reads (VOC XML folders, COCO JSON, VOC12aug and Cityscapes
folders), so configs run through mmdet's and mmseg's real datasets and
pipelines.
"""
import json
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[int, int, int, int]


def _image_with_boxes(rng: np.random.Generator, height: int, width: int,
                      count: int) -> Tuple[np.ndarray, List[Box]]:
    image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    boxes = []
    for _ in range(count):
        w, h = rng.integers(width // 5, width // 2), rng.integers(
            height // 5, height // 2)
        x1, y1 = rng.integers(0, width - w), rng.integers(0, height - h)
        image[y1:y1 + h, x1:x1 + w] = rng.integers(120, 255, 3)
        boxes.append((int(x1), int(y1), int(x1 + w), int(y1 + h)))
    return image, boxes


def make_voc_detection(root: Path, classes: Sequence[str],
                       years: Sequence[int] = (2007, 2012), num: int = 3,
                       size: Tuple[int, int] = (150, 200)) -> Path:
    """VOCdevkit/VOC{year}/{JPEGImages,Annotations,ImageSets/Main}."""
    rng = np.random.default_rng(0)
    devkit = root / 'VOCdevkit'
    for year in years:
        base = devkit / f'VOC{year}'
        for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
            (base / sub).mkdir(parents=True, exist_ok=True)
        names = [f'{year}_{i:06d}' for i in range(num)]
        for i, name in enumerate(names):
            image, boxes = _image_with_boxes(rng, *size, count=2)
            cv2.imwrite(str(base / 'JPEGImages' / f'{name}.jpg'), image)
            objects = ''.join(
                f'<object><name>{classes[(i + k) % len(classes)]}</name>'
                f'<difficult>0</difficult><bndbox><xmin>{b[0] + 1}</xmin>'
                f'<ymin>{b[1] + 1}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}'
                '</ymax></bndbox></object>' for k, b in enumerate(boxes))
            (base / 'Annotations' / f'{name}.xml').write_text(
                f'<annotation><filename>{name}.jpg</filename><size><width>'
                f'{size[1]}</width><height>{size[0]}</height><depth>3</depth>'
                f'</size>{objects}</annotation>')
        for split in ('trainval', 'train', 'val', 'test'):
            (base / 'ImageSets/Main' / f'{split}.txt').write_text(
                '\n'.join(names) + '\n')
    return devkit


def make_coco_detection(root: Path, classes: Sequence[str], num: int = 3,
                        size: Tuple[int, int] = (150, 200)) -> Path:
    """coco/{train2017,val2017,annotations/instances_*2017.json}."""
    rng = np.random.default_rng(1)
    coco = root / 'coco'
    (coco / 'annotations').mkdir(parents=True, exist_ok=True)
    categories = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    for split in ('train2017', 'val2017'):
        (coco / split).mkdir(exist_ok=True)
        images, annotations = [], []
        for i in range(num):
            image, boxes = _image_with_boxes(rng, *size, count=2)
            name = f'{i:012d}.jpg'
            cv2.imwrite(str(coco / split / name), image)
            images.append(dict(id=i + 1, file_name=name, height=size[0],
                               width=size[1]))
            for k, (x1, y1, x2, y2) in enumerate(boxes):
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=i + 1,
                    category_id=(i + k) % len(classes) + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) *
                    (y2 - y1), iscrowd=0, segmentation=[[
                        x1, y1, x2, y1, x2, y2, x1, y2]]))
        (coco / 'annotations' / f'instances_{split}.json').write_text(
            json.dumps(dict(images=images, annotations=annotations,
                            categories=categories)))
    return coco


def _label_map(rng: np.random.Generator, height: int, width: int,
               num_classes: int, ignore: int) -> Tuple[np.ndarray,
                                                       np.ndarray]:
    image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    labels = np.zeros((height, width), np.uint8)
    for k in range(1, 4):
        cls = int(rng.integers(1, num_classes))
        y1, x1 = rng.integers(0, height // 2), rng.integers(0, width // 2)
        labels[y1:y1 + height // 3, x1:x1 + width // 3] = cls
        image[y1:y1 + height // 3, x1:x1 + width // 3] = 40 + 10 * cls
    labels[:2] = ignore
    return image, labels


def make_voc_segmentation(root: Path, num: int = 3,
                          size: Tuple[int, int] = (120, 160)) -> Path:
    """VOCdevkit/VOC2012 with SegmentationClass(Aug) and the split lists."""
    rng = np.random.default_rng(2)
    base = root / 'VOCdevkit' / 'VOC2012'
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                'ImageSets/Segmentation'):
        (base / sub).mkdir(parents=True, exist_ok=True)
    names = [f'2012_{i:06d}' for i in range(num)]
    for name in names:
        image, labels = _label_map(rng, *size, num_classes=21, ignore=255)
        cv2.imwrite(str(base / 'JPEGImages' / f'{name}.jpg'), image)
        for folder in ('SegmentationClass', 'SegmentationClassAug'):
            cv2.imwrite(str(base / folder / f'{name}.png'), labels)
    for split in ('train', 'aug', 'val'):
        (base / 'ImageSets/Segmentation' / f'{split}.txt').write_text(
            '\n'.join(names) + '\n')
    return base


def make_cityscapes(root: Path, num: int = 2,
                    size: Tuple[int, int] = (128, 256)) -> Path:
    """cityscapes/{leftImg8bit,gtFine}/{train,val}/city/..._labelTrainIds."""
    rng = np.random.default_rng(3)
    base = root / 'cityscapes'
    for split in ('train', 'val'):
        img_dir = base / 'leftImg8bit' / split / 'tinycity'
        ann_dir = base / 'gtFine' / split / 'tinycity'
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        for i in range(num):
            image, labels = _label_map(rng, *size, num_classes=19,
                                       ignore=255)
            stem = f'tinycity_{i:06d}_000019'
            cv2.imwrite(str(img_dir / f'{stem}_leftImg8bit.png'), image)
            cv2.imwrite(str(ann_dir / f'{stem}_gtFine_labelTrainIds.png'),
                        labels)
    return base
