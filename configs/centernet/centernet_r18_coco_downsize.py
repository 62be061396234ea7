# CenterNet (ResNet-18) on COCO with DownsizeNet ahead of the backbone: the
# pipeline's 512x512 crops (and test images) are downsized by
# `downsize_scale` inside the data preprocessor.
_base_ = ['mmdet::centernet/centernet_r18_8xb16-crop512-140e_coco.py']
custom_imports = dict(imports=['mmresize.det'], allow_failed_imports=False)

downsize_scale = 0.5  # factor applied to the padded batch

model = dict(
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale,
        pad_size_divisor=32))

# mmdet's CenterNet train pipeline plus DropInvalidBoxes (bad annotations are
# dropped with a warning naming the file, instead of breaking the loss).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='DropInvalidBoxes'),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(
        type='RandomCenterCropPad',
        crop_size=(512, 512),
        ratios=(0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3),
        mean=[0, 0, 0],
        std=[1, 1, 1],
        to_rgb=True,
        test_pad_mode=None),
    dict(type='Resize', scale=(512, 512), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
