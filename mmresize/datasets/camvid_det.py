"""CamVidDet, the detection set derived from CamVid's label maps
(``mmresize.datasets.camvid_boxes``, ``tools/camvid_to_boxes.py``), for
mmdet.

``data_root`` holds ``CamVidDet/{JPEGImages,Annotations,ImageSets/Main}``;
the images are CamVid's PNGs (360x480). Four classes; SignSymbol and
Pedestrian boxes are small.
"""
import os.path as osp

from mmdet.datasets import VOCDataset
from mmdet.registry import DATASETS

from mmresize.datasets.bccd import require_folder
from mmresize.datasets.camvid_boxes import DET_CLASSES


@DATASETS.register_module()
class CamVidDetDataset(VOCDataset):
    """Boxes derived from CamVid (Brostow et al., PRL 2009), VOC XML."""

    METAINFO = dict(classes=DET_CLASSES,
                    palette=[(64, 0, 128), (64, 64, 0), (0, 128, 192),
                             (192, 128, 128)])

    def __init__(self, data_root: str = '', img_suffix: str = '.png',
                 **kwargs) -> None:
        require_folder(
            osp.join(data_root, 'CamVidDet', 'Annotations'), 'CamVidDet',
            'Make it from CamVid with tools/camvid_to_boxes.py SRC DST '
            '(docs/transfer.md) and give DST as data_root.')
        self.img_suffix = img_suffix
        super().__init__(data_root=data_root, **kwargs)

    def parse_data_info(self, img_info: dict):
        """mmdet's VOC loader names every image ``ID.jpg``: these are
        ``ID`` + ``img_suffix``."""
        stem = osp.splitext(img_info['file_name'])[0]
        return super().parse_data_info(
            dict(img_info, file_name=stem + self.img_suffix))
