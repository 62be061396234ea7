"""A separable, monotone warp of the sampling grid, and its exact inverse.

Each axis of each image has a strictly increasing, piecewise-linear map F
from input edge coordinates X in [0, N] (pixel k spans [k, k + 1]) onto
[0, 1], given by its values at the N + 1 pixel edges: ``cdf`` (B, N + 1),
``cdf[:, 0] = 0``, ``cdf[:, N] = 1``. Output edge coordinate t in [0, n]
corresponds to X = F^{-1}(t / n). The uniform grid (``F(X) = X / N``) is
PyTorch's ``align_corners=False`` convention: output pixel centre j + 1/2 at
input centre ``(j + 0.5) N / n``.

Both directions are evaluated exactly (piecewise linear), so a point mapped
forth and back returns to itself to float precision: boxes, masks and
logits move between the warped and the original frame with the same maps
(FOVEA, Thavamani et al., ICCV 2021, warp separably in the same way).
"""
import math
from dataclasses import dataclass
from typing import Tuple

import torch


def cdf_from_density(density: torch.Tensor) -> torch.Tensor:
    """(B, N) positive per-pixel densities -> (B, N + 1) float64 cdf."""
    mass = density.double()
    cdf = torch.cat([mass.new_zeros(mass.shape[0], 1), mass.cumsum(1)], 1)
    return cdf / cdf[:, -1:]


def forward_map(cdf: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """F(X): (B, N + 1) cdf, (B, M) input edge coordinates -> (B, M) in
    [0, 1]; coordinates outside [0, N] extend the first or last piece."""
    n = cdf.shape[1] - 1
    x = coords.double()
    k = x.floor().clamp(0, n - 1).long()
    lo, hi = cdf.gather(1, k), cdf.gather(1, k + 1)
    return lo + (x - k) * (hi - lo)


def inverse_map(cdf: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """F^{-1}(q): (B, N + 1) strictly increasing cdf, (B, M) values ->
    (B, M) input edge coordinates (float64); q outside [0, 1] extends the
    first or last piece."""
    n = cdf.shape[1] - 1
    q = q.double()
    # the piece holding q: how many knots lie at or below it (a comparison
    # and a sum rather than searchsorted, so that the graph exports to ONNX)
    below = (cdf.detach()[:, None, :] <= q.detach()[:, :, None]).sum(dim=2)
    k = (below - 1).clamp(0, n - 1)
    lo, hi = cdf.gather(1, k), cdf.gather(1, k + 1)
    return k + (q - lo) / (hi - lo)


@dataclass
class Warp:
    """The warp of a batch: per image, a row map and a column map.

    Attributes:
        cdf_y: (B, H + 1) float64 row map; cdf_x: (B, W + 1) column map.
        out_hw: (h, w) of the warped output.
    """
    cdf_y: torch.Tensor
    cdf_x: torch.Tensor
    out_hw: Tuple[int, int]

    @property
    def in_hw(self) -> Tuple[int, int]:
        return self.cdf_y.shape[1] - 1, self.cdf_x.shape[1] - 1

    def _axis(self, axis: int) -> Tuple[torch.Tensor, int]:
        if axis == 0:
            return self.cdf_y, self.out_hw[0]
        return self.cdf_x, self.out_hw[1]

    def to_output(self, coords: torch.Tensor, axis: int) -> torch.Tensor:
        """Input edge coordinates (B, M) along ``axis`` (0 rows, 1 columns)
        -> output edge coordinates (B, M), float64."""
        cdf, n = self._axis(axis)
        return n * forward_map(cdf, coords)

    def to_input(self, coords: torch.Tensor, axis: int) -> torch.Tensor:
        """Output edge coordinates (B, M) -> input edge coordinates."""
        cdf, n = self._axis(axis)
        return inverse_map(cdf, coords.double() / n)

    def select(self, index: int) -> 'Warp':
        """The warp of image ``index`` alone (a batch of one)."""
        return Warp(self.cdf_y[index:index + 1], self.cdf_x[index:index + 1],
                    self.out_hw)

    def detach(self) -> 'Warp':
        return Warp(self.cdf_y.detach(), self.cdf_x.detach(), self.out_hw)


def output_centres(warp: Warp, axis: int) -> torch.Tensor:
    """Input edge coordinates (B, n) of the output pixel centres."""
    n = warp.out_hw[axis]
    cdf = warp.cdf_y if axis == 0 else warp.cdf_x
    t = (torch.arange(n, dtype=torch.float64, device=cdf.device) + 0.5)
    return warp.to_input(t.expand(cdf.shape[0], n), axis)


def input_centres(warp: Warp, axis: int) -> torch.Tensor:
    """Output edge coordinates (B, N) of the input pixel centres."""
    cdf = warp.cdf_y if axis == 0 else warp.cdf_x
    size = cdf.shape[1] - 1
    x = torch.arange(size, dtype=torch.float64, device=cdf.device) + 0.5
    return warp.to_output(x.expand(cdf.shape[0], size), axis)


def warp_boxes(boxes: torch.Tensor, warp: Warp, index: int,
               inverse: bool = False) -> torch.Tensor:
    """(M, 4) boxes (x1, y1, x2, y2, edge coordinates) of image ``index``
    into the warped frame (or back, with ``inverse``), in boxes' dtype."""
    one = warp.select(index)
    move = one.to_input if inverse else one.to_output
    xs = move(boxes[:, 0::2].reshape(1, -1), 1).reshape(-1, 2)
    ys = move(boxes[:, 1::2].reshape(1, -1), 0).reshape(-1, 2)
    return torch.stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]],
                       1).to(boxes.dtype)


