"""MMDetection adapters: import in a config with
``custom_imports=dict(imports=['mmresize.det'], allow_failed_imports=False)``.
"""
import mmresize.resizers  # noqa: F401  registers the resizers

from .bccd import BCCDDataset
from .data_preprocessor import DownsizeDetDataPreprocessor
from .refinedet_head import RefineDetHead
from .transforms import DropInvalidBoxes

__all__ = [
    'BCCDDataset', 'DownsizeDetDataPreprocessor', 'DropInvalidBoxes',
    'RefineDetHead'
]
