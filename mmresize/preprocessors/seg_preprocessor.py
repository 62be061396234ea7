"""``DownsizeSegDataPreProcessor``: a resizer ahead of any mmseg segmentor.

Flow: mmseg's ``SegDataPreProcessor`` normalises and pads/stacks the batch
(its ``size`` / ``size_divisor`` / ``test_cfg`` keep their meaning: padding
of the full-resolution batch); the resizer downsizes it; the metainfo is
rewritten in downsized units so that mmseg's decode heads and
``postprocess_result`` crop the padding, undo flips and resize the logits
back to ``ori_shape``. ``pad_size_divisor`` pads the *downsized* batch (at
the bottom and right, with ``pad_val``) for models that need divisible
inputs; the padding is recorded as ``padding_size`` so predictions are
cropped back before they are resized to the original image. Labels stay at
full resolution unless ``downsize_labels`` (mmseg's heads resize logits to
the label size, so the loss is then computed at full resolution); either
way they are padded with ``seg_pad_val`` to cover the same area as the
padded batch.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from mmresize.preprocessors.downsizing import (
    DownsizeMixin,
    Scale,
    pad_to_divisor,
    resize_labels,
    scaled_shape,
)

LABEL_KEYS = ('gt_sem_seg', 'gt_edge_map')


@MODELS.register_module()
class DownsizeSegDataPreProcessor(DownsizeMixin, SegDataPreProcessor):
    """mmseg's preprocessor followed by a (learnable) downsizer.

    Args:
        resizer: config of any mmresize resizer, or a module.
        target_size: (h, w) of the downsized batch. Exclusive with
            ``target_scale``.
        target_scale: factor f or (fy, fx) applied to the padded batch.
        pad_size_divisor: pad the downsized batch to multiples of this.
        downsize_labels: also resize training labels (nearest) to the
            downsized size; by default they stay at full resolution.
        check_finite: raise, naming the image, on NaN/Inf in the batch.
        **kwargs: the rest of ``SegDataPreProcessor``'s arguments.

    Slide inference: ``test_cfg.crop_size`` / ``stride`` of the segmentor are
    in downsized pixels.
    """

    def __init__(self,
                 resizer: Union[dict, nn.Module],
                 target_size: Optional[Sequence[int]] = None,
                 target_scale: Optional[Scale] = None,
                 pad_size_divisor: int = 1,
                 downsize_labels: bool = False,
                 check_finite: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.build_downsizer(resizer, target_size, target_scale, check_finite)
        self.out_size_divisor = pad_size_divisor
        self.downsize_labels = downsize_labels

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data=data, training=training)
        inputs, samples = data['inputs'], data['data_samples']
        resized, sy, sx = self.downsize(inputs, samples)
        resized_shape = tuple(resized.shape[-2:])
        resized = pad_to_divisor(resized, self.out_size_divisor,
                                 self.pad_fill())
        if samples is not None:
            batch_shape = tuple(resized.shape[-2:])
            # the full-resolution extent the padded batch covers
            full_shape = (round(batch_shape[0] / sy),
                          round(batch_shape[1] / sx))
            for sample in samples:
                self._rewrite_meta(sample, sy, sx, batch_shape)
                if training:
                    _fit_labels(sample, resized_shape, batch_shape,
                                full_shape, self.downsize_labels,
                                self.seg_pad_val)
        return dict(inputs=resized, data_samples=samples)

    @staticmethod
    def _rewrite_meta(sample: SegDataSample, sy: float, sx: float,
                      batch_shape: tuple) -> None:
        """img_shape, pad_shape and padding in downsized pixels.

        mmseg pads at the right and bottom only, so the padding is whatever
        the downsized batch holds beyond the downsized image.
        """
        img_shape = scaled_shape(sample.img_shape, sy, sx)
        padding = (0, batch_shape[1] - img_shape[1], 0,
                   batch_shape[0] - img_shape[0])
        # postprocess_result crops img_padding_size (test-time padding) when
        # present, else padding_size
        key = 'img_padding_size' if 'img_padding_size' in sample.metainfo \
            else 'padding_size'
        sample.set_metainfo({'img_shape': img_shape,
                             'pad_shape': batch_shape, key: padding})


def _fit_labels(sample: SegDataSample, resized_shape: tuple,
                batch_shape: tuple, full_shape: tuple, downsize: bool,
                pad_value: int) -> None:
    """Training labels (1, H, W) aligned with the downsized, padded batch.

    downsize: resized (nearest) to ``resized_shape``, then padded to
    ``batch_shape``. Otherwise kept at full resolution and padded to
    ``full_shape``, the area the padded batch covers (to within half a
    full-resolution pixel: the padding rarely maps to whole pixels).
    """
    for key in LABEL_KEYS:
        if key in sample:
            labels = getattr(sample, key).data
            if downsize:
                labels = _pad_labels(resize_labels(labels, resized_shape),
                                     batch_shape, pad_value)
            else:
                labels = _pad_labels(labels, full_shape, pad_value)
            setattr(sample, key, PixelData(data=labels))


def _pad_labels(labels: torch.Tensor, shape: tuple,
                value: int) -> torch.Tensor:
    """Pad (..., h, w) labels at the bottom and right to ``shape``."""
    h, w = labels.shape[-2:]
    if (h, w) == tuple(shape):
        return labels
    return F.pad(labels, (0, shape[1] - w, 0, shape[0] - h), value=value)


__all__ = ['DownsizeSegDataPreProcessor']
