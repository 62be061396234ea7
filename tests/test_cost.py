"""mmresize.benchmark.cost against multiply-adds counted by hand."""
import pytest
import torch
from torch import nn

from mmresize.benchmark.cost import inference_cost, resizer_macs, task_macs
from mmresize.resizers import DownsizeNet, InterpolateResizer


@pytest.mark.parametrize('in_hw,out_hw', [((60, 80), (18, 24)),
                                          ((45, 70), (20, 31))])
def test_downsizenet_macs_by_hand(in_hw, out_hw):
    (H, W), (h, w) = in_hw, out_hw
    # dense 3x3 conv 3 -> 16 over every input pixel; 3x3 conv 16 -> 16 at
    # the h w anchors; 1x1 conv over [16 features, K = 4 distances] -> K
    expected = 3 * 16 * 9 * H * W + 16 * 16 * 9 * h * w + (16 + 4) * 4 * h * w
    assert resizer_macs(DownsizeNet(), in_hw, out_hw) == expected
    # one more conv layer: one more dense 16 -> 16 3x3 conv at full size
    assert (resizer_macs(DownsizeNet(num_convs=3), in_hw, out_hw)
            == expected + 16 * 16 * 9 * H * W)


def test_fixed_interpolation_counts_its_reads():
    # mmengine's convention: bilinear 4 multiply-adds per output value
    # (4 neighbours), area one per input value
    assert resizer_macs(InterpolateResizer(), (60, 80), (18, 24)) == \
        4 * 3 * 18 * 24
    assert resizer_macs(InterpolateResizer(mode='area'), (60, 80),
                        (18, 24)) == 3 * 60 * 80


class _Tiny(nn.Module):
    """A stand-in task model: one 3x3 conv 3 -> 8 (no bias) at stride 1."""

    def __init__(self, resizer: nn.Module) -> None:
        super().__init__()
        self.data_preprocessor = nn.Module()
        self.data_preprocessor.resizer = resizer
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor, data_samples=None,
                mode: str = 'tensor') -> torch.Tensor:
        return self.conv(x)


def test_inference_cost_adds_resizer_and_task():
    model = _Tiny(DownsizeNet())
    assert task_macs(model, torch.rand(1, 3, 18, 24)) == 3 * 8 * 9 * 18 * 24
    # the model is counted on the batch it gets: here padded to 20 x 24
    cost = inference_cost(model, (60, 80), (18, 24), torch.rand(1, 3, 20, 24))
    assert cost['batch_hw'] == [20, 24]
    assert cost['task_gmacs'] * 1e9 == pytest.approx(3 * 8 * 9 * 20 * 24)
    assert cost['resizer_gmacs'] * 1e9 == pytest.approx(
        resizer_macs(DownsizeNet(), (60, 80), (18, 24)))
    assert cost['model_gmacs'] == pytest.approx(cost['resizer_gmacs']
                                                + cost['task_gmacs'])
    assert model.training  # left as it was


@pytest.mark.parametrize('training', [True, False])
def test_counting_leaves_every_module_in_its_mode(training):
    # an eval model stays in eval mode (the latency timed after it, batch 1,
    # would otherwise run batch norm in training mode), and a frozen part of
    # a training model stays frozen
    model = _Tiny(DownsizeNet()).train(training)
    model.data_preprocessor.resizer.eval()
    modes = [m.training for m in model.modules()]
    inference_cost(model, (60, 80), (18, 24), torch.rand(1, 3, 18, 24))
    assert [m.training for m in model.modules()] == modes
