# Bilinear twin of deeplabv3plus_r50-d8_cityscapes_512x1024_0.3x_downsize.py: identical but for the resizer.
_base_ = ['./deeplabv3plus_r50-d8_cityscapes_512x1024_0.3x_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
