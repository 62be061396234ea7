"""The resizer core: DownsizeNet, LearnableResizer, InterpolateResizer."""
import math
import random
from typing import List, Tuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from mmresize.resizers import DownsizeNet, InterpolateResizer, LearnableResizer
from mmresize.resizers.downsizenet import (
    bilinear_logits,
    normalised_coefficients,
    smoothed_prior,
)

MODES = [(kernel, act, init) for kernel in ('bilinear', 'bicubic')
         for act in ('softmax', 'sigmoid')
         for init in ('near_bilinear', 'random')]


def random_sizes(count: int, seed: int = 0) -> List[Tuple[int, ...]]:
    """(H, W, h, w) cases: random factors plus the edge cases."""
    rng = random.Random(seed)
    cases = [(37, 53, 11, 17), (30, 30, 10, 10), (20, 31, 1, 7), (9, 5, 9, 1),
             (16, 24, 16, 24), (7, 9, 20, 31), (12, 12, 5, 12), (3, 2, 1, 1)]
    for _ in range(count):
        big_h, big_w = rng.randint(2, 60), rng.randint(2, 60)
        cases.append((big_h, big_w, rng.randint(1, 70), rng.randint(1, 70)))
    return cases


def perturbed(model: DownsizeNet, seed: int = 0) -> DownsizeNet:
    """The model with a random coefficient conv, so coefficients vary."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.coef_conv.parameters():
            param.copy_(torch.randn(param.shape, generator=gen))
    return model


def brute_force_neighbours(big: int, small: int, kernel: str) -> List[List[int]]:
    """Neighbour indices along one axis, from the written definition, with
    the source coordinate in float32 as PyTorch's float kernels compute it
    (a coordinate of 15.0 in exact arithmetic may be 14.999999 there)."""
    out = []
    scale = np.float32(big / small)
    for j in range(small):
        u = float(scale * np.float32(j + 0.5) - np.float32(0.5))
        if kernel == 'bilinear':
            x0 = math.floor(max(u, 0.0))
            taps = [x0, x0 + 1]
        else:
            x0 = math.floor(u)
            taps = [x0 - 1, x0, x0 + 1, x0 + 2]
        out.append([min(max(t, 0), big - 1) for t in taps])
    return out


def neighbour_mean(x: torch.Tensor, h: int, w: int,
                   kernel: str) -> torch.Tensor:
    """Mean of the K neighbours of every output pixel, from the definition."""
    rows = brute_force_neighbours(x.shape[2], h, kernel)
    cols = brute_force_neighbours(x.shape[3], w, kernel)
    out = torch.empty(*x.shape[:2], h, w)
    for i in range(h):
        for j in range(w):
            out[:, :, i, j] = x[:, :, rows[i]][:, :, :, cols[j]].mean((2, 3))
    return out


@pytest.mark.parametrize('case', random_sizes(30))
def test_near_bilinear_start(case):
    """At the start the output is (1 - eps) bilinear + eps (neighbour mean):
    F.interpolate and a brute-force mean are the references, so it is within
    eps * (max - min) of bilinear, as the docstring promises."""
    big_h, big_w, h, w = case
    x = torch.rand(2, 3, big_h, big_w)
    bilinear = F.interpolate(x, (h, w), mode='bilinear', align_corners=False)
    for kernel in ('bilinear', 'bicubic'):
        mean = neighbour_mean(x, h, w, kernel)
        for act in ('softmax', 'sigmoid'):
            for eps in (0.01, 0.05, 0.3):
                model = DownsizeNet(kernel=kernel, coef_act=act,
                                    init='near_bilinear', init_eps=eps)
                model.init_weights()
                out = model(x, (h, w))
                assert out.shape == (2, 3, h, w)
                torch.testing.assert_close(
                    out, (1 - eps) * bilinear + eps * mean, rtol=0, atol=1e-5)
                assert (out - bilinear).abs().max() <= eps * (
                    x.max() - x.min()) + 1e-5


def test_batch_independence():
    model = perturbed(DownsizeNet(kernel='bicubic'))
    x = torch.rand(4, 3, 41, 29)
    whole = model(x, (13, 10))
    single = torch.cat([model(x[i:i + 1], (13, 10)) for i in range(4)])
    torch.testing.assert_close(whole, single, rtol=0, atol=1e-6)


@pytest.mark.parametrize('kernel,act,init', MODES)
def test_coefficients_convex_and_output_within_neighbours(kernel, act, init):
    torch.manual_seed(0)
    model = perturbed(DownsizeNet(kernel=kernel, coef_act=act, init=init))
    big_h, big_w, h, w = 23, 31, 7, 10
    x = torch.randn(2, 3, big_h, big_w)
    out, coef = model.resize_with_coefficients(x, (h, w))
    assert coef.dtype == torch.float32
    assert coef.shape == (2, 4 if kernel == 'bilinear' else 16, h, w)
    assert coef.min() >= 0
    torch.testing.assert_close(coef.sum(1), torch.ones(2, h, w))
    rows = brute_force_neighbours(big_h, h, kernel)
    cols = brute_force_neighbours(big_w, w, kernel)
    for i in range(h):
        for j in range(w):
            patch = x[:, :, rows[i]][:, :, :, cols[j]].flatten(2)
            lo, hi = patch.min(-1).values, patch.max(-1).values
            assert (out[:, :, i, j] >= lo - 1e-5).all()
            assert (out[:, :, i, j] <= hi + 1e-5).all()


def set_coef_conv(model: DownsizeNet, regime: str, seed: int = 0) -> None:
    """Put the 1x1 conv in a regime: 'zero' (the near-bilinear start),
    'random' (moderate logits) or 'saturated' (logits of +-50: softmax and
    sigmoid flat, coefficients one-hot)."""
    gen = torch.Generator().manual_seed(seed)
    scale = dict(zero=0.0, random=1.0, saturated=50.0)[regime]
    with torch.no_grad():
        for param in model.coef_conv.parameters():
            param.copy_(scale * torch.randn(param.shape, generator=gen,
                                            dtype=param.dtype))


GRADCHECK_SIZES = {
    'integer': (12, 15, 4, 5),   # factor 3: every bilinear r is one-hot
    'non-integer': (11, 13, 4, 5),
    'upsizing': (5, 6, 7, 9),
}


def gradcheck_resizer(model: torch.nn.Module, sizes: str,
                      fast_mode: bool) -> bool:
    """float64 gradcheck of a resizer in its image and all its parameters."""
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in
                   model.parameters())
    big_h, big_w, h, w = GRADCHECK_SIZES[sizes]
    x = torch.rand(1, 3, big_h, big_w, dtype=torch.float64,
                   requires_grad=True)

    def run(image, *weights):
        return functional_call(model, dict(zip(names, weights)),
                               (image, (h, w)))

    return torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-5,
                                    fast_mode=fast_mode)


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
@pytest.mark.parametrize('init,eps', [('near_bilinear', 0.05),
                                      ('near_bilinear', 1e-6),
                                      ('near_bilinear', 0.999),
                                      ('random', None)])
@pytest.mark.parametrize('regime', ['zero', 'random', 'saturated'])
@pytest.mark.parametrize('sizes', list(GRADCHECK_SIZES))
def test_gradcheck(kernel, act, init, eps, regime, sizes):
    """Backward is the derivative of forward in every regime (float64): both
    starts, eps near both ends of (0, 1), zero, moderate and saturated
    coefficient logits, integer and non-integer factors, upsizing."""
    torch.manual_seed(0)
    kwargs = dict(init_eps=eps) if eps is not None else {}
    model = DownsizeNet(kernel=kernel, coef_act=act, init=init,
                        feat_channels=4, **kwargs).double()
    set_coef_conv(model, regime)
    assert gradcheck_resizer(model, sizes, fast_mode=True)


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
@pytest.mark.parametrize('regime,sizes', [('zero', 'integer'),
                                          ('saturated', 'non-integer')])
def test_gradcheck_full_jacobian(kernel, act, regime, sizes):
    """The whole Jacobian (not fast mode's random projection) in the two
    extreme regimes: the start at an integer factor, saturated coefficients
    at a non-integer one."""
    torch.manual_seed(0)
    model = DownsizeNet(kernel=kernel, coef_act=act, feat_channels=2).double()
    set_coef_conv(model, regime)
    assert gradcheck_resizer(model, sizes, fast_mode=False)


def test_parameter_count():
    """The paper's 448 + 2320 + 84 = 2,852, for either start."""
    assert sum(p.numel() for p in DownsizeNet(init='random').parameters()) \
        == 2852
    assert sum(p.numel() for p in DownsizeNet().parameters()) == 2852


@pytest.mark.parametrize('num_convs,expected', [(3, 2852 + 2320),
                                                (4, 2852 + 2 * 2320)])
def test_deeper_texture_branch(num_convs, expected):
    model = DownsizeNet(num_convs=num_convs, init='near_bilinear')
    assert sum(p.numel() for p in model.parameters()) == expected
    x = torch.rand(1, 3, 30, 40)
    eps = model.init_eps
    torch.testing.assert_close(
        model(x, (9, 12)),
        (1 - eps) * F.interpolate(x, (9, 12), mode='bilinear',
                                  align_corners=False)
        + eps * neighbour_mean(x, 9, 12, 'bilinear'),
        rtol=0, atol=1e-5)


def test_texture_features_match_dense_convolution():
    """The anchors-only last layer equals the dense net read at the anchors."""
    torch.manual_seed(0)
    model = DownsizeNet(num_convs=3)
    x = torch.rand(2, 3, 25, 19)
    geo = model.geometry(x, (7, 8))
    feats = x
    for conv in model.convs:
        feats = F.relu(conv(feats))
    dense = feats[:, :, geo.anchor_y][:, :, :, geo.anchor_x]
    torch.testing.assert_close(model.texture_at_anchors(x, geo), dense,
                               rtol=1e-5, atol=1e-5)


def test_learnable_resizer_shapes_and_bilinear_skip():
    model = LearnableResizer()
    assert 11_000 < sum(p.numel() for p in model.parameters()) < 13_000
    x = torch.rand(2, 3, 33, 47)
    assert model(x, (11, 13)).shape == (2, 3, 11, 13)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    model.eval()
    torch.testing.assert_close(
        model(x, (11, 13)),
        F.interpolate(x, (11, 13), mode='bilinear', align_corners=False),
        rtol=0, atol=0)


@pytest.mark.parametrize('mode,antialias', [('bilinear', False),
                                            ('bilinear', True),
                                            ('bicubic', True), ('area', False),
                                            ('nearest', False)])
def test_interpolate_resizer_matches_f_interpolate(mode, antialias):
    x = torch.rand(2, 5, 40, 30)
    kwargs = dict(align_corners=False) if mode in ('bilinear',
                                                   'bicubic') else {}
    expected = F.interpolate(x, (13, 7), mode=mode, antialias=antialias,
                             **kwargs)
    model = InterpolateResizer(mode=mode, antialias=antialias)
    torch.testing.assert_close(model(x, (13, 7)), expected, rtol=0, atol=0)


def test_bilinear_at_one_fifth_is_point_sampling():
    """What the 0.2x benchmarks compare (docs/benchmarks.md): at a step of
    exactly 5 pixels bilinear reads the centre pixel of each 5x5 cell and
    nothing else; area averages the cell."""
    x = torch.rand(2, 3, 360, 480, dtype=torch.float64)
    bilinear = InterpolateResizer()(x, (72, 96))
    assert torch.equal(bilinear, x[..., 2::5, 2::5])
    area = InterpolateResizer(mode='area')(x, (72, 96))
    cells = x.view(2, 3, 72, 5, 96, 5).mean(dim=(3, 5))
    torch.testing.assert_close(area, cells, rtol=0, atol=1e-12)


@pytest.mark.parametrize('framework', ['mmdet', 'mmseg'])
def test_built_from_other_scopes(framework):
    """Detection and segmentation configs name the resizers with the
    mmresize scope and build them through their own framework's registry."""
    import importlib

    from mmengine.registry import DefaultScope
    registry = importlib.import_module(f'{framework}.registry').MODELS
    expected = {'mmresize.DownsizeNet': DownsizeNet,
                'mmresize.LearnableResizer': LearnableResizer,
                'mmresize.InterpolateResizer': InterpolateResizer}
    with DefaultScope.overwrite_default_scope(framework):
        assert DefaultScope.get_current_instance().scope_name == framework
        for type_name, cls in expected.items():
            assert type(registry.build(dict(type=type_name))) is cls
        with pytest.raises(KeyError):
            registry.build(dict(type='DownsizeNet'))  # not in mmdet's scope


@pytest.mark.parametrize('bad,error,message', [
    (torch.rand(3, 20, 20), ValueError, '3-D'),
    (torch.randint(0, 255, (1, 3, 20, 20)), TypeError, 'torch.int64'),
    (torch.rand(1, 4, 20, 20), ValueError, '4 channels'),
    (torch.rand(1, 1, 20, 20), ValueError, '1 channels'),
    ([[1.0]], TypeError, 'list'),
])
def test_bad_images(bad, error, message):
    for model in (DownsizeNet(), LearnableResizer()):
        with pytest.raises(error, match=message):
            model(bad, (5, 5))


@pytest.mark.parametrize('size,error,message', [
    ((0, 5), ValueError, r'\(0, 5\)'), ((5, -2), ValueError, r'\(5, -2\)'),
    ((5, 2.5), TypeError, '2.5'), ((1, 2, 3), TypeError, r'\(1, 2, 3\)'),
    ('big', TypeError, 'big')
])
def test_bad_sizes(size, error, message):
    for model in (DownsizeNet(), LearnableResizer(), InterpolateResizer()):
        with pytest.raises(error, match=message):
            model(torch.rand(1, 3, 20, 20), size)


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_convs=1), 'num_convs'), (dict(num_convs=5), 'num_convs'),
    (dict(kernel='lanczos'), 'lanczos'), (dict(coef_act='relu'), 'relu'),
    (dict(init='zeros'), 'zeros'), (dict(in_channels=0), 'in_channels'),
    (dict(init_eps=0), 'init_eps'), (dict(init_eps=1.0), 'init_eps'),
    (dict(init_eps=-0.1), 'init_eps'),
])
def test_bad_downsizenet_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DownsizeNet(**kwargs)


