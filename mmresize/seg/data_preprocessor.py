"""``DownsizeSegDataPreProcessor``: a resizer ahead of any mmseg segmentor.

Flow: mmseg's ``SegDataPreProcessor`` normalises and pads/stacks the batch
(its ``size`` / ``size_divisor`` / ``test_cfg`` keep their meaning: padding
of the full-resolution batch); the resizer downsizes it; the metainfo is
rewritten in downsized units so that mmseg's decode heads and
``postprocess_result`` crop the padding, undo flips and resize the logits
back to ``ori_shape``. Labels stay at full resolution unless
``downsize_labels`` (mmseg's heads resize logits to the label size, so the
loss is then computed at full resolution).
"""
from typing import Optional, Sequence, Union

from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from mmresize.downsizing import (
    DownsizeMixin,
    Scale,
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
                 downsize_labels: bool = False,
                 check_finite: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.build_downsizer(resizer, target_size, target_scale, check_finite)
        self.downsize_labels = downsize_labels

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data=data, training=training)
        inputs, samples = data['inputs'], data['data_samples']
        resized, sy, sx = self.downsize(inputs, samples)
        if samples is not None:
            batch_shape = tuple(resized.shape[-2:])
            for sample in samples:
                self._rewrite_meta(sample, sy, sx, batch_shape)
                if training and self.downsize_labels:
                    _downsize_labels(sample, batch_shape)
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
        meta = dict(img_shape=img_shape, pad_shape=batch_shape)
        for key in ('padding_size', 'img_padding_size'):
            if key in sample.metainfo:
                meta[key] = padding
        sample.set_metainfo(meta)


def _downsize_labels(sample: SegDataSample, batch_shape: tuple) -> None:
    for key in LABEL_KEYS:
        if key in sample:
            labels = getattr(sample, key).data
            setattr(sample, key,
                    PixelData(data=resize_labels(labels, batch_shape)))


__all__ = ['DownsizeSegDataPreProcessor']
