# Bilinear twin of lighthead_r50_voc0712_0.3x_downsize.py.
_base_ = ['./lighthead_r50_voc0712_0.3x_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
