"""Datasets and transforms: ``bccd`` and ``det_transforms``
(``DropInvalidBoxes``) for mmdet, ``camvid`` for mmseg. Each module imports
only its framework; ``mmresize.det`` / ``mmresize.seg`` import (and so
register) them."""
