# Bilinear twin of spnet_r50-d8_cityscapes_512x1024_0.3x_downsize.py.
_base_ = ['./spnet_r50-d8_cityscapes_512x1024_0.3x_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
