"""DownsizeDetDataPreprocessor against mmdet's own preprocessor and by hand."""
import copy

import numpy as np
import pytest
import torch
from mmdet.datasets.transforms import PackDetInputs, Resize
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes, scale_boxes
from mmdet.structures.mask import PolygonMasks
from mmdet.testing import demo_mm_inputs
from mmengine.structures import InstanceData, PixelData

from mmresize.det import DownsizeDetDataPreprocessor

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True)
BILINEAR = dict(type='mmresize.InterpolateResizer', mode='bilinear')


def demo_batch(with_seg: bool = False) -> dict:
    torch.manual_seed(0)
    np.random.seed(0)
    data = demo_mm_inputs(2, [[3, 128, 128], [3, 120, 110]], with_mask=True,
                          with_semantic=with_seg)
    if with_seg:
        for sample in data['data_samples']:
            seg = torch.randint(0, 5, (1, *sample.img_shape))
            sample.gt_sem_seg = PixelData(sem_seg=seg)
    return data


def assert_meta_equal(ours, theirs):
    assert set(ours.metainfo) == set(theirs.metainfo)
    for key, value in theirs.metainfo.items():
        if isinstance(value, (str, bool)) or value is None:
            assert ours.metainfo[key] == value, key
        else:
            np.testing.assert_allclose(np.asarray(ours.metainfo[key], float),
                                       np.asarray(value, float), err_msg=key)


@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('divisor', [1, 48])
def test_identity_size_equals_mmdet(training, divisor):
    """At the identity size, mmdet's own preprocessor is the reference:
    images, metainfo, boxes, and masks and seg maps padded with their pad
    values (48 pads the 128-pixel batch to 144)."""
    data = demo_batch(with_seg=True)
    kwargs = dict(NORM, pad_size_divisor=divisor, pad_mask=True, pad_seg=True,
                  mask_pad_value=1, seg_pad_value=7)
    theirs = DetDataPreprocessor(**kwargs)(copy.deepcopy(data), training)
    assert theirs['inputs'].shape[-1] == (128 if divisor == 1 else 144)
    ours = DownsizeDetDataPreprocessor(
        resizer=BILINEAR, target_size=(128, 128), **kwargs)(
            copy.deepcopy(data), training)
    torch.testing.assert_close(ours['inputs'], theirs['inputs'], rtol=0,
                               atol=1e-6)
    for mine, ref in zip(ours['data_samples'], theirs['data_samples']):
        assert_meta_equal(mine, ref)
        torch.testing.assert_close(mine.gt_instances.bboxes,
                                   ref.gt_instances.bboxes)
        if training:
            np.testing.assert_array_equal(mine.gt_instances.masks.masks,
                                          ref.gt_instances.masks.masks)
            torch.testing.assert_close(mine.gt_sem_seg.sem_seg,
                                       ref.gt_sem_seg.sem_seg)


def test_downsizing_rewrites_everything_consistently():
    data = demo_batch(with_seg=True)
    before = copy.deepcopy(data['data_samples'])
    pre = DownsizeDetDataPreprocessor(
        resizer=dict(type='mmresize.DownsizeNet'), target_size=(50, 77),
        pad_size_divisor=8, pad_mask=True, pad_seg=True, **NORM)
    out = pre(data, training=True)
    sy, sx = 50 / 128, 77 / 128
    assert out['inputs'].shape == (2, 3, 56, 80)
    for sample, old in zip(out['data_samples'], before):
        assert sample.batch_input_shape == (56, 80)
        h, w = sample.img_shape
        assert (h, w) == (round(old.img_shape[0] * sy),
                          round(old.img_shape[1] * sx))
        assert sample.pad_shape == (-(-h // 8) * 8, -(-w // 8) * 8)
        expected = old.gt_instances.bboxes * torch.tensor([sx, sy, sx, sy])
        torch.testing.assert_close(sample.gt_instances.bboxes, expected)
        ignored = old.ignored_instances.bboxes * torch.tensor(
            [sx, sy, sx, sy])
        torch.testing.assert_close(sample.ignored_instances.bboxes, ignored)
        assert sample.gt_instances.masks.masks.shape[1:] == (56, 80)
        assert sample.gt_sem_seg.sem_seg.shape[-2:] == (56, 80)
        np.testing.assert_allclose(sample.scale_factor,
                                   np.asarray(old.scale_factor) * [sx, sy])
        np.testing.assert_allclose(sample.border,
                                   np.asarray(old.border) * [sy, sy, sx, sx])


def test_masks_and_labels_follow_the_image():
    """A filled rectangle mask lands where its scaled box says."""
    data = demo_batch()
    sample = data['data_samples'][0]
    mask = np.zeros((1, 128, 128), np.uint8)
    mask[0, 32:96, 16:80] = 1
    sample.gt_instances = sample.gt_instances[:1]
    sample.gt_instances.masks = type(sample.gt_instances.masks)(mask, 128,
                                                                128)
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_scale=0.25,
                                      **NORM)
    out = pre(data, training=True)['data_samples'][0]
    resized = out.gt_instances.masks.masks[0]
    ys, xs = np.nonzero(resized)
    assert (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) == (8, 24, 4, 20)


def test_polygon_masks_scale_exactly():
    data = demo_batch()
    sample = data['data_samples'][0]
    polygon = [np.array([10., 20., 90., 20., 90., 70., 10., 70.])]
    sample.gt_instances = sample.gt_instances[:1]
    sample.gt_instances.masks = PolygonMasks([polygon], 128, 128)
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR,
                                      target_scale=(0.5, 0.3), **NORM)
    out = pre(data, training=True)['data_samples'][0]
    scaled = out.gt_instances.masks.masks[0][0]
    sx, sy = round(128 * 0.3) / 128, 0.5  # the realised factors
    np.testing.assert_allclose(scaled, polygon[0] * np.array([sx, sy] * 4))


