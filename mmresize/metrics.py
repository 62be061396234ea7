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
    """mmdet's ``VOCMetric`` (mAP at IoU 0.5) plus ``AP.<class>`` (percent).

    Boxes of every class are scored; ``eval_mode`` as ``VOCMetric``.
    """

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        gts, preds = zip(*results)
        classes = self.dataset_meta['classes']
        _, per_class = eval_map(
            list(preds), list(gts), iou_thr=0.5, dataset=classes,
            eval_mode=self.eval_mode, logger='silent')
        out = OrderedDict(metrics)
        for name, result in zip(classes, per_class):
            out[f'AP.{name}'] = float(np.round(result['ap'] * 100, 2))
        return out
