"""Training machinery shared by detection and segmentation: hooks
(``ResizerDriftHook``), optimizer constructors
(``FrozenAwareOptimWrapperConstructor``), mixed precision on any device
(``BF16OptimWrapper``, ``enable_amp``) and schedule fitting, which
``mmresize.det`` and ``mmresize.seg`` import (and so register); and two
helpers imported where used: nms on the CPU for a GPU run (``cpu_nms``) and
one visualizer per runner (``visualizers``). mmengine only."""
from . import amp, hooks, optimizers, schedules  # noqa: F401  registers

__all__ = ['amp', 'hooks', 'optimizers', 'schedules']
