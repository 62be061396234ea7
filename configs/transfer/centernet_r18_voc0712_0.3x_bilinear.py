# Bilinear twin of centernet_r18_voc0712_0.3x_frozen_from_deeplabv3plus.py.
_base_ = ['./centernet_r18_voc0712_0.3x_frozen_from_deeplabv3plus.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
