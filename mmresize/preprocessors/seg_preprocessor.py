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
from typing import Optional, Sequence, Tuple, Union

from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from mmresize.preprocessors.core import (
    BatchResize,
    Scale,
    pad_bottom_right,
    resize_labels,
)
from mmresize.preprocessors.downsizing import DownsizeMixin
from mmresize.resizers.warp import Warp, resample_nearest, warped_extent

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
        self.build_downsizer(resizer, target_size, target_scale,
                             pad_size_divisor, check_finite)
        self.downsize_labels = downsize_labels

    def rewrite_samples(self, samples: Sequence[SegDataSample],
                        plan: BatchResize, training: bool,
                        warp: Optional[Warp] = None) -> None:
        """Metainfo always; training labels aligned with the batch. With a
        warp (``LearnedZoom``) each sample records its warp and the input
        frame (``zoom_warp``, ``zoom_input``) for ``ZoomEncoderDecoder`` to
        unwarp the logits, and training labels are warped with the image."""
        for index, sample in enumerate(samples):
            one = warp.select(index) if warp is not None else None
            if one is not None:
                _record_warp(sample, one)
            self._rewrite_meta(sample, plan, None if one is None else
                               warped_extent(one, sample.img_shape))
            if training and one is not None:
                _warp_labels(sample, plan, one, self.seg_pad_val)
            elif training:
                _fit_labels(sample, plan, self.downsize_labels,
                            self.seg_pad_val)

    @staticmethod
    def _rewrite_meta(sample: SegDataSample, plan: BatchResize,
                      img_shape: Optional[Tuple[int, int]] = None) -> None:
        """img_shape, pad_shape and padding in resized pixels (``img_shape``:
        the image's extent in the warped frame, for a warping resizer).

        mmseg pads at the right and bottom only, so the padding is whatever
        the resized batch holds beyond the resized image.
        """
        if img_shape is None:
            img_shape = plan.image_hw(sample.img_shape)
        batch_shape = plan.batch_hw
        padding = (0, batch_shape[1] - img_shape[1], 0,
                   batch_shape[0] - img_shape[0])
        key = _padding_key(sample)
        sample.set_metainfo({'img_shape': img_shape,
                             'pad_shape': batch_shape, key: padding})


def _padding_key(sample: SegDataSample) -> str:
    """postprocess_result crops img_padding_size (test-time padding) when
    present, else padding_size."""
    return 'img_padding_size' if 'img_padding_size' in sample.metainfo \
        else 'padding_size'


def _record_warp(sample: SegDataSample, warp: Warp) -> None:
    """The image's warp, and its shape and padding before resizing."""
    key = _padding_key(sample)
    sample.set_metainfo({'zoom_warp': warp, 'zoom_input': dict(
        img_shape=tuple(sample.img_shape), padding_key=key,
        padding=sample.metainfo.get(key, (0, 0, 0, 0)))})


def _warp_labels(sample: SegDataSample, plan: BatchResize, warp: Warp,
                 pad_value: int) -> None:
    """Training labels sampled (nearest) at the warped grid, padded to the
    batch: (1, H, W) -> (1, h', w')."""
    for key in LABEL_KEYS:
        if key in sample:
            labels = pad_bottom_right(getattr(sample, key).data, warp.in_hw,
                                      pad_value)
            warped = resample_nearest(labels[None].to(warp.cdf_y.device),
                                      warp)[0].to(labels.device)
            setattr(sample, key, PixelData(
                data=pad_bottom_right(warped, plan.batch_hw, pad_value)))


def _fit_labels(sample: SegDataSample, plan: BatchResize, downsize: bool,
                pad_value: int) -> None:
    """Training labels (1, H, W) aligned with the resized, padded batch.

    downsize: resized (nearest) to ``plan.out_hw``, then padded to
    ``plan.batch_hw``. Otherwise kept at full resolution and padded to
    ``plan.input_extent()``, the area the padded batch covers (to within
    half a full-resolution pixel: the padding rarely maps to whole pixels).
    """
    shape: Tuple[int, int] = plan.batch_hw if downsize \
        else plan.input_extent()
    for key in LABEL_KEYS:
        if key in sample:
            labels = getattr(sample, key).data
            if downsize:
                labels = resize_labels(labels, plan.out_hw)
            setattr(sample, key, PixelData(
                data=pad_bottom_right(labels, shape, pad_value)))


__all__ = ['DownsizeSegDataPreProcessor']
