"""What a model costs at inference: multiply-adds, the resizer included.

The resizer lives in the data preprocessor, which a model's ``forward``
does not call, so the cost is counted in two parts and added: the resizer on
the full-resolution input, and the task model (backbone, neck, heads) on the
downsized batch. Both are counted by mmengine's ``FlopAnalyzer`` (a jit
trace; it counts one multiply-add per multiply of convolutions, matrix
products and einsums, and a few elementwise ops such as interpolation),
with DownsizeNet on its PyTorch path (``fused.disabled()``: the compiled CPU
op is not traceable and computes the same function). For DownsizeNet with 2
convs and K = 4 this is exactly ``432 H W + 2304 h w + 80 h w`` (the dense
3 -> 16 conv over the input, the 16 -> 16 conv at the h w anchors, the 1x1
coefficient conv; ``tests/test_cost.py`` checks it by hand), and the convex
combination's ``K C h w`` multiply-adds are not counted (a few thousandths
of the total).
"""
from typing import Dict, Sequence, Tuple

import torch
from torch import nn

from mmresize.resizers import fused


class _ResizeCall(nn.Module):
    """``resizer(x, size)`` as a one-input module, for tracing."""

    def __init__(self, resizer: nn.Module, size: Tuple[int, int]) -> None:
        super().__init__()
        self.resizer, self.size = resizer, tuple(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resizer(x, self.size)


def counted_macs(module: nn.Module, inputs: Tuple[torch.Tensor, ...]) -> int:
    """Multiply-adds of ``module(*inputs)`` by mmengine's FlopAnalyzer."""
    from mmengine.analysis import FlopAnalyzer
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), fused.disabled():
            analyzer = FlopAnalyzer(module, inputs)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            return int(analyzer.total())
    finally:
        module.train(was_training)


def resizer_macs(resizer: nn.Module, in_hw: Sequence[int],
                 out_hw: Sequence[int], channels: int = 3) -> int:
    """Multiply-adds of one image (1, channels, H, W) resized to (h, w)."""
    x = torch.rand(1, channels, *in_hw)
    return counted_macs(_ResizeCall(resizer, tuple(out_hw)), (x, ))


def task_macs(model: nn.Module, hw: Sequence[int], channels: int = 3) -> int:
    """Multiply-adds of an mmdet / mmseg model's ``forward`` in ``'tensor'``
    mode (backbone, neck, heads; no post-processing) on one (h, w) image."""
    x = torch.rand(1, channels, *hw)
    return counted_macs(model, (x, ))


def inference_cost(model: nn.Module, in_hw: Sequence[int],
                   out_hw: Sequence[int]) -> Dict[str, float]:
    """GMACs of one image: ``resizer_gmacs`` (the preprocessor's resizer,
    (H, W) -> (h, w)), ``task_gmacs`` (the model on (h, w)) and their sum
    ``model_gmacs``; ``in_hw`` / ``out_hw`` recorded with them."""
    resizer = model.data_preprocessor.resizer
    r = resizer_macs(resizer, in_hw, out_hw) / 1e9
    t = task_macs(model, out_hw) / 1e9
    return dict(resizer_gmacs=r, task_gmacs=t, model_gmacs=r + t,
                input_hw=list(in_hw), downsized_hw=list(out_hw))
