"""Data preprocessors that put a resizer ahead of a model.

``downsizing`` is the shared, framework-neutral core (target size, the
resizer call, padding to a divisor); ``det_preprocessor`` (mmdet) and
``seg_preprocessor`` (mmseg) subclass each framework's preprocessor and
rewrite what describes the batch. Each module imports only its framework:
``mmresize.det`` / ``mmresize.seg`` import (and so register) them.
"""
