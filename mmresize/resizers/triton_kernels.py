"""Triton kernels of DownsizeNet's fused path (``fused_triton.py``).

Ma & Li, BMVC 2022; ``docs/method.md`` sections 3 and 5. One program handles
a block of output pixels (flattened ``(b, i, j)``). Per pixel it reads the
5x5 input patch around the anchor P = (anchor_y[i], anchor_x[j]), evaluates
the two 3x3 texture layers there only (the first at the 3x3 positions the
second reads, zero padding at the image border as in ``nn.Conv2d``), the 1x1
conv over [features, r] (r's part and the biases precomputed per pixel as
``zr``), the coefficients, and the convex combination of the K neighbours.

The backward kernel recomputes the first layer from the input, and reduces
the weight gradients in registers: each program walks its blocks in a fixed
order and writes one partial sum per weight, which the host sums in a fixed
order. No atomics anywhere, so two runs give the same bits. The input
gradient of the texture branch is summed per pixel into its 5x5 patch of
every channel, (B, h, w, CT, 5, 5), a row that only the program of that
pixel touches, in a fixed order, and folded onto the image by
``sampling.scatter_rows_cols``.

Triton defines the kernels when this module is imported: compiled for CUDA,
or, with ``TRITON_INTERPRET=1`` set before, for Triton's interpreter, which
runs them on CPU tensors (the tests' way to run them without a GPU).
"""
from typing import Any, NamedTuple

import triton
import triton.language as tl


class Kernels(NamedTuple):
    forward: Any
    backward: Any


def kernels(interpret: bool) -> Kernels:
    """The forward and backward kernels.

    Args:
        interpret: whether the caller runs them on CPU tensors, which only
            Triton's interpreter can do.

    Raises:
        RuntimeError: the kernels were defined in the other mode (Triton
            decides when this module is imported, from ``TRITON_INTERPRET``).
    """
    from triton.runtime.interpreter import InterpretedFunction
    if isinstance(forward, InterpretedFunction) != interpret:
        raise RuntimeError(
            'the Triton kernels were defined for '
            + ('CUDA' if interpret else "Triton's interpreter")
            + ' but called with '
            + ('CPU' if interpret else 'CUDA') + ' tensors: set '
            'TRITON_INTERPRET=1 (CPU) or unset it (CUDA) before '
            'mmresize.resizers.triton_kernels is imported')
    return Kernels(forward, backward)


