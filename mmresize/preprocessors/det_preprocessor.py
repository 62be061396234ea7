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
import torch.nn.functional as F
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.structures.mask import PolygonMasks
from mmengine.structures import InstanceData, PixelData
from torch import nn

from mmresize.preprocessors.downsizing import (
    DownsizeMixin,
    Scale,
    divisor_shape,
    pad_to_divisor,
    resize_labels,
    scaled_shape,
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
        pad_size_divisor: pad the *downsized* batch to multiples of this.
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
        super().__init__(pad_size_divisor=1, **kwargs)
        self.build_downsizer(resizer, target_size, target_scale, check_finite)
        self.out_size_divisor = pad_size_divisor

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data=data, training=training)
        inputs, samples = data['inputs'], data['data_samples']
        resized, sy, sx = self.downsize(inputs, samples)
        resized = pad_to_divisor(resized, self.out_size_divisor,
                                 self.pad_fill())
        if samples is not None:
            batch_shape = tuple(resized.shape[-2:])
            for sample in samples:
                self._rewrite_meta(sample, sy, sx, batch_shape)
                if training:
                    self._rewrite_gt(sample, sy, sx, batch_shape)
        return {'inputs': resized, 'data_samples': samples}

    def _rewrite_meta(self, sample: DetDataSample, sy: float, sx: float,
                      batch_shape: tuple) -> None:
        """Shapes, scale_factor and border in downsized units."""
        img_shape = scaled_shape(sample.img_shape, sy, sx)
        meta = dict(
            img_shape=img_shape,
            pad_shape=divisor_shape(img_shape, self.out_size_divisor),
            batch_input_shape=batch_shape)
        old = sample.metainfo.get('scale_factor', (1.0, 1.0))
        meta['scale_factor'] = (old[0] * sx, old[1] * sy)
        if 'border' in sample.metainfo:  # CenterNet: [top, bottom, left, right]
            border = np.asarray(sample.border, dtype=np.float32)
            meta['border'] = border * np.array([sy, sy, sx, sx], np.float32)
        sample.set_metainfo(meta)

    def _rewrite_gt(self, sample: DetDataSample, sy: float, sx: float,
                    batch_shape: tuple) -> None:
        """Training targets in downsized units (test-time gt is untouched)."""
        for key in ('gt_instances', 'ignored_instances'):
            if key in sample:
                _rescale_instances(getattr(sample, key), sy, sx,
                                   self.pad_mask, self.mask_pad_value,
                                   batch_shape)
        if 'gt_sem_seg' in sample:
            seg = sample.gt_sem_seg.sem_seg
            size = scaled_shape(seg.shape[-2:], sy, sx)
            seg = resize_labels(seg, size)
            if self.pad_seg:
                seg = _pad_2d(seg, batch_shape, self.seg_pad_value)
            sample.gt_sem_seg = PixelData(sem_seg=seg)


def _pad_2d(t: torch.Tensor, shape: Sequence[int], value: float):
    h, w = t.shape[-2:]
    return F.pad(t, (0, shape[1] - w, 0, shape[0] - h), value=value)


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
