"""``DownsizeDetDataPreprocessor``: a resizer ahead of any mmdet detector.

Flow (training and testing): mmdet's ``DetDataPreprocessor`` normalises and
stacks the batch (padding only to the largest image); the resizer maps it to
the target size; the result is padded to ``pad_size_divisor``; then every
description of the batch is rewritten so the detector and the metric stay
right (boxes, masks and seg maps in training; shapes, ``scale_factor`` and
CenterNet's ``border`` always, so ``rescale=True`` maps predictions back to
the original image). Modelled on mmdet's ``BatchSyncRandomResize``, which
does not touch test-time ``scale_factor``.
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.structures.mask import BitmapMasks, PolygonMasks
from mmengine.structures import InstanceData, PixelData
from torch import nn

from mmresize.preprocessors.core import (
    BatchResize,
    Scale,
    divisor_shape,
    pad_bottom_right,
    resize_labels,
    scaled_shape,
)
from mmresize.preprocessors.downsizing import DownsizeMixin
from mmresize.resizers.warp import Warp, resample_nearest, warp_boxes


@MODELS.register_module()
class DownsizeDetDataPreprocessor(DownsizeMixin, DetDataPreprocessor):
    """mmdet's preprocessor followed by a (learnable) downsizer.

    Args:
        resizer: config of any mmresize resizer, e.g.
            ``dict(type='mmresize.DownsizeNet')``, or a module.
        target_size: (h, w) of the downsized batch. Exclusive with
            ``target_scale``. The batch is padded to its largest image
            first, so a batch of mixed image sizes gets one scale (h / H,
            w / W of the padded batch), the same for all its images; each
            image's ``scale_factor`` records it, so boxes map back per image.
        target_scale: factor f or (fy, fx) applied to the padded batch size.
        pad_size_divisor: pad the *downsized* batch to multiples of this
            (it reads back as configured; mmdet's own step pads the
            full-resolution batch only to its largest image).
        check_finite: raise, naming the image, on NaN/Inf in the batch.
        **kwargs: the rest of ``DetDataPreprocessor``'s arguments.
    """

    def __init__(self,
                 resizer: Union[dict, nn.Module],
                 target_size: Optional[Sequence[int]] = None,
                 target_scale: Optional[Scale] = None,
                 pad_size_divisor: int = 1,
                 check_finite: bool = True,
                 **kwargs) -> None:
        super().__init__(pad_size_divisor=pad_size_divisor, **kwargs)
        self.build_downsizer(resizer, target_size, target_scale,
                             pad_size_divisor, check_finite)

    def rewrite_samples(self, samples: Sequence[DetDataSample],
                        plan: BatchResize, training: bool,
                        warp: Optional[Warp] = None) -> None:
        """Metainfo always, training targets in training (test-time gt is
        untouched). With a warp (``LearnedZoom``) each sample records it
        (``zoom_warp``, and the pipeline's ``zoom_scale_factor``) for
        ``ZoomSingleStageDetector`` to unwarp predictions, and training
        targets are warped with the image."""
        for index, sample in enumerate(samples):
            if warp is not None:
                sample.set_metainfo({
                    'zoom_warp': warp.select(index),
                    'zoom_scale_factor': tuple(sample.metainfo.get(
                        'scale_factor', (1.0, 1.0)))})
            self._rewrite_meta(sample, plan)
            if training and warp is not None:
                _warp_gt(sample, warp.select(index), plan.batch_hw)
            elif training:
                self._rewrite_gt(sample, plan)

    def _rewrite_meta(self, sample: DetDataSample, plan: BatchResize) -> None:
        """Shapes, scale_factor and border in resized units."""
        sy, sx = plan.scale
        img_shape = plan.image_hw(sample.img_shape)
        meta = dict(
            img_shape=img_shape,
            pad_shape=divisor_shape(img_shape, plan.divisor),
            batch_input_shape=plan.batch_hw)
        old = sample.metainfo.get('scale_factor', (1.0, 1.0))
        meta['scale_factor'] = (old[0] * sx, old[1] * sy)
        if 'border' in sample.metainfo:  # CenterNet: [top, bottom, left, right]
            border = np.asarray(sample.border, dtype=np.float32)
            meta['border'] = border * np.array([sy, sy, sx, sx], np.float32)
        sample.set_metainfo(meta)

    def _rewrite_gt(self, sample: DetDataSample, plan: BatchResize) -> None:
        """Training targets in resized units."""
        sy, sx = plan.scale
        for key in ('gt_instances', 'ignored_instances'):
            if key in sample:
                _rescale_instances(getattr(sample, key), sy, sx,
                                   self.pad_mask, self.mask_pad_value,
                                   plan.batch_hw)
        if 'gt_sem_seg' in sample:
            seg = sample.gt_sem_seg.sem_seg
            seg = resize_labels(seg, scaled_shape(seg.shape[-2:], sy, sx))
            if self.pad_seg:
                seg = pad_bottom_right(seg, plan.batch_hw, self.seg_pad_value)
            sample.gt_sem_seg = PixelData(sem_seg=seg)


def _warp_gt(sample: DetDataSample, warp: Warp, batch_hw: tuple) -> None:
    """Training boxes, bitmap masks and seg maps warped with the image."""
    for key in ('gt_instances', 'ignored_instances'):
        if key not in sample:
            continue
        instances = getattr(sample, key)
        if 'bboxes' in instances:
            boxes = instances.bboxes
            tensor = boxes.tensor if isinstance(boxes, BaseBoxes) else boxes
            warped = warp_boxes(tensor, warp, 0)
            instances.bboxes = type(boxes)(warped) \
                if isinstance(boxes, BaseBoxes) else warped
        if 'masks' in instances:
            masks = instances.masks
            if isinstance(masks, PolygonMasks):
                raise NotImplementedError(
                    'LearnedZoom warps bitmap masks; convert polygon masks '
                    "with LoadAnnotations(poly2mask=True)")
            warped = resample_nearest(
                torch.as_tensor(masks.masks)[None], warp)[0].numpy()
            instances.masks = BitmapMasks(warped, *warped.shape[-2:]).pad(
                batch_hw, pad_val=0)
    if 'gt_sem_seg' in sample:
        seg = resample_nearest(sample.gt_sem_seg.sem_seg[None], warp)[0]
        sample.gt_sem_seg = PixelData(sem_seg=seg)


def _rescale_instances(instances: InstanceData, sy: float, sx: float,
                       pad_mask: bool, mask_pad_value: int,
                       batch_shape: tuple) -> None:
    """Scale boxes by (sx, sy) and resize masks (padded with
    ``mask_pad_value`` when ``pad_mask``), in place."""
    if 'bboxes' in instances:
        boxes = instances.bboxes
        if isinstance(boxes, BaseBoxes):
            boxes.rescale_((sx, sy))
        else:
            scale = boxes.new_tensor([sx, sy]).repeat(boxes.shape[-1] // 2)
            instances.bboxes = boxes * scale
    if 'masks' in instances:
        masks = instances.masks
        canvas = scaled_shape((masks.height, masks.width), sy, sx)
        if isinstance(masks, PolygonMasks):
            scale = np.array([sx, sy])
            masks = PolygonMasks(
                [[(np.asarray(p).reshape(-1, 2) * scale).reshape(-1)
                  for p in obj] for obj in masks.masks], *canvas)
        else:
            masks = masks.resize(canvas, interpolation='nearest')
            if pad_mask:
                masks = masks.pad(batch_shape, pad_val=mask_pad_value)
        instances.masks = masks


__all__ = ['DownsizeDetDataPreprocessor']