def footprints(warp: Warp) -> torch.Tensor:
    """(B, h, w) float64: the area each warped output pixel covers in the
    input frame, relative to the uniform grid's (H / h) (W / w); all ones
    for the uniform warp, and its mean over the output is exactly 1. A loss
    averaged over the warped pixels with these weights is the average over
    the input frame."""
    sizes = []
    for axis in (0, 1):
        cdf, n = warp._axis(axis)
        t = torch.arange(n + 1, dtype=torch.float64, device=cdf.device)
        edges = warp.to_input(t.expand(cdf.shape[0], n + 1), axis)
        sizes.append(edges.diff(dim=1) * (n / (cdf.shape[1] - 1)))
    return sizes[0][:, :, None] * sizes[1][:, None, :]


def warped_extent(warp: Warp, hw: Tuple[int, int]) -> Tuple[int, int]:
    """(h, w) that an image of ``hw`` at the top left of the batch spans in
    the warped frame of a one-image ``warp``, rounded half up, at least 1."""
    device = warp.cdf_y.device
    sizes = []
    for axis in (0, 1):
        edge = torch.tensor([[float(hw[axis])]], dtype=torch.float64,
                            device=device)
        sizes.append(max(1, math.floor(float(warp.to_output(edge, axis)) + 0.5)))
    return sizes[0], sizes[1]


def nearest_index(coords: torch.Tensor, size: int) -> torch.Tensor:
    """Pixel holding each edge coordinate (B, M) -> (B, M) long in
    [0, size)."""
    return coords.floor().clamp(0, size - 1).long()


def resample_nearest(t: torch.Tensor, warp: Warp,
                     inverse: bool = False) -> torch.Tensor:
    """(B, C, H, W) maps (labels) sampled at the nearest pixel of each
    warped output centre -> (B, C, h, w); with ``inverse`` the warped maps
    (B, C, h, w) back onto the input grid (B, C, H, W)."""
    if inverse:
        rows = nearest_index(input_centres(warp, 0), warp.out_hw[0])
        cols = nearest_index(input_centres(warp, 1), warp.out_hw[1])
    else:
        rows = nearest_index(output_centres(warp, 0), warp.in_hw[0])
        cols = nearest_index(output_centres(warp, 1), warp.in_hw[1])
    return gather_per_image(t, rows, cols)


def gather_per_image(t: torch.Tensor, rows: torch.Tensor,
                     cols: torch.Tensor) -> torch.Tensor:
    """``t[b, :, rows[b]][..., cols[b]]`` for every image b: (B, C, H, W),
    (B, h), (B, w) -> (B, C, h, w)."""
    batch, channels, _, width = t.shape
    picked = t.gather(2, rows[:, None, :, None].expand(batch, channels, -1,
                                                       width))
    return picked.gather(3, cols[:, None, None, :].expand(
        batch, channels, rows.shape[1], -1))


def resample_linear(t: torch.Tensor, warp: Warp,
                    inverse: bool = False) -> torch.Tensor:
    """Bilinear (separable) resampling of (B, C, H, W) at the warped output
    centres -> (B, C, h, w), clamped at the border as ``F.interpolate``
    (``align_corners=False``); with ``inverse``, warped maps (logits) back
    onto the input grid. Differentiable in t and in the warp."""
    if inverse:
        ys, xs = input_centres(warp, 0), input_centres(warp, 1)
    else:
        ys, xs = output_centres(warp, 0), output_centres(warp, 1)
    out = _lerp_axis(t, ys - 0.5, 2)
    return _lerp_axis(out, xs - 0.5, 3)


def _lerp_axis(t: torch.Tensor, u: torch.Tensor, dim: int) -> torch.Tensor:
    """Linear interpolation of t along dim at centre coordinates u (B, n),
    the positions kept in float64 (half precision loses whole pixels at
    1000-2000 px), only the weights cast to t's dtype."""
    size = t.shape[dim]
    u = u.double().clamp(min=0)
    k0 = u.floor().clamp(max=size - 1)
    frac = (u - k0).to(t.dtype if t.is_floating_point() else torch.float32)
    k0 = k0.long()
    k1 = (k0 + 1).clamp(max=size - 1)
    shape = [t.shape[0], 1, 1, 1]
    shape[dim] = u.shape[1]
    view = lambda v: v.view(*shape)  # noqa: E731
    expand = list(t.shape)
    expand[dim] = u.shape[1]
    a = t.gather(dim, view(k0).expand(expand))
    b = t.gather(dim, view(k1).expand(expand))
    return a + view(frac) * (b - a)


__all__ = ['Warp', 'cdf_from_density', 'footprints', 'forward_map',
           'gather_per_image',
           'input_centres', 'inverse_map', 'nearest_index', 'output_centres',
           'resample_linear', 'resample_nearest', 'warp_boxes', 'warped_extent']
