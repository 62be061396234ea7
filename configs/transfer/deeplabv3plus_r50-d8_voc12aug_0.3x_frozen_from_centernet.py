# Transfer, the reverse direction (worse than bilinear in the paper): the
# DownsizeNet trained inside CenterNet-R18 on VOC07+12 at 0.3x
# (../centernet/centernet_r18_voc0712_downsize.py with
# --cfg-options model.data_preprocessor.target_scale=0.3), frozen, ahead of
# DeepLabv3+ on VOC12aug at 0.3x. Compare against
# ../deeplabv3plus/deeplabv3plus_r50-d8_voc12aug_512x512_0.3x_bilinear.py.
_base_ = [
    '../deeplabv3plus/deeplabv3plus_r50-d8_voc12aug_512x512_0.3x_downsize.py'
]
custom_imports = dict(
    imports=['mmresize.seg'], allow_failed_imports=False)

resizer_checkpoint = 'work_dirs/transfer/det_resizer.pth'

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True,
            type='mmresize.DownsizeNet',
            frozen=True,
            init_cfg=dict(type='Pretrained', checkpoint=resizer_checkpoint))))
optim_wrapper = dict(constructor='FrozenAwareOptimWrapperConstructor')
