"""DownsizeNet's fused path on CUDA: one Triton kernel forward, one backward.

Ma & Li, BMVC 2022; ``docs/method.md`` sections 3 and 5. ``resize(module, x,
geo)`` computes exactly what ``DownsizeNet.resize_with_coefficients`` computes
on the PyTorch path, but the two last texture layers, the coefficients and
the convex combination run in one kernel (``triton_kernels.py``) that reads
each output pixel's 5x5 input patch: no full-resolution feature map is
stored for 2 convs (the default and the paper's). With 3 or 4 convs the
layers before the last two run densely (cuDNN) and the kernel reads their
16-channel output.

Backward: PyTorch's own ops for the cheap per-pixel steps (the coefficients'
derivative is autograd's, through ``normalised_coefficients``), the backward
kernel for the two texture layers, and ``sampling.scatter_rows_cols`` for the
input gradients; no atomics, so two runs give the same bits.

Used for CUDA tensors when Triton is importable, the module's configuration
fits (``supports``) and neither ``disabled()`` nor ``MMRESIZE_TRITON=0`` turns
it off. ``forced()`` also uses it on CPU tensors, through Triton's interpreter
(``tests/test_fused_triton.py``). Inputs may be float32, float16, bfloat16
(or float64, for the tests); coefficients are float32 (float64 for float64).
"""
import os
from typing import TYPE_CHECKING, ContextManager, Optional, Tuple

import torch
import torch.nn.functional as F

from .grid import Geometry
from .sampling import gather_neighbours, scatter_rows_cols
from .switch import Switch

if TYPE_CHECKING:  # pragma: no cover
    from .downsizenet import DownsizeNet

try:
    import triton  # noqa: F401
    HAS_TRITON = True
except ImportError:  # pragma: no cover - triton is in the test requirements
    HAS_TRITON = False

ENABLED = Switch(True)
FORCED = Switch(False)
FORWARD_BLOCK = 32
BACKWARD_BLOCK = 16
MAX_PROGRAMS = 1024  # backward: partial sums per program, summed on the host
_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def disabled() -> ContextManager[None]:
    """Use the PyTorch path inside this block."""
    return ENABLED.set(False)


def forced() -> ContextManager[None]:
    """Use the kernels for CPU tensors too (Triton's interpreter): tests."""
    return FORCED.set(True)


def supports(module: 'DownsizeNet') -> bool:
    """Whether the kernels cover this configuration (registers bound F)."""
    texture_in = module.convs[-2].in_channels
    return module.feat_channels <= 32 and texture_in * 9 <= 256


def available(x: torch.Tensor, module: 'DownsizeNet') -> bool:
    """Whether ``DownsizeNet`` should take the fused Triton path for x."""
    if not (HAS_TRITON and ENABLED.value
            and os.environ.get('MMRESIZE_TRITON', '1') != '0'):
        return False
    if not (x.is_cuda or (FORCED.value and x.device.type == 'cpu')):
        return False
    return x.dtype in _DTYPES and supports(module)


