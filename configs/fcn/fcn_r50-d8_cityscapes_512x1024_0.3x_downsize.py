# FCN-R50-D8 on Cityscapes (512x1024 crops, 1024x2048 test), downsized to 0.3x.
# DownsizeNet downsizes the full-resolution batch by `downsize_scale` inside
# the data preprocessor (Ma & Li, BMVC 2022: 0.3x); the loss is computed
# against full-resolution labels and predictions are resized back to the
# original image for mIoU.
_base_ = ['mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmresize.seg'], allow_failed_imports=False)

downsize_scale = 0.3

model = dict(
    data_preprocessor=dict(
        type='DownsizeSegDataPreProcessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale))
