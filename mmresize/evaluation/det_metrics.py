"""mmdet's VOC metric with per-class entries (mmdet only logs them).

BCCD's Platelets (small) are where a learned resizer should help first, so
the benchmarks record them.
"""
from collections import OrderedDict

import numpy as np
from mmdet.evaluation import VOCMetric
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS


@METRICS.register_module()
class PerClassVOCMetric(VOCMetric):
    """mmdet's ``VOCMetric`` (mAP) plus ``AP.<class>`` (percent).

    Per-class AP is computed exactly as ``VOCMetric`` computes mAP: the same
    IoU thresholds (averaged over them when several), scale ranges,
    ``eval_mode`` and the VOC box convention (``use_legacy_coordinate``:
    width = x2 - x1 + 1), so the mean of the ``AP.<class>`` entries is the
    reported mAP (up to rounding and classes without ground truth).
    """

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        gts, preds = zip(*results)
        classes = self.dataset_meta['classes']
        per_class = np.zeros(len(classes))
        for iou_thr in self.iou_thrs:
            _, class_results = eval_map(
                list(preds), list(gts), scale_ranges=self.scale_ranges,
                iou_thr=iou_thr, dataset=classes, eval_mode=self.eval_mode,
                logger='silent', use_legacy_coordinate=True)
            per_class += [float(np.mean(r['ap'])) for r in class_results]
        per_class /= len(self.iou_thrs)
        out = OrderedDict(metrics)
        for name, ap in zip(classes, per_class):
            out[f'AP.{name}'] = float(np.round(ap * 100, 2))
        return out