def test_box_types_are_rescaled():
    data = demo_batch()
    for sample in data['data_samples']:
        sample.gt_instances.bboxes = HorizontalBoxes(
            sample.gt_instances.bboxes)
    sx, sy = round(128 * 0.3) / 128, round(128 * 0.45) / 128
    expected = [s.gt_instances.bboxes.tensor * torch.tensor(
        [sx, sy, sx, sy]) for s in data['data_samples']]
    pre = DownsizeDetDataPreprocessor(
        resizer=BILINEAR, target_scale=(0.45, 0.3), boxtype2tensor=False,
        **NORM)
    out = pre(data, training=True)
    for sample, boxes in zip(out['data_samples'], expected):
        assert isinstance(sample.gt_instances.bboxes, HorizontalBoxes)
        torch.testing.assert_close(sample.gt_instances.bboxes.tensor, boxes)


def test_test_time_gt_is_untouched():
    data = demo_batch()
    boxes = [s.gt_instances.bboxes.clone() for s in data['data_samples']]
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_scale=0.5,
                                      **NORM)
    out = pre(data, training=False)
    for sample, box in zip(out['data_samples'], boxes):
        torch.testing.assert_close(sample.gt_instances.bboxes, box)


@pytest.mark.parametrize('target', [dict(target_size=(61, 47)),
                                    dict(target_scale=(0.37, 0.29))])
def test_prediction_maps_back_to_original_box(target):
    """Pipeline Resize, then downsizing: scale_factor composes."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (230, 310, 3), dtype=np.uint8)
    box = np.array([[31.5, 40.25, 201.0, 177.75]], np.float32)
    results = dict(img=image, img_shape=image.shape[:2],
                   ori_shape=image.shape[:2], gt_bboxes=HorizontalBoxes(box),
                   gt_bboxes_labels=np.array([0]), gt_ignore_flags=np.array(
                       [False]), img_id=0, img_path='synthetic.png')
    results = Resize(scale=(200, 150), keep_ratio=False)(results)
    packed = PackDetInputs()(results)
    batch = dict(inputs=[packed['inputs']],
                 data_samples=[packed['data_samples']])
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, **target, **NORM)
    train = pre(copy.deepcopy(batch), training=True)['data_samples'][0]
    predicted = train.gt_instances.bboxes  # a perfect prediction
    test = pre(copy.deepcopy(batch), training=False)['data_samples'][0]
    back = scale_boxes(predicted, [1 / s for s in test.scale_factor])
    torch.testing.assert_close(back, torch.from_numpy(box), rtol=0, atol=1.0)
    assert (back - torch.from_numpy(box)).abs().max() < 1e-3


def test_mixed_sizes_with_target_size_map_back_per_image():
    """Two test images of different sizes, one target size: one scale for
    the padded batch, and each image's boxes still come back exactly."""
    rng = np.random.default_rng(1)
    inputs, samples, boxes = [], [], []
    for (h, w), box in (((120, 160), [10.5, 20.0, 150.0, 100.25]),
                        ((90, 200), [3.0, 7.5, 190.0, 80.0])):
        inputs.append(torch.from_numpy(
            rng.integers(0, 255, (3, h, w), dtype=np.uint8)))
        sample = DetDataSample(metainfo=dict(img_shape=(h, w),
                                             ori_shape=(h, w)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([box]), labels=torch.tensor([0]))
        samples.append(sample)
        boxes.append(torch.tensor([box]))
    batch = dict(inputs=inputs, data_samples=samples)
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_size=(48, 80),
                                      **NORM)
    train = pre(copy.deepcopy(batch), training=True)
    test = pre(copy.deepcopy(batch), training=False)
    assert train['inputs'].shape[-2:] == (48, 80)  # from the 120x200 batch
    for trained, tested, box in zip(train['data_samples'],
                                    test['data_samples'], boxes):
        assert tested.scale_factor == pytest.approx((80 / 200, 48 / 120))
        predicted = trained.gt_instances.bboxes  # a perfect prediction
        back = scale_boxes(predicted, [1 / s for s in tested.scale_factor])
        torch.testing.assert_close(back, box)


