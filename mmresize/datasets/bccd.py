"""BCCD (blood cell detection) in Pascal VOC layout, for mmdet.

``data_root`` holds ``BCCD/{JPEGImages,Annotations,ImageSets/Main}``. Three
classes; Platelets are small. Two annotations have zero-area boxes: put
``DropInvalidBoxes`` in the training pipeline.
"""
import os.path as osp

from mmdet.datasets import VOCDataset
from mmdet.registry import DATASETS


def require_folder(path: str, what: str, hint: str) -> None:
    """Raise FileNotFoundError naming ``path`` when it is not a folder."""
    if not osp.isdir(path):
        raise FileNotFoundError(f'{what} not found at {osp.abspath(path)}. '
                                f'{hint}')


@DATASETS.register_module()
class BCCDDataset(VOCDataset):
    """BCCD (MIT licence, the BCCD_Dataset repository), VOC XML folders."""

    METAINFO = dict(
        classes=('RBC', 'WBC', 'Platelets'),
        palette=[(220, 20, 60), (0, 0, 142), (0, 200, 0)])

    def __init__(self, data_root: str = '', **kwargs) -> None:
        require_folder(
            osp.join(data_root, 'BCCD', 'Annotations'), 'BCCD',
            'Put BCCD/{JPEGImages,Annotations,ImageSets} there, or set '
            'MMRESIZE_DATA to the folder holding bccd/ (see the config).')
        super().__init__(data_root=data_root, **kwargs)
