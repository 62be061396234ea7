"""The learnable resizer of Talebi & Milanfar, "Learning to Resize Images for
Computer Vision Tasks", ICCV 2021 (arXiv 2103.09950).

A residual network around bilinear resizing: features are resized to the
target (the bottleneck), refined by residual blocks, mapped back to C channels
and added to the bilinearly resized input. Its output is not constrained to
be an image (see ``docs/method.md`` section 7).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from .base import BaseResizer


def _bilinear(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


class ResBlock(nn.Module):
    """3x3 conv, BN, LeakyReLU, 3x3 conv, BN, plus the input: (B, n, h, w)."""

    def __init__(self, channels: int, negative_slope: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@MODELS.register_module()
class LearnableResizer(BaseResizer):
    """Talebi & Milanfar's resizer, about 12K parameters with one block.

    Args:
        in_channels: image channels C.
        num_kernels: feature channels n (paper: 16).
        num_res_blocks: residual blocks r at the target size (paper: 1-2).
        negative_slope: LeakyReLU slope (paper: 0.2).
        frozen: see ``BaseResizer``.
        init_cfg: mmengine initialisation config.

    Shapes: ``forward(x, (h, w))`` with x (B, C, H, W) returns (B, C, h, w).
    """

    def __init__(self,
                 in_channels: int = 3,
                 num_kernels: int = 16,
                 num_res_blocks: int = 1,
                 negative_slope: float = 0.2,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        self.num_kernels = num_kernels
        self.num_res_blocks = num_res_blocks
        self.negative_slope = negative_slope
        n = num_kernels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, n, 7, padding=3),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(n, n, 1),
            nn.LeakyReLU(negative_slope),
            nn.BatchNorm2d(n),
        )
        self.res_blocks = nn.Sequential(
            *[ResBlock(n, negative_slope) for _ in range(num_res_blocks)])
        self.fuse = nn.Sequential(
            nn.Conv2d(n, n, 3, padding=1), nn.BatchNorm2d(n))
        self.head = nn.Conv2d(n, in_channels, 7, padding=3)
        if frozen:
            self.freeze()

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        bottleneck = _bilinear(self.stem(x), size)
        feats = self.fuse(self.res_blocks(bottleneck)) + bottleneck
        return self.head(feats) + _bilinear(x, size)
