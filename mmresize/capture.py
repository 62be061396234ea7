"""Capture what a resizer is called with, inside any pipeline.

The preprocessors cast, normalise and pad a batch before their resizer sees
it; tools that time or inspect the resizer alone take its real input from a
forward pre-hook instead of re-implementing those steps.
"""
import contextlib
from typing import Iterator, List, Tuple

import torch
from torch import nn

Call = Tuple[torch.Tensor, Tuple[int, int]]


@contextlib.contextmanager
def resizer_calls(resizer: nn.Module) -> Iterator[List[Call]]:
    """Record ``(x, size)`` of every call of ``resizer`` inside the block.

    Yields a list that fills as the resizer runs: x (B, C, H, W) detached,
    size (h, w).
    """
    calls: List[Call] = []

    def record(module: nn.Module, args: tuple) -> None:
        calls.append((args[0].detach(), tuple(int(s) for s in args[1])))

    handle = resizer.register_forward_pre_hook(record)
    try:
        yield calls
    finally:
        handle.remove()
