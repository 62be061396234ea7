# Real-data benchmark, two-stage detector: Light-Head R-CNN (mmresize's
# LightHeadRCNN) on a ResNet-18 (C4 for the RPN, dilated C5 for the thin
# feature map, both stride 16), light head (C_mid = 64, 10 x 7 x 7 thin map,
# PS RoI Align, one fc of 2048), trained from scratch on BCCD. Data,
# evaluation (VOC mAP at IoU 0.5 in original coordinates, per-class AP) and
# test pipeline come from bccd_refinedet_r18.py; only the model and the
# schedule differ. Anchors are in pixels of the 0.3x image (192x144): 8 to
# 64 px, for platelets (~10-15 px) to white cells (~50 px). Used by
# tools/benchmark_accuracy.py --task bccd-lighthead.
_base_ = ['./bccd_refinedet_r18.py']

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    _delete_=True,
    type='LightHeadRCNN',
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale={{_base_.downsize_scale}},
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=16),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='LightHeadNeck',
        in_channels=(256, 512),
        mid_channels=64,
        ps_channels=10,
        roi_size=7,
        kernel_size=15),
    rpn_head=dict(
        type='LevelRPNHead',
        in_index=(1, ),
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[0.5, 1, 2, 4],
            ratios=[0.5, 1.0, 2.0],
            strides=[16]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='PSRoIExtractor',
            out_channels=10,
            output_size=7,
            featmap_strides=[16]),
        bbox_head=dict(
            type='ConvFCBBoxHead',
            num_shared_convs=0,
            num_shared_fcs=1,
            in_channels=10,
            fc_out_channels=2048,
            roi_feat_size=7,
            num_classes=3,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=2000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=2000,
            max_per_img=300,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.02,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=200)))
