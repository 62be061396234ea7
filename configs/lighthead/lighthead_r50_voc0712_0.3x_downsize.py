# Light-Head R-CNN with ResNet-50 and the light head (C_mid = 64), otherwise
# as lighthead_r101_voc0712_0.3x_downsize.py.
_base_ = ['./lighthead_r101_voc0712_0.3x_downsize.py']

model = dict(
    backbone=dict(
        depth=50,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(mid_channels=64))
