"""Resizers: plain PyTorch modules, ``resizer(x, (h, w)) -> y``.

This package imports neither mmdet nor mmseg.
"""
from .base import BaseResizer, check_image_batch, check_size
from .downsizenet import DownsizeNet
from .interpolate import InterpolateResizer
from .learnable_resizer import LearnableResizer
from .learned_zoom import LearnedZoom
from .muller import MullerResizer

__all__ = [
    'BaseResizer', 'DownsizeNet', 'InterpolateResizer', 'LearnableResizer',
    'LearnedZoom', 'MullerResizer',
    'check_image_batch', 'check_size'
]
