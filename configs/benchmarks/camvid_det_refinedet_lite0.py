# A detection target on CamVid's own images (the transfer study's
# segmentation -> detection direction, docs/transfer.md): the bccd-lite0
# detector (RefineDet-style head on ImageNet EfficientNet-Lite0) on
# CamVidDet, boxes derived from CamVid's label maps (Car, Pedestrian,
# Bicyclist, SignSymbol; tools/camvid_to_boxes.py $MMRESIZE_DATA/camvid
# $MMRESIZE_DATA/camvid_det makes it). Its objects are small: median boxes
# of 8x15 (SignSymbol) to 29x28 px (Car) at 360x480, so 2-9 px at 0.3x; the
# anchors (in downsized pixels, 108x144 at 0.3x) start at 6 px.
# Used by tools/benchmark_accuracy.py --task camvid-det-lite0.
_base_ = ['./bccd_refinedet_lite0.py']

data_root = '{{$MMRESIZE_DATA:data}}/camvid_det/'

model = dict(
    bbox_head=dict(
        num_classes=4,
        anchor_generator=dict(
            input_size=144,
            min_sizes=[6, 14, 32, 64],
            max_sizes=[14, 32, 64, 128])))

_camvid_det = dict(
    type='CamVidDetDataset',
    data_root=data_root,
    data_prefix=dict(sub_data_root='CamVidDet/'))
train_dataloader = dict(dataset=dict(
    _delete_=True,
    ann_file='CamVidDet/ImageSets/Main/train.txt',
    filter_cfg=dict(filter_empty_gt=True),
    pipeline={{_base_.train_pipeline}},
    **_camvid_det))
val_dataloader = dict(dataset=dict(
    _delete_=True,
    ann_file='CamVidDet/ImageSets/Main/val.txt',
    test_mode=True,
    pipeline={{_base_.test_pipeline}},
    **_camvid_det))
test_dataloader = val_dataloader
