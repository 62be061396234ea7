# Real-data benchmark, second segmentor of the paper's: SPNet's head
# (mmresize's SPHead: the strip pooling module and two mixed pooling
# modules) on the same ResNet-18 (output stride 16) as
# camvid_deeplabv3plus_r18_os16.py, from scratch on CamVid. Data, schedule,
# label resolution in the loss and evaluation (mIoU at the original
# 360x480) are inherited; only the decode head differs (no auxiliary head,
# as the DeepLabv3+ benchmark). Pyramid pooling sizes (4, 2) for the 7x9
# feature maps of a 0.3x CamVid image. Used by
# tools/benchmark_accuracy.py --task camvid-spnet.
_base_ = ['./camvid_deeplabv3plus_r18_os16.py']

model = dict(
    decode_head=dict(
        _delete_=True,
        type='SPHead',
        in_channels=512,
        in_index=3,
        mid_channels=256,
        channels=128,
        pool_sizes=(4, 2),
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        ignore_index=11,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)))
