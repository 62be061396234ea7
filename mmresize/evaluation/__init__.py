"""Evaluation: metrics per framework (``det_metrics`` imports mmdet only,
``seg_metrics`` mmseg only) and framework-free paired statistics."""
