"""Which checkpoint files mmresize may unpickle fully.

Unpickling a file runs code that the file names, so a file someone sent
must never be unpickled. Files meant to be shared (resizer checkpoints and
transfer files) hold only tensors and plain data and are always loaded with
``torch.load(..., weights_only=True)`` (``mmresize.resizers.checkpoint``).
A full mmengine task checkpoint (message hub, numpy arrays) cannot be loaded
that way; it is unpickled fully only when it is the user's own, which here
means that its real path (symbolic links resolved) lies inside

* the work dir of a training run this process built (``trust_dir``;
  ``mmresize.cli.build_runner`` registers ``cfg.work_dir`` when it builds a
  runner to train, so ``tools/train.py --resume`` works),
* the work dir of a training run an earlier process built: training work
  dirs are remembered in a small registry file (``registry_path``: the
  environment variable ``MMRESIZE_WORK_DIR_REGISTRY``, else
  ``$MMRESIZE_CACHE_DIR/work_dirs.txt``, default ``~/.cache/mmresize``),
  so ``tools/test.py``, ``tools/export.py`` and ``tools/visualize_resizer.py``
  read a run's checkpoints wherever ``--work-dir`` put them; only mmresize's
  training tools write it (a folder that merely *receives* files, such as
  ``tools/test.py --work-dir``, is never trusted),
* ``work_dirs/`` of the current directory (where ``tools/train.py`` writes
  when no ``--work-dir`` is given),
* a folder listed in the environment variable ``MMRESIZE_TRUSTED_DIRS``
  (separated by ``os.pathsep``),

or that the user named it explicitly (``trust_file``; the tools'
``--trust-checkpoint``). Any other file is loaded weights-only, and one that
needs more fails with ``UntrustedCheckpointError`` saying how to proceed.
"""
import os
import os.path as osp
import warnings
from typing import List, Set

TRUSTED_DIRS_ENV = 'MMRESIZE_TRUSTED_DIRS'
REGISTRY_ENV = 'MMRESIZE_WORK_DIR_REGISTRY'
DEFAULT_WORK_ROOT = 'work_dirs'

_dirs: Set[str] = set()
_files: Set[str] = set()


class UntrustedCheckpointError(ValueError):
    """A checkpoint that needs full unpickling but is not the user's own."""


def _real(path: str) -> str:
    return osp.realpath(osp.expanduser(str(path)))


def trust_dir(path: str) -> None:
    """Trust every file under ``path`` (a work dir of this process)."""
    _dirs.add(_real(path))


def registry_path() -> str:
    """The file that lists the training work dirs of earlier runs."""
    cache = os.environ.get('MMRESIZE_CACHE_DIR', '~/.cache/mmresize')
    return osp.expanduser(os.environ.get(REGISTRY_ENV)
                          or osp.join(cache, 'work_dirs.txt'))


def remembered_dirs() -> List[str]:
    """The training work dirs in the registry (none when it is absent)."""
    try:
        with open(registry_path()) as f:
            return [line.rstrip('\n') for line in f if line.strip()]
    except OSError:
        return []


def remember_work_dir(path: str) -> None:
    """Trust ``path`` (a training run's work dir) now and in later
    processes: add it to the registry. A registry that cannot be written
    (read-only home) is a warning: later tools then need
    ``--trust-checkpoint`` for this run's files."""
    real = _real(path)
    trust_dir(real)
    if real in remembered_dirs():
        return
    try:
        os.makedirs(osp.dirname(registry_path()) or '.', exist_ok=True)
        with open(registry_path(), 'a') as f:
            f.write(real + '\n')
    except OSError as err:
        warnings.warn(f'mmresize: cannot record the work dir {real} in '
                      f'{registry_path()} ({err}); later tools will need '
                      '--trust-checkpoint for its checkpoints')


def trust_file(path: str) -> None:
    """Trust the file ``path`` (the user named it: ``--trust-checkpoint``)."""
    _files.add(_real(path))


def trusted_dirs() -> List[str]:
    """The folders whose files may be unpickled fully, real paths, sorted."""
    listed = os.environ.get(TRUSTED_DIRS_ENV, '').split(os.pathsep)
    return sorted({_real(DEFAULT_WORK_ROOT), *_dirs, *remembered_dirs(),
                   *(_real(d) for d in listed if d)})


def _inside(path: str, folder: str) -> bool:
    return osp.commonpath([path, folder]) == folder


def is_trusted(path: str) -> bool:
    """Whether the file at ``path`` may be unpickled fully."""
    real = _real(path)
    return real in _files or any(_inside(real, d) for d in trusted_dirs())


def untrusted_message(path: str, needs: str) -> str:
    """Why ``path`` is not loaded and what to do; ``needs`` names the
    objects beyond tensors and plain data that it holds."""
    return (
        f'{path} holds objects beyond tensors and plain data ({needs}), '
        'and loading them would run code named in the file. mmresize '
        'unpickles such files only from your own work dirs (now: '
        f'{", ".join(trusted_dirs())}). If you or your own tools wrote this '
        'file, pass --trust-checkpoint (tools/train.py, tools/test.py, '
        'tools/transfer_resizer.py, tools/export.py, '
        f'tools/visualize_resizer.py) or add its folder to {TRUSTED_DIRS_ENV}. '
        'If someone sent it, ask for a resizer transfer file '
        '(tools/transfer_resizer.py writes them; they load without running '
        'code) or a checkpoint of plain weights instead.')


__all__ = [
    'REGISTRY_ENV', 'TRUSTED_DIRS_ENV', 'UntrustedCheckpointError',
    'is_trusted', 'registry_path', 'remember_work_dir', 'remembered_dirs',
    'trust_dir', 'trust_file', 'trusted_dirs', 'untrusted_message'
]
