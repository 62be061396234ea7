# The bccd-lite0 benchmark task (RefineDet-style head on ImageNet
# EfficientNet-Lite0) with LearnedZoom: training boxes are warped with the
# image by the preprocessor; ZoomSingleStageDetector unwarps the predicted
# boxes through the exact inverse maps before mapping them to the original
# image, so mAP is computed in original coordinates.
# tools/benchmark_accuracy.py --task bccd-lite0 --variants LearnedZoom runs
# the same (the catalogue switches the model type).
_base_ = ['./bccd_refinedet_lite0.py']

model = dict(
    type='ZoomSingleStageDetector',
    data_preprocessor=dict(resizer=dict(
        _delete_=True, type='mmresize.LearnedZoom', saliency='image',
        thumbnail=(64, 64), mix=0.5, max_log_ratio=1.0, filter='box')))
