"""MULLER, the multilayer Laplacian resizer.

Zhengzhong Tu, Peyman Milanfar and Hossein Talebi, "MULLER: Multilayer
Laplacian Resizer for Vision", ICCV 2023 (arXiv 2304.02859). A fixed base
resize plus L Laplacian detail layers, each with one learned scale and one
learned bias (2 L parameters in all)::

    x_0 = x,  x_k = G(x_{k-1})                        (Gaussian blur)
    y = R(x) + sum_k tanh(w_k * R(x_k - x_{k-1}) + b_k)

with R the base resize to the target size. At w = b = 0 every layer adds
tanh(0) = 0 and the output is exactly the base resize. The blur is a
separable Gaussian with zero padding, as in the authors' reference; the
images mmresize feeds it are normalised, so the padding is the mean colour.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from .base import BaseResizer

BASE_MODES = ('bilinear', 'bicubic')


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype,
                    device: torch.device) -> torch.Tensor:
    """Normalised 1-D Gaussian taps, (size,), centred on ``size // 2``."""
    radius = size // 2
    t = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    taps = torch.exp(-t**2 / (2 * sigma**2))
    return taps / taps.sum()


def gaussian_blur(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable blur of (B, C, H, W) by ``taps`` (T,), zero padding, same
    size out."""
    channels, size = x.shape[1], taps.numel()
    horizontal = taps.view(1, 1, 1, size).expand(channels, 1, 1, size)
    vertical = taps.view(1, 1, size, 1).expand(channels, 1, size, 1)
    x = F.conv2d(x, horizontal, padding=(0, size // 2), groups=channels)
    return F.conv2d(x, vertical, padding=(size // 2, 0), groups=channels)


@MODELS.register_module()
class MullerResizer(BaseResizer):
    """Base resize plus learned Laplacian detail layers (Tu et al., 2023).

    Args:
        num_layers: Laplacian layers L (paper: 2); 2 L parameters.
        kernel_size: odd size of the Gaussian blur (paper: 5).
        sigma: its standard deviation (paper: 1.0).
        base_mode: 'bilinear' (paper's default) or 'bicubic' base resize,
            ``F.interpolate(align_corners=False)``.
        antialias: anti-alias the base resize.
        in_channels: optional channel check; ``None`` accepts any C.
        frozen: see ``BaseResizer``.
        init_cfg: mmengine initialisation config.

    Starts at w = b = 0, i.e. exactly the base resize. Output not
    constrained to the input's range (the detail layers add up to +-L).

    Shapes: ``forward(x, (h, w))`` with x (B, C, H, W) returns (B, C, h, w).
    """

    def __init__(self,
                 num_layers: int = 2,
                 kernel_size: int = 5,
                 sigma: float = 1.0,
                 base_mode: str = 'bilinear',
                 antialias: bool = False,
                 in_channels: Optional[int] = None,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(
                f'num_layers must be a positive int, got {num_layers!r}')
        if not isinstance(kernel_size, int) or kernel_size < 1 \
                or kernel_size % 2 == 0:
            raise ValueError(
                f'kernel_size must be a positive odd int, got {kernel_size!r}')
        if not sigma > 0:
            raise ValueError(f'sigma must be positive, got {sigma!r}')
        if base_mode not in BASE_MODES:
            raise ValueError(
                f'base_mode must be one of {BASE_MODES}, got {base_mode!r}')
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.sigma = float(sigma)
        self.base_mode = base_mode
        self.antialias = antialias
        self.weight = nn.Parameter(torch.zeros(num_layers))
        self.bias = nn.Parameter(torch.zeros(num_layers))
        if frozen:
            self.freeze()

    def base_resize(self, x: torch.Tensor,
                    size: Tuple[int, int]) -> torch.Tensor:
        """R: (B, C, H, W) -> (B, C, h, w)."""
        return F.interpolate(x, size=size, mode=self.base_mode,
                             align_corners=False, antialias=self.antialias)

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        out = self.base_resize(x, size)
        taps = gaussian_kernel(self.kernel_size, self.sigma, x.dtype,
                               x.device)
        weight, bias = self.weight.to(x.dtype), self.bias.to(x.dtype)
        level = x
        for k in range(self.num_layers):
            blurred = gaussian_blur(level, taps)
            detail = self.base_resize(blurred - level, size)
            out = out + torch.tanh(weight[k] * detail + bias[k])
            level = blurred
        return out

    def extra_repr(self) -> str:
        return (f'num_layers={self.num_layers}, kernel_size={self.kernel_size}'
                f', sigma={self.sigma}, base_mode={self.base_mode!r}, '
                f'antialias={self.antialias}, frozen={self.frozen}')