def test_bad_interpolate_arguments():
    with pytest.raises(ValueError, match='lanczos'):
        InterpolateResizer(mode='lanczos')
    with pytest.raises(ValueError, match='antialias'):
        InterpolateResizer(mode='nearest', antialias=True)


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
def test_bfloat16_autocast(kernel):
    model = perturbed(DownsizeNet(kernel=kernel))
    x = torch.rand(2, 3, 40, 36)
    reference = model(x, (12, 11))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, coef = model.resize_with_coefficients(x, (12, 11))
    assert coef.dtype == torch.float32
    assert out.dtype == x.dtype and torch.isfinite(out).all()
    # bf16 texture features (8-bit mantissa) shift the coefficients a little.
    assert (out - reference).abs().max() < 0.05
    resized = LearnableResizer()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.isfinite(resized(x, (12, 11))).all()


@pytest.mark.parametrize('cls', [DownsizeNet, LearnableResizer])
def test_frozen(cls):
    model = cls(frozen=True)
    assert not any(p.requires_grad for p in model.parameters())
    model.train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, torch.nn.BatchNorm2d))
    model.init_weights()
    assert not any(p.requires_grad for p in model.parameters())
    trainable = cls()
    trainable.train()
    assert all(p.requires_grad for p in trainable.parameters())


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
def test_near_bilinear_start_learns_at_odd_integer_factor(kernel, act):
    """30 -> 10 (factor 3): every bilinear r is one-hot, yet the 1x1 conv has
    a gradient from the first step, every parameter moves, and Adam fits a
    blur bilinear cannot produce. (The texture convs' true gradient is 0
    while the 1x1 conv is zero: they start learning once it is not. The
    gradients of coefficients that start at eps / K are about that small:
    plain SGD barely moves them, Adam rescales them.)"""
    torch.manual_seed(0)
    model = DownsizeNet(kernel=kernel, coef_act=act, init='near_bilinear')
    start = {k: v.clone() for k, v in model.state_dict().items()}
    optim = torch.optim.Adam(model.parameters(), lr=0.02)
    x = torch.rand(2, 3, 30, 30)
    target = F.avg_pool2d(x, 3)
    losses = []
    for step in range(20):
        optim.zero_grad()
        loss = F.mse_loss(model(x, (10, 10)), target)
        loss.backward()
        if step == 0:
            assert model.coef_conv.weight.grad.abs().max() > 1e-6
        losses.append(loss.item())
        optim.step()
    for name, param in model.named_parameters():
        assert not torch.equal(param.detach(), start[name]), name
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
def test_bilinear_logits_give_back_the_smoothed_weights(kernel, act):
    geo = DownsizeNet(kernel=kernel).geometry(torch.rand(1, 3, 37, 53),
                                              (11, 17))
    eps = 0.05
    coef = normalised_coefficients(bilinear_logits(geo.prior, eps, act), act)
    expected = smoothed_prior(geo.prior, eps)
    torch.testing.assert_close(coef, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(
        expected, (1 - eps) * geo.prior + eps / geo.prior.shape[1])
    assert coef.min() >= eps / geo.prior.shape[1] - 1e-7
