# The camvid-lite0 benchmark task (DeepLabv3+ on ImageNet EfficientNet-Lite0)
# with LearnedZoom: the resizer moves its samples to where a small network
# on a thumbnail finds saliency; ZoomEncoderDecoder unwarps the logits onto
# the original grid before the argmax, so mIoU is computed in original
# coordinates. Training labels are warped with the image by the
# preprocessor. tools/benchmark_accuracy.py --task camvid-lite0 --variants
# LearnedZoom runs the same (the catalogue switches the model type).
_base_ = ['./camvid_deeplabv3plus_lite0.py']

model = dict(
    type='ZoomEncoderDecoder',
    data_preprocessor=dict(resizer=dict(
        _delete_=True, type='mmresize.LearnedZoom', saliency='image',
        thumbnail=(64, 64), mix=0.5, max_log_ratio=1.0, filter='box')))
