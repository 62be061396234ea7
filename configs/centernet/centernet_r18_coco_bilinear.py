# Bilinear twin of centernet_r18_coco_downsize.py.
_base_ = ['./centernet_r18_coco_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
