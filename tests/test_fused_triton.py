"""The fused Triton kernels (mmresize/resizers/fused_triton.py) against the
PyTorch path, run on CPU tensors by Triton's interpreter; their backward
against the derivative of their forward (float64 gradcheck); determinism;
and the deterministic scatter they fold input gradients with, against a
plain loop of additions. Every comparison checks that the kernels ran.
"""

import pytest
import torch
import triton  # noqa: F401  (requirements/tests.txt: fail, never skip)

from mmresize.resizers import DownsizeNet, fused, fused_triton
from mmresize.resizers.sampling import scatter_rows_cols

# tests/conftest.py sets TRITON_INTERPRET=1 where there is no CUDA: the
# kernels then run on CPU tensors; with CUDA they are compiled and run there.
DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'


@pytest.fixture
def kernel_calls(monkeypatch):
    calls = []
    real = fused_triton.resize

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(fused_triton, 'resize', counted)
    return calls


def make_model(seed: int = 0, coef_scale: float = 1.0, **cfg) -> DownsizeNet:
    """A DownsizeNet whose 1x1 conv is random (the near-bilinear start's
    zeros would pass no gradient to the texture layers), in float64."""
    torch.manual_seed(seed)
    model = DownsizeNet(**cfg).double().to(DEVICE)
    with torch.no_grad():
        model.coef_conv.weight.normal_(0, coef_scale)
        model.coef_conv.bias.normal_(0, coef_scale)
    return model


def run(model, x, size, triton_path: bool):
    """Output, coefficients and the gradients of a random projection of
    both, to x and every parameter."""
    with fused.disabled():
        if triton_path:
            with fused_triton.forced():
                out, coef = model.resize_with_coefficients(x, size)
        else:
            with fused_triton.disabled():
                out, coef = model.resize_with_coefficients(x, size)
    gen = torch.Generator().manual_seed(1)
    loss = (out.double() * torch.randn(out.shape, generator=gen,
                                       dtype=torch.float64).to(DEVICE)).sum()
    loss = loss + (coef.double() * torch.randn(
        coef.shape, generator=gen, dtype=torch.float64).to(DEVICE)).sum()
    inputs = [x] + list(model.parameters())
    grads = torch.autograd.grad(loss, inputs)
    return out, coef, grads


REGIMES = {
    # name: (model config, input (B, C, H, W), output size, coef scale)
    'default': (dict(), (2, 3, 13, 17), (5, 7), 1.0),
    'bicubic-sigmoid-near-bilinear-3convs':
        (dict(kernel='bicubic', coef_act='sigmoid', init='near_bilinear',
              num_convs=3), (1, 3, 11, 14), (4, 5), 1.0),
    'upsizing-4convs': (dict(num_convs=4), (1, 3, 6, 5), (9, 11), 1.0),
    'integer-factor-near-bilinear':
        (dict(init='near_bilinear'), (1, 3, 12, 16), (6, 8), 1.0),
    'saturated-softmax': (dict(), (1, 3, 10, 12), (4, 5), 60.0),
    'saturated-sigmoid': (dict(coef_act='sigmoid', kernel='bicubic'),
                          (1, 3, 10, 12), (4, 5), 60.0),
    'tall-aspect': (dict(kernel='bicubic'), (1, 3, 20, 6), (7, 3), 1.0),
    'borders-everywhere': (dict(), (1, 3, 4, 4), (2, 2), 1.0),
    'narrow-features-one-channel': (dict(feat_channels=8, in_channels=1),
                                    (2, 1, 9, 9), (4, 4), 1.0),
}


@pytest.mark.parametrize('regime', list(REGIMES))
def test_forward_and_every_gradient_match_pytorch_path(regime, kernel_calls):
    cfg, shape, size, scale = REGIMES[regime]
    model = make_model(coef_scale=scale, **cfg)
    x = torch.rand(*shape, dtype=torch.float64, device=DEVICE,
                   requires_grad=True)
    ref_out, ref_coef, ref_grads = run(model, x, size, triton_path=False)
    assert not kernel_calls
    out, coef, grads = run(model, x, size, triton_path=True)
    assert kernel_calls, 'the Triton path did not run'
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(coef, ref_coef, rtol=1e-12, atol=1e-12)
    names = ['x'] + [n for n, _ in model.named_parameters()]
    for name, got, want in zip(names, grads, ref_grads):
        assert want.abs().max() > 0 or regime.startswith('saturated'), name
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-11,
                                   msg=lambda m, n=name: f'{n}: {m}')


@pytest.mark.parametrize('regime', ['default', 'saturated-sigmoid',
                                    'bicubic-sigmoid-near-bilinear-3convs'])
