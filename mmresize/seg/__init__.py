"""MMSegmentation adapters: import in a config with
``custom_imports=dict(imports=['mmresize.seg'], allow_failed_imports=False)``.
"""
import mmresize.resizers  # noqa: F401  registers the resizers

from .camvid import CamVidDataset
from .data_preprocessor import DownsizeSegDataPreProcessor

__all__ = ['CamVidDataset', 'DownsizeSegDataPreProcessor']
