"""LearnedZoom and its warp: the uniform case against F.interpolate and the
existing preprocessors, the stated bounds, exact round trips of boxes and
labels, the positions' gradient (float64 gradcheck), and predictions
unwarped back onto the original image in both preprocessors."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from mmseg.structures import SegDataSample

from mmresize.det import DownsizeDetDataPreprocessor
from mmresize.models.zoom_detector import unwarp_instances
from mmresize.models.zoom_segmentor import ZoomEncoderDecoder
from mmresize.resizers import LearnedZoom
from mmresize.resizers.warp import (
    Warp,
    cdf_from_density,
    footprints,
    output_centres,
    resample_nearest,
    warp_boxes,
)
from mmresize.seg import DownsizeSegDataPreProcessor
from tests.test_seg_preprocessor import (
    BILINEAR,
    NORM,
    OneHotSegmentor,
    iou,
    label_image,
    seg_batch,
)


def unwarping(pre):
    """A preprocessor used outside a model, marked as ZoomEncoderDecoder and
    ZoomSingleStageDetector mark theirs (it refuses a warp otherwise)."""
    pre.unwarps_predictions = True
    return pre


def benchmark_config(name: str):
    """configs/benchmarks/NAME loaded, its registry scope set, the
    backbone's ImageNet init left out (``mmresize.det`` / ``.seg``
    imported, so that their types build)."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmresize.det  # noqa: F401
    import mmresize.seg  # noqa: F401
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(osp.join(root, 'configs', 'benchmarks', name))
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.init_cfg = None
    return cfg


def salient(seed: int = 0, scale: float = 1.0, **cfg) -> LearnedZoom:
    """A LearnedZoom whose (zero-initialised) last layer is random."""
    torch.manual_seed(seed)
    zoom = LearnedZoom(**cfg).double()
    with torch.no_grad():
        if zoom.saliency == 'image':
            zoom.net[-1].weight.normal_(0, scale)
            zoom.net[-1].bias.normal_(0, scale)
        else:
            zoom.prior_y.normal_(0, scale)
            zoom.prior_x.normal_(0, scale)
    return zoom


@pytest.mark.parametrize('size', [(7, 11), (12, 10), (50, 61), (24, 30)])
def test_zero_saliency_bilinear_is_f_interpolate(size):
    x = torch.rand(2, 3, 24, 30, dtype=torch.float64)
    got = LearnedZoom(filter='bilinear').double()(x, size)
    want = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize('size,mode', [((8, 10), 'area'), ((12, 5), 'area'),
                                       ((50, 61), 'bilinear')])
def test_zero_saliency_box_is_area_or_bilinear(size, mode):
    """Whole-pixel footprints average (integer factors: ``area``); under
    one pixel they widen to one, which is bilinear interpolation."""
    x = torch.rand(2, 3, 24, 30, dtype=torch.float64)
    got = LearnedZoom().double()(x, size)
    kwargs = {} if mode == 'area' else dict(align_corners=False)
    want = F.interpolate(x, size=size, mode=mode, **kwargs)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_zero_saliency_equals_the_bilinear_seg_preprocessor():
    data = seg_batch([(60, 70), (60, 70)])
    ours = unwarping(DownsizeSegDataPreProcessor(
        resizer=dict(type='mmresize.LearnedZoom', filter='bilinear'),
        target_scale=0.3, size=(60, 70), **NORM))(copy.deepcopy(data), True)
    theirs = DownsizeSegDataPreProcessor(
        resizer=BILINEAR, target_scale=0.3, downsize_labels=True,
        size=(60, 70), **NORM)(copy.deepcopy(data), True)
    # float64 positions against F.interpolate's float32 ones
    torch.testing.assert_close(ours['inputs'], theirs['inputs'], rtol=0,
                               atol=1e-4)
    for mine, ref in zip(ours['data_samples'], theirs['data_samples']):
        torch.testing.assert_close(mine.gt_sem_seg.data, ref.gt_sem_seg.data)
        assert mine.img_shape == ref.img_shape
        assert mine.zoom_input['img_shape'] == (60, 70)


