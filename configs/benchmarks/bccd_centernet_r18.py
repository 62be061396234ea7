# Real-data benchmark: BCCD (3 classes; Platelets are small), 640x480
# images downsized by `downsize_scale` inside the preprocessor; CenterNet
# with ResNet-18 from scratch. mAP (VOC, IoU 0.5) with per-class AP, in
# original image coordinates. Data: $MMRESIZE_DATA/bccd (default
# data/bccd, relative to where the tools run). Used by
# tools/benchmark_accuracy.py --task bccd-centernet.
_base_ = ['mmdet::centernet/centernet_r18_8xb16-crop512-140e_coco.py']
custom_imports = dict(
    imports=['mmresize.det'],
    allow_failed_imports=False)

data_root = '{{$MMRESIZE_DATA:data}}/bccd/'
downsize_scale = 0.3

model = dict(
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale,
        pad_size_divisor=32),
    backbone=dict(init_cfg=None),
    bbox_head=dict(num_classes=3))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='DropInvalidBoxes'),  # BCCD has two zero-area boxes
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(
        type='RandomCenterCropPad',
        ratios=None,
        border=None,
        mean=[0, 0, 0],
        std=[1, 1, 1],
        to_rgb=True,
        test_mode=True,
        test_pad_mode=['logical_or', 31],
        test_pad_add_pix=1),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'border'))
]
_bccd = dict(
    type='BCCDDataset',
    data_root=data_root,
    data_prefix=dict(sub_data_root='BCCD/'))
train_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        ann_file='BCCD/ImageSets/Main/train.txt',
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
        **_bccd))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        ann_file='BCCD/ImageSets/Main/test.txt',
        test_mode=True,
        pipeline=test_pipeline,
        **_bccd))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='PerClassVOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=50, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=10**6)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters))
log_processor = dict(by_epoch=False)
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
