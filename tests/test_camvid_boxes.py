"""The CamVid box converter: components as hand-drawn, VOC files that
mmdet's loader reads back as the same pixel boxes, statistics, and nothing
overwritten."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmresize.datasets.camvid_boxes import box_stats, convert, label_to_boxes

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAR, PED, SIGN, ROAD, VOID = 8, 9, 6, 3, 11


def hand_label():
    """A 20 x 30 map: two cars (one of two pixels touching only at a
    corner: one 8-connected component), a pedestrian, a 2-pixel sign (below
    the minimum area), road and void around."""
    label = np.full((20, 30), ROAD, np.uint8)
    label[0:2, :] = VOID
    label[3:7, 2:10] = CAR  # x 2..9, y 3..6
    label[7:9, 10:13] = CAR  # touches (6, 9) at a corner: same component
    label[12:18, 20:29] = CAR  # x 20..28, y 12..17
    label[10:19, 5:8] = PED  # x 5..7, y 10..18
    label[0, 0:2] = SIGN  # 2 pixels
    label[2:19, 29] = SIGN  # one pixel wide, 17 tall: no width for mmdet
    return label


def test_components_are_the_boxes_drawn():
    assert label_to_boxes(hand_label(), min_area=4) == [
        ('Car', 2, 3, 12, 8), ('Car', 20, 12, 28, 17),
        ('Pedestrian', 5, 10, 7, 18)]
    # the 2-pixel sign is one pixel tall: never a box; a 2 x 2 one is, when
    # the minimum area allows it
    assert all(b[0] != 'SignSymbol' for b in label_to_boxes(hand_label(), 2))
    label = hand_label()
    label[0:2, 0:2] = SIGN
    assert ('SignSymbol', 0, 0, 1, 1) in label_to_boxes(label, min_area=4)


def test_statistics_count_by_hand():
    stats = box_stats({'a': [('Car', 0, 0, 9, 4), ('Car', 0, 0, 39, 19)],
                       'b': [('Pedestrian', 0, 0, 4, 19)]})
    assert stats['Car']['boxes'] == 2 and stats['Car']['images'] == 1
    assert stats['Car']['median_width'] == 25.0  # 10 and 40
    assert stats['Car']['under_16px'] == 0.5 and stats['Car'][
        'under_32px'] == 0.5
    assert stats['Pedestrian']['under_32px'] == 1.0
    assert stats['SignSymbol']['boxes'] == 0


def camvid_like(root):
    for split in ('train', 'val'):
        os.makedirs(osp.join(root, split))
        os.makedirs(osp.join(root, split + 'annot'))
        for i in range(2):
            name = f'{split}_{i}.png'
            image = np.full((20, 30, 3), 40 * i, np.uint8)
            cv2.imwrite(osp.join(root, split, name), image)
            cv2.imwrite(osp.join(root, split + 'annot', name), hand_label())


def test_mmdet_reads_back_the_pixel_boxes(tmp_path):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmresize.det import CamVidDetDataset  # noqa: F401  registers
    src, dst = str(tmp_path / 'camvid'), str(tmp_path / 'out')
    camvid_like(src)
    stats = convert(src, dst, min_area=4)
    assert stats['splits']['train']['classes']['Car']['boxes'] == 4
    init_default_scope('mmdet')
    dataset = DATASETS.build(dict(
        type='CamVidDetDataset', data_root=dst,
        ann_file='CamVidDet/ImageSets/Main/val.txt',
        data_prefix=dict(sub_data_root='CamVidDet/'), test_mode=True,
        pipeline=[]))
    assert len(dataset) == 2
    info = dataset.get_data_info(0)
    assert info['img_path'].endswith('CamVidDet/JPEGImages/val_0.png')
    assert osp.isfile(info['img_path'])
    boxes = [(dataset.metainfo['classes'][i['bbox_label']], *i['bbox'])
             for i in info['instances']]
    assert boxes == label_to_boxes(hand_label(), min_area=4)
    # nothing overwritten
    with pytest.raises(FileExistsError, match='nothing is overwritten'):
        convert(src, dst)


def test_tool_prints_the_statistics_and_refuses_missing_labels(tmp_path):
    src = str(tmp_path / 'camvid')
    camvid_like(src)
    out = subprocess.run([sys.executable, 'tools/camvid_to_boxes.py', src,
                          str(tmp_path / 'det'), '--copy'], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert '| train (2 images) | Car | 4 | 2 |' in out.stdout
    image = tmp_path / 'det' / 'CamVidDet' / 'JPEGImages' / 'train_0.png'
    assert image.is_file() and not image.is_symlink()
    os.remove(osp.join(src, 'valannot', 'val_1.png'))
    bad = subprocess.run([sys.executable, 'tools/camvid_to_boxes.py', src,
                          str(tmp_path / 'det2')], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and 'no label map' in bad.stderr
    assert 'nothing was written' in bad.stderr
    assert not osp.exists(tmp_path / 'det2' / 'CamVidDet')


def test_re_encoded_images_keep_their_png_labels(tmp_path):
    src = str(tmp_path / 'camvid')
    camvid_like(src)
    for split in ('train', 'val'):
        for name in os.listdir(osp.join(src, split)):
            path = osp.join(src, split, name)
            cv2.imwrite(path[:-4] + '.jpg', cv2.imread(path))
            os.remove(path)
    stats = convert(src, str(tmp_path / 'det'), min_area=4)
    assert stats['splits']['val']['images'] == 2
    assert osp.isfile(tmp_path / 'det' / 'CamVidDet' / 'JPEGImages' /
                      'val_0.jpg')
