"""A process-wide on/off setting that a ``with`` block can change for its
duration: how the compiled CPU op (``fused.py``) and the Triton kernels
(``fused_triton.py``) are turned off or forced, by tests and benchmarks."""
import contextlib
from typing import Iterator


class Switch:
    """``value`` reads the setting; ``with switch.set(v):`` changes it inside
    the block and restores it afterwards, exceptions included."""

    def __init__(self, value: bool) -> None:
        self.value = value

    @contextlib.contextmanager
    def set(self, value: bool) -> Iterator[None]:
        previous, self.value = self.value, value
        try:
            yield
        finally:
            self.value = previous
