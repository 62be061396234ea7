# Transfer table (Ma & Li, BMVC 2022, Table 3), target: Light-Head R-CNN
# (ResNet-101) on VOC2007 trainval -> VOC2007 test at 0.3x, 10 epochs, with
# the DownsizeNet trained inside DeepLabv3+ for 100 epochs
# (deeplabv3plus_r50-d8_voc12aug_0.3x_downsize_100e.py) frozen ahead of it.
# The paper: the longer the resizer was pretrained (100 / 200 / 300 epochs:
# the _200e and _300e configs), the larger the gain over bilinear
# (lighthead_r101_voc07_0.3x_bilinear.py).
_base_ = ['../lighthead/lighthead_r101_voc0712_0.3x_downsize.py']

resizer_checkpoint = 'work_dirs/transfer/deeplabv3plus_100e_resizer.pth'
max_epochs = 10

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True,
            type='mmresize.DownsizeNet',
            frozen=True,
            init_cfg=dict(type='Pretrained', checkpoint=resizer_checkpoint))))
optim_wrapper = dict(constructor='FrozenAwareOptimWrapperConstructor')

train_dataloader = dict(
    dataset=dict(
        times=1,
        dataset=dict(
            _delete_=True,
            type='VOCDataset',
            data_root={{_base_.data_root}},
            ann_file='VOC2007/ImageSets/Main/trainval.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
            pipeline={{_base_.train_pipeline}},
            backend_args=None)))
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[8], gamma=0.1)
]
