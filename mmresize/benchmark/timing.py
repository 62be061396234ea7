"""The one wall-clock timer of the benchmarks, and the device sync it
needs: CUDA work is queued, so a time is true only once it has finished."""
import statistics
import time
from typing import Callable, List, Sequence, Tuple, TypeVar, Union

import torch

T = TypeVar('T')
Device = Union[str, torch.device, None]


def sync(device: Device = None) -> None:
    """Wait for ``device``'s queued work (a no-op on the CPU).

    ``device=None``: the CUDA work of this process, if it has used CUDA
    (``torch.cuda.is_initialized()``); a process that never touched the GPU
    is not made to start a CUDA context.
    """
    if device is None:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
    elif torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], T], device: Device = None) -> Tuple[T, float]:
    """``fn()``'s result and its wall time in seconds, synchronised with
    ``device`` before and after."""
    sync(device)
    start = time.perf_counter()
    result = fn()
    sync(device)
    return result, time.perf_counter() - start


def median_ms(fn: Callable[[], object], repeats: int, device: Device = None,
              warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls,
    after ``warmup`` untimed calls (caches, lazy imports, allocator pools),
    each synchronised with ``device`` (see ``sync``)."""
    return interleaved_median_ms([fn], repeats, device, warmup)[0]


def interleaved_median_ms(fns: Sequence[Callable[[], object]], repeats: int,
                          device: Device = None,
                          warmup: int = 1) -> List[float]:
    """Median wall time (ms) of each of ``fns``, timed in turns after
    ``warmup`` untimed turns, the order reversed every other turn (f0, f1,
    f1, f0, f0, f1, ...): what drifts over the measurement (other load, clock
    changes) falls on all of them alike, and so does coming first or right
    after another (caches, allocator state), where timing one after the
    other would charge it to one. Each call synchronised with ``device``
    (see ``sync``)."""
    if repeats < 1:
        raise ValueError(f'repeats must be at least 1, got {repeats}')
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: List[List[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    for turn in range(repeats):
        for i in (order if turn % 2 == 0 else order[::-1]):
            times[i].append(1000 * timed(fns[i], device)[1])
    return [statistics.median(own) for own in times]
