# Real-data benchmark, second detector: the RefineDet-style detector (ARM +
# TCB + ODM, mmresize.det.RefineDetHead) on a ResNet-18 + SSDNeck, trained
# from scratch on BCCD. Data, schedule and evaluation (VOC mAP at IoU 0.5 in
# original 640x480 coordinates, per-class AP) come from bccd_centernet_r18.py;
# only the model and the test pipeline differ. Anchors are in pixels of the
# downsized image and sized for the 0.3x factor (192x144): blood cells are
# ~30-60 px there, platelets ~10-15 px. Used by
# tools/benchmark_accuracy.py --task bccd.
_base_ = ['./bccd_centernet_r18.py']

model = dict(
    _delete_=True,
    type='SingleStageDetector',
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale={{_base_.downsize_scale}},
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    # strides 8/16/32 from ResNet-18 plus one extra level at stride 64
    neck=dict(
        type='SSDNeck',
        in_channels=(128, 256, 512),
        out_channels=(128, 256, 512, 256),
        level_strides=(2, ),
        level_paddings=(1, ),
        l2_norm_scale=None,
        norm_cfg=dict(type='BN', requires_grad=True)),
    bbox_head=dict(
        type='RefineDetHead',
        num_classes=3,
        in_channels=(128, 256, 512, 256),
        tcb_channels=128,
        neg_threshold=0.99,
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            input_size=192,
            strides=[8, 16, 32, 64],
            ratios=([2], [2], [2], [2]),
            min_sizes=[10, 24, 48, 88],
            max_sizes=[24, 48, 88, 144]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.45),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
