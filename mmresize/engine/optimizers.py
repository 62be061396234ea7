"""An optimizer constructor that leaves frozen parameters out (for a
transferred, frozen resizer)."""
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FrozenAwareOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, minus parameters that need no grad.

    mmengine puts frozen parameters into the optimizer too (they get no
    gradient, so plain SGD/Adam skip them); this keeps them out entirely, as
    a frozen transferred resizer should be. Use with
    ``optim_wrapper=dict(constructor='FrozenAwareOptimWrapperConstructor')``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        wrapper = super().__call__(model)
        groups = wrapper.optimizer.param_groups
        for group in groups:
            group['params'] = [p for p in group['params'] if p.requires_grad]
        groups[:] = [g for g in groups if g['params']]
        return wrapper
