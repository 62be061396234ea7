"""Mixed precision on any device.

mmengine's ``AmpOptimWrapper`` needs CUDA (or NPU/MLU). ``enable_amp`` picks
it on a GPU (fp16 with dynamic loss scaling) and, on a CPU,
``BF16OptimWrapper``: bfloat16 autocast around the forward pass (bf16 has
float32's exponent range, so no loss scaling). DownsizeNet computes its
coefficients in float32 under either.
"""
import contextlib

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


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
