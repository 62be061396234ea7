"""Suite-wide setup: no test inherits a visualizer an earlier test's runner
registered."""
import pytest

from mmresize.engine.visualizers import release_visualizers


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test's fixtures (module-scoped ones included) are set up,
    forget the visualizers earlier tests' runners registered: their
    ``vis_data`` folders lie in temp dirs pytest deletes once a test passes
    (``tmp_path_retention_policy``), and a runner built later would write
    into them (``mmresize.engine.visualizers``)."""
    release_visualizers()
