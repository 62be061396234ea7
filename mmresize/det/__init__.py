"""Everything a detection config needs from mmresize, registered in mmdet's
registries on import::

    custom_imports = dict(imports=['mmresize.det'], allow_failed_imports=False)

The resizers and the ``EfficientNetLite`` backbone (scope ``mmresize``),
``DownsizeDetDataPreprocessor``,
``RefineDetHead``, ``NormalizedSSDNeck``, Light-Head R-CNN's modules,
``BCCDDataset``,
``CamVidDetDataset``, ``DropInvalidBoxes``,
``PerClassVOCMetric`` and the training machinery of ``mmresize.engine``.
"""
import mmresize.engine  # noqa: F401  hooks, optimizer constructors, AMP
import mmresize.resizers  # noqa: F401  the resizers
from mmresize.datasets.bccd import BCCDDataset
from mmresize.datasets.camvid_det import CamVidDetDataset
from mmresize.datasets.det_transforms import DropInvalidBoxes
from mmresize.evaluation.det_metrics import PerClassVOCMetric
from mmresize.models.efficientnet_lite import EfficientNetLite
from mmresize.models.lighthead import (
    LevelRPNHead,
    LightHeadNeck,
    LightHeadRCNN,
    PSRoIExtractor,
)
from mmresize.models.normalized_ssd_neck import NormalizedSSDNeck
from mmresize.models.refinedet_head import RefineDetHead
from mmresize.models.zoom_detector import ZoomSingleStageDetector
from mmresize.preprocessors.det_preprocessor import DownsizeDetDataPreprocessor

__all__ = [
    'NormalizedSSDNeck',
    'ZoomSingleStageDetector',
    'EfficientNetLite', 'BCCDDataset', 'CamVidDetDataset',
    'DownsizeDetDataPreprocessor',
    'DropInvalidBoxes', 'LevelRPNHead', 'LightHeadNeck', 'LightHeadRCNN',
    'PSRoIExtractor', 'PerClassVOCMetric', 'RefineDetHead'
]
