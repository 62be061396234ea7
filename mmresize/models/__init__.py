"""Heads and detectors mmdet / mmseg do not have: ``refinedet_head``
(RefineDet's ARM + TCB + ODM, mmdet). Each module imports only its
framework; ``mmresize.det`` / ``mmresize.seg`` import (and so register)
them."""
