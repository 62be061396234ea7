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
from typing import List, Optional

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmresize.resizers.warp import resample_linear


@MODELS.register_module()
class ZoomEncoderDecoder(EncoderDecoder):
    """EncoderDecoder whose predictions are unwarped to the original grid.

    Takes EncoderDecoder's arguments; marks its data preprocessor as
    unwarped (``DownsizeMixin.check_unwarped``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.data_preprocessor.unwarps_predictions = True

    def postprocess_result(self, seg_logits: torch.Tensor,
                           data_samples: Optional[List[SegDataSample]] = None
                           ) -> List[SegDataSample]:
        if not data_samples or 'zoom_warp' not in data_samples[0].metainfo:
            return super().postprocess_result(seg_logits, data_samples)
        unwarped = [unwarp_logits(seg_logits[i:i + 1], sample)
                    for i, sample in enumerate(data_samples)]
        return super().postprocess_result(torch.cat(unwarped), data_samples)


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


__all__ = ['ZoomEncoderDecoder', 'unwarp_logits']
