"""Training helpers: mixed precision on any device, and an optimizer
constructor that leaves frozen parameters out.

mmengine's ``AmpOptimWrapper`` needs CUDA (or NPU/MLU). ``enable_amp`` picks
it on a GPU (fp16 with dynamic loss scaling) and, on a CPU,
``BF16OptimWrapper``: bfloat16 autocast around the forward pass (bf16 has
float32's exponent range, so no loss scaling). DownsizeNet computes its
coefficients in float32 under either.
"""
import contextlib

import torch
from mmengine.config import Config
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under bfloat16 autocast."""

    def __init__(self, *args, device_type: str = 'cpu', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.device_type = device_type

    @contextlib.contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=torch.bfloat16):
            yield


def enable_amp(cfg: Config) -> None:
    """Switch a config's optim wrapper to mixed precision, in place."""
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if kind in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        return
    if kind != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, the '
                         f'config has {kind!r}; set the amp wrapper yourself')
    if torch.cuda.is_available():
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        wrapper.type = 'BF16OptimWrapper'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FrozenAwareOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, minus parameters that need no grad.

    mmengine puts frozen parameters into the optimizer too (they get no
    gradient, so plain SGD/Adam skip them); this keeps them out entirely, as
    a frozen transferred resizer should be. Use with
    ``optim_wrapper=dict(constructor='FrozenAwareOptimWrapperConstructor')``.
    """

    def __call__(self, model: torch.nn.Module) -> OptimWrapper:
        wrapper = super().__call__(model)
        groups = wrapper.optimizer.param_groups
        for group in groups:
            group['params'] = [p for p in group['params'] if p.requires_grad]
        groups[:] = [g for g in groups if g['params']]
        return wrapper


def set_iterations(cfg: Config, iters: int) -> None:
    """Fit an iteration-based config with a [warm-up, decay] schedule (the
    benchmark configs) to ``iters`` iterations: warm-up over the first tenth
    (at most its configured length), decay to the end, one checkpoint, and
    an ``EMAHook`` (if any) averaging over about the last tenth (momentum
    10 / iters)."""
    cfg.train_cfg.max_iters = iters
    warmup, decay = cfg.param_scheduler
    warmup['end'] = decay['begin'] = max(1, min(warmup['end'], iters // 10))
    decay['end'] = max(iters, decay['begin'] + 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=iters, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'EMAHook':
            hook['momentum'] = min(0.5, 10 / iters)
