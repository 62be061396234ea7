"""Separable gathers: read a tensor on a grid of rows x columns.

Both DownsizeNet steps that touch the full-resolution image are such reads:
the floating-point pooling of texture features at the anchors, and the final
convex combination of the K neighbours of each output pixel.
"""
from typing import Tuple

import torch


def gather_rows_cols(t: torch.Tensor, rows: torch.Tensor,
                     cols: torch.Tensor) -> torch.Tensor:
    """``t[:, :, rows][:, :, :, cols]``: (B, C, H, W) -> (B, C, N, M).

    A channels_last ``t`` is gathered through its (B, H, W, C) view, where
    each row and each pixel is a contiguous block (several times faster than
    gathering the strided NCHW view); the result is channels_last too.
    """
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last) \
            and not t.is_contiguous():
        nhwc = t.permute(0, 2, 3, 1)
        return nhwc.index_select(1, rows).index_select(2, cols).permute(
            0, 3, 1, 2)
    return t.index_select(2, rows)[..., cols]  # see gather_grid


def _clamped(index: torch.Tensor, size: int):
    """Clamp ``index`` into [0, size); also return where it was outside."""
    outside = ((index < 0) | (index >= size)).nonzero().flatten()
    return index.clamp(0, size - 1), outside


def gather_neighbourhood(feats: torch.Tensor, anchor_y: torch.Tensor,
                         anchor_x: torch.Tensor, offsets: torch.Tensor,
                         zero_outside: bool = True) -> torch.Tensor:
    """The T x T neighbourhoods of every anchor, tiled into one map.

    Args:
        feats: (B, F, H, W) feature map.
        anchor_y: (h,) long anchor rows; anchor_x: (w,) long anchor columns.
        offsets: (T,) long offsets around the anchor (e.g. -1, 0, 1).
        zero_outside: read zeros outside the map (a conv's zero padding);
            otherwise replicate the border.

    Returns:
        (B, F, h * T, w * T): entry ``(i * T + p, j * T + q)`` is
        ``feats[..., anchor_y[i] + offsets[p], anchor_x[j] + offsets[q]]``.
    """
    height, width = feats.shape[-2:]
    rows, rows_out = _clamped((anchor_y[:, None] + offsets).flatten(), height)
    cols, cols_out = _clamped((anchor_x[:, None] + offsets).flatten(), width)
    out = gather_rows_cols(feats, rows, cols)
    if zero_outside and rows_out.numel():
        out = out.index_fill(2, rows_out, 0)
    if zero_outside and cols_out.numel():
        out = out.index_fill(3, cols_out, 0)
    return out


def gather_grid(x: torch.Tensor, index_y: torch.Tensor, index_x: torch.Tensor,
                coef: torch.Tensor) -> torch.Tensor:
    """Per-pixel weighted sum of separable-grid neighbours.

    Args:
        x: (B, C, H, W) images.
        index_y: (h, Ty) long row indices; index_x: (w, Tx) long columns.
        coef: (B, Ty * Tx, h, w) coefficients, neighbour k = p * Tx + q.

    Returns:
        (B, C, h, w), ``y[b, c, i, j] = sum_{p,q} coef[b, p*Tx+q, i, j] *
        x[b, c, index_y[i, p], index_x[j, q]]``, in x's dtype.
    """
    with torch.autocast(device_type=x.device.type, enabled=False):
        neigh = gather_neighbours(x, index_y, index_x, coef.dtype)
        out = (neigh * coef[:, None]).sum(dim=2)
    return out.to(x.dtype)


def gather_neighbours(x: torch.Tensor, index_y: torch.Tensor,
                      index_x: torch.Tensor,
                      dtype: torch.dtype) -> torch.Tensor:
    """The K = Ty * Tx grid neighbours of every output pixel.

    Args:
        x: (B, C, H, W) images.
        index_y: (h, Ty) long rows; index_x: (w, Tx) long columns.
        dtype: dtype of the result.

    Returns:
        (B, C, K, h, w): entry ``[b, c, p * Tx + q, i, j]`` is
        ``x[b, c, index_y[i, p], index_x[j, q]]``.
    """
    batch, channels, _, width = x.shape
    (h, ty), (w, tx) = index_y.shape, index_x.shape
    # One gather over the flattened image: (Ty, Tx, h, w) pixel offsets.
    flat = (index_y.t()[:, None, :, None] * width +
            index_x.t()[None, :, None, :]).reshape(-1)
    # Advanced indexing: index_select along the last dim is ~10x slower.
    neigh = x.flatten(2)[:, :, flat].to(dtype)
    return neigh.view(batch, channels, ty * tx, h, w)


def scatter_rows_cols(tiled: torch.Tensor, rows: torch.Tensor,
                      cols: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """The adjoint of reading a map on a grid of rows x columns.

    ``out[b, c, rows[n], cols[m]] += tiled[b, c, n, m]``, entries whose row
    or column is -1 dropped (a read of the zero padding). Deterministic on
    every device: each output element sums its sources in a fixed order,
    through gathers (``index_select``'s forward), never atomics.

    Args:
        tiled: (B, C, N, M).
        rows: (N,) long in [-1, H); cols: (M,) long in [-1, W).
        size: (H, W) of the result.

    Returns:
        (B, C, H, W) in tiled's dtype.
    """
    return _scatter_axis(_scatter_axis(tiled, cols, size[1], 3), rows,
                         size[0], 2)


def _inverse_lists(index: torch.Tensor, size: int) -> torch.Tensor:
    """For each target t in [0, size), the sources n with index[n] == t.

    Returns (size, R) long, ascending per row, padded with len(index) (the
    sentinel that ``_scatter_axis`` reads as zero); R >= 1.
    """
    src = (index >= 0).nonzero().flatten()
    tgt = index[src]
    order = torch.argsort(tgt, stable=True)
    src, tgt = src[order], tgt[order]
    counts = torch.bincount(tgt, minlength=size)
    width = max(int(counts.max()), 1) if counts.numel() else 1
    start = counts.cumsum(0) - counts
    rank = torch.arange(tgt.numel(), device=index.device) - start[tgt]
    lists = torch.full((size, width), index.numel(), dtype=torch.long,
                       device=index.device)
    lists[tgt, rank] = src  # every (tgt, rank) once: no accumulation
    return lists


def _scatter_axis(t: torch.Tensor, index: torch.Tensor, size: int,
                  dim: int) -> torch.Tensor:
    """``scatter_rows_cols`` along one dim of t."""
    lists = _inverse_lists(index, size)
    pad_shape = list(t.shape)
    pad_shape[dim] = 1
    padded = torch.cat([t, t.new_zeros(pad_shape)], dim=dim)
    picked = padded.index_select(dim, lists.flatten())
    shape = t.shape[:dim] + lists.shape + t.shape[dim + 1:]
    return picked.view(shape).sum(dim=dim + 1)
