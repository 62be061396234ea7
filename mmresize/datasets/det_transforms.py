"""Pipeline transform that keeps bad boxes out of training.

Real annotations hold zero-area boxes and boxes outside the image (BCCD has
two); box-delta encoders turn them into inf/NaN losses. ``DropInvalidBoxes``
clips boxes to the image, drops those left without area and warns, naming
the image file, so training goes on.
"""
import warnings

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DropInvalidBoxes(BaseTransform):
    """Clip gt boxes to the image and drop the ones with no area.

    Required keys: ``gt_bboxes`` (mmdet box type), ``img_shape``; modified:
    ``gt_bboxes``, ``gt_bboxes_labels``, ``gt_ignore_flags`` (and
    ``gt_masks`` when present). Place it right after ``LoadAnnotations``.

    Args:
        min_size: boxes narrower or lower than this (pixels) are dropped.
    """

    def __init__(self, min_size: float = 1e-3) -> None:
        self.min_size = min_size

    def transform(self, results: dict) -> dict:
        boxes = results.get('gt_bboxes')
        if boxes is None or len(boxes) == 0:
            return results
        boxes.clip_(results['img_shape'])
        keep = ((boxes.widths > self.min_size) &
                (boxes.heights > self.min_size)).numpy()
        if keep.all():
            return results
        dropped = boxes.tensor[~keep].tolist()
        warnings.warn(
            f'{results.get("img_path", "<unknown image>")}: dropped '
            f'{len(dropped)} box(es) with no area inside the image: '
            f'{[[round(v, 1) for v in b] for b in dropped]}')
        results['gt_bboxes'] = boxes[keep]
        for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
            if key in results:
                results[key] = results[key][keep]
        if 'gt_masks' in results:
            results['gt_masks'] = results['gt_masks'][np.nonzero(keep)[0]]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(min_size={self.min_size})'
