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
import contextlib
from typing import Dict, Iterator, Optional, Sequence, Tuple

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


class _TensorMode(nn.Module):
    """An mmdet / mmseg model's ``forward(x, data_samples, mode='tensor')``
    as a one-input module, for tracing (two-stage detectors' RPN reads the
    samples' metainfo)."""

    def __init__(self, model: nn.Module, data_samples: Optional[list]):
        super().__init__()
        self.model, self.data_samples = model, data_samples

    def forward(self, x: torch.Tensor):
        return self.model(x, self.data_samples, mode='tensor')


def _device(module: nn.Module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


@contextlib.contextmanager
def preserved_modes(module: nn.Module) -> Iterator[None]:
    """Every submodule's own training flag back as it was after the block
    (``module.train(mode)`` would not do: a wrapper made for counting is in
    training mode whatever the model it wraps is in, and a training model
    keeps frozen batch norms in eval mode)."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def counted_macs(module: nn.Module, inputs: Tuple[torch.Tensor, ...]) -> int:
    """Multiply-adds of ``module(*inputs)`` by mmengine's FlopAnalyzer, in
    eval mode; every submodule's mode is left as it was."""
    from mmengine.analysis import FlopAnalyzer
    with preserved_modes(module), torch.no_grad(), fused.disabled():
        module.eval()
        analyzer = FlopAnalyzer(module, inputs)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return int(analyzer.total())


def resizer_macs(resizer: nn.Module, in_hw: Sequence[int],
                 out_hw: Sequence[int], channels: int = 3) -> int:
    """Multiply-adds of one image (1, channels, H, W) resized to (h, w), on
    the resizer's device."""
    x = torch.rand(1, channels, *in_hw, device=_device(resizer))
    return counted_macs(_ResizeCall(resizer, tuple(out_hw)), (x, ))


def task_macs(model: nn.Module, inputs: torch.Tensor,
              data_samples: Optional[list] = None) -> int:
    """Multiply-adds of an mmdet / mmseg model's ``forward`` in ``'tensor'``
    mode (backbone, neck, heads; no post-processing) on ``inputs``
    (1, C, h, w): the batch the preprocessor hands the model, padding
    included."""
    return counted_macs(_TensorMode(model, data_samples), (inputs, ))


def inference_cost(model: nn.Module, in_hw: Sequence[int],
                   out_hw: Sequence[int], inputs: torch.Tensor,
                   data_samples: Optional[list] = None) -> Dict[str, object]:
    """GMACs of one image: ``resizer_gmacs`` (the preprocessor's resizer,
    (H, W) -> (h, w)), ``task_gmacs`` (the model on ``inputs``, the
    preprocessed (1, C, h', w') batch: (h, w) plus any padding) and their
    sum ``model_gmacs``; the sizes recorded with them."""
    r = resizer_macs(model.data_preprocessor.resizer, in_hw, out_hw) / 1e9
    t = task_macs(model, inputs, data_samples) / 1e9
    return dict(resizer_gmacs=r, task_gmacs=t, model_gmacs=r + t,
                input_hw=list(in_hw), downsized_hw=list(out_hw),
                batch_hw=list(inputs.shape[-2:]))