@pytest.mark.parametrize('saliency', ['image', 'prior'])
@pytest.mark.parametrize('scale', [3.0, 1e3])
def test_bounds_hold_for_any_saliency(saliency, scale):
    zoom = salient(saliency=saliency, scale=scale, mix=0.6,
                   max_log_ratio=0.8)
    low, high = zoom.density_bounds
    assert low == pytest.approx(0.4 + 0.6 * np.exp(-1.6))
    assert high == pytest.approx(0.4 + 0.6 * np.exp(1.6))
    x = torch.rand(2, 3, 40, 52, dtype=torch.float64)
    ly, lx = zoom.saliency_logits(x)
    for logits, size in ((ly, 40), (lx, 52)):
        rho = zoom.axis_density(logits, size)
        assert rho.min() >= low - 1e-12 and rho.max() <= high + 1e-12
    warp = zoom.warp(x, (12, 16))
    for axis, (n, size) in enumerate(((12, 40), (16, 52))):
        cdf = warp.cdf_y if axis == 0 else warp.cdf_x
        assert (cdf.diff(dim=1) > 0).all()  # strictly monotone
        step = output_centres(warp, axis).diff(dim=1)  # input px per sample
        uniform = size / n
        assert step.min() >= uniform / high - 1e-9
        assert step.max() <= uniform / low + 1e-9


def test_a_common_offset_of_the_logits_changes_nothing():
    """softmax ignores an offset; the bound (tanh) must not saturate on one
    (the pilot's warp collapsed to uniform that way)."""
    zoom = LearnedZoom().double()
    logits = torch.randn(2, 30, dtype=torch.float64)
    for offset in (5.0, -40.0):
        torch.testing.assert_close(zoom.axis_density(logits + offset, 90),
                                   zoom.axis_density(logits, 90))
    assert zoom.axis_density(logits + 40.0, 90).std() > 0.1


def test_bounds_are_nearly_reached_by_adversarial_logits():
    """One salient pixel among many: the density approaches its bound."""
    zoom = LearnedZoom(mix=0.6, max_log_ratio=0.8).double()
    low, high = zoom.density_bounds
    logits = torch.full((2, 400), -1e3, dtype=torch.float64)
    logits[0, 7] = 1e3  # one salient pixel: the most magnification
    logits[1] = 1e3
    logits[1, 7] = -1e3  # one dull pixel: the most compression
    rho = zoom.axis_density(logits, 400)
    assert high * 0.98 < rho[0].max() <= high
    assert low <= rho[1].min() < low * 1.02


def random_warp(batch=2, in_hw=(40, 52), out_hw=(12, 16), seed=0) -> Warp:
    gen = torch.Generator().manual_seed(seed)
    return Warp(cdf_from_density(torch.rand(batch, in_hw[0], generator=gen)
                                 + 0.2),
                cdf_from_density(torch.rand(batch, in_hw[1], generator=gen)
                                 + 0.2), out_hw)


def test_box_round_trip_is_exact():
    warp = random_warp()
    gen = torch.Generator().manual_seed(1)
    xy = torch.rand(20, 2, 2, generator=gen, dtype=torch.float64)
    xy = xy * torch.tensor([52.0, 40.0], dtype=torch.float64)
    boxes = torch.cat([xy.min(1).values, xy.max(1).values], 1)
    for index in range(2):
        warped = warp_boxes(boxes, warp, index)
        assert (warped[:, 2:] >= warped[:, :2]).all()
        assert warped[:, 0::2].max() <= 16 and warped[:, 1::2].max() <= 12
        back = warp_boxes(warped, warp, index, inverse=True)
        torch.testing.assert_close(back, boxes, rtol=0, atol=1e-10)
    # the image's corners map onto the output's
    corners = torch.tensor([[0.0, 0.0, 52.0, 40.0]], dtype=torch.float64)
    torch.testing.assert_close(warp_boxes(corners, warp, 0),
                               torch.tensor([[0.0, 0.0, 16.0, 12.0]],
                                            dtype=torch.float64))


def test_label_round_trip_is_exact_where_every_pixel_is_sampled():
    """Sampled finely enough (each input pixel holds an output centre),
    warped labels unwarp to the original labels exactly."""
    warp = random_warp(out_hw=(160, 208))  # 4x: densities >= 0.2 / 1.2
    labels = torch.randint(0, 7, (2, 1, 40, 52))
    warped = resample_nearest(labels, warp)
    assert warped.shape == (2, 1, 160, 208)
    back = resample_nearest(warped, warp, inverse=True)
    assert torch.equal(back, labels)


