# Bilinear twin of the lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_*
# configs (the transfer table's baseline).
_base_ = ['./lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_100e.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