@triton.jit
def pixels(block, n_pixels, h, w, ay_ptr, ax_ptr, BLOCK: tl.constexpr):
    """The output pixels of a block, flattened (b, i, j): whether each is
    real, its image b (int64), ij = i * w + j, i, j, and its anchor (ay,
    ax)."""
    offs = block * BLOCK + tl.arange(0, BLOCK)
    valid = offs < n_pixels
    b = (offs // (h * w)).to(tl.int64)
    ij = offs % (h * w)
    i = ij // w
    j = ij % w
    ay = tl.load(ay_ptr + i, mask=valid, other=0).to(tl.int32)
    ax = tl.load(ax_ptr + j, mask=valid, other=0).to(tl.int32)
    return valid, b, ij, i, j, ay, ax


@triton.jit
def first_layer(wa_ptr, ba_ptr, CT: tl.constexpr, F: tl.constexpr,
                FP: tl.constexpr, TAPS: tl.constexpr):
    """The feature and tap indices (tap t = (c * 3 + dy) * 3 + dx) with
    their masks, and the first layer's bias [FP] and weights [tap, out]."""
    fo = tl.arange(0, FP)
    fmask = fo < F
    tt = tl.arange(0, TAPS)
    tmask = tt < CT * 9
    ba = tl.load(ba_ptr + fo, mask=fmask, other=0.0)
    wa = tl.load(wa_ptr + fo[None, :] * (CT * 9) + tt[:, None],
                 mask=tmask[:, None] & fmask[None, :], other=0.0)
    return fo, fmask, tt, tmask, tt // 9, (tt // 3) % 3, tt % 3, ba, wa


@triton.jit
def taps_at(feat_ptr, base, yy, xx, valid, H, W, tc, tdy, tdx, tmask):
    """The first layer's inputs at positions (yy, xx): [BLOCK, TAPS].

    Column t = (c * 3 + dy) * 3 + dx holds channel c at (yy + dy - 1,
    xx + dx - 1), zero outside the map (the conv's zero padding).
    """
    y2 = yy[:, None] + (tdy[None, :] - 1)
    x2 = xx[:, None] + (tdx[None, :] - 1)
    m = (valid[:, None] & tmask[None, :] & (y2 >= 0) & (y2 < H) & (x2 >= 0)
         & (x2 < W))
    return tl.load(feat_ptr + base[:, None] + (tc[None, :] * H + y2) * W + x2,
                   mask=m, other=0.0)


@triton.jit
def forward(feat_ptr, x_ptr, wa_ptr, ba_ptr, wb_ptr, bb_ptr, wc_ptr,
            zr_ptr, ay_ptr, ax_ptr, iy_ptr, ix_ptr, out_ptr, coef_ptr,
            z_ptr, f_ptr, n_pixels, H, W, h, w,
            CT: tl.constexpr, CX: tl.constexpr, F: tl.constexpr,
            FP: tl.constexpr, TAPS: tl.constexpr, K: tl.constexpr,
            KP: tl.constexpr, TY: tl.constexpr, TX: tl.constexpr,
            SIGMOID: tl.constexpr, BLOCK: tl.constexpr):
    hw = h * w
    valid, b, ij, i, j, ay, ax = pixels(tl.program_id(0), n_pixels, h, w,
                                        ay_ptr, ax_ptr, BLOCK)
    fo, fmask, tt, tmask, tc, tdy, tdx, ba, wa = first_layer(
        wa_ptr, ba_ptr, CT, F, FP, TAPS)
    bb = tl.load(bb_ptr + fo, mask=fmask, other=0.0)
    wmask = fmask[:, None] & fmask[None, :]
    base = b * (CT * H * W)
    pre = tl.zeros([BLOCK, FP], dtype=bb.dtype) + bb[None, :]
    for p in tl.static_range(3):
        for q in tl.static_range(3):
            yy = ay + (p - 1)
            xx = ax + (q - 1)
            inside = valid & (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
            v = taps_at(feat_ptr, base, yy, xx, valid, H, W, tc, tdy, tdx,
                        tmask).to(ba.dtype)
            hid = tl.dot(v, wa, input_precision='ieee') + ba[None, :]
            hid = tl.where(inside[:, None] & (hid > 0), hid, 0.0)
            # second layer's weights at this tap, [in, out]
            wbp = tl.load(wb_ptr + ((fo[None, :] * F + fo[:, None]) * 3 + p)
                          * 3 + q, mask=wmask, other=0.0)
            pre += tl.dot(hid, wbp, input_precision='ieee')
    feat = tl.maximum(pre, 0.0)
    kk = tl.arange(0, KP)
    kmask = kk < K
    pk = valid[:, None] & kmask[None, :]
    wc = tl.load(wc_ptr + kk[None, :] * F + fo[:, None],
                 mask=fmask[:, None] & kmask[None, :], other=0.0)
    zr = tl.load(zr_ptr + kk[None, :] * hw + ij[:, None], mask=pk, other=0.0)
    z = tl.sum(feat[:, :, None] * wc[None, :, :], axis=1) + zr
    if SIGMOID:
        act = 1.0 / (1.0 + tl.exp(-z))
    else:
        zmax = tl.max(tl.where(kmask[None, :], z, float('-inf')), axis=1)
        act = tl.exp(z - zmax[:, None])
    act = tl.where(kmask[None, :], act, 0.0)
    coef = act / tl.sum(act, axis=1)[:, None]
    iy = tl.load(iy_ptr + i[:, None] * TY + (kk // TX)[None, :], mask=pk,
                 other=0).to(tl.int32)
    ix = tl.load(ix_ptr + j[:, None] * TX + (kk % TX)[None, :], mask=pk,
                 other=0).to(tl.int32)
    for c in tl.static_range(CX):
        nb = tl.load(x_ptr + (b * CX + c)[:, None] * (H * W) + iy * W + ix,
                     mask=pk, other=0.0)
        val = tl.sum(coef * nb.to(coef.dtype), axis=1)
        tl.store(out_ptr + (b * CX + c) * hw + ij,
                 val.to(out_ptr.dtype.element_ty), mask=valid)
    per_k = (b[:, None] * K + kk[None, :]) * hw + ij[:, None]
    tl.store(coef_ptr + per_k, coef, mask=pk)
    tl.store(z_ptr + per_k, z, mask=pk)
    tl.store(f_ptr + (b[:, None] * F + fo[None, :]) * hw + ij[:, None], feat,
             mask=valid[:, None] & fmask[None, :])


@triton.jit
def backward(feat_ptr, wa_ptr, ba_ptr, wb_ptr, dpre_ptr, ay_ptr, ax_ptr,
             dwa_ptr, dba_ptr, dwb_ptr, patch_ptr, n_pixels, n_blocks, H, W,
             h, w, CT: tl.constexpr, F: tl.constexpr, FP: tl.constexpr,
             TAPS: tl.constexpr,
             NEED_PATCH: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    nprog = tl.num_programs(0)
    hw = h * w
    fo, fmask, tt, tmask, tc, tdy, tdx, ba, wa = first_layer(
        wa_ptr, ba_ptr, CT, F, FP, TAPS)
    wmask = fmask[:, None] & fmask[None, :]
    pos = tl.arange(0, 16)
    acc_wb = tl.zeros([16, FP, FP], dtype=ba.dtype)  # [p * 3 + q, in, out]
    acc_wa = tl.zeros([TAPS, FP], dtype=ba.dtype)
    acc_ba = tl.zeros([FP], dtype=ba.dtype)
    # Each program walks its blocks in a fixed order: deterministic sums.
    for blk in range(pid, n_blocks, nprog):
        valid, b, ij, i, j, ay, ax = pixels(blk, n_pixels, h, w, ay_ptr,
                                            ax_ptr, BLOCK)
        base = b * (CT * H * W)
        dpre = tl.load(dpre_ptr + (b[:, None] * F + fo[None, :]) * hw
                       + ij[:, None], mask=valid[:, None] & fmask[None, :],
                       other=0.0)
        for p in tl.static_range(3):
            for q in tl.static_range(3):
                yy = ay + (p - 1)
                xx = ax + (q - 1)
                inside = valid & (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
                v = taps_at(feat_ptr, base, yy, xx, valid, H, W, tc, tdy,
                            tdx, tmask).to(ba.dtype)
                hid = tl.dot(v, wa, input_precision='ieee') + ba[None, :]
                on = inside[:, None] & (hid > 0)
                hid = tl.where(on, hid, 0.0)
                dwb = tl.dot(tl.trans(hid), dpre, input_precision='ieee')
                acc_wb += tl.where((pos == p * 3 + q)[:, None, None],
                                   dwb[None, :, :], 0.0)
                wbp = tl.load(wb_ptr + ((fo[None, :] * F + fo[:, None]) * 3
                                        + p) * 3 + q, mask=wmask, other=0.0)
                dpa = tl.where(on, tl.dot(dpre, tl.trans(wbp),
                                          input_precision='ieee'), 0.0)
                acc_ba += tl.sum(dpa, axis=0)
                acc_wa += tl.dot(tl.trans(v), dpa, input_precision='ieee')
                if NEED_PATCH:
                    # tap t at this position feeds patch slot
                    # c * 25 + (p + dy) * 5 + q + dx of its pixel: add into
                    # the pixel's row of the (zeroed) patch buffer, which
                    # only this program touches; the barrier orders one
                    # position's additions before the next one's reads
                    dv = tl.dot(dpa, tl.trans(wa), input_precision='ieee')
                    slot = tc * 25 + (tdy + p) * 5 + tdx + q
                    ptrs = (patch_ptr + (b * hw + ij)[:, None] * (CT * 25)
                            + slot[None, :])
                    pm = valid[:, None] & tmask[None, :]
                    tl.store(ptrs, tl.load(ptrs, mask=pm, other=0.0) + dv,
                             mask=pm)
                    tl.debug_barrier()
    tl.store(dwb_ptr + pid * (16 * FP * FP)
             + (pos[:, None, None] * FP + fo[None, :, None]) * FP
             + fo[None, None, :], acc_wb)
    tl.store(dwa_ptr + pid * (TAPS * FP) + tt[:, None] * FP + fo[None, :],
             acc_wa)
    tl.store(dba_ptr + pid * FP + fo, acc_ba)
