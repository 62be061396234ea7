"""Peak memory of one call: resident-set growth on the CPU,
``max_memory_allocated`` growth on CUDA, measured after a warm-up call."""
from typing import Callable

import torch


def _status_mb(field: str) -> float:
    """A ``VmRSS`` / ``VmHWM`` line of /proc/self/status, in MB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{field} missing from /proc/self/status')


def rss_growth_mb(fn: Callable[[], None]) -> float:
    """Peak resident-set growth during ``fn()``, in MB (Linux).

    Resets the process's high-water mark (``/proc/self/clear_refs``, 5),
    so the peak is this call's own, not that of the imports and model
    building before it; growth = peak during the call - resident before.
    """
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    before = _status_mb('VmRSS')
    fn()
    return _status_mb('VmHWM') - before


def peak_growth_mb(fn: Callable[[], None], device: str) -> float:
    """Peak memory growth (MB) during one ``fn()`` on ``device``, after a
    warm-up call on the CPU (caches, allocator pools and lazy imports are
    not growth). Meant for a fresh process: what ran before in it would
    have warmed what ``fn`` allocates."""
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    fn()
    return rss_growth_mb(fn)
