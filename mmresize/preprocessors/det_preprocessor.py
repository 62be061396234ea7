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
from mmresize.resizers.warp import (
    Warp,
    resample_nearest,
    warp_boxes,
    warped_extent,
)


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
            one = warp.select(index) if warp is not None else None
            if one is not None:
                sample.set_metainfo({
                    'zoom_warp': one,
                    'zoom_scale_factor': tuple(sample.metainfo.get(
                        'scale_factor', (1.0, 1.0)))})
            self._rewrite_meta(sample, plan, None if one is None else
                               warped_extent(one, sample.img_shape))
            if training and one is not None:
                self._warp_gt(sample, one, plan.batch_hw)
            elif training:
                self._rewrite_gt(sample, plan)

    def _warp_gt(self, sample: DetDataSample, warp: Warp,
                 batch_hw: tuple) -> None:
        """Training boxes, bitmap masks and seg maps warped with the image
        (masks and maps padded to the warp's input frame first, and to the
        batch afterwards as the uniform path pads them)."""
        for key in ('gt_instances', 'ignored_instances'):
            if key in sample:
                _warp_instances(getattr(sample, key), warp, batch_hw,
                                self.pad_mask, self.mask_pad_value)
        if 'gt_sem_seg' in sample:
            seg = _warp_map(sample.gt_sem_seg.sem_seg, warp,
                            self.seg_pad_value)
            if self.pad_seg:
                seg = pad_bottom_right(seg, batch_hw, self.seg_pad_value)
            sample.gt_sem_seg = PixelData(sem_seg=seg)

    def _rewrite_meta(self, sample: DetDataSample, plan: BatchResize,
                      img_shape: Optional[tuple] = None) -> None:
        """Shapes, scale_factor and border in resized units (``img_shape``:
        the image's extent in the warped frame, for a warping resizer)."""
        sy, sx = plan.scale
        if img_shape is None:
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


def _warp_map(t: torch.Tensor, warp: Warp, pad_value: int) -> torch.Tensor:
    """(..., h_img, w_img) map of one image -> (..., h, w) sampled (nearest)
    at the warped grid, on t's device: padded to the warp's input frame (the
    host's padded batch) first."""
    lead = t.shape[:-2]
    if t.shape[-2] > warp.in_hw[0] or t.shape[-1] > warp.in_hw[1]:
        raise ValueError(
            f'a mask or map of {tuple(t.shape[-2:])} is larger than the '
            f'batch it was warped with, {warp.in_hw}: masks and maps must '
            'match their image')
    flat = pad_bottom_right(t.reshape(1, -1, *t.shape[-2:]), warp.in_hw,
                            pad_value)
    out = resample_nearest(flat.to(warp.cdf_y.device), warp)
    return out.to(t.device).reshape(*lead, *out.shape[-2:])


def _warp_instances(instances: InstanceData, warp: Warp, batch_hw: tuple,
                    pad_mask: bool, mask_pad_value: int) -> None:
    """Boxes through the warp's forward maps; bitmap masks sampled at the
    warped grid (and padded like the uniform path); in place."""
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
                'LearnedZoom warps bitmap masks; load polygon masks as '
                'bitmaps with LoadAnnotations(poly2mask=True)')
        warped = _warp_map(torch.from_numpy(np.ascontiguousarray(
            masks.masks)), warp, 0).numpy()
        masks = BitmapMasks(warped, *warped.shape[-2:])
        if pad_mask:
            masks = masks.pad(batch_hw, pad_val=mask_pad_value)
        instances.masks = masks


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
