"""Where a result came from: the code's version, the device that trained
and the host's load, recorded in every ``result.json``."""
import os
import os.path as osp
import platform
import subprocess
import threading
from typing import Callable, List, Optional, Tuple

# the repository root of this checkout (mmresize/benchmark/ -> ../..)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CPUINFO = '/proc/cpuinfo'


def code_version() -> Optional[str]:
    """The git commit the run's code came from (``+dirty`` when the package,
    tools or configs differ from it; results kept under
    ``configs/benchmarks/results`` are data, not code), or None outside a
    git checkout.

    ``$MMRESIZE_CODE_VERSION``, where set, is returned instead: a copy sent
    to another machine says what it was made from
    (``.ci/device/gpu_matrix.sh`` sets it from the bundle's ``COMMIT``),
    since the git metadata travelling with a copy need not be that of the
    copied tree.
    """
    if os.environ.get('MMRESIZE_CODE_VERSION'):
        return os.environ['MMRESIZE_CODE_VERSION']
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--', 'mmresize', 'tools',
             'configs', ':(exclude)configs/benchmarks/results'],
            cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ('+dirty' if dirty.stdout.strip() else '')


def cpu_name(cpuinfo: Optional[str] = None) -> str:
    """The CPU's model name: the first ``model name`` line of ``cpuinfo``
    (default ``CPUINFO``), else ``platform.processor()``, else
    'unknown CPU'."""
    try:
        with open(cpuinfo or CPUINFO) as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def device_name() -> str:
    """What trained: the first GPU's name, else the CPU's model name."""
    import torch
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return cpu_name()


class LoadSampler:
    """The host's 1-minute load average, sampled every ``interval`` seconds
    on a daemon thread while a run trains (``with LoadSampler() as load:``),
    and once at the start and once at the end: how busy the host was
    throughout training, where the load average at the end shows only its
    last minutes. The first sample is the minute before training (this
    run's own start-up); ``report.shared_cpu`` leaves it out. ``loadavg``:
    ``os.getloadavg`` where None (replaceable in tests); a reading that
    fails (``OSError``) is skipped.
    """

    def __init__(self, interval: float = 30.0,
                 loadavg: Optional[Callable[[], Tuple[float, ...]]] = None
                 ) -> None:
        if interval <= 0:
            raise ValueError(f'interval must be > 0 seconds, got {interval}')
        self.interval = interval
        self.samples: List[float] = []
        self._loadavg = loadavg or os.getloadavg
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        try:
            self.samples.append(round(self._loadavg()[0], 2))
        except OSError:
            pass  # no reading this time; the others stand

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> 'LoadSampler':
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def record(self) -> dict:
        """``{interval_s, samples}`` for ``host_record``."""
        return dict(interval_s=self.interval, samples=list(self.samples))


def host_record(jobs: int, load: Optional[LoadSampler] = None) -> dict:
    """The machine a run trained on and how busy it was, for result.json:
    cores, torch threads, ``jobs`` (runs at once), the load average at the
    end, the 1-minute load sampled through training (``loadavg_1min``,
    where a ``LoadSampler`` ran) and the device."""
    import torch
    host = dict(cpus=os.cpu_count(), threads=torch.get_num_threads(),
                parallel_runs=jobs, loadavg_at_end=list(os.getloadavg()),
                device=device_name())
    if load is not None:
        host['loadavg_1min'] = load.record()
    return host
