"""Data preprocessors that put a resizer ahead of a model.

``core`` is the one framework-neutral function from a normalised batch to
the resized, padded batch (target size, rounding rule, padding), also used
by ``mmresize.deploy``; ``downsizing`` holds the mixin both preprocessors
share (building the resizer, ``forward``, public accessors);
``det_preprocessor`` (mmdet) and ``seg_preprocessor`` (mmseg) subclass each
framework's preprocessor and rewrite what describes the batch. Each module
imports only its framework: ``mmresize.det`` / ``mmresize.seg`` import (and
so register) them.
"""
