"""Where the tests find the real datasets (CamVid, BCCD), and what happens
when they are absent.

The data root is ``$MMRESIZE_DATA`` when set, else ``data/`` in the
checkout when it holds the data (where the benchmark configs look by
default), else ``../shared/data`` beside the checkout (the development
machines' copy). A test that needs the data
calls :func:`require`: on a developer's machine without it the test skips,
saying why; in CI (``CI=true``) or where ``MMRESIZE_DATA`` is set the data is
promised, so its absence is a failure, never a silent skip.
"""
import os
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def data_root() -> str:
    """The folder holding ``camvid/`` and ``bccd/``."""
    if os.environ.get('MMRESIZE_DATA'):
        return os.environ['MMRESIZE_DATA']
    local = osp.join(ROOT, 'data')
    if any(osp.isdir(osp.join(local, d)) for d in ('camvid', 'bccd')):
        return local
    return osp.join(ROOT, '..', 'shared', 'data')


def data_promised() -> bool:
    """True where a missing dataset is a failure: in CI, or where the user
    pointed ``MMRESIZE_DATA`` somewhere."""
    return (os.environ.get('CI', '').lower() in ('1', 'true', 'yes')
            or bool(os.environ.get('MMRESIZE_DATA')))


def require(*parts: str) -> str:
    """The path ``data_root()/parts...``; skip (developer machine) or fail
    (CI, ``MMRESIZE_DATA`` set) when it does not exist."""
    path = osp.join(data_root(), *parts)
    if osp.exists(path):
        return path
    message = (f'{path} is absent. Get CamVid / BCCD (see docs/benchmarks.md) '
               'and set MMRESIZE_DATA to the folder holding camvid/ and bccd/')
    if data_promised():
        pytest.fail(message + ' (CI=true or MMRESIZE_DATA set: the data is '
                    'required here)')
    pytest.skip(message)