def test_backward_is_the_derivative_of_the_forward(regime):
    """float64 gradcheck of the autograd Function itself (fast mode: random
    projections of the Jacobian, every input at once)."""
    cfg, _, _, scale = REGIMES[regime]
    model = make_model(coef_scale=scale, **cfg)
    size = (3, 4)  # from 8x9: every patch meets a border
    x = torch.rand(1, model.in_channels, 8, 9, dtype=torch.float64,
                   device=DEVICE, requires_grad=True)
    # the Function's inputs directly: the texture input and the image are
    # separate inputs (one tensor for 2 convs in DownsizeNet, two here)
    conv_a, conv_b = model.convs[-2], model.convs[-1]
    feats = x
    for conv in model.convs[:-2]:
        feats = torch.relu(conv(feats)).detach().requires_grad_(True)
    geo = model.geometry(x, size)
    offset = model.logit_offset(geo).detach().requires_grad_(True)
    wc = model.coef_weight_features(torch.float64).detach().requires_grad_()
    weights = [t.detach().clone().requires_grad_(True) for t in (
        conv_a.weight, conv_a.bias, conv_b.weight, conv_b.bias)]

    def fused_fn(feats, x, wa, ba, wb, bb, wc, offset):
        return fused_triton._FusedDownsize.apply(feats, x, wa, ba, wb, bb,
                                                 wc, offset, geo,
                                                 model.coef_act)

    inputs = (feats, x, *weights, wc, offset)
    if len(model.convs) == 2:
        inputs = (x, x.detach().clone().requires_grad_(True), *weights, wc,
                  offset)
    assert torch.autograd.gradcheck(fused_fn, inputs, fast_mode=True,
                                    eps=1e-6, atol=1e-6)


@pytest.mark.parametrize('regime', ['default', 'upsizing-4convs'])
def test_programs_walking_several_blocks_sum_the_same(regime, kernel_calls,
                                                     monkeypatch):
    """Two backward programs, each walking several blocks in turn (the
    loop the GPU runs at full size), against the PyTorch path."""
    monkeypatch.setattr(fused_triton, 'MAX_PROGRAMS', 2)
    cfg, shape, size, scale = REGIMES[regime]
    model = make_model(coef_scale=scale, **cfg)
    x = torch.rand(2, *shape[1:], dtype=torch.float64, device=DEVICE,
                   requires_grad=True)
    ref_grads = run(model, x, size, triton_path=False)[2]
    grads = run(model, x, size, triton_path=True)[2]
    assert kernel_calls
    n_blocks = -(-2 * size[0] * size[1] // fused_triton.BACKWARD_BLOCK)
    assert n_blocks >= 4  # at least two blocks a program
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-11)


@pytest.mark.skipif(DEVICE != 'cuda', reason='bitwise repeatability is a '
                    'property of the GPU run (no atomics); the interpreter '
                    'runs sequentially on the CPU')
def test_backward_is_bitwise_repeatable_on_cuda(kernel_calls):
    model = make_model().float()
    x = torch.rand(2, 3, 230, 290, device=DEVICE, requires_grad=True)
    first = run(model, x, (70, 90), triton_path=True)[2]
    second = run(model, x, (70, 90), triton_path=True)[2]
    assert kernel_calls
    for a, b in zip(first, second):
        assert torch.equal(a, b)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
def test_low_precision_inputs_float32_coefficients(dtype, kernel_calls):
    model = make_model().float()
    x = torch.rand(1, 3, 14, 18, device=DEVICE).to(dtype)
    # low-precision images come with autocast (the weights stay float32)
    with torch.no_grad(), fused.disabled(), torch.autocast(
            DEVICE, dtype=dtype, enabled=dtype != torch.float32):
        with fused_triton.disabled():
            ref_out, ref_coef = model.resize_with_coefficients(x, (5, 6))
        with fused_triton.forced():
            out, coef = model.resize_with_coefficients(x, (5, 6))
    assert kernel_calls
    assert out.dtype == dtype and coef.dtype == torch.float32
    tol = 1e-5 if dtype == torch.float32 else 1e-2
    torch.testing.assert_close(coef, ref_coef, rtol=tol, atol=tol)
    torch.testing.assert_close(out.float(), ref_out.float(), rtol=tol,
                               atol=tol)


def test_switches(monkeypatch):
    model = DownsizeNet()
    x = torch.rand(1, 3, 8, 8)
    assert not fused_triton.available(x, model), 'CPU needs forced()'
    with fused_triton.forced():
        assert fused_triton.available(x, model)
        with fused_triton.disabled():
            assert not fused_triton.available(x, model)
        monkeypatch.setenv('MMRESIZE_TRITON', '0')
        assert not fused_triton.available(x, model)
        monkeypatch.delenv('MMRESIZE_TRITON')
        assert not fused_triton.available(x.long(), model)
        assert not fused_triton.available(x, DownsizeNet(feat_channels=64))


def test_kernels_refuse_the_wrong_mode():
    from mmresize.resizers import triton_kernels
    with pytest.raises(RuntimeError, match='TRITON_INTERPRET'):
        triton_kernels.kernels(interpret=DEVICE == 'cuda')


def test_scatter_rows_cols_matches_a_loop_of_additions():
    torch.manual_seed(0)
    tiled = torch.randn(2, 3, 12, 10, dtype=torch.float64)
    rows = torch.tensor([0, 0, 1, -1, 4, 4, 4, 2, 3, -1, 0, 1])
    cols = torch.tensor([5, -1, 0, 0, 1, 2, 3, 3, 3, 4])
    want = torch.zeros(2, 3, 5, 6, dtype=torch.float64)
    for n, r in enumerate(rows.tolist()):
        for m, c in enumerate(cols.tolist()):
            if r >= 0 and c >= 0:
                want[:, :, r, c] += tiled[:, :, n, m]
    got = scatter_rows_cols(tiled, rows, cols, (5, 6))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
