"""mmresize.benchmark.measure.inference_record: a run's inference cost (its
resizer included) and its latency against a bilinear twin, for a segmentor
and a detector."""
import os.path as osp
from typing import List

import pytest
import torch
from mmengine.runner import Runner
from torch import nn

from mmresize.benchmark.cost import resizer_macs
from mmresize.benchmark.measure import inference_record
from mmresize.capture import resizer_calls
from mmresize.resizers import DownsizeNet
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'seg': 'fcn/fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py',
    'det': 'centernet/centernet_r18_voc0712_downsize.py',
}


def conv_and_linear_macs(model: nn.Module, data: dict) -> int:
    """Multiply-adds of every Conv2d / ConvTranspose2d / Linear in
    ``model``'s tensor-mode
    forward, counted from their output sizes by forward hooks: an
    independent lower bound of what FlopAnalyzer counts (it adds
    interpolation and matrix products)."""
    counts: List[int] = []

    def conv(m: nn.Conv2d, _, out: torch.Tensor) -> None:
        kh, kw = m.kernel_size
        counts.append(out.numel() * m.in_channels // m.groups * kh * kw)

    def deconv(m: nn.ConvTranspose2d, args, _) -> None:
        kh, kw = m.kernel_size  # each input value feeds kh kw C_out outputs
        counts.append(args[0].numel() * m.out_channels // m.groups * kh * kw)

    def linear(m: nn.Linear, _, out: torch.Tensor) -> None:
        counts.append(out.numel() * m.in_features)

    # subclasses too (mmcv wraps nn.Conv2d in its own Conv2d)
    kinds = ((nn.ConvTranspose2d, deconv), (nn.Conv2d, conv),
             (nn.Linear, linear))
    resizer = set(map(id, model.data_preprocessor.resizer.modules()))
    hooks = [m.register_forward_hook(next(f for k, f in kinds
                                          if isinstance(m, k)))
             for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
             and id(m) not in resizer]
    with torch.no_grad():
        model(data['inputs'], data['data_samples'], mode='tensor')
    for h in hooks:
        h.remove()
    return sum(counts)


@pytest.mark.parametrize('kind', list(CONFIGS))
def test_record_counts_the_resizer_and_times_a_bilinear_twin(
        kind, request, tmp_path):
    root = request.getfixturevalue('voc_seg_root' if kind == 'seg' else
                                   'voc_det_root')
    cfg = tiny_config(osp.join(ROOT, 'configs', CONFIGS[kind]), str(root),
                      tmp_path / 'work', iters=1, checkpoint=False)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    resizer = model.data_preprocessor.resizer
    assert isinstance(resizer, DownsizeNet)
    record = inference_record(runner, repeats=1)
    assert 'cost_error' not in record, record.get('cost_error')
    (H, W), (h, w) = record['input_hw'], record['downsized_hw']
    assert record['batch_hw'][0] >= h and record['batch_hw'][1] >= w
    assert record['resizer_gmacs'] * 1e9 == pytest.approx(
        resizer_macs(resizer, (H, W), (h, w)))
    # the model's share, against convolutions counted by hand on the batch
    # the preprocessor makes of the first test image
    batch = next(iter(runner.build_dataloader(dict(
        cfg.test_dataloader, batch_size=1, num_workers=0,
        persistent_workers=False))))
    model.eval()
    with torch.no_grad(), resizer_calls(resizer) as calls:
        data = model.data_preprocessor(batch, False)
    assert tuple(calls[0][0].shape[-2:]) == (H, W) and calls[0][1] == (h, w)
    floor = conv_and_linear_macs(model, data)
    assert floor <= record['task_gmacs'] * 1e9 <= 1.05 * floor
    model.train()
    assert record['model_gmacs'] == pytest.approx(
        record['resizer_gmacs'] + record['task_gmacs'])
    assert record['latency_ms'] > 0 and record['bilinear_latency_ms'] > 0
    assert record['latency_ratio'] == pytest.approx(
        record['latency_ms'] / record['bilinear_latency_ms'])
    # the twin is a copy: the run's own model keeps its resizer and mode
    assert model.data_preprocessor.resizer is resizer
    assert model.training
