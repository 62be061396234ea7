"""Training hook that shows whether DownsizeNet is still bilinear.

DownsizeNet with ``init='interp'`` outputs ``(1 - g) * bilinear + g *
network`` (``mmresize/resizers/downsizenet.py``); when the task loss drives
the gate g to 0 or below, the resizer IS bilinear interpolation and cannot
beat it. ``ResizerGateHook`` puts g into the training log next to the loss
(``resizer_gate``), so a run shows it as it happens::

    custom_imports = dict(imports=['mmresize.hooks'], ...)
    custom_hooks = [dict(type='ResizerGateHook')]
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ResizerGateHook(Hook):
    """Logs DownsizeNet's blend gate g as ``train/resizer_gate`` every
    iteration (the log shows its mean over the log processor's window, 10
    iterations by default). Does nothing for resizers without a gate
    (``init='random'``, the other resizers)."""

    priority = 'BELOW_NORMAL'

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        resizer = getattr(model.data_preprocessor, 'resizer', None)
        gate = getattr(resizer, 'blend', None)
        if gate is not None:
            runner.message_hub.update_scalar('train/resizer_gate',
                                             float(gate.detach()))
