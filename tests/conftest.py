"""Suite-wide setup: one compute thread per process, no test inherits a
visualizer an earlier test's runner registered, the tiny datasets are
generated once per session, training work dirs are remembered in a
registry of the session's own."""
import os
import tempfile

import pytest
import torch

# Without CUDA, the fused Triton kernels run in Triton's interpreter
# (tests/test_fused_triton.py); Triton reads this when it is imported, for
# its own library as for our kernels, so it is set before anything imports it.
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')

from mmresize.engine.visualizers import release_visualizers
from mmresize.trust import REGISTRY_ENV
from tests import data_factory

# The tests' models and images are tiny: a second thread gains little, and
# OpenMP threads spin-waiting for cores that pytest shares with the tools'
# subprocesses (two of them under torchrun) made runs many times slower.
# Subprocesses inherit the variable; set OMP_NUM_THREADS to choose another.
torch.set_num_threads(int(os.environ.setdefault('OMP_NUM_THREADS', '1')))
# The tests' training runs remember their (temporary) work dirs as trusted
# (mmresize.trust): in a registry of the test session's own, not the user's.
os.environ[REGISTRY_ENV] = os.path.join(
    tempfile.mkdtemp(prefix='mmresize-tests-'), 'work_dirs.txt')


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test's fixtures (module-scoped ones included) are set up,
    forget the visualizers earlier tests' runners registered: their
    ``vis_data`` folders lie in temp dirs pytest deletes once a test passes
    (``tmp_path_retention_policy``), and a runner built later would write
    into them (``mmresize.engine.visualizers``)."""
    release_visualizers()


# Read-only tiny datasets shared by the whole session (a test that edits
# its data makes its own with ``tests.data_factory``). Each is a data root
# as the configs' datasets take it.

@pytest.fixture(scope='session')
def voc_det_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """VOCdevkit/ with VOC2007 and VOC2012 detection (3 images each)."""
    from mmdet.datasets import VOCDataset
    return str(data_factory.make_voc_detection(
        tmp_path_factory.mktemp('voc_det'),
        VOCDataset.METAINFO['classes'])) + '/'


@pytest.fixture(scope='session')
def coco_det_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """coco/ with train2017 and val2017 (3 images each)."""
    from mmdet.datasets import CocoDataset
    return str(data_factory.make_coco_detection(
        tmp_path_factory.mktemp('coco_det'),
        CocoDataset.METAINFO['classes'])) + '/'


@pytest.fixture(scope='session')
def voc_seg_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """VOCdevkit/VOC2012 with SegmentationClass(Aug) (3 images)."""
    return str(data_factory.make_voc_segmentation(
        tmp_path_factory.mktemp('voc_seg')))


@pytest.fixture(scope='session')
def cityscapes_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """cityscapes/ with train and val (2 images each)."""
    return str(data_factory.make_cityscapes(
        tmp_path_factory.mktemp('cityscapes'))) + '/'
