"""Fixed interpolation behind the resizer call: the baselines to beat."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from mmresize.registry import MODELS

from .base import BaseResizer

MODES = ('bilinear', 'bicubic', 'area', 'nearest')


@MODELS.register_module()
class InterpolateResizer(BaseResizer):
    """``F.interpolate`` as a resizer (no parameters).

    Args:
        mode: 'bilinear', 'bicubic', 'area' or 'nearest'.
        antialias: low-pass before sampling (bilinear/bicubic only), as
            ``F.interpolate(antialias=True)``.
        in_channels: optional channel check; ``None`` accepts any C.

    Convention: ``align_corners=False`` for bilinear and bicubic (pixel centres
    at half-integers), PyTorch's default and the one DownsizeNet follows.
    """

    def __init__(self,
                 mode: str = 'bilinear',
                 antialias: bool = False,
                 in_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, init_cfg=init_cfg)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if antialias and mode not in ('bilinear', 'bicubic'):
            raise ValueError('antialias=True needs mode bilinear or bicubic, '
                             f'got mode={mode!r}')
        self.mode = mode
        self.antialias = antialias

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        smooth = self.mode in ('bilinear', 'bicubic')
        return F.interpolate(
            x,
            size=size,
            mode=self.mode,
            align_corners=False if smooth else None,
            antialias=self.antialias)

    def extra_repr(self) -> str:
        return f'mode={self.mode!r}, antialias={self.antialias}'
