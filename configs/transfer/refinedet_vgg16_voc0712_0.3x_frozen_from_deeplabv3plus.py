# Transfer, the paper's direction: the DownsizeNet trained inside DeepLabv3+
# (configs/deeplabv3plus_downsize_voc.py, 0.3x), frozen, ahead of the
# RefineDet-style detector (300x300 -> 100x100, i.e. 0.33x). The source
# resizer has the default arguments (4 neighbours), so the target does too.
# Compare against ../refinedet/refinedet_vgg16_voc0712_300to100_bilinear.py.
_base_ = ['../refinedet/refinedet_vgg16_voc0712_300to100_downsize.py']
custom_imports = dict(
    imports=['mmresize.det'], allow_failed_imports=False)

resizer_checkpoint = 'work_dirs/transfer/seg_resizer.pth'

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True,
            type='mmresize.DownsizeNet',
            frozen=True,
            init_cfg=dict(type='Pretrained', checkpoint=resizer_checkpoint))))
optim_wrapper = dict(constructor='FrozenAwareOptimWrapperConstructor')
