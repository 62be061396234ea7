"""mmseg's IoU metric with per-class entries (mmseg only logs them).

CamVid's thin classes (Pole, SignSymbol, Fence, Pedestrian, Bicyclist) are
where a learned resizer should help first, so the benchmarks record them.
"""
import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
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
