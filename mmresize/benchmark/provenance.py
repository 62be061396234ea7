"""Where a result came from: the code's version, the device that trained
and the host's load, recorded in every ``result.json``."""
import os
import os.path as osp
import platform
import subprocess
from typing import Optional

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


def host_record(jobs: int) -> dict:
    """The machine a run trained on and how busy it was, for result.json:
    cores, torch threads, ``jobs`` (runs at once), the load average at the
    end and the device."""
    import torch
    return dict(cpus=os.cpu_count(), threads=torch.get_num_threads(),
                parallel_runs=jobs, loadavg_at_end=list(os.getloadavg()),
                device=device_name())
