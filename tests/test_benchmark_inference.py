"""mmresize.benchmark.measure.inference_record: a run's inference cost (its
resizer included) and its latency against a bilinear twin."""
import os.path as osp

import pytest
from mmengine.runner import Runner

from mmresize.benchmark.cost import resizer_macs, task_macs
from mmresize.benchmark.measure import inference_record
from mmresize.resizers import DownsizeNet
from tests.data_factory import make_voc_segmentation
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_record_counts_the_resizer_and_times_a_bilinear_twin(tmp_path):
    cfg = tiny_config(
        osp.join(ROOT, 'configs', 'fcn',
                 'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py'),
        str(make_voc_segmentation(tmp_path)), tmp_path / 'work', iters=1)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    resizer = model.data_preprocessor.resizer
    assert isinstance(resizer, DownsizeNet)
    record = inference_record(runner, repeats=1)
    (H, W), (h, w) = record['input_hw'], record['downsized_hw']
    assert (h, w) == (int(H * 0.3 + 0.5), int(W * 0.3 + 0.5))
    assert record['resizer_gmacs'] * 1e9 == pytest.approx(
        resizer_macs(resizer, (H, W), (h, w)))
    assert record['task_gmacs'] * 1e9 == pytest.approx(task_macs(model, (h, w)))
    assert record['model_gmacs'] == pytest.approx(
        record['resizer_gmacs'] + record['task_gmacs'])
    assert record['latency_ms'] > 0 and record['bilinear_latency_ms'] > 0
    assert record['latency_ratio'] == pytest.approx(
        record['latency_ms'] / record['bilinear_latency_ms'])
    # the twin is a copy: the run's own model keeps its resizer and mode
    assert model.data_preprocessor.resizer is resizer
    assert model.training
