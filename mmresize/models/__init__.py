"""Heads and detectors mmdet / mmseg do not have: ``refinedet_head``
(RefineDet's ARM + TCB + ODM), ``lighthead`` (Light-Head R-CNN) with
``ps_roi_align``, all mmdet; ``sp_head`` (SPNet's strip and mixed pooling),
mmseg. Each module imports only its framework; ``mmresize.det`` /
``mmresize.seg`` import (and so register) them."""
