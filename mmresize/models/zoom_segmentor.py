"""``ZoomEncoderDecoder``: mmseg's EncoderDecoder for a warping resizer.

With ``LearnedZoom`` the logits come out on the warped grid. A metric
computed there misleads (Jin et al., ICLR 2022: their own users found 0.493
in the warped space against 0.448 at the original resolution), so before
mmseg's ``postprocess_result`` crops, flips and resizes them to
``ori_shape``, each image's logits are unwarped (bilinearly, through the
exact inverse map of ``mmresize.resizers.warp``) onto the uniform grid of
the input batch, and its metainfo is put back in that frame. Without a
recorded warp it is mmseg's EncoderDecoder.
"""
import contextlib
from typing import Iterator, List, Optional

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmresize.resizers.warp import footprints, resample_linear


@MODELS.register_module()
class ZoomEncoderDecoder(EncoderDecoder):
    """EncoderDecoder whose predictions are unwarped to the original grid.

    Args:
        footprint_loss: weight each warped pixel's training loss by the
            area it covers in the original frame (``warp.footprints``), so
            that the loss is the original frame's average over its labelled
            pixels (nearest-sampled labels); without it the
            loss averages over warped pixels, and a warp that enlarges easy
            regions lowers it without helping the metric. Not with a pixel
            sampler (OHEM) in the heads.
        Otherwise EncoderDecoder's arguments. Marks its data preprocessor as
        unwarped (``DownsizeMixin.check_unwarped``).
    """

    def __init__(self, *args, footprint_loss: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.data_preprocessor.unwarps_predictions = True
        self.footprint_loss = footprint_loss
        if footprint_loss and any(head.sampler is not None
                                  for head in self._heads()):
            raise ValueError('footprint_loss weights every pixel itself; '
                             'remove the heads\' sampler (OHEM) or set '
                             'footprint_loss=False')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[SegDataSample]) -> dict:
        if not getattr(self, 'footprint_loss', False) or not data_samples or \
                'zoom_warp' not in data_samples[0].metainfo:
            return super().loss(inputs, data_samples)
        with _fixed_weights(self._heads(), footprint_map(data_samples)):
            return super().loss(inputs, data_samples)

    def _heads(self) -> list:
        aux = getattr(self, 'auxiliary_head', None)
        if aux is None:
            aux = []
        elif not isinstance(aux, torch.nn.ModuleList):
            aux = [aux]
        return [self.decode_head, *aux]

    def postprocess_result(self, seg_logits: torch.Tensor,
                           data_samples: Optional[List[SegDataSample]] = None
                           ) -> List[SegDataSample]:
        if not data_samples or 'zoom_warp' not in data_samples[0].metainfo:
            return super().postprocess_result(seg_logits, data_samples)
        unwarped = [unwarp_logits(seg_logits[i:i + 1], sample)
                    for i, sample in enumerate(data_samples)]
        return super().postprocess_result(torch.cat(unwarped), data_samples)


def footprint_map(samples: List[SegDataSample]) -> torch.Tensor:
    """(B, H', W') loss weights over the training labels' batch: each warped
    pixel's footprint in the original frame (``warp.footprints``), 0 in the
    batch padding."""
    weights = []
    for sample in samples:
        labels = sample.gt_sem_seg.data
        area = footprints(sample.zoom_warp)[0].float().to(labels.device)
        pad_h = labels.shape[-2] - area.shape[0]
        pad_w = labels.shape[-1] - area.shape[1]
        weights.append(F.pad(area, (0, pad_w, 0, pad_h)))
    return torch.stack(weights)


class _Weights:
    """A decode head's pixel 'sampler' that hands back fixed weights,
    scaled so that they sum to the number of labelled pixels: mmseg divides
    the weighted sum by that count (``avg_non_ignore``), which then gives
    the footprint-weighted average, sum(w l) / sum(w), over the labelled
    pixels."""

    def __init__(self, weights: torch.Tensor, ignore_index: int) -> None:
        self.weights, self.ignore_index = weights, ignore_index

    def sample(self, seg_logits: torch.Tensor,
               seg_label: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W) logits, (B, 1, H, W) labels -> (B, H, W) weights."""
        expected = (seg_label.shape[0], *seg_label.shape[2:])
        if tuple(self.weights.shape) != expected:
            raise RuntimeError(f'footprint weights {tuple(self.weights.shape)}'
                               f' do not match the labels {expected}')
        valid = (seg_label[:, 0] != self.ignore_index).to(self.weights.dtype)
        total = (self.weights * valid).sum()
        if total <= 0:
            return self.weights
        return self.weights * (valid.sum() / total)


@contextlib.contextmanager
def _fixed_weights(heads: list, weights: torch.Tensor) -> Iterator[None]:
    """Give each head these pixel weights for one loss computation."""
    before = [head.sampler for head in heads]
    for head in heads:
        head.sampler = _Weights(weights, head.ignore_index)
    try:
        yield
    finally:
        for head, sampler in zip(heads, before):
            head.sampler = sampler


def unwarp_logits(logits: torch.Tensor,
                  sample: SegDataSample) -> torch.Tensor:
    """(1, K, h', w') warped logits -> (1, K, H, W) on the input batch's
    uniform grid; the sample's shapes and padding back in that frame."""
    warp = sample.zoom_warp
    h, w = warp.out_hw
    out = resample_linear(logits[..., :h, :w].float(), warp, inverse=True)
    frame = sample.zoom_input
    sample.set_metainfo({'img_shape': frame['img_shape'],
                         'pad_shape': tuple(out.shape[-2:]),
                         frame['padding_key']: frame['padding']})
    return out.to(logits.dtype)


__all__ = ['ZoomEncoderDecoder', 'footprint_map', 'unwarp_logits']
