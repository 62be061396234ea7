# DeepLabv3+-R50-D8 on VOC2012 + SBD aug (512x512 crops), images downsized to 0.3x.
# DownsizeNet downsizes the full-resolution batch by `downsize_scale` inside
# the data preprocessor (Ma & Li, BMVC 2022: 0.3x); the loss is computed
# against full-resolution labels and predictions are resized back to the
# original image for mIoU.
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmresize.seg'], allow_failed_imports=False)

downsize_scale = 0.3

model = dict(
    data_preprocessor=dict(
        type='DownsizeSegDataPreProcessor',
        resizer=dict(type='mmresize.DownsizeNet'),
        target_scale=downsize_scale))
