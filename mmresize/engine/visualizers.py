"""One visualizer per run when several runners share a process.

mmengine keeps visualizers as process-wide named instances (``ManagerMixin``)
and its registry builds them with ``get_instance``, which returns the
existing instance of that name. The mmdet and mmseg configs all name theirs
``'visualizer'``, so every runner built after the first in the same process
with the same visualizer type (``tools/demo.py``'s runs, a test suite)
reuses the first run's visualizer: its config copy and scalars land in the
first run's ``vis_data`` folder, and once that folder is gone (a finished
test's temp dir) building the next runner fails with ``FileNotFoundError``
on ``vis_data/config.py``.
:func:`release_visualizers` forgets those instances, so the next runner
builds its own, under its own work dir.
"""
from typing import Iterator, Type

from mmengine.visualization import Visualizer


def _visualizer_classes(cls: Type[Visualizer] = Visualizer
                        ) -> Iterator[Type[Visualizer]]:
    """``cls`` and all its subclasses (each keeps its own instances)."""
    yield cls
    for sub in cls.__subclasses__():
        yield from _visualizer_classes(sub)


def release_visualizers() -> None:
    """Forget every named visualizer instance of the process.

    Call before building a runner when an earlier runner of the same process
    may still be registered. Runners already built keep the visualizer they
    hold; only the lookup by name (``get_instance``,
    ``get_current_instance``) starts afresh. Until the next one is built,
    do not call ``get_current_instance``: it raises, and in mmengine 0.10.7
    leaves its process-wide lock held. The forgotten instances are not closed
    (``LocalVisBackend`` has nothing to close; a TensorBoard or W&B backend
    stays open until its runner closes it).
    """
    for cls in _visualizer_classes():
        cls._instance_dict.clear()
