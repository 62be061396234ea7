"""DownsizeSegDataPreProcessor against mmseg's own and through inference."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.structures import SegDataSample

from mmresize.seg import DownsizeSegDataPreProcessor

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
BILINEAR = dict(type='mmresize.InterpolateResizer', mode='bilinear')


def seg_batch(shapes, seed=0):
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for h, w in shapes:
        inputs.append(torch.from_numpy(
            rng.integers(0, 255, (3, h, w), dtype=np.uint8)))
        sample = SegDataSample(metainfo=dict(img_shape=(h, w),
                                             ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(
            rng.integers(0, 5, (1, h, w))).long())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def assert_meta_equal(ours, theirs):
    assert set(ours.metainfo) == set(theirs.metainfo)
    for key, value in theirs.metainfo.items():
        np.testing.assert_array_equal(np.asarray(ours.metainfo[key]),
                                      np.asarray(value), err_msg=key)


@pytest.mark.parametrize('training', [True, False])
def test_identity_size_equals_mmseg(training):
    shapes = [(60, 70), (52, 70)] if training else [(60, 70), (60, 70)]
    kwargs = dict(NORM, size=(64, 80)) if training else dict(
        NORM, test_cfg=dict(size_divisor=32))
    data = seg_batch(shapes)
    theirs = SegDataPreProcessor(**kwargs)(copy.deepcopy(data), training)
    target = (64, 80) if training else (64, 96)
    ours = DownsizeSegDataPreProcessor(resizer=BILINEAR, target_size=target,
                                       **kwargs)(copy.deepcopy(data), training)
    torch.testing.assert_close(ours['inputs'], theirs['inputs'], rtol=0,
                               atol=1e-6)
    for mine, ref in zip(ours['data_samples'], theirs['data_samples']):
        assert_meta_equal(mine, ref)
        torch.testing.assert_close(mine.gt_sem_seg.data, ref.gt_sem_seg.data)


def test_training_meta_and_labels():
    data = seg_batch([(60, 70), (52, 70)])
    pre = DownsizeSegDataPreProcessor(resizer=dict(type='mmresize.DownsizeNet'),
                                      target_scale=0.3, size=(64, 80),
                                      **NORM)
    out = pre(copy.deepcopy(data), True)
    assert out['inputs'].shape == (2, 3, 19, 24)
    for sample, (h, w) in zip(out['data_samples'], [(60, 70), (52, 70)]):
        sy, sx = 19 / 64, 24 / 80
        assert sample.img_shape == (round(h * sy), round(w * sx))
        assert sample.pad_shape == (19, 24)
        assert sample.padding_size == (0, 24 - round(w * sx), 0,
                                       19 - round(h * sy))
        assert sample.gt_sem_seg.data.shape == (1, 64, 80)  # full resolution
    pre.downsize_labels = True
    out = pre(copy.deepcopy(data), True)
    for sample, original in zip(out['data_samples'], data['data_samples']):
        labels = sample.gt_sem_seg.data
        assert labels.shape == (1, 19, 24)
        assert set(labels.unique().tolist()) <= set(
            original.gt_sem_seg.data.unique().tolist()) | {255}


@pytest.mark.parametrize('downsize_labels', [False, True])
def test_pad_size_divisor_pads_the_downsized_batch(downsize_labels):
    """100x150 at 0.3 is 30x45: padded to 32x64 with pad_val, the resized
    image untouched inside (F.interpolate as the reference), the padding
    recorded, and the labels padded with seg_pad_val over the same area."""
    data = seg_batch([(100, 150), (100, 150)])
    pre = DownsizeSegDataPreProcessor(
        resizer=BILINEAR, target_scale=0.3, pad_size_divisor=32,
        downsize_labels=downsize_labels, size=(100, 150),
        **dict(NORM, pad_val=-7))
    plain = SegDataPreProcessor(size=(100, 150), **NORM)(copy.deepcopy(data),
                                                         True)
    out = pre(copy.deepcopy(data), True)
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 32, 64)
    reference = F.interpolate(plain['inputs'], (30, 45), mode='bilinear',
                              align_corners=False)
    torch.testing.assert_close(inputs[..., :30, :45], reference, rtol=0,
                               atol=1e-5)
    assert (inputs[..., 30:, :] == -7).all() and (inputs[..., 45:] == -7).all()
    for sample, original in zip(out['data_samples'], data['data_samples']):
        assert sample.img_shape == (30, 45) and sample.pad_shape == (32, 64)
        assert sample.padding_size == (0, 19, 0, 2)
        labels = sample.gt_sem_seg.data
        if downsize_labels:
            assert labels.shape == (1, 32, 64)
            inside = labels[:, :30, :45]
        else:  # full resolution over the padded area: 32 / 0.3, 64 / 0.3
            assert labels.shape == (1, round(32 / 0.3), round(64 / 0.3))
            inside = labels[:, :100, :150]
            torch.testing.assert_close(inside, original.gt_sem_seg.data)
        assert (labels[:, inside.shape[1]:] == 255).all()
        assert (labels[:, :, inside.shape[2]:] == 255).all()


class OneHotSegmentor(EncoderDecoder):
    """An identity-like segmentor: the image's channels are class scores.

    ``encode_decode`` returns its input, resized the way mmseg's decode heads
    resize logits (to ``img_shape`` for slide crops, else ``pad_shape``).
    """

    def __init__(self, data_preprocessor, test_cfg):
        BaseSegmentor.__init__(self, data_preprocessor=data_preprocessor)
        self.test_cfg = ConfigDict(test_cfg)
        self.align_corners = False
        self.out_channels = 3

    def encode_decode(self, inputs, batch_img_metas):
        meta = batch_img_metas[0]
        size = meta['img_shape'] if isinstance(
            meta['img_shape'], torch.Size) else meta['pad_shape'][:2]
        return F.interpolate(inputs, size=tuple(size), mode='bilinear',
                             align_corners=False)


def label_image(h, w, seed=0):
    """A label map of blobs and stripes (3 classes) and its one-hot image."""
    yy, xx = np.mgrid[0:h, 0:w]
    labels = np.zeros((h, w), np.int64)
    labels[(yy - h / 3) ** 2 + (xx - w / 4) ** 2 < (min(h, w) / 4) ** 2] = 1
    labels[(xx > 0.6 * w) & (yy > 0.2 * h)] = 2
    image = np.eye(3, dtype=np.uint8)[labels].transpose(2, 0, 1) * 255
    return labels, torch.from_numpy(np.ascontiguousarray(image))


def iou(pred, labels):
    scores = []
    for cls in range(3):
        inter = ((pred == cls) & (labels == cls)).sum()
        union = ((pred == cls) | (labels == cls)).sum()
        scores.append(inter / union)
    return min(scores)


@pytest.mark.parametrize('mode', ['whole', 'slide'])
@pytest.mark.parametrize('pad', [False, True])
@pytest.mark.parametrize('flip', [False, True])
@pytest.mark.parametrize('resizer', [BILINEAR,
                                     dict(type='mmresize.DownsizeNet')])
@pytest.mark.parametrize('divisor', [1, 32])
def test_predictions_come_back_aligned(mode, pad, flip, resizer, divisor):
    h, w = 150, 230
    labels, image = label_image(h, w)
    if flip:
        image = image.flip(-1)  # what RandomFlip did in the pipeline
    sample = SegDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), flip=flip,
        flip_direction='horizontal', img_path='synthetic.png'))
    pre = DownsizeSegDataPreProcessor(
        resizer=resizer, target_scale=0.3, mean=[0, 0, 0],
        std=[255, 255, 255], test_cfg=dict(size_divisor=32) if pad else None,
        pad_size_divisor=divisor)
    test_cfg = dict(mode='whole') if mode == 'whole' else dict(
        mode='slide', crop_size=(32, 32), stride=(21, 21))
    model = OneHotSegmentor(pre, test_cfg).eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[image], data_samples=[sample]), False)
        expected = (48, 77) if pad else (45, 69)  # 0.3 x (160x256 | 150x230)
        if divisor > 1:  # it really pads
            expected = tuple(-(-e // divisor) * divisor for e in expected)
            assert expected != (48, 77) and expected != (45, 69)
        assert data['inputs'].shape[-2:] == expected
        out = model.predict(data['inputs'], data['data_samples'])[0]
    pred = out.pred_sem_seg.data[0].numpy()
    assert pred.shape == (h, w)
    assert iou(pred, labels) > 0.93
