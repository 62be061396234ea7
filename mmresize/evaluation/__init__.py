"""Evaluation: per-class metrics per framework (``det_metrics`` imports
mmdet only, ``seg_metrics`` mmseg only; ``mmresize.det`` / ``mmresize.seg``
import them) and the framework-free paired statistics of the benchmarks
(``paired``)."""
