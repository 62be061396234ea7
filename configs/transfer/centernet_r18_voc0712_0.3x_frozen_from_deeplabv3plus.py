# Transfer, the paper's direction: the DownsizeNet trained inside
# DeepLabv3+ (configs/deeplabv3plus_downsize_voc.py, 0.3x), frozen, ahead of
# CenterNet-R18 on VOC07+12 at 0.3x. Produce `resizer_checkpoint` with
#   python tools/transfer_resizer.py SEG_CKPT work_dirs/transfer/seg_resizer.pth \
#       --check configs/transfer/centernet_r18_voc0712_0.3x_frozen_from_deeplabv3plus.py
# Compare against centernet_r18_voc0712_0.3x_bilinear.py.
_base_ = ['../centernet/centernet_r18_voc0712_downsize.py']
custom_imports = dict(
    imports=['mmresize.det'], allow_failed_imports=False)

downsize_scale = 0.3
resizer_checkpoint = 'work_dirs/transfer/seg_resizer.pth'

model = dict(
    data_preprocessor=dict(
        target_scale=downsize_scale,
        resizer=dict(
            _delete_=True,
            type='mmresize.DownsizeNet',
            frozen=True,
            init_cfg=dict(type='Pretrained', checkpoint=resizer_checkpoint))))
optim_wrapper = dict(constructor='FrozenAwareOptimWrapperConstructor')