@pytest.mark.parametrize('filter', ['box', 'bilinear'])
@pytest.mark.parametrize('saliency', ['prior', 'image'])
def test_gradient_through_the_positions(filter, saliency):
    """float64 gradcheck: output with respect to the saliency's
    parameters, i.e. through the sampling positions."""
    zoom = salient(saliency=saliency, filter=filter, scale=0.5,
                   prior_size=8, thumbnail=(8, 8), channels=4)
    x = torch.rand(1, 3, 13, 17, dtype=torch.float64)
    params = [p for p in zoom.parameters()]

    def fn(*values):
        for p, v in zip(params, values):
            p.data = v
        return torch.func.functional_call(
            zoom, {n: v for (n, _), v in zip(zoom.named_parameters(),
                                             values)}, (x, (5, 7)))

    values = tuple(p.detach().clone().requires_grad_(True) for p in params)
    assert torch.autograd.gradcheck(fn, values, eps=1e-6, atol=1e-7,
                                    fast_mode=True)
    out = zoom(x, (5, 7))
    grads = torch.autograd.grad(out.sum(), params)
    assert sum(g.abs().sum() for g in grads) > 0


def test_gradient_reaches_a_zero_start():
    """The zero-initialised last layer gets a gradient at the start."""
    zoom = LearnedZoom().double()
    x = torch.rand(1, 3, 20, 24, dtype=torch.float64)
    out = zoom(x, (7, 8))
    (out * torch.randn_like(out)).sum().backward()
    assert zoom.net[-1].weight.grad.abs().sum() > 0


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match='mix must be in'):
        LearnedZoom(mix=1.0)
    with pytest.raises(ValueError, match='saliency must be one of'):
        LearnedZoom(saliency='global')
    with pytest.raises(ValueError, match='filter must be one of'):
        LearnedZoom(filter='lanczos')


class OneHotZoomSegmentor(OneHotSegmentor, ZoomEncoderDecoder):
    """The one-hot 'network' of tests/test_seg_preprocessor, unwarping."""

    def __init__(self, data_preprocessor, test_cfg):
        super().__init__(data_preprocessor, test_cfg)  # OneHotSegmentor's
        self.data_preprocessor.unwarps_predictions = True


@pytest.mark.parametrize('flip', [False, True])
@pytest.mark.parametrize('divisor', [1, 32])
def test_seg_predictions_are_unwarped_onto_the_original(flip, divisor):
    """A strongly warped batch; the one-hot 'prediction' must come back
    aligned with the original labels (it would not in the warped frame)."""
    h, w = 150, 230
    labels, image = label_image(h, w)
    if flip:
        image = image.flip(-1)
    sample = SegDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), flip=flip,
        flip_direction='horizontal', img_path='synthetic.png'))
    zoom = salient(saliency='prior', scale=3.0, max_log_ratio=1.5).float()
    pre = DownsizeSegDataPreProcessor(resizer=zoom, target_scale=0.5,
                                      mean=[0, 0, 0], std=[255, 255, 255],
                                      pad_size_divisor=divisor)
    model = OneHotZoomSegmentor(pre, dict(mode='whole')).eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[image], data_samples=[sample]), False)
        warp = data['data_samples'][0].zoom_warp
        assert (warp.cdf_y.diff() * h).max() > 1.3  # really warped
        out = model.predict(data['inputs'], data['data_samples'])[0]
    pred = out.pred_sem_seg.data[0].numpy()
    assert pred.shape == (h, w)
    assert iou(pred, labels) > 0.9
    # the same logits read as if the grid were uniform are misaligned
    warped = data['inputs'][0, :, :75, :115]
    naive = F.interpolate(warped[None], size=(h, w), mode='bilinear')[0]
    if flip:
        naive = naive.flip(-1)
    assert iou(naive.argmax(0).numpy(), labels) < iou(pred, labels) - 0.03


def det_batch(h=60, w=80):
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.integers(0, 255, (3, h, w), dtype=np.uint8))
    # the pipeline resized a (h / 2, w / 2) image by 2
    sample = DetDataSample(metainfo=dict(img_shape=(h, w),
                                         ori_shape=(h // 2, w // 2),
                                         scale_factor=(2.0, 2.0),
                                         batch_input_shape=(h, w)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[3.0, 4.0, 20.0, 31.0], [40.0, 10.0, 79.0, 59.0]]),
        labels=torch.tensor([0, 1]))
    return dict(inputs=[image], data_samples=[sample])


def test_det_training_boxes_are_warped_and_predictions_unwarped():
    zoom = salient(saliency='prior', scale=3.0, max_log_ratio=1.5).float()
    pre = unwarping(DownsizeDetDataPreprocessor(
        resizer=zoom, target_scale=0.5, mean=[0, 0, 0], std=[255, 255, 255]))
    data = det_batch()
    original = data['data_samples'][0].gt_instances.bboxes.clone()
    out = pre(copy.deepcopy(data), True)
    sample = out['data_samples'][0]
    warp = sample.zoom_warp
    torch.testing.assert_close(sample.gt_instances.bboxes,
                               warp_boxes(original, warp, 0).float())
    assert not torch.allclose(sample.gt_instances.bboxes, original * 0.5,
                              atol=0.5)  # the warp is not a uniform scale
    # a 'prediction' of the warped training boxes maps back to the
    # original image: unwarp, then the pipeline's scale_factor 2
    test = pre(copy.deepcopy(data), False)['data_samples'][0]
    assert test.zoom_scale_factor == (2.0, 2.0)
    pred = InstanceData(bboxes=warp_boxes(original, test.zoom_warp, 0),
                        scores=torch.ones(2), labels=torch.tensor([0, 1]))
    back = unwarp_instances(pred, test).bboxes
    torch.testing.assert_close(back, original / 2, rtol=0, atol=1e-4)


def test_zero_saliency_det_equals_the_bilinear_preprocessor():
    data = det_batch()
    kwargs = dict(target_scale=0.5, mean=[0, 0, 0], std=[255, 255, 255])
    ours = unwarping(DownsizeDetDataPreprocessor(
        resizer=dict(type='mmresize.LearnedZoom', filter='bilinear'),
        **kwargs))(copy.deepcopy(data), True)
    theirs = DownsizeDetDataPreprocessor(resizer=BILINEAR, **kwargs)(
        copy.deepcopy(data), True)
    torch.testing.assert_close(ours['inputs'], theirs['inputs'], rtol=0,
                               atol=1e-5)
    torch.testing.assert_close(ours['data_samples'][0].gt_instances.bboxes,
                               theirs['data_samples'][0].gt_instances.bboxes,
                               rtol=0, atol=1e-5)


def test_warping_model_type_switches_known_models_only():
    from mmresize.catalogue import warping_model_type
    zoom, plain = dict(type='mmresize.LearnedZoom'), dict(type='bilinear')
    assert warping_model_type('EncoderDecoder', zoom) == 'ZoomEncoderDecoder'
    assert warping_model_type('mmdet.SingleStageDetector', zoom) == \
        'mmdet.ZoomSingleStageDetector'
    assert warping_model_type('ZoomEncoderDecoder', zoom) == \
        'ZoomEncoderDecoder'
    assert warping_model_type('DINO', plain) == 'DINO'
    assert warping_model_type('EncoderDecoder', dict(type=LearnedZoom)) == \
        'ZoomEncoderDecoder'
    with pytest.raises(ValueError, match='unwarps its predictions'):
        warping_model_type('DINO', zoom)


def test_mixed_sizes_masks_and_maps_are_warped_in_the_batch_frame():
    """Two images of different sizes (the host pads the smaller): each
    image's extent in the warped frame, its boxes and bitmap masks."""
    from mmdet.structures.mask import BitmapMasks
    zoom = salient(saliency='prior', scale=3.0, max_log_ratio=1.5).float()
    pre = unwarping(DownsizeDetDataPreprocessor(
        resizer=zoom, target_scale=0.5, mean=[0, 0, 0], std=[255, 255, 255],
        pad_mask=True, mask_pad_value=0))
    batches = [det_batch(60, 80), det_batch(40, 50)]
    data = dict(inputs=[b['inputs'][0] for b in batches],
                data_samples=[b['data_samples'][0] for b in batches])
    small = data['data_samples'][1]
    small.set_metainfo(dict(img_shape=(40, 50)))
    small.gt_instances.bboxes = torch.tensor([[3.0, 4.0, 20.0, 31.0],
                                              [30.0, 10.0, 49.0, 39.0]])
    mask = np.zeros((2, 40, 50), np.uint8)
    mask[0, 4:31, 3:20] = 1
    mask[1, 10:39, 30:49] = 1
    small.gt_instances.masks = BitmapMasks(mask, 40, 50)
    out = pre(copy.deepcopy(data), True)
    big_s, small_s = out['data_samples']
    assert big_s.img_shape == (30, 40)  # the whole batch
    warp = small_s.zoom_warp
    edge = warp.to_output(torch.tensor([[40.0]], dtype=torch.float64), 0)
    assert small_s.img_shape[0] == int(np.floor(float(edge) + 0.5))
    assert small_s.img_shape != (20, 25)  # not the uniform extent
    masks = small_s.gt_instances.masks
    assert masks.masks.shape == (2, 30, 40)
    # each warped mask lies inside its warped box (to a pixel)
    for m, box in zip(masks.masks, small_s.gt_instances.bboxes):
        ys, xs = np.nonzero(m)
        assert xs.min() >= box[0] - 1 and xs.max() <= box[2] + 1
        assert ys.min() >= box[1] - 1 and ys.max() <= box[3] + 1


def test_zoom_detector_predicts_like_the_uniform_detector_at_zero_saliency():
    """ZoomSingleStageDetector's predict path (head without rescale, then
    unwarp, scale_factor, clip) against mmdet's own with bilinear."""
    from mmengine.registry import MODELS
    cfg = benchmark_config('bccd_refinedet_lite0_zoom.py')
    cfg.model.data_preprocessor.resizer = dict(type='mmresize.LearnedZoom',
                                               filter='bilinear')
    torch.manual_seed(0)
    zoom = MODELS.build(cfg.model)
    zoom.init_weights()  # SSDNeck's L2Norm is uninitialised memory until then
    zoom.eval()
    cfg.model.type = 'SingleStageDetector'
    cfg.model.data_preprocessor.resizer = BILINEAR
    plain = MODELS.build(cfg.model).eval()
    missing = plain.load_state_dict(zoom.state_dict(), strict=False)
    assert all(k.startswith('data_preprocessor.resizer')
               for k in missing.unexpected_keys)
    data = det_batch(120, 160)
    with torch.no_grad():
        got = zoom.test_step(copy.deepcopy(data))[0].pred_instances
        want = plain.test_step(copy.deepcopy(data))[0].pred_instances
    assert len(want.bboxes) > 0
    top = want.scores.argsort(descending=True)[:20]
    mine = got.scores.argsort(descending=True)[:20]
    torch.testing.assert_close(got.scores[mine], want.scores[top],
                               rtol=0, atol=1e-4)
    torch.testing.assert_close(got.bboxes[mine], want.bboxes[top],
                               rtol=0, atol=1e-2)
    assert got.bboxes[:, 0::2].max() <= 80 and got.bboxes[:, 1::2].max() <= 60


@pytest.mark.parametrize('task', ['seg', 'det'])
def test_a_model_that_does_not_unwarp_refuses_a_warp(task):
    """LearnedZoom inside mmseg's EncoderDecoder or mmdet's
    SingleStageDetector would be scored in the warped frame: the first step
    (training or test) stops with what to use instead; the zoom twins run."""
    from mmengine.registry import MODELS
    name, plain_type = dict(
        seg=('camvid_deeplabv3plus_lite0_zoom.py', 'EncoderDecoder'),
        det=('bccd_refinedet_lite0_zoom.py', 'SingleStageDetector'))[task]
    cfg = benchmark_config(name)
    zoom = MODELS.build(cfg.model)
    assert zoom.data_preprocessor.unwarps_predictions
    cfg.model.type = plain_type
    plain = MODELS.build(cfg.model)
    assert not plain.data_preprocessor.unwarps_predictions
    data = det_batch(120, 160) if task == 'det' else dict(
        inputs=[torch.randint(0, 255, (3, 120, 160), dtype=torch.uint8)],
        data_samples=[SegDataSample(metainfo=dict(
            img_shape=(120, 160), ori_shape=(120, 160)))])
    for training in (True, False):
        with pytest.raises(RuntimeError, match=f"type='Zoom.*{plain_type}"):
            plain.data_preprocessor(copy.deepcopy(data), training)
        zoom.data_preprocessor(copy.deepcopy(data), training)  # runs


