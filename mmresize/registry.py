"""mmresize's registry scope.

``MODELS`` is a child of mmengine's root ``MODELS`` with scope ``mmresize``, so
configs running under ``default_scope='mmdet'`` or ``'mmseg'`` can both build
``dict(type='mmresize.DownsizeNet', ...)``.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmresize',
    locations=['mmresize.resizers', 'mmresize.models.efficientnet_lite'])

__all__ = ['MODELS']
