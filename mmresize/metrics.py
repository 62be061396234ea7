"""Metrics that also return per-class scores (mmdet/mmseg only log them).

The thin classes (CamVid's Pole, SignSymbol, Fence, Pedestrian, Bicyclist;
BCCD's Platelets) are where a learned resizer should help first, so the
benchmarks record them.
"""
from collections import OrderedDict

import numpy as np
from mmdet.evaluation import VOCMetric
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS as DET_METRICS
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS as SEG_METRICS


@SEG_METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` plus ``IoU.<class>`` entries (percent)."""

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        totals = [sum(r[i] for r in results) for i in range(4)]
        area_intersect, area_union = totals[0], totals[1]
        iou = (area_intersect / area_union).numpy() * 100
        for name, value in zip(self.dataset_meta['classes'], iou):
            metrics[f'IoU.{name}'] = float(np.round(value, 2))
        return metrics


@DET_METRICS.register_module()
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
