"""Training hook that shows how far a learned resizer has moved from bilinear.

A learned resizer that stays at (or near) bilinear interpolation cannot beat
it. ``ResizerDriftHook`` puts ``train/resizer_drift`` into the training log
next to the loss: the mean |resizer(x) - bilinear(x)| over the batch the
resizer just resized, in 0-255 grey levels (the preprocessor's normalised
units times its ``std``)::

    custom_imports = dict(imports=['mmresize.seg'], ...)  # or mmresize.det
    custom_hooks = [dict(type='ResizerDriftHook', interval=10)]
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


def drift_from_bilinear(x: torch.Tensor, out: torch.Tensor,
                        std: Optional[torch.Tensor] = None) -> float:
    """Mean |out - bilinear(x)|, in the units of x times ``std``.

    Args:
        x: (B, C, H, W) the resizer's input.
        out: (B, C, h, w) its output.
        std: (C, 1, 1) the normalisation's std, or None (units of x).
    """
    bilinear = F.interpolate(x, out.shape[-2:], mode='bilinear',
                             align_corners=False)
    diff = (out - bilinear).abs()
    if std is not None:
        diff = diff * std.to(diff.dtype)
    return float(diff.mean())


@HOOKS.register_module()
class ResizerDriftHook(Hook):
    """Logs the resizer's distance from bilinear every ``interval`` training
    iterations, measured on the batch it resized in that iteration.

    Args:
        interval: iterations between measurements.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 10) -> None:
        self.interval = interval
        self._capture = False
        self._pair = None
        self._handle = None

    @staticmethod
    def _preprocessor(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        return model.data_preprocessor

    def before_train(self, runner) -> None:
        resizer = getattr(self._preprocessor(runner), 'resizer', None)
        if resizer is not None:
            self._handle = resizer.register_forward_hook(self._record)

    def _record(self, module, inputs, output) -> None:
        if self._capture:
            self._pair = (inputs[0].detach(), output.detach())

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self._capture = self.every_n_train_iters(runner, self.interval) \
            or runner.iter == 0

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self._pair is not None:
            std = getattr(self._preprocessor(runner), 'std', None)
            runner.message_hub.update_scalar(
                'train/resizer_drift', drift_from_bilinear(*self._pair, std))
        self._capture, self._pair = False, None

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
