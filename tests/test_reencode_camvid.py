"""tools/reencode_camvid.py: the copy's images are JPEGs whose change from
the PNGs is what REENCODED.json says (recomputed here from the files), the
labels are byte-identical, and CamVidDataset reads the copy with
``img_suffix='.jpg'``."""
import importlib.util
import json
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'reencode_camvid', osp.join(ROOT, 'tools', 'reencode_camvid.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_camvid(root: Path, names=('train', 'val'), per_split: int = 2):
    """CamVid's SegNet layout: RGB PNGs and label PNGs (0..11)."""
    rng = np.random.default_rng(0)
    for split in names:
        (root / split).mkdir(parents=True)
        (root / f'{split}annot').mkdir()
        for i in range(per_split):
            image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
            label = rng.integers(0, 12, (24, 32), dtype=np.uint8)
            cv2.imwrite(str(root / split / f'f{i}.png'), image)
            cv2.imwrite(str(root / f'{split}annot' / f'f{i}.png'), label)
    return root


def test_copy_records_its_change_and_keeps_labels(tmp_path):
    src = make_camvid(tmp_path / 'camvid')
    dst = tmp_path / 'copy'
    record = load_tool().reencode_camvid(str(src), str(dst), quality=90)

    changes = []
    for split in ('train', 'val'):
        for i in range(2):
            png = cv2.imread(str(src / split / f'f{i}.png'))
            jpg = cv2.imread(str(dst / split / f'f{i}.jpg'))
            assert jpg.shape == png.shape
            changes.append(np.abs(jpg.astype(int) - png.astype(int)))
            for annot in (f'{split}annot/f{i}.png',):
                assert (dst / annot).read_bytes() == (src / annot).read_bytes()
    changes = np.stack(changes)
    saved = json.loads((dst / 'REENCODED.json').read_text())
    assert saved == record
    assert record['images'] == 4 and record['quality'] == 90
    # noise images are the worst case for JPEG: the change is real
    assert record['mean_abs_change'] == pytest.approx(changes.mean())
    assert record['max_abs_change'] == changes.max() > 0


def sampling_factors(jpeg: bytes):
    """(H, V) sampling factor byte of each component, from the JPEG's
    start-of-frame segment (written out from the JPEG standard, T.81 B.2.2)."""
    for marker in (b'\xff\xc0', b'\xff\xc2'):  # baseline, progressive
        at = jpeg.find(marker)
        if at >= 0:
            count = jpeg[at + 9]
            return [jpeg[at + 10 + 3 * i + 1] for i in range(count)]
    raise AssertionError('no start-of-frame marker')


def test_chroma_is_not_subsampled(tmp_path):
    src = make_camvid(tmp_path / 'camvid')
    load_tool().reencode_camvid(str(src), str(tmp_path / 'copy'), 95)
    jpeg = (tmp_path / 'copy' / 'train' / 'f0.jpg').read_bytes()
    assert sampling_factors(jpeg) == [0x11, 0x11, 0x11]  # 4:4:4
    # the parser tells 4:2:0 apart: OpenCV's default subsamples chroma
    image = cv2.imread(str(src / 'train' / 'f0.png'))
    default = cv2.imencode('.jpg', image)[1].tobytes()
    assert sampling_factors(default)[0] == 0x22


def test_bad_quality_and_unreadable_images_are_named(tmp_path):
    src = make_camvid(tmp_path / 'camvid')
    tool = load_tool()
    for quality in (0, 101, 9.5):
        with pytest.raises(ValueError, match='quality'):
            tool.reencode_camvid(str(src), str(tmp_path / 'copy'), quality)
    (src / 'val' / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        tool.reencode_camvid(str(src), str(tmp_path / 'copy'), 95)


def test_missing_folder_is_named(tmp_path):
    src = make_camvid(tmp_path / 'camvid', names=('train',))
    with pytest.raises(FileNotFoundError, match='val'):
        load_tool().reencode_camvid(str(src), str(tmp_path / 'copy'), 95)


def test_dataset_reads_the_jpeg_copy(tmp_path):
    from mmresize.datasets.camvid import CamVidDataset
    src = make_camvid(tmp_path / 'camvid')
    dst = tmp_path / 'copy'
    load_tool().reencode_camvid(str(src), str(dst), quality=95)
    prefix = dict(img_path='train', seg_map_path='trainannot')
    copy = CamVidDataset(data_root=str(dst), data_prefix=prefix,
                         img_suffix='.jpg', pipeline=[])
    assert len(copy) == 2
    assert copy[0]['img_path'].endswith('.jpg')
    assert copy[0]['seg_map_path'].endswith('.png')
    # the default suffix finds no image in a JPEG-only copy
    assert len(CamVidDataset(data_root=str(dst), data_prefix=prefix,
                             pipeline=[], serialize_data=False)) == 0
