"""``ZoomSingleStageDetector``: mmdet's SingleStageDetector for a warping
resizer.

With ``LearnedZoom`` the head predicts boxes in the warped frame. They are
unwarped through the exact inverse maps (``mmresize.resizers.warp``) into
the input batch's frame, then mapped to the original image by the
pipeline's ``scale_factor`` and clipped to ``ori_shape``, so mAP is computed
in original coordinates (``rescale=True``). Training boxes are warped with
the image by ``DownsizeDetDataPreprocessor``. Without a recorded warp it is
mmdet's SingleStageDetector.
"""
import torch
from mmdet.models.detectors import SingleStageDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, SampleList
from mmengine.structures import InstanceData

from mmresize.resizers.warp import warp_boxes


@MODELS.register_module()
class ZoomSingleStageDetector(SingleStageDetector):
    """SingleStageDetector whose predicted boxes are unwarped.

    Takes SingleStageDetector's arguments; marks its data preprocessor as
    unwarped (``DownsizeMixin.check_unwarped``).
    """

    def __init__(self, *args, footprint_loss: bool = False,
                 **kwargs) -> None:
        if footprint_loss:
            raise ValueError(
                'footprint_loss weights a segmentation loss per pixel '
                '(ZoomEncoderDecoder); detection has no such option: drop '
                'it, or choose a variant without it (not LearnedZoom-lr10-fp)')
        super().__init__(*args, **kwargs)
        self.data_preprocessor.unwarps_predictions = True

    def predict(self, batch_inputs: torch.Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        if not batch_data_samples or \
                'zoom_warp' not in batch_data_samples[0].metainfo:
            return super().predict(batch_inputs, batch_data_samples, rescale)
        feats = self.extract_feat(batch_inputs)
        results = self.bbox_head.predict(feats, batch_data_samples,
                                         rescale=False)
        if rescale:
            results = [unwarp_instances(r, s)
                       for r, s in zip(results, batch_data_samples)]
        return self.add_pred_to_datasample(batch_data_samples, results)


def unwarp_instances(results: InstanceData,
                     sample: DetDataSample) -> InstanceData:
    """Boxes of one image from the warped frame to the original image:
    unwarp, divide by the pipeline's scale_factor, clip to ori_shape."""
    boxes = warp_boxes(results.bboxes, sample.zoom_warp, 0, inverse=True)
    sx, sy = sample.metainfo.get('zoom_scale_factor', (1.0, 1.0))
    boxes = boxes / boxes.new_tensor([sx, sy, sx, sy])
    height, width = sample.ori_shape[:2]
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    results.bboxes = boxes
    return results


__all__ = ['ZoomSingleStageDetector', 'unwarp_instances']
