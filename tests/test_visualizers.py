"""release_visualizers: the next visualizer built is a new one, under its
own folder, as the next runner of a process needs."""
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import VISUALIZERS

from mmresize.engine.visualizers import release_visualizers


def build(kind: str, save_dir: Path):
    """What a runner does with the mmdet/mmseg configs' visualizer entry."""
    return VISUALIZERS.build(dict(type=kind, name='visualizer',
                                  vis_backends=[dict(type='LocalVisBackend')],
                                  save_dir=str(save_dir)))


@pytest.fixture(params=['Visualizer', 'DetLocalVisualizer',
                        'SegLocalVisualizer'])
def kind(request) -> str:
    import mmdet.visualization  # noqa: F401  registers DetLocalVisualizer
    import mmseg.visualization  # noqa: F401  registers SegLocalVisualizer
    from mmengine.registry import init_default_scope
    scope = {'Visualizer': 'mmengine', 'DetLocalVisualizer': 'mmdet',
             'SegLocalVisualizer': 'mmseg'}[request.param]
    init_default_scope(scope)
    return request.param


def test_without_release_a_second_build_reuses_the_first(tmp_path, kind):
    """mmengine's behaviour the helper exists for."""
    first = build(kind, tmp_path / 'a')
    assert build(kind, tmp_path / 'b') is first


def test_after_release_the_next_build_writes_under_its_own_dir(tmp_path,
                                                               kind):
    first = build(kind, tmp_path / 'a')
    first.add_config(Config(dict(run='a')))
    assert list((tmp_path / 'a').rglob('config.py'))
    shutil.rmtree(tmp_path / 'a')  # a finished test's temp dir
    release_visualizers()
    second = build(kind, tmp_path / 'b')
    assert second is not first
    second.add_config(Config(dict(run='b')))  # FileNotFoundError if reused
    written = list((tmp_path / 'b').rglob('config.py'))
    assert len(written) == 1 and "run = 'b'" in written[0].read_text()
    assert type(second).get_current_instance() is second
