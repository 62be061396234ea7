"""Everything a segmentation config needs from mmresize, registered in
mmseg's registries on import::

    custom_imports = dict(imports=['mmresize.seg'], allow_failed_imports=False)

The resizers and the ``EfficientNetLite`` backbone (scope ``mmresize``),
``DownsizeSegDataPreProcessor``,
``CamVidDataset``, ``PerClassIoUMetric``, ``TrimapIoUMetric``, SPNet's
``SPHead`` and the training machinery of ``mmresize.engine``.
"""
import mmresize.engine  # noqa: F401  hooks, optimizer constructors, AMP
import mmresize.resizers  # noqa: F401  the resizers
from mmresize.datasets.camvid import CamVidDataset
from mmresize.evaluation.seg_metrics import PerClassIoUMetric
from mmresize.evaluation.trimap import TrimapIoUMetric
from mmresize.models.efficientnet_lite import EfficientNetLite
from mmresize.models.sp_head import SPHead
from mmresize.models.zoom_segmentor import ZoomEncoderDecoder
from mmresize.preprocessors.seg_preprocessor import DownsizeSegDataPreProcessor

__all__ = [
    'ZoomEncoderDecoder',
    'EfficientNetLite', 'CamVidDataset', 'DownsizeSegDataPreProcessor',
    'PerClassIoUMetric', 'SPHead', 'TrimapIoUMetric'
]
