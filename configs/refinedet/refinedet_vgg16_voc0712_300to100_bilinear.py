# Bilinear twin of refinedet_vgg16_voc0712_300to100_downsize.py: identical
# but for the resizer.
_base_ = ['./refinedet_vgg16_voc0712_300to100_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
