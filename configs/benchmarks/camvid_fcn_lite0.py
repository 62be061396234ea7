# Real-data benchmark in the pretrained regime, second segmentation head: an
# FCN head (2 convs, input concatenated) on the ImageNet-pretrained
# EfficientNet-Lite0 of camvid_deeplabv3plus_lite0.py (output stride 16,
# normalisation, schedule, optimiser and evaluation from there); the head
# reads level 3 (stride 16, 320 channels). A target of the frozen-transfer
# study (segmentation -> another segmentation pipeline on the same images,
# docs/transfer.md). Used by tools/benchmark_accuracy.py --task
# camvid-fcn-lite0.
_base_ = ['./camvid_deeplabv3plus_lite0.py']

model = dict(
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=320,
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
