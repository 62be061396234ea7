"""The one preprocessing core (``mmresize.preprocessors.core``): rounding at
exactly .5, padding, the batch geometry, and what the preprocessors read
back."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmseg.structures import SegDataSample

from mmresize.det import DownsizeDetDataPreprocessor
from mmresize.preprocessors.core import (
    BatchResize,
    Target,
    pad_bottom_right,
    resize_and_pad,
    round_half_up,
)
from mmresize.seg import DownsizeSegDataPreProcessor

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True)
BILINEAR = dict(type='mmresize.InterpolateResizer', mode='bilinear')
HOSTS = {'det': (DownsizeDetDataPreprocessor, DetDataSample),
         'seg': (DownsizeSegDataPreProcessor, SegDataSample)}


def bilinear(x, size):
    return F.interpolate(x, size, mode='bilinear', align_corners=False)


@pytest.mark.parametrize('value,expected', [
    (2.5, 3), (3.5, 4), (2.4999, 2), (2.5001, 3), (0.5, 1), (7.0, 7)])
def test_halves_round_up(value, expected):
    """Halves away from zero; Python's round would give 2 for 2.5."""
    assert round_half_up(value) == expected


def test_target_scale_at_exactly_a_half():
    """5 x 0.5 = 2.5 -> 3 and 7 x 0.5 = 3.5 -> 4 (round(): 2 and 4)."""
    assert Target.parse(None, 0.5).hw((5, 7)) == (3, 4)
    assert Target.parse(None, (0.5, 0.5)).hw((1, 1)) == (1, 1)  # >= 1 pixel
    assert Target.parse((2, 9), None).hw((5, 7)) == (2, 9)


@pytest.mark.parametrize('host', list(HOSTS))
def test_preprocessors_round_halves_up(host):
    """A 5x7 image at 0.5: batch, img_shape and pixels at 3x4, equal to
    F.interpolate of the normalised image."""
    cls, sample_cls = HOSTS[host]
    image = torch.arange(3 * 5 * 7, dtype=torch.uint8).reshape(3, 5, 7)
    sample = sample_cls(metainfo=dict(img_shape=(5, 7), ori_shape=(5, 7)))
    pre = cls(resizer=BILINEAR, target_scale=0.5, **NORM)
    out = pre(dict(inputs=[image], data_samples=[sample]), False)
    assert out['inputs'].shape == (1, 3, 3, 4)
    assert out['data_samples'][0].img_shape == (3, 4)
    mean = torch.tensor(NORM['mean'])[:, None, None]
    std = torch.tensor(NORM['std'])[:, None, None]
    normalised = (image[[2, 1, 0]].float() - mean) / std
    torch.testing.assert_close(out['inputs'], bilinear(normalised[None],
                                                       (3, 4)))


def test_pad_bottom_right():
    t = torch.ones(2, 3, 4)
    padded = pad_bottom_right(t, (5, 6), -1)
    assert padded.shape == (2, 5, 6)
    assert (padded[:, :3, :4] == 1).all()
    assert (padded[:, 3:] == -1).all() and (padded[:, :, 4:] == -1).all()
    labels = torch.zeros(1, 2, 2, dtype=torch.long)
    padded = pad_bottom_right(labels, (3, 2), 255)
    assert padded.dtype == torch.long and padded[0, 2].tolist() == [255, 255]
    assert pad_bottom_right(t, (3, 4), 0) is t
    with pytest.raises(ValueError, match=r'\(3, 4\) to the smaller \(2, 4\)'):
        pad_bottom_right(t, (2, 4), 0)


def test_batch_geometry_by_hand():
    """100x150 at 0.3 is 30x45, padded to 32 -> 32x64: padding (2, 19);
    the padded batch covers 32 * 100 / 30 = 106.67 -> 107 and
    64 * 150 / 45 = 213.33 -> 213 input pixels."""
    plan = BatchResize.plan((100, 150), Target.parse(None, 0.3), 32)
    assert plan.out_hw == (30, 45) and plan.batch_hw == (32, 64)
    assert plan.padding == (2, 19)
    assert plan.scale == pytest.approx((0.3, 0.3))
    assert plan.input_extent() == (107, 213)
    assert plan.image_hw((50, 75)) == (15, 23)  # 22.5 -> 23
    assert not plan.upsizes
    assert BatchResize.plan((10, 10), Target.parse((12, 8), None), 1).upsizes


def test_resize_and_pad_against_interpolate():
    x = torch.randn(2, 3, 20, 31)
    out, plan = resize_and_pad(x, bilinear, Target.parse(None, 0.5), 8, -3.0)
    assert plan.out_hw == (10, 16) and out.shape == (2, 3, 16, 16)
    torch.testing.assert_close(out[..., :10, :16], bilinear(x, (10, 16)))
    assert (out[..., 10:, :] == -3).all()


@pytest.mark.parametrize('host', list(HOSTS))
@pytest.mark.parametrize('target', [dict(target_size=[24, 40]),
                                    dict(target_scale=0.3),
                                    dict(target_scale=(0.5, 0.25))])
def test_settings_read_back_as_configured(host, target):
    """What a user configured reads back unchanged (mmdet's preprocessor
    used to be handed pad_size_divisor=1, and read 1)."""
    cls, _ = HOSTS[host]
    pre = cls(resizer=BILINEAR, pad_size_divisor=16, check_finite=False,
              **target, **NORM)
    assert pre.pad_size_divisor == 16
    assert pre.target_size == target.get('target_size')
    assert pre.target_scale == target.get('target_scale')
    assert pre.check_finite is False
    assert pre.normalizes is True
    assert cls(resizer=BILINEAR, target_scale=0.5).normalizes is False


def test_det_divisor_pads_only_the_resized_batch():
    """pad_size_divisor reads 32, yet mmdet's own step still pads the
    full-resolution batch only to its largest image: 100x150 to 50x75 is a
    scale of 0.5 (not 50 / 128 of a 128x160 batch), padded to 64x96."""
    image = torch.randint(0, 255, (3, 100, 150), dtype=torch.uint8)
    sample = DetDataSample(metainfo=dict(img_shape=(100, 150),
                                         ori_shape=(100, 150)))
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_size=(50, 75),
                                      pad_size_divisor=32, **NORM)
    out = pre(dict(inputs=[image], data_samples=[sample]), False)
    assert pre.pad_size_divisor == 32
    assert out['inputs'].shape[-2:] == (64, 96)
    meta = out['data_samples'][0]
    assert meta.img_shape == (50, 75) and meta.pad_shape == (64, 96)
    assert meta.batch_input_shape == (64, 96)
    np.testing.assert_allclose(meta.scale_factor, (0.5, 0.5))


@pytest.mark.parametrize('host', list(HOSTS))
@pytest.mark.parametrize('divisor', [0, -8, 2.5, True])
def test_bad_divisor_is_refused(host, divisor):
    cls, _ = HOSTS[host]
    with pytest.raises(ValueError, match='pad_size_divisor must be a '
                       'positive integer'):
        cls(resizer=BILINEAR, target_scale=0.5, pad_size_divisor=divisor)
