# CenterNet (ResNet-18) on VOC07+12 trainval -> VOC07 test, DownsizeNet at
# `downsize_scale`. Same model and pipelines as the COCO config.
_base_ = ['./centernet_r18_coco_downsize.py']

downsize_scale = 0.5
dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'

model = dict(
    data_preprocessor=dict(target_scale=downsize_scale),
    bbox_head=dict(num_classes=20))


def _voc(year, split, pipeline, test_mode=False):
    return dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=f'VOC{year}/ImageSets/Main/{split}.txt',
        data_prefix=dict(sub_data_root=f'VOC{year}/'),
        test_mode=test_mode,
        filter_cfg=None if test_mode else dict(
            filter_empty_gt=True, min_size=32),
        pipeline=pipeline)


train_dataloader = dict(
    dataset=dict(
        times=5,
        dataset=dict(
            _delete_=True,
            type='ConcatDataset',
            ignore_keys=['dataset_type'],
            datasets=[
                _voc(2007, 'trainval', {{_base_.train_pipeline}}),
                _voc(2012, 'trainval', {{_base_.train_pipeline}})
            ])))
val_dataloader = dict(
    dataset=dict(
        _delete_=True, **_voc(2007, 'test', {{_base_.test_pipeline}}, True)))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator
