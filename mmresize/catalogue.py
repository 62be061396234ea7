"""The one catalogue of resizer variants and real-data benchmark tasks that
``mmresize.benchmark`` and its tools share (``tools/benchmark_accuracy.py``,
``tools/summarize_accuracy.py``, ``tools/benchmark_resizers.py``,
``tools/demo.py``), with the map that reads results recorded under the
first variant names. Plain dicts: importing this imports no framework.
"""
from typing import Dict, Tuple

# name -> resizer config, in the order tables list them. 'DownsizeNet' is
# the default ``DownsizeNet()`` (the paper's random start, docs/method.md);
# the '-nearbil' variants start near bilinear (``init='near_bilinear'``).
VARIANTS: Dict[str, dict] = {
    'bilinear': dict(type='mmresize.InterpolateResizer', mode='bilinear'),
    'area': dict(type='mmresize.InterpolateResizer', mode='area'),
    'bilinear-aa': dict(type='mmresize.InterpolateResizer', mode='bilinear',
                        antialias=True),
    'DownsizeNet': dict(type='mmresize.DownsizeNet'),
    'DownsizeNet-nearbil': dict(type='mmresize.DownsizeNet',
                                init='near_bilinear'),
    'DownsizeNet-16nb': dict(type='mmresize.DownsizeNet', kernel='bicubic'),
    'DownsizeNet-nearbil-16nb': dict(type='mmresize.DownsizeNet',
                                     kernel='bicubic', init='near_bilinear'),
    'DownsizeNet-nearbil-3conv': dict(type='mmresize.DownsizeNet',
                                      num_convs=3, init='near_bilinear'),
    'DownsizeNet-nearbil-4conv': dict(type='mmresize.DownsizeNet',
                                      num_convs=4, init='near_bilinear'),
    'DownsizeNet-nearbil-sigmoid': dict(type='mmresize.DownsizeNet',
                                        coef_act='sigmoid',
                                        init='near_bilinear'),
    'LearnableResizer': dict(type='mmresize.LearnableResizer'),
    'MullerResizer': dict(type='mmresize.MullerResizer'),
    # moves its samples; the model unwarps predictions (warping_model_type)
    'LearnedZoom': dict(type='mmresize.LearnedZoom'),
}

# A resizer that moves its samples needs a model that unwarps its
# predictions: host model type -> the mmresize subclass that does.
WARPING_RESIZERS = ('mmresize.LearnedZoom', 'LearnedZoom')
UNWARPING_MODELS: Dict[str, str] = {
    'EncoderDecoder': 'ZoomEncoderDecoder',
    'SingleStageDetector': 'ZoomSingleStageDetector',
}


def warping_model_type(model_type: str, resizer: dict) -> str:
    """The model type to run ``resizer`` in: ``model_type`` itself for
    the uniform-grid resizers, its unwarping subclass for LearnedZoom."""
    kind = resizer.get('type')
    kind = getattr(kind, '__name__', kind)  # a class or its registered name
    if kind not in WARPING_RESIZERS:
        return model_type
    scope, _, name = str(model_type).rpartition('.')  # 'mmdet.X' or 'X'
    if name in UNWARPING_MODELS.values():
        return model_type
    if name not in UNWARPING_MODELS:
        raise ValueError(
            f'LearnedZoom needs a model that unwarps its predictions; '
            f'{model_type!r} has none (mmresize has '
            f'{sorted(UNWARPING_MODELS.values())} for '
            f'{sorted(UNWARPING_MODELS)})')
    return f'{scope}.{UNWARPING_MODELS[name]}' if scope \
        else UNWARPING_MODELS[name]

# Variants that change how the resizer trains, not the resizer: name ->
# (resizer variant, config options merged over the task's config).
TRAINING_VARIANTS: Dict[str, Tuple[str, dict]] = {
    'DownsizeNet-nearbil-lr10': ('DownsizeNet-nearbil', {
        'optim_wrapper.paramwise_cfg': dict(custom_keys={
            'data_preprocessor.resizer': dict(lr_mult=10.0)})}),
    # at the task's learning rate the warp stays within ~1% of uniform
    # through 1000 iterations (docs/zoom.md)
    'LearnedZoom-lr10': ('LearnedZoom', {
        'optim_wrapper.paramwise_cfg': dict(custom_keys={
            'data_preprocessor.resizer': dict(lr_mult=10.0)})}),
    # the same, its loss weighted by each warped pixel's footprint in the
    # original frame (ZoomEncoderDecoder(footprint_loss=True); segmentation
    # tasks only)
    'LearnedZoom-lr10-fp': ('LearnedZoom', {
        'optim_wrapper.paramwise_cfg': dict(custom_keys={
            'data_preprocessor.resizer': dict(lr_mult=10.0)}),
        'model.footprint_loss': True}),
}

ALL_VARIANTS = list(VARIANTS) + list(TRAINING_VARIANTS)

# The matrix of the paired study (docs/benchmarks.md).
MAIN_VARIANTS = ['bilinear', 'area', 'DownsizeNet', 'DownsizeNet-nearbil',
                 'DownsizeNet-nearbil-16nb', 'LearnableResizer',
                 'MullerResizer']

# The naming scheme of the variants above; result records carry it
# (``"naming": 2``). Records without it used the first names, read through
# LEGACY_NAMES (first name -> name now); names not listed are unchanged.
NAMING = 2
LEGACY_NAMES: Dict[str, str] = {
    'DownsizeNet': 'DownsizeNet-nearbil',
    'DownsizeNet-random': 'DownsizeNet',
    'DownsizeNet-16nb': 'DownsizeNet-nearbil-16nb',
    'DownsizeNet-3conv': 'DownsizeNet-nearbil-3conv',
    'DownsizeNet-4conv': 'DownsizeNet-nearbil-4conv',
    'DownsizeNet-sigmoid': 'DownsizeNet-nearbil-sigmoid',
    'DownsizeNet-lr10': 'DownsizeNet-nearbil-lr10',
}

_CAMVID = dict(metric='mIoU', per_class='IoU.',
               thin=['Pole', 'SignSymbol', 'Fence', 'Pedestrian',
                     'Bicyclist'],
               metric_scale=1.0, iters=1000)
# mmdet's VOCMetric reports mAP as a fraction (PerClassVOCMetric's AP.<class>
# are percent already); tables show percent.
_BCCD = dict(metric='pascal_voc/mAP', per_class='pascal_voc/AP.',
             thin=['Platelets'], metric_scale=100.0, iters=600)

# task -> metric spec, default schedule and config (relative to the repo).
TASKS: Dict[str, dict] = {
    'camvid': dict(
        _CAMVID, config='configs/benchmarks/camvid_deeplabv3plus_r18_os16.py'),
    'camvid-fcn': dict(
        _CAMVID, config='configs/benchmarks/camvid_fcn_r18_os16.py'),
    # BCCD's main detector is the RefineDet-style one: from scratch it
    # learns within a few minutes, where CenterNet-R18 is still near 20 mAP
    # with Platelets at 0, too early for a ranking to mean anything.
    'bccd': dict(_BCCD, config='configs/benchmarks/bccd_refinedet_r18.py'),
    'bccd-centernet': dict(
        _BCCD, config='configs/benchmarks/bccd_centernet_r18.py'),
    # the paper's two pipelines mmdet / mmseg lack (docs/benchmarks.md)
    'bccd-lighthead': dict(
        _BCCD, config='configs/benchmarks/bccd_lighthead_r18.py'),
    'camvid-spnet': dict(
        _CAMVID, config='configs/benchmarks/camvid_spnet_r18_os16.py'),
    # the pretrained regime: ImageNet EfficientNet-Lite0 backbones.
    # camvid-lite0 at 0.3x was far from its plateau at 1000 iterations
    # (bilinear 47.3 -> 53.0 -> 55.3 mIoU at 1000 / 2000 / 3000, seed 0,
    # docs/benchmarks.md): 2000 is the calibration's schedule; its results
    # at 1000 used the earlier default. bccd-lite0 keeps
    # the from-scratch schedule until its calibration sizes it.
    'camvid-lite0': dict(
        _CAMVID, iters=2000,
        config='configs/benchmarks/camvid_deeplabv3plus_lite0.py'),
    'bccd-lite0': dict(
        _BCCD, config='configs/benchmarks/bccd_refinedet_lite0.py'),
    # targets of the transfer study (docs/transfer.md); camvid-fcn-lite0
    # follows camvid-lite0's schedule (same images, not calibrated itself)
    'camvid-fcn-lite0': dict(
        _CAMVID, iters=2000, config='configs/benchmarks/camvid_fcn_lite0.py'),
    'camvid-det-lite0': dict(
        _BCCD, thin=['SignSymbol', 'Pedestrian'],
        config='configs/benchmarks/camvid_det_refinedet_lite0.py'),
}


def current_name(variant: str, naming: int = NAMING) -> str:
    """The name now of a variant named under scheme ``naming`` (1: the
    first names, records without a ``naming`` field)."""
    if naming == NAMING:
        return variant
    if naming == 1:
        return LEGACY_NAMES.get(variant, variant)
    raise ValueError(f'unknown variant naming {naming!r}: this mmresize '
                     f'knows 1 and {NAMING}; update mmresize to read it')


def resizer_config(variant: str) -> dict:
    """The resizer config of a (resizer or training) variant, a copy."""
    name = TRAINING_VARIANTS.get(variant, (variant, None))[0]
    if name not in VARIANTS:
        raise KeyError(f'unknown resizer variant {variant!r}; choose from '
                       f'{ALL_VARIANTS}')
    return dict(VARIANTS[name])
