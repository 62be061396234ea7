"""The resizer core: DownsizeNet, LearnableResizer, InterpolateResizer."""
import math
import random
from typing import List, Tuple

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from mmresize.registry import MODELS
from mmresize.resizers import DownsizeNet, InterpolateResizer, LearnableResizer
from mmresize.resizers.downsizenet import (
    PRIOR_FLOOR,
    normalised_coefficients,
    prior_logits,
)

MODES = [(kernel, act, init) for kernel in ('bilinear', 'bicubic')
         for act in ('softmax', 'sigmoid') for init in ('interp', 'random')]


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
        if model.init == 'interp':
            model.blend.fill_(0.5)  # inside (0, 1): the gate is smooth there
    return model


def brute_force_neighbours(big: int, small: int, kernel: str) -> List[List[int]]:
    """Neighbour indices along one axis, from the written definition."""
    out = []
    for j in range(small):
        u = (j + 0.5) * big / small - 0.5
        if kernel == 'bilinear':
            x0 = math.floor(max(u, 0.0))
            taps = [x0, x0 + 1]
        else:
            x0 = math.floor(u)
            taps = [x0 - 1, x0, x0 + 1, x0 + 2]
        out.append([min(max(t, 0), big - 1) for t in taps])
    return out


@pytest.mark.parametrize('case', random_sizes(60))
def test_interp_init_equals_bilinear(case):
    big_h, big_w, h, w = case
    x = torch.rand(2, 3, big_h, big_w)
    expected = F.interpolate(x, (h, w), mode='bilinear', align_corners=False)
    for kernel in ('bilinear', 'bicubic'):
        for act in ('softmax', 'sigmoid'):
            for start in ('uniform', 'prior'):
                model = DownsizeNet(kernel=kernel, coef_act=act,
                                    learned_start=start)
                model.init_weights()
                out = model(x, (h, w))
                assert out.shape == (2, 3, h, w)
                err = (out - expected).abs().max().item()
                assert err < 1e-5, (kernel, act, start, case, err)


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


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
def test_gradcheck(kernel, act):
    torch.manual_seed(0)
    model = perturbed(DownsizeNet(kernel=kernel, coef_act=act,
                                  feat_channels=4)).double()
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in
                   model.parameters())
    x = torch.rand(1, 3, 9, 11, dtype=torch.float64, requires_grad=True)

    def run(image, *weights):
        return functional_call(model, dict(zip(names, weights)),
                               (image, (4, 5)))

    assert torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-5)


def test_parameter_count():
    """The paper's 448 + 2320 + 84 = 2,852; the exact start adds one gate."""
    assert sum(p.numel() for p in DownsizeNet(init='random').parameters()) \
        == 2852
    assert sum(p.numel() for p in DownsizeNet().parameters()) == 2852 + 1


@pytest.mark.parametrize('num_convs,expected', [(3, 2853 + 2320),
                                                (4, 2853 + 2 * 2320)])
def test_deeper_texture_branch(num_convs, expected):
    model = DownsizeNet(num_convs=num_convs)
    assert sum(p.numel() for p in model.parameters()) == expected
    x = torch.rand(1, 3, 30, 40)
    torch.testing.assert_close(
        model(x, (9, 12)),
        F.interpolate(x, (9, 12), mode='bilinear', align_corners=False),
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


def test_built_from_other_scopes():
    from mmengine.registry import DefaultScope
    for scope in ('mmdet', 'mmseg'):
        name = f'test_scope_{scope}'
        with DefaultScope.overwrite_default_scope(scope):
            pass
        DefaultScope.get_instance(name, scope_name=scope)
        for type_name in ('mmresize.DownsizeNet', 'mmresize.LearnableResizer',
                          'mmresize.InterpolateResizer'):
            assert MODELS.build(dict(type=type_name)) is not None


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
    (dict(learned_start='bias'), 'bias'),
    (dict(learned_start='prior', init='random'), "needs init='interp'")
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
def test_interp_start_learns_at_odd_integer_factor(kernel, act):
    """30 -> 10 (factor 3): every bilinear r is one-hot, yet it learns."""
    torch.manual_seed(0)
    model = DownsizeNet(kernel=kernel, coef_act=act)
    optim = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.rand(2, 3, 30, 30)
    target = F.avg_pool2d(x, 3)  # a blur bilinear cannot produce
    losses = []
    for _ in range(10):
        optim.zero_grad()
        loss = F.mse_loss(model(x, (10, 10)), target)
        loss.backward()
        losses.append(loss.item())
        optim.step()
    for name, param in model.named_parameters():
        assert param.grad.abs().max() > 1e-7, name
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('act', ['softmax', 'sigmoid'])
def test_prior_logits_give_back_the_bilinear_weights(kernel, act):
    geo = DownsizeNet(kernel=kernel).geometry(torch.rand(1, 3, 37, 53),
                                              (11, 17))
    coef = normalised_coefficients(prior_logits(geo.prior, act), act)
    assert torch.allclose(coef.sum(1), torch.ones(()), atol=1e-6)
    # equal up to the floor on the zero weights (K - 1 of them at most)
    err = (coef - geo.prior).abs().max().item()
    assert err < (geo.prior.shape[1] - 1) * PRIOR_FLOOR
    assert err > 0  # the floor is there: no coefficient is stuck at 0


def test_prior_start_does_not_pull_the_gate_shut():
    """At the start the gate's gradient is sum(grad * (learned - bilinear)):
    large for the uniform start (a box blur), near 0 when the network's
    coefficients start at bilinear too."""
    x = torch.rand(2, 3, 37, 53)
    target = torch.rand(2, 3, 11, 17)
    grads = {}
    for start in ('uniform', 'prior'):
        model = DownsizeNet(learned_start=start)
        F.mse_loss(model(x, (11, 17)), target).backward()
        grads[start] = model.blend.grad.abs().item()
    assert grads['prior'] < 0.1 * grads['uniform']
