# As lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_100e.py, with the
# resizer of the 300-epoch DeepLabv3+ run.
_base_ = ['./lighthead_r101_voc07_0.3x_frozen_from_deeplabv3plus_100e.py']

resizer_checkpoint = 'work_dirs/transfer/deeplabv3plus_300e_resizer.pth'
model = dict(
    data_preprocessor=dict(
        resizer=dict(init_cfg=dict(checkpoint=resizer_checkpoint))))
