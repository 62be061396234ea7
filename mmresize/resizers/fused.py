"""The compiled CPU op for DownsizeNet's texture branch, when available.

``texture_at_anchors(x, conv_a, conv_b, ys, xs)`` computes
``relu(conv_b(relu(conv_a(x))))`` only at the anchors, from the 5x5 input
patch around each (``mmresize/csrc/texture_at_anchors.cpp``): no full-
resolution feature map is ever stored. It is built by ``tools/setup.sh``
(``pip install -e .``, portable ``-march=x86-64-v2`` unless
``MMRESIZE_CPU_ARCH`` says otherwise) and DownsizeNet uses it for float32
CPU tensors whose input needs no gradient, with 16 feature channels and 3
or 16 input channels; everything else takes the PyTorch path, which
computes the same function. The op also runs in float64, so that its
backward can be gradchecked (``tests/test_fused_op.py``).
"""
from typing import ContextManager

import torch
from torch import nn

from .switch import Switch

try:
    from mmresize import _ext
except ImportError:  # not built: the PyTorch path is used
    _ext = None

ENABLED = Switch(True)


def disabled() -> ContextManager[None]:
    """Use the PyTorch path inside this block (tests, benchmarks)."""
    return ENABLED.set(False)


def available(x: torch.Tensor, conv_a: nn.Conv2d, conv_b: nn.Conv2d) -> bool:
    """Whether the compiled op can compute this call."""
    return (_ext is not None and ENABLED.value and x.device.type == 'cpu'
            and x.dtype == torch.float32 and not x.requires_grad
            and conv_a.weight.dtype == torch.float32
            and conv_a.in_channels in (3, 16)
            and conv_a.out_channels == conv_b.out_channels == 16
            and conv_b.in_channels == 16)


class _TextureAtAnchors(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, wa, ba, wb, bb, ys, xs):
        out = _ext.texture_at_anchors_forward(x, wa, ba, wb, bb, ys, xs)
        ctx.save_for_backward(x, wa, ba, wb, bb, ys, xs, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, wa, ba, wb, bb, ys, xs, out = ctx.saved_tensors
        grads = _ext.texture_at_anchors_backward(grad_out.contiguous(), out,
                                                 x, wa, ba, wb, bb, ys, xs)
        return (None, *grads, None, None)


def texture_at_anchors(x: torch.Tensor, conv_a: nn.Conv2d, conv_b: nn.Conv2d,
                       ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """Two 3x3 conv + ReLU layers read at the anchors.

    Args:
        x: (B, C, H, W) float32 CPU input (needs no gradient).
        conv_a, conv_b: the layers (3x3, padding 1).
        ys: (h,) long anchor rows; xs: (w,) long anchor columns.

    Returns:
        (B, 16, h, w), differentiable in the layers' weights and biases.
    """
    return _TextureAtAnchors.apply(x.contiguous(), conv_a.weight,
                                   conv_a.bias, conv_b.weight, conv_b.bias,
                                   ys.contiguous(), xs.contiguous())
