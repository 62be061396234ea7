"""CamVid as prepared for SegNet (11 classes, label 11 = void), for mmseg.

Layout under ``data_root``: ``train/``, ``val/`` RGB PNGs and ``trainannot/``,
``valannot/`` single-channel PNG labels with the same names. A copy whose
images were re-encoded (``img_suffix='.jpg'``, e.g. to fit a transfer limit)
loads the same way; the labels stay PNG.
"""
import os.path as osp

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid (Brostow et al., PRL 2009) in the SegNet tutorial's layout."""

    METAINFO = dict(
        classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                 'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128],
                 [64, 64, 0], [0, 128, 192]])

    def __init__(self, ignore_index: int = 11, img_suffix: str = '.png',
                 **kwargs) -> None:
        root = kwargs.get('data_root', '')
        images = osp.join(root, kwargs.get('data_prefix', {}).get(
            'img_path', ''))
        if not osp.isdir(images):
            raise FileNotFoundError(
                f'CamVid not found at {osp.abspath(images)}. Put train/, '
                'trainannot/, val/, valannot/ under the data root, or set '
                'MMRESIZE_DATA to the folder holding camvid/ (see the config).')
        super().__init__(img_suffix=img_suffix, seg_map_suffix='.png',
                         ignore_index=ignore_index, **kwargs)
