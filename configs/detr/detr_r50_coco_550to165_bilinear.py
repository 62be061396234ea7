# Bilinear twin of detr_r50_coco_550to165_downsize.py.
_base_ = ['./detr_r50_coco_550to165_downsize.py']

model = dict(
    data_preprocessor=dict(
        resizer=dict(
            _delete_=True, type='mmresize.InterpolateResizer',
            mode='bilinear')))
