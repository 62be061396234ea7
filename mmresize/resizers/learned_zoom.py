"""LearnedZoom: a resizer that moves its samples to where the task needs them.

Every other resizer keeps a uniform output grid. LearnedZoom warps it, per
image and separably (two monotone 1-D maps, as FOVEA: Thavamani et al.,
ICCV 2021; learned end to end as in Marin et al., ICCV 2019 and Jin et al.,
ICLR 2022):

1. a small network reads a cheap thumbnail of the image (or, with
   ``saliency='prior'``, a learned prior shared by the dataset) and predicts
   a saliency map; its row and column means are the 1-D saliency logits;
2. each axis gets the per-pixel sampling density, relative to uniform,
   ``rho = (1 - mix) + mix * N * softmax(a * tanh(logits - mean))`` (``a``
   = ``max_log_ratio``; centred, so that a common offset changes nothing),
   so ``rho`` lies inside ``density_bounds``, which it approaches but never
   reaches: below ``(1 - mix) + mix * exp(2a)``
   samples per input pixel relative to the uniform grid (magnification) and
   above ``(1 - mix) + mix * exp(-2a)`` (compression bounded by its
   inverse). Its cumulative sum is the
   strictly increasing map F of ``warp.py``; output pixel j samples input
   ``F^{-1}((j + 0.5) / n)``;
3. the output is the mean of the image over each output pixel's footprint
   ``[F^{-1}(j / n), F^{-1}((j + 1) / n)]``, widened about its middle to one
   input pixel where the warp magnifies: a box filter of the
   piecewise-constant image that does not alias where the warp compresses
   and is linear interpolation at the footprint's middle where it magnifies
   (``filter='box'``, the default), or plain bilinear interpolation at the
   warped centres (``filter='bilinear'``).

Zero saliency (the start: the last layer is zero-initialised) gives the
uniform grid: ``filter='bilinear'`` is then ``F.interpolate(mode='bilinear',
align_corners=False)`` and ``'box'`` is ``mode='area'`` at integer factors.
Gradients reach the saliency network through the sampling positions.

The warp of the last call is kept as ``last_warp`` (detached) so that the
preprocessors can record it and unwarp predictions (``warp.py``).
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from .base import BaseResizer
from .warp import Warp, cdf_from_density, inverse_map, resample_linear

SALIENCY = ('image', 'prior')
FILTERS = ('box', 'bilinear')


@MODELS.register_module()
class LearnedZoom(BaseResizer):
    """A saliency-driven separable warp of the output grid.

    Args:
        in_channels: image channels.
        saliency: 'image' (a network on a thumbnail of each image) or
            'prior' (one learned saliency for the dataset).
        thumbnail: (h, w) of the thumbnail the network reads.
        channels: channels of the saliency network's hidden layers.
        prior_size: length of the learned 1-D priors ('prior').
        mix: weight of the saliency against the uniform grid, in [0, 1).
        max_log_ratio: a > 0 of ``a * tanh(logits)``: bounds the density.
        filter: 'box' (footprint integral) or 'bilinear'.
        frozen, init_cfg: see ``BaseResizer``.

    Shapes: ``forward(x, (h, w))``: (B, C, H, W) -> (B, C, h, w).
    """

    def __init__(self,
                 in_channels: int = 3,
                 saliency: str = 'image',
                 thumbnail: Tuple[int, int] = (64, 64),
                 channels: int = 16,
                 prior_size: int = 64,
                 mix: float = 0.5,
                 max_log_ratio: float = 1.0,
                 filter: str = 'box',
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        if saliency not in SALIENCY:
            raise ValueError(f'saliency must be one of {SALIENCY}, got '
                             f'{saliency!r}')
        if filter not in FILTERS:
            raise ValueError(f'filter must be one of {FILTERS}, got '
                             f'{filter!r}')
        if not 0 <= mix < 1:
            raise ValueError(f'mix must be in [0, 1), got {mix!r}: at 1 the '
                             'density could reach 0 and the warp would no '
                             'longer be invertible')
        if not max_log_ratio > 0:
            raise ValueError(
                f'max_log_ratio must be positive, got {max_log_ratio!r}')
        self.saliency, self.filter = saliency, filter
        self.thumbnail = tuple(int(s) for s in thumbnail)
        self.mix, self.max_log_ratio = float(mix), float(max_log_ratio)
        if saliency == 'image':
            self.net = nn.Sequential(
                nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(),
                nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                nn.Conv2d(channels, 1, 3, padding=1))
        else:
            self.prior_y = nn.Parameter(torch.zeros(prior_size))
            self.prior_x = nn.Parameter(torch.zeros(prior_size))
        self._zero_last_layer()
        self.last_warp: Optional[Warp] = None
        if frozen:
            self.freeze()

    def _zero_last_layer(self) -> None:
        if self.saliency == 'image':
            nn.init.zeros_(self.net[-1].weight)
            nn.init.zeros_(self.net[-1].bias)

    def init_weights(self) -> None:
        """Start at the uniform grid unless an ``init_cfg`` says otherwise."""
        super().init_weights()
        if self.init_cfg is None:
            self._zero_last_layer()

    @property
    def density_bounds(self) -> Tuple[float, float]:
        """(lowest, highest) sampling density relative to the uniform grid."""
        a, m = self.max_log_ratio, self.mix
        return (1 - m) + m * math.exp(-2 * a), (1 - m) + m * math.exp(2 * a)

    def saliency_logits(self, x: torch.Tensor
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Row and column saliency logits, (B, Ty) and (B, Tx)."""
        if self.saliency == 'prior':
            batch = x.shape[0]
            return (self.prior_y.expand(batch, -1),
                    self.prior_x.expand(batch, -1))
        thumb = F.interpolate(x.to(self.net[0].weight.dtype),
                              size=self.thumbnail, mode='area')
        logits = self.net(thumb)[:, 0]  # (B, th, tw)
        return logits.mean(dim=2), logits.mean(dim=1)

    def axis_density(self, logits: torch.Tensor, size: int) -> torch.Tensor:
        """(B, T) logits -> (B, size) density relative to uniform, within
        ``density_bounds``."""
        z = F.interpolate(logits[:, None], size=size, mode='linear',
                          align_corners=False)[:, 0]
        # centred first: softmax ignores a common offset, tanh would not
        # (an offset saturates it, flattening the warp and its gradient)
        z = self.max_log_ratio * torch.tanh(z - z.mean(dim=1, keepdim=True))
        return (1 - self.mix) + self.mix * size * z.double().softmax(dim=1)

    def warp(self, x: torch.Tensor, size: Tuple[int, int]) -> Warp:
        """The warp of x (B, C, H, W) onto (h, w)."""
        ly, lx = self.saliency_logits(x)
        height, width = x.shape[-2:]
        return Warp(cdf_from_density(self.axis_density(ly, height)),
                    cdf_from_density(self.axis_density(lx, width)),
                    tuple(size))

    def resize_with_warp(self, x: torch.Tensor, size: Tuple[int, int]
                         ) -> Tuple[torch.Tensor, Warp]:
        """Output (B, C, h, w) in x's dtype and its warp."""
        warp = self.warp(x, size)
        if self.filter == 'bilinear':
            out = resample_linear(x, warp)
        else:
            out = _box_axis(x, warp.cdf_y, size[0], 2)
            out = _box_axis(out, warp.cdf_x, size[1], 3)
        return out.to(x.dtype), warp

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        out, warp = self.resize_with_warp(x, size)
        self.last_warp = warp.detach()
        return out

    def extra_repr(self) -> str:
        return (f'saliency={self.saliency!r}, thumbnail={self.thumbnail}, '
                f'mix={self.mix}, max_log_ratio={self.max_log_ratio}, '
                f'filter={self.filter!r}, frozen={self.frozen}')


