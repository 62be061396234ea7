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
