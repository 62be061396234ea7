"""Where each output pixel samples the input: the per-axis source grid.

Convention (PyTorch's ``align_corners=False``): output index ``j`` maps to the
source coordinate ``u = (j + 0.5) * s - 0.5`` with ``s = in_size / out_size``.
Bilinear clamps ``u`` at 0 before taking ``floor``; bicubic does not. Neighbour
indices are clamped into ``[0, in_size - 1]`` (replicate border), exactly as
``F.interpolate`` does, so the weights below reproduce it borders included.

See ``docs/method.md`` sections 1-2 (Ma & Li, BMVC 2022).
"""
import functools
from typing import NamedTuple, Tuple

import torch

CUBIC_A = -0.75  # PyTorch's cubic convolution coefficient


class AxisGrid(NamedTuple):
    """Sampling along one axis for ``out_size`` output positions.

    Attributes:
        index: (out_size, T) long, clamped neighbour indices (T = 2 or 4).
        weight: (out_size, T) float64, interpolation weights (sum to 1).
        anchor: (out_size,) long, the top-left neighbour P of the projected
            point, clamped into the image (where the texture is read).
        inner: (out_size, 2) float64, bilinear weights on the two neighbours
            nearest the projected point, laid out in the T columns of
            ``index`` (for T = 4 they sit in columns 1 and 2).
    """
    index: torch.Tensor
    weight: torch.Tensor
    anchor: torch.Tensor
    inner: torch.Tensor


def _source_coords(in_size: int, out_size: int) -> torch.Tensor:
    """Source coordinates (out_size,) float64, ``(j + 0.5) * s - 0.5``.

    Evaluated in float32 as PyTorch's float kernels do, so that the weights
    reproduce ``F.interpolate`` on float32 images to the last bits.
    """
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    j = torch.arange(out_size, dtype=torch.float32)
    return (scale * (j + 0.5) - 0.5).double()


def _cubic_weights(t: torch.Tensor) -> torch.Tensor:
    """Cubic convolution weights (N, 4) for fractional offsets t (N,)."""
    a = CUBIC_A

    def near(d: torch.Tensor) -> torch.Tensor:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: torch.Tensor) -> torch.Tensor:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return torch.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], dim=1)


def axis_grid(in_size: int, out_size: int, kernel: str) -> AxisGrid:
    """Source grid along one axis.

    Args:
        in_size: input length along the axis (H or W).
        out_size: output length (h or w).
        kernel: 'bilinear' (2 neighbours per axis) or 'bicubic' (4).

    Returns:
        AxisGrid with T = 2 ('bilinear') or 4 ('bicubic') columns.
    """
    u = _source_coords(in_size, out_size)
    if kernel == 'bilinear':
        u = u.clamp(min=0)
        x0 = u.floor()
        d = u - x0
        offsets = torch.arange(2, dtype=torch.float64)
        weight = torch.stack([1 - d, d], dim=1)
        inner = weight
    elif kernel == 'bicubic':
        x0 = u.floor()
        d = u - x0
        offsets = torch.arange(-1, 3, dtype=torch.float64)
        weight = _cubic_weights(d)
        inner = torch.stack([1 - d, d], dim=1)
    else:
        raise ValueError(f"kernel must be 'bilinear' or 'bicubic', got {kernel!r}")
    index = (x0[:, None] + offsets[None, :]).clamp(0, in_size - 1).long()
    anchor = x0.clamp(0, in_size - 1).long()
    return AxisGrid(index, weight, anchor, inner)


def relative_distance(gy: AxisGrid, gx: AxisGrid) -> torch.Tensor:
    """The relative distance vector r of the paper, (K, h, w), K = Ty * Tx.

    ``r[p * Tx + q, i, j] = wy[i, p] * wx[j, q]``: used alone as coefficients it
    is bilinear (K = 4) or bicubic (K = 16) interpolation.
    """
    r = gy.weight[:, None, :, None] * gx.weight[None, :, None, :]  # h, w, Ty, Tx
    return r.flatten(2).permute(2, 0, 1)


def bilinear_prior(gy: AxisGrid, gx: AxisGrid) -> torch.Tensor:
    """Bilinear weights laid out on the K neighbours, (K, h, w), float64.

    For the 2x2 grid this equals ``relative_distance``; for the 4x4 grid the
    bilinear weights sit on the inner 2x2 and the outer 12 entries are zero.
    """
    ty, tx = gy.index.shape[1], gx.index.shape[1]
    wy = torch.zeros(gy.index.shape[0], ty, dtype=torch.float64)
    wx = torch.zeros(gx.index.shape[0], tx, dtype=torch.float64)
    first = (ty - 2) // 2
    wy[:, first:first + 2] = gy.inner
    first = (tx - 2) // 2
    wx[:, first:first + 2] = gx.inner
    r = wy[:, None, :, None] * wx[None, :, None, :]
    return r.flatten(2).permute(2, 0, 1)


class Geometry(NamedTuple):
    """Everything DownsizeNet needs about (H, W) -> (h, w), on one device.

    Attributes:
        index_y: (h, Ty), index_x: (w, Tx) long neighbour indices.
        anchor_y: (h,), anchor_x: (w,) long anchors P.
        r: (K, h, w) relative distance vector.
        prior: (1, K, h, w) bilinear weights on the K neighbours.
    """
    index_y: torch.Tensor
    index_x: torch.Tensor
    anchor_y: torch.Tensor
    anchor_x: torch.Tensor
    r: torch.Tensor
    prior: torch.Tensor


@functools.lru_cache(maxsize=32)
def sampling_geometry(in_size: Tuple[int, int], out_size: Tuple[int, int],
                      kernel: str, device: torch.device,
                      dtype: torch.dtype) -> Geometry:
    """Cached ``Geometry``: it depends on the sizes only, not on the images.

    The returned tensors are shared between calls; never modify them.
    """
    gy = axis_grid(in_size[0], out_size[0], kernel)
    gx = axis_grid(in_size[1], out_size[1], kernel)
    return Geometry(
        gy.index.to(device), gx.index.to(device), gy.anchor.to(device),
        gx.anchor.to(device),
        relative_distance(gy, gx).to(device, dtype),
        bilinear_prior(gy, gx).to(device, dtype)[None])
