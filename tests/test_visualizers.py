"""release_visualizers: the next visualizer built is a new one, under its
own folder, as the next runner of a process needs; and tests/conftest.py
releases before every test."""
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import VISUALIZERS, DefaultScope
from mmengine.visualization import Visualizer

from mmresize.engine.visualizers import _visualizer_classes, release_visualizers

REGISTERED = []  # what the first test below left registered, for the second
SCOPES = {'Visualizer': 'mmengine', 'DetLocalVisualizer': 'mmdet',
          'SegLocalVisualizer': 'mmseg'}


def build(kind: str, save_dir: Path) -> Visualizer:
    """What a runner does with the mmdet/mmseg configs' visualizer entry."""
    return VISUALIZERS.build(dict(type=kind, name='visualizer',
                                  vis_backends=[dict(type='LocalVisBackend')],
                                  save_dir=str(save_dir)))


@pytest.fixture(params=list(SCOPES))
def kind(request):
    """Each visualizer class the configs use, built in its own scope."""
    import mmdet.visualization  # noqa: F401  registers DetLocalVisualizer
    import mmseg.visualization  # noqa: F401  registers SegLocalVisualizer
    with DefaultScope.overwrite_default_scope(SCOPES[request.param]):
        yield request.param


def test_without_release_a_second_build_reuses_the_first(tmp_path, kind):
    """mmengine's behaviour the helper exists for."""
    first = build(kind, tmp_path / 'a')
    assert build(kind, tmp_path / 'b') is first
    REGISTERED.append(first)


def test_conftest_released_the_previous_tests_visualizers():
    """Runs after the test above registered three visualizers (file order):
    the suite's setup hook has forgotten them before this test began."""
    if not REGISTERED:
        pytest.skip('run with the test above (deselected or reordered)')
    assert not any(cls._instance_dict for cls in _visualizer_classes())


def test_after_release_the_next_build_writes_under_its_own_dir(tmp_path,
                                                               kind):
    """After a release the next build is a new visualizer writing under
    its own folder, and the one mmdet's and mmseg's hooks will find."""
    release_visualizers()  # conftest did; again, so the test stands alone
    first = build(kind, tmp_path / 'a')
    first.add_config(Config(dict(run='a')))
    assert list((tmp_path / 'a').rglob('config.py'))
    shutil.rmtree(tmp_path / 'a')  # a finished test's temp dir
    release_visualizers()
    assert not any(cls._instance_dict for cls in _visualizer_classes())
    second = build(kind, tmp_path / 'b')
    assert second is not first
    second.add_config(Config(dict(run='b')))  # FileNotFoundError if reused
    written = list((tmp_path / 'b').rglob('config.py'))
    assert len(written) == 1 and "run = 'b'" in written[0].read_text()
    # what mmdet's and mmseg's visualization hooks call
    assert Visualizer.get_current_instance() is second
    assert type(second).get_current_instance() is second
