# Transfer table (Ma & Li, BMVC 2022, Table 3), source run: DeepLabv3+-R50-D8
# with DownsizeNet at 0.3x on VOC2012 + SBD aug for 300 epochs. An epoch is
# 12,046 images (mmseg's train + aug lists) at batch 16 (4 GPUs x 4), so
# 300 epochs = 225862 iterations (poly schedule to the end). Then extract
# its resizer for the Light-Head R-CNN target:
#   python tools/transfer_resizer.py work_dirs/{this config}/iter_225862.pth \
#       work_dirs/transfer/deeplabv3plus_300e_resizer.pth \
#       --check configs/transfer/lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_300e.py
_base_ = ['../deeplabv3plus/deeplabv3plus_r50-d8_voc12aug_512x512_0.3x_downsize.py']

max_iters = 225862
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=max_iters // 10))
