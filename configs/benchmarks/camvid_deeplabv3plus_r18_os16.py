# Real-data benchmark: CamVid (11 classes, void ignored), 360x480 images
# downsized by `downsize_scale` inside the preprocessor; DeepLabv3+ with a
# ResNet-18 (output stride 16), trained from scratch (no pretrained weights
# offline). The loss is computed at the downsized input scale
# (downsize_labels=True, the same for every resizer); mIoU is always computed
# at the original 360x480. Data: $MMRESIZE_DATA/camvid (default
# data/camvid, relative to where the tools run).
# Used by tools/benchmark_accuracy.py, which sets the resizer and schedule.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(
    imports=['mmresize.seg'],
    allow_failed_imports=False)

data_root = '{{$MMRESIZE_DATA:data}}/camvid/'
downsize_scale = 0.3
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='DownsizeSegDataPreProcessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale,
        downsize_labels=True,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size_divisor=1,
        pad_val=0,
        seg_pad_val=11),
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        in_channels=512,
        in_index=3,
        channels=128,
        dilations=(1, 6, 12, 18),
        c1_in_channels=64,
        c1_channels=48,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        ignore_index=11,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CamVidDataset',
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CamVidDataset',
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# void (label 11) is not scored: mmseg's IoUMetric has its own ignore_index
# (255 by default), and with it the predictions on void pixels counted in
# each class's union (results before mmresize 0.3.0.dev0's 'camvid void'
# fix; docs/benchmarks.md)
val_evaluator = dict(
    type='PerClassIoUMetric', iou_metrics=['mIoU'], ignore_index=11)
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10))
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10**6)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters))
# How far the resizer's output is from bilinear, in the log; and an
# exponential moving average of the weights (resizer included), which the
# test evaluates: it averages out the last iterations' noise, so paired
# runs differ less by chance. mmresize.engine.schedules.set_iterations sets its
# momentum to 10 / iterations (an average over the last tenth or so).
custom_hooks = [
    dict(type='ResizerDriftHook', interval=10),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01,
         update_buffers=True, priority=49)
]