def _box_axis(t: torch.Tensor, cdf: torch.Tensor, n: int,
              dim: int) -> torch.Tensor:
    """Mean of the piecewise-constant t over each output pixel's footprint
    along dim (2 rows, 3 columns), at least one input pixel wide."""
    size = t.shape[dim]
    batch = cdf.shape[0]
    edges = torch.arange(n + 1, dtype=torch.float64, device=cdf.device) / n
    x = inverse_map(cdf, edges.expand(batch, n + 1))  # (B, n + 1)
    # widened about its middle to one input pixel at least: continuous in
    # the warp, and the middle is the pixel's centre for a uniform grid
    mid, half = (x[:, :-1] + x[:, 1:]) / 2, (x[:, 1:] - x[:, :-1]) / 2
    half = half.clamp(min=0.5)
    lo, hi = (mid - half).clamp(0, size), (mid + half).clamp(0, size)
    # S(X) = integral of t from 0 to X: prefix sums at the pixel edges
    prefix = F.pad(t.double().cumsum(dim), _pad_before(t.dim(), dim))
    return (_integral(prefix, t, hi, dim) - _integral(prefix, t, lo, dim)) \
        / (hi - lo).to(torch.float64).view(_shape(t, dim, n))


def _pad_before(ndim: int, dim: int):
    """F.pad spec adding one zero before index 0 along dim."""
    spec = [0, 0] * (ndim - dim)
    spec[-2] = 1
    return spec


def _shape(t: torch.Tensor, dim: int, n: int):
    shape = [t.shape[0]] + [1] * (t.dim() - 1)
    shape[dim] = n
    return shape


def _integral(prefix: torch.Tensor, t: torch.Tensor, x: torch.Tensor,
              dim: int) -> torch.Tensor:
    """S(x) from the prefix sums (.., N + 1, ..) along dim, x (B, n)."""
    size = t.shape[dim]
    k = x.floor().clamp(0, size - 1)
    frac = (x - k).view(_shape(t, dim, x.shape[1]))
    k = k.long()
    expand = list(t.shape)
    expand[dim] = x.shape[1]
    index = k.view(_shape(t, dim, x.shape[1])).expand(expand)
    return prefix.gather(dim, index) + frac * t.double().gather(dim, index)


__all__ = ['LearnedZoom']
