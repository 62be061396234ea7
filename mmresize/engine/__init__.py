"""Training machinery shared by detection and segmentation: hooks
(``ResizerDriftHook``), optimizer constructors
(``FrozenAwareOptimWrapperConstructor``), mixed precision on any device
(``BF16OptimWrapper``, ``enable_amp``) and schedule fitting. mmengine only;
``mmresize.det`` and ``mmresize.seg`` import (and so register) all of it."""
from . import amp, hooks, optimizers, schedules  # noqa: F401  registers

__all__ = ['amp', 'hooks', 'optimizers', 'schedules']
