# The README's experiment: DeepLabv3+-R50-D8 on VOC2012 + SBD aug with
# DownsizeNet at 0.3x. Expects VOC2012 (with SegmentationClassAug and
# ImageSets/Segmentation/aug.txt) under data/VOCdevkit/VOC2012, as mmseg does.
#   python tools/train.py configs/deeplabv3plus_downsize_voc.py
# Bilinear baseline:
# configs/deeplabv3plus/deeplabv3plus_r50-d8_voc12aug_512x512_0.3x_bilinear.py
_base_ = [
    './deeplabv3plus/deeplabv3plus_r50-d8_voc12aug_512x512_0.3x_downsize.py'
]