def _pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _dot_size(n: int) -> int:
    """A block size for a ``tl.dot`` operand: a power of two, 16 at least."""
    return max(_pow2(n), 16)


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def resize(module: 'DownsizeNet', x: torch.Tensor,
           geo: Geometry) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fused ``resize_with_coefficients``: x (B, C, H, W) -> output (B, C,
    h, w) in x's dtype and coefficients (B, K, h, w) in float32 (float64
    for float64 x)."""
    dtype = _compute_dtype(x)
    feats = x
    for conv in module.convs[:-2]:
        feats = F.relu(conv(feats))
    conv_a, conv_b = module.convs[-2], module.convs[-1]
    offset = module.logit_offset(geo).to(dtype)
    return _FusedDownsize.apply(
        feats, x, conv_a.weight.to(dtype), conv_a.bias.to(dtype),
        conv_b.weight.to(dtype), conv_b.bias.to(dtype),
        module.coef_weight_features(dtype), offset, geo, module.coef_act)


class _FusedDownsize(torch.autograd.Function):
    """(feats, x, wa, ba, wb, bb, wc, offset) -> (out, coef).

    feats: (B, CT, H, W) texture input (x itself for 2 convs); x: (B, C, H,
    W); wa (F, CT, 3, 3), ba (F,), wb (F, F, 3, 3), bb (F,): the two texture
    layers; wc (K, F): the 1x1 conv on the features; offset (K, h, w): the
    rest of the logits (``DownsizeNet.logit_offset``).
    """

    @staticmethod
    def forward(ctx, feats, x, wa, ba, wb, bb, wc, offset, geo, coef_act):
        from .triton_kernels import kernels
        feats, x = feats.contiguous(), x.contiguous()
        batch, channels, height, width = x.shape
        h, w = offset.shape[-2:]
        num_k, feat_channels = wc.shape
        dtype = wc.dtype
        out = x.new_empty(batch, channels, h, w)
        coef = torch.empty(batch, num_k, h, w, dtype=dtype, device=x.device)
        logits = torch.empty_like(coef)
        texture = torch.empty(batch, feat_channels, h, w, dtype=dtype,
                              device=x.device)
        n_pixels = batch * h * w
        grid = (triton_cdiv(n_pixels, FORWARD_BLOCK),)
        kernels(x.device.type == 'cpu').forward[grid](
            feats, x, wa.contiguous(), ba.contiguous(), wb.contiguous(),
            bb.contiguous(), wc.contiguous(), offset.contiguous(),
            geo.anchor_y, geo.anchor_x, geo.index_y.contiguous(),
            geo.index_x.contiguous(), out, coef, logits, texture, n_pixels,
            height, width, h, w,
            CT=feats.shape[1], CX=channels, F=feat_channels,
            FP=_dot_size(feat_channels), TAPS=_dot_size(feats.shape[1] * 9),
            K=num_k, KP=_pow2(num_k),
            TY=geo.index_y.shape[1], TX=geo.index_x.shape[1],
            SIGMOID=coef_act == 'sigmoid', BLOCK=FORWARD_BLOCK)
        ctx.geo, ctx.coef_act = geo, coef_act
        ctx.save_for_backward(feats, x, wa, ba, wb, wc, coef, logits, texture)
        return out, coef

    @staticmethod
    def backward(ctx, grad_out: Optional[torch.Tensor],
                 grad_coef: Optional[torch.Tensor]):
        feats, x, wa, ba, wb, wc, coef, logits, texture = ctx.saved_tensors
        geo = ctx.geo
        dtype = coef.dtype
        dcoef = torch.zeros_like(coef) if grad_coef is None \
            else grad_coef.to(dtype)
        if grad_out is not None:
            grad_out = grad_out.to(dtype)
            neigh = gather_neighbours(x, geo.index_y, geo.index_x, dtype)
            dcoef = dcoef + (neigh * grad_out[:, :, None]).sum(dim=1)
        dlogits = _coefficient_backward(logits, dcoef, ctx.coef_act)
        dwc = torch.einsum('bkhw,bfhw->kf', dlogits, texture)
        doffset = dlogits.sum(dim=0)
        dpre = torch.einsum('kf,bkhw->bfhw', wc, dlogits) * (texture > 0)
        dbb = dpre.sum(dim=(0, 2, 3))
        need_feats = ctx.needs_input_grad[0]
        dwa, dba, dwb, patches = _texture_backward(feats, wa, ba, wb, dpre,
                                                   geo, need_feats)
        dfeats = dx = None
        if need_feats:
            dfeats = _fold_patches(patches, geo, feats.shape[-2:])
            dfeats = dfeats.to(feats.dtype)
        if ctx.needs_input_grad[1] and grad_out is not None:
            dx = _fold_neighbours(coef, grad_out, geo, x.shape[-2:])
            dx = dx.to(x.dtype)
        return (dfeats, dx, dwa, dba, dwb, dbb, dwc, doffset, None, None)


def triton_cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _coefficient_backward(logits: torch.Tensor, dcoef: torch.Tensor,
                          coef_act: str) -> torch.Tensor:
    """d loss / d logits through ``normalised_coefficients`` (autograd's)."""
    from .downsizenet import normalised_coefficients
    with torch.enable_grad():
        z = logits.detach().requires_grad_(True)
        coef = normalised_coefficients(z, coef_act)
        return torch.autograd.grad(coef, z, dcoef)[0]


def _texture_backward(feats, wa, ba, wb, dpre, geo: Geometry,
                      need_feats: bool):
    """The backward kernel: weight gradients of the two texture layers, and
    (if asked) each pixel's 5x5 patch gradient (B, h, w, CT, 5, 5)."""
    from .triton_kernels import kernels
    batch, feat_channels, h, w = dpre.shape
    texture_in, height, width = feats.shape[1:]
    fp = _dot_size(feat_channels)
    taps = _dot_size(texture_in * 9)
    n_pixels = batch * h * w
    n_blocks = triton_cdiv(n_pixels, BACKWARD_BLOCK)
    programs = min(n_blocks, MAX_PROGRAMS)
    dtype = dpre.dtype
    device = dpre.device
    part_wb = torch.empty(programs, 16, fp, fp, dtype=dtype, device=device)
    part_wa = torch.empty(programs, taps, fp, dtype=dtype, device=device)
    part_ba = torch.empty(programs, fp, dtype=dtype, device=device)
    patches = torch.zeros(batch, h, w, texture_in, 5, 5, dtype=dtype,
                          device=device) if need_feats else part_ba
    kernels(device.type == 'cpu').backward[(programs,)](
        feats, wa.contiguous(), ba.contiguous(), wb.contiguous(),
        dpre.contiguous(), geo.anchor_y, geo.anchor_x, part_wa, part_ba,
        part_wb, patches, n_pixels, n_blocks, height, width, h, w,
        CT=texture_in, F=feat_channels, FP=fp, TAPS=taps,
        NEED_PATCH=need_feats, BLOCK=BACKWARD_BLOCK)
    f = feat_channels
    # [pos = p*3+q, in, out] -> (out, in, 3, 3)
    dwb = part_wb.sum(dim=0)[:9, :f, :f].reshape(3, 3, f, f).permute(3, 2, 0, 1)
    # [(c*3+dy)*3+dx, out] -> (out, c, 3, 3)
    dwa = part_wa.sum(dim=0)[:texture_in * 9, :f].reshape(
        texture_in, 3, 3, f).permute(3, 0, 1, 2)
    dba = part_ba.sum(dim=0)[:f]
    return (dwa.contiguous(), dba, dwb.contiguous(),
            patches if need_feats else None)


def _fold_patches(patches: torch.Tensor, geo: Geometry,
                  size: Tuple[int, int]) -> torch.Tensor:
    """Sum each pixel's 5x5 patch gradient (B, h, w, C, 5, 5) onto the map
    (B, C, H, W); slots outside the map (the zero padding) are dropped."""
    batch, h, w, channels = patches.shape[:4]
    tiled = patches.permute(0, 3, 1, 4, 2, 5).reshape(batch, channels, h * 5,
                                                      w * 5)
    return scatter_rows_cols(tiled, _patch_index(geo.anchor_y, size[0]),
                             _patch_index(geo.anchor_x, size[1]), size)


def _patch_index(anchor: torch.Tensor, size: int) -> torch.Tensor:
    """(n * 5,) rows (or columns) of the 5x5 patches, -1 outside the map."""
    offsets = torch.arange(-2, 3, device=anchor.device)
    index = (anchor[:, None] + offsets).flatten()
    return torch.where((index >= 0) & (index < size), index,
                       torch.full_like(index, -1))


def _fold_neighbours(coef: torch.Tensor, grad_out: torch.Tensor,
                     geo: Geometry, size: Tuple[int, int]) -> torch.Tensor:
    """d loss / d x of the convex combination: coef (B, K, h, w) times
    grad_out (B, C, h, w), summed onto each neighbour's pixel."""
    batch, channels, h, w = grad_out.shape
    ty, tx = geo.index_y.shape[1], geo.index_x.shape[1]
    per = coef.view(batch, 1, ty, tx, h, w) * grad_out[:, :, None, None]
    tiled = per.permute(0, 1, 4, 2, 5, 3).reshape(batch, channels, h * ty,
                                                  w * tx)
    return scatter_rows_cols(tiled, geo.index_y.flatten(),
                             geo.index_x.flatten(), size)


__all__ = ['available', 'disabled', 'forced', 'resize', 'supports']
