"""MullerResizer (Tu, Milanfar & Talebi, ICCV 2023) against independent
references: F.interpolate, a dense 2-D Gaussian convolution, and the
paper's formula evaluated step by step."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from mmresize.registry import MODELS
from mmresize.resizers import MullerResizer


def dense_gaussian_blur(x: torch.Tensor, size: int,
                        sigma: float) -> torch.Tensor:
    """The blur as one dense 2-D convolution with exp(-(i^2 + j^2) / 2s^2)
    taps, computed from the formula, zero padding."""
    r = size // 2
    taps = torch.tensor([[math.exp(-(i * i + j * j) / (2 * sigma * sigma))
                          for j in range(-r, r + 1)]
                         for i in range(-r, r + 1)], dtype=x.dtype)
    taps = taps / taps.sum()
    channels = x.shape[1]
    return F.conv2d(x, taps.expand(channels, 1, size, size), padding=r,
                    groups=channels)


def test_zero_start_is_the_base_resize():
    x = torch.randn(2, 3, 41, 57)
    for mode in ('bilinear', 'bicubic'):
        for antialias in (False, True):
            model = MullerResizer(base_mode=mode, antialias=antialias)
            expected = F.interpolate(x, (13, 17), mode=mode,
                                     align_corners=False, antialias=antialias)
            torch.testing.assert_close(model(x, (13, 17)), expected, rtol=0,
                                       atol=0)


@pytest.mark.parametrize('num_layers', [1, 2, 3])
def test_matches_the_paper_formula(num_layers):
    """y = R(x) + sum_k tanh(w_k R(G(x_{k-1}) - x_{k-1}) + b_k)."""
    torch.manual_seed(0)
    model = MullerResizer(num_layers=num_layers, kernel_size=5, sigma=1.3)
    with torch.no_grad():
        model.weight.copy_(torch.randn(num_layers))
        model.bias.copy_(0.1 * torch.randn(num_layers))
    x = torch.randn(2, 3, 30, 44)
    size = (9, 13)

    def resize(t):
        return F.interpolate(t, size, mode='bilinear', align_corners=False)

    expected, level = resize(x), x
    for k in range(num_layers):
        blurred = dense_gaussian_blur(level, 5, 1.3)
        expected = expected + torch.tanh(
            model.weight[k] * resize(blurred - level) + model.bias[k])
        level = blurred
    torch.testing.assert_close(model(x, size), expected, rtol=1e-5,
                               atol=1e-5)


def test_parameters_shapes_and_registry():
    model = MODELS.build(dict(type='mmresize.MullerResizer'))
    assert sum(p.numel() for p in model.parameters()) == 4  # 2 per layer
    for size in ((11, 7), (40, 60)):  # downsizing and upsizing
        assert model(torch.rand(2, 3, 33, 47), size).shape == (2, 3, *size)
    assert model(torch.rand(1, 5, 20, 20), (5, 5)).shape == (1, 5, 5, 5)


@pytest.mark.parametrize('scale', [0.0, 1.0, 30.0])
@pytest.mark.parametrize('size', [(4, 5), (12, 15), (7, 9)])
def test_gradcheck(scale, size):
    """float64; scale 30 saturates the tanh; (12, 15) is the input size
    itself and (7, 9) a non-integer factor, from 12 x 15."""
    torch.manual_seed(0)
    model = MullerResizer(num_layers=2).double()
    with torch.no_grad():
        model.weight.copy_(scale * torch.randn(2, dtype=torch.float64))
        model.bias.copy_(0.1 * scale * torch.randn(2, dtype=torch.float64))
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_()
                   for p in model.parameters())
    x = torch.randn(1, 3, 12, 15, dtype=torch.float64, requires_grad=True)

    def run(image, *weights):
        return functional_call(model, dict(zip(names, weights)),
                               (image, size))

    assert torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-5)


def test_learns_detail_bilinear_drops():
    """Trained alone towards a sharpened target it beats its own start."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 60, 80)
    size = (18, 24)
    base = F.interpolate(x, size, mode='bilinear', align_corners=False)
    detail = F.interpolate(dense_gaussian_blur(x, 5, 1.0) - x, size,
                           mode='bilinear', align_corners=False)
    target = base + torch.tanh(-1.5 * detail)
    model = MullerResizer()
    optim = torch.optim.Adam(model.parameters(), lr=0.05)
    start = F.mse_loss(model(x, size), target).item()
    for _ in range(60):
        optim.zero_grad()
        loss = F.mse_loss(model(x, size), target)
        loss.backward()
        optim.step()
    assert loss.item() < 0.2 * start


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_layers=0), 'num_layers'), (dict(kernel_size=4), 'odd'),
    (dict(sigma=0), 'sigma'), (dict(base_mode='area'), 'base_mode')])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MullerResizer(**kwargs)


def test_frozen():
    model = MullerResizer(frozen=True)
    assert not any(p.requires_grad for p in model.parameters())
