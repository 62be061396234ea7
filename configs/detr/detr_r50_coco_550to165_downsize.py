# DETR (ResNet-50) on COCO at the paper's 165x165 input: the pipeline
# resizes images to 550x550 and DownsizeNet downsizes them by
# `downsize_scale` (0.3 -> 165x165) inside the data preprocessor.
_base_ = ['mmdet::detr/detr_r50_8xb2-150e_coco.py']
custom_imports = dict(imports=['mmresize.det'], allow_failed_imports=False)

downsize_scale = 0.3
pipeline_size = (550, 550)  # (w, h) given to mmdet's Resize

model = dict(
    data_preprocessor=dict(
        type='DownsizeDetDataPreprocessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale,
        pad_size_divisor=1))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='DropInvalidBoxes'),  # zero-area / outside boxes, with a warning
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=pipeline_size, keep_ratio=False),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=pipeline_size, keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