def test_footprints_by_hand():
    """Densities 3, 1, 1, 3 over 4 input pixels, 4 output pixels: the
    output edges map back to 0, 2/3, 2, 10/3, 4 (hand-computed)."""
    cdf = cdf_from_density(torch.tensor([[3.0, 1.0, 1.0, 3.0]]))
    warp = Warp(cdf, cdf_from_density(torch.ones(1, 2)), (4, 1))
    got = footprints(warp)[0, :, 0]
    torch.testing.assert_close(
        got, torch.tensor([2 / 3, 4 / 3, 4 / 3, 2 / 3], dtype=torch.float64))
    strong = salient(saliency='prior', scale=3.0, max_log_ratio=1.5)
    strong(torch.rand(2, 3, 40, 50, dtype=torch.float64), (13, 17))
    area = footprints(strong.last_warp)
    assert area.shape == (2, 13, 17) and area.std() > 0.1
    torch.testing.assert_close(area.mean(dim=(1, 2)),
                               torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize('strength', [0.0, 3.0])
def test_footprint_loss_is_the_original_frame_average(strength):
    """ZoomEncoderDecoder(footprint_loss=True): the decode head's loss is
    sum(w l) / sum(w) over the labelled warped pixels, w each pixel's
    footprint (padded by hand here), l the cross-entropy recomputed from
    the logits; two images of different sizes in a batch padded to 8; at
    zero saliency it is the plain loss."""
    from mmengine.registry import MODELS
    from mmengine.structures import PixelData
    from mmseg.models.utils import resize

    cfg = benchmark_config('camvid_deeplabv3plus_lite0_zoom.py')
    cfg.model.data_preprocessor.resizer = dict(type='mmresize.LearnedZoom',
                                               saliency='prior')
    cfg.model.data_preprocessor.pad_size_divisor = 8
    cfg.model.footprint_loss = True
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.data_preprocessor.resizer.prior_y.normal_(0, strength)
        model.data_preprocessor.resizer.prior_x.normal_(0, strength)
        # class 0 likely everywhere: the loss is ~0 on the upper half's
        # labels (0) and large on the lower half's (1), so a warp that
        # changes the halves' shares of warped pixels changes the plain loss
        model.decode_head.conv_seg.bias.zero_()[0] = 5.0
    ignore = cfg.model.decode_head.ignore_index  # CamVid's void, 11
    inputs, samples = [], []
    for h, w in [(96, 128), (80, 100)]:
        labels = torch.zeros(1, h, w, dtype=torch.long)
        labels[:, h // 2:] = 1
        labels[:, :10] = ignore
        sample = SegDataSample(metainfo=dict(img_shape=(h, w),
                                             ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
        inputs.append(torch.randint(0, 255, (3, h, w), dtype=torch.uint8))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   True)
    inputs, samples = data['inputs'], data['data_samples']
    model.eval()  # the same BN statistics in both computations
    with torch.no_grad():
        weighted = model.loss(inputs, samples)['decode.loss_ce']
        model.footprint_loss = False
        plain = model.loss(inputs, samples)['decode.loss_ce']
        logits = model.decode_head.forward(model.extract_feat(inputs))
    target = torch.cat([s.gt_sem_seg.data for s in samples])  # (B, H', W')
    assert target.shape[-1] % 8 == 0
    area = torch.zeros(target.shape, dtype=torch.float64)
    for b, sample in enumerate(samples):
        one = footprints(sample.zoom_warp)[0]
        area[b, :one.shape[0], :one.shape[1]] = one
    logits = resize(logits, size=target.shape[-2:], mode='bilinear',
                    align_corners=model.align_corners)
    ce = F.cross_entropy(logits, target, ignore_index=ignore,
                         reduction='none').double()
    valid = target != ignore
    loss_cfg = cfg.model.decode_head.loss_decode
    want = loss_cfg.get('loss_weight', 1.0) * (
        (ce * area)[valid].sum() / area[valid].sum())
    torch.testing.assert_close(weighted.double(), want, rtol=1e-5, atol=1e-6)
    if strength == 0:
        torch.testing.assert_close(weighted, plain, rtol=1e-6, atol=1e-7)
    else:
        assert not torch.allclose(weighted, plain, rtol=1e-2)
    assert model.decode_head.sampler is None  # put back after the loss


def test_footprint_loss_is_refused_for_detection():
    from mmengine.registry import MODELS
    cfg = benchmark_config('bccd_refinedet_lite0_zoom.py')
    cfg.model.footprint_loss = True
    with pytest.raises(ValueError, match='segmentation loss'):
        MODELS.build(cfg.model)
