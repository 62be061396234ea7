# RefineDet-style detector (VGG16, ARM + TCB + ODM) on VOC07+12 trainval ->
# VOC07 test. The pipeline resizes images to 300x300; DownsizeNet (16
# neighbours, the paper's best variant here) downsizes them to 100x100 inside
# the data preprocessor, and the detector, with anchors designed for a
# 100x100 input, runs on that. Ma & Li, BMVC 2022, Table "RefineDet VOC07".
_base_ = ['mmdet::pascal_voc/ssd300_voc0712.py']
custom_imports = dict(imports=['mmresize.det'], allow_failed_imports=False)

downsized_size = (100, 100)  # (h, w) the detector sees

model = dict(
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet', kernel='bicubic'),
        target_size=downsized_size,
        pad_size_divisor=1),
    # four levels at strides 8/16/32/64: 13x13, 7x7, 4x4, 2x2 on 100x100
    neck=dict(
        out_channels=(512, 1024, 512, 256),
        level_strides=(2, 2),
        level_paddings=(1, 1)),
    bbox_head=dict(
        _delete_=True,
        type='RefineDetHead',
        num_classes=20,
        in_channels=(512, 1024, 512, 256),
        tcb_channels=256,
        neg_threshold=0.99,
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            input_size=downsized_size[0],
            strides=[8, 16, 32, 64],
            ratios=([2], [2], [2], [2]),
            min_sizes=[10, 20, 40, 70],
            max_sizes=[20, 40, 70, 100]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])))

# mmdet's SSD300 VOC training pipeline plus DropInvalidBoxes.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='DropInvalidBoxes'),
    dict(
        type='Expand',
        mean={{_base_.model.data_preprocessor.mean}},
        to_rgb={{_base_.model.data_preprocessor.bgr_to_rgb}},
        ratio_range=(1, 4)),
    dict(
        type='MinIoURandomCrop',
        min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
        min_crop_size=0.3),
    dict(type='Resize', scale=(300, 300), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='PackDetInputs')
]
_voc = dict(
    type='VOCDataset',
    data_root='data/VOCdevkit/',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline)
train_dataloader = dict(
    dataset=dict(
        dataset=dict(datasets=[
            dict(
                ann_file='VOC2007/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2007/'),
                **_voc),
            dict(
                ann_file='VOC2012/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2012/'),
                **_voc)
        ])))