@pytest.mark.parametrize('kwargs,error,message', [
    (dict(), ValueError, 'exactly one'),
    (dict(target_size=(10, 10), target_scale=0.5), ValueError, 'exactly one'),
    (dict(target_size=(0, 10)), ValueError, r'\(0, 10\)'),
    (dict(target_scale=-0.5), ValueError, '-0.5'),
    (dict(target_scale='half'), TypeError, 'half'),
])
def test_bad_targets(kwargs, error, message):
    with pytest.raises(error, match=message):
        DownsizeDetDataPreprocessor(resizer=BILINEAR, **kwargs)


def test_upsizing_warns_once():
    """'Once' is per preprocessor instance: two calls of one preprocessor
    warn once, a second preprocessor (another model) warns once more."""
    import warnings
    data = demo_batch()
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_scale=1.5,
                                      **NORM)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')  # no deduplication by warnings
        for _ in range(3):
            pre(copy.deepcopy(data), training=False)
    upsizing = [w for w in caught if 'upsizing' in str(w.message)]
    assert len(upsizing) == 1, [str(w.message) for w in caught]
    assert issubclass(upsizing[0].category, UserWarning)
    other = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_scale=1.5,
                                        **NORM)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(2):
            other(copy.deepcopy(data), training=False)
            pre(copy.deepcopy(data), training=False)
    assert sum('upsizing' in str(w.message) for w in caught) == 1


def test_nan_input_names_the_sample():
    data = demo_batch()
    data['inputs'][1] = data['inputs'][1].float()
    data['inputs'][0] = data['inputs'][0].float()
    data['inputs'][1][0, 5, 5] = float('nan')
    data['data_samples'][1].set_metainfo(dict(img_path='bad_image.jpg'))
    pre = DownsizeDetDataPreprocessor(resizer=BILINEAR, target_scale=0.5,
                                      **NORM)
    with pytest.raises(ValueError, match='bad_image.jpg'):
        pre(data, training=True)


def test_wrong_channel_count_is_refused():
    data = demo_batch()
    data['inputs'] = [torch.randint(0, 255, (4, 64, 64), dtype=torch.uint8)]
    data['data_samples'] = data['data_samples'][:1]
    pre = DownsizeDetDataPreprocessor(
        resizer=dict(type='mmresize.DownsizeNet'), target_scale=0.5)
    with pytest.raises(ValueError, match='4 channels'):
        pre(data, training=False)


def test_init_weights_reaches_the_resizer(tmp_path):
    """An init_cfg checkpoint differing from the constructor's start is
    loaded by the preprocessor's init_weights, and not before it."""
    source = DownsizeDetDataPreprocessor(
        resizer=dict(type='mmresize.DownsizeNet', init='random'),
        target_scale=0.5)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # unlike anything the constructor draws
        for p in source.resizer.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    saved = {k: v.clone() for k, v in source.resizer.state_dict().items()}
    path = tmp_path / 'resizer.pth'
    torch.save(saved, path)
    pre = DownsizeDetDataPreprocessor(
        resizer=dict(type='mmresize.DownsizeNet', init='random',
                     init_cfg=dict(type='Pretrained', checkpoint=str(path))),
        target_scale=0.5)
    floating = [k for k, v in saved.items() if v.is_floating_point()]
    assert floating
    assert not any(torch.equal(pre.resizer.state_dict()[k], saved[k])
                   for k in floating)
    pre.init_weights()
    for key, value in saved.items():
        torch.testing.assert_close(pre.resizer.state_dict()[key], value,
                                   rtol=0, atol=0)
