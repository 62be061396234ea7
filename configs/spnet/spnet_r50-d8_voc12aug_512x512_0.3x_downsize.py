# SPNet (Hou et al., "Strip Pooling", CVPR 2020): dilated ResNet-50-D8, the
# strip pooling module and two mixed pooling modules in mmresize's SPHead,
# and mmseg's auxiliary FCN head, on VOC2012 + SBD aug (512x512 crops),
# images downsized to 0.3x by DownsizeNet inside the data preprocessor (Ma &
# Li, BMVC 2022). The MPMs' pyramid pooling sizes are the paper's (20, 12)
# scaled to the 0.3x feature maps (about 19 pixels at 1/8 of a 0.3x crop,
# where the paper's were ~97). Data, schedule and auxiliary head: mmseg's
# pspnet_r50-d8_4xb4-40k_voc12aug-512x512.py.
_base_ = ['mmseg::pspnet/pspnet_r50-d8_4xb4-40k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmresize.seg'], allow_failed_imports=False)

downsize_scale = 0.3
pool_sizes = (4, 2)
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    data_preprocessor=dict(
        type='DownsizeSegDataPreProcessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale),
    decode_head=dict(
        _delete_=True,
        type='SPHead',
        in_channels=2048,
        in_index=3,
        mid_channels=1024,
        channels=512,
        pool_sizes=pool_sizes,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
