# Real-data benchmark, second segmentor: FCN (two 3x3 convs, input concat)
# on the same ResNet-18 (output stride 16) as camvid_deeplabv3plus_r18_os16.py,
# from scratch on CamVid. Data, schedule, label resolution in the loss and
# evaluation (mIoU at the original 360x480) are inherited; only the decode
# head differs. Used by tools/benchmark_accuracy.py --task camvid-fcn.
_base_ = ['./camvid_deeplabv3plus_r18_os16.py']

model = dict(
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=512,
        in_index=3,
        channels=128,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        ignore_index=11,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)))
