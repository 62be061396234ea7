"""The compiled texture op (mmresize._ext) against the PyTorch path it
replaces, and its backward against the derivative of its forward (float64
gradcheck). Every comparison first checks that the compiled op really ran:
without it there is nothing to compare, and the tests say so."""
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmresize.resizers import DownsizeNet, fused

BUILT = os.environ.get('MMRESIZE_WITH_OPS', '1') != '0'


def test_op_is_built_by_setup():
    if not BUILT:
        pytest.skip('installed with MMRESIZE_WITH_OPS=0: PyTorch path only')
    assert fused._ext is not None, 'run tools/setup.sh: mmresize._ext missing'


# every kernel set (instruction set) this CPU can run
ISAS = fused._ext.available_isas() if fused._ext is not None else ['none']


@pytest.fixture(params=ISAS)
def op_calls(request, monkeypatch):
    """Counts calls of the compiled forward and backward; each test runs
    once per kernel set this CPU can run."""
    if fused._ext is None:
        pytest.skip('mmresize._ext is not built (MMRESIZE_WITH_OPS=0): no '
                    'compiled op to compare with the PyTorch path')
    previous = fused._ext.set_isa(request.param)
    request.addfinalizer(lambda: fused._ext.set_isa(previous))
    calls = {'forward': 0, 'backward': 0}
    for name in calls:
        real = getattr(fused._ext, f'texture_at_anchors_{name}')

        def counted(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(fused._ext, f'texture_at_anchors_{name}',
                            counted)
    return calls


def reference(x, conv_a, conv_b, ys, xs):
    """Both layers densely, read at the anchors: (B, F, h, w)."""
    feats = F.relu(conv_b(F.relu(conv_a(x))))
    return feats[:, :, ys][:, :, :, xs]


@pytest.mark.parametrize('num_convs', [2, 3, 4])
@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
def test_forward_matches(num_convs, kernel, op_calls):
    torch.manual_seed(0)
    model = DownsizeNet(num_convs=num_convs, kernel=kernel, init='random')
    x = torch.rand(2, 3, 61, 83)  # anchors on every border
    with torch.no_grad():
        geo = model.geometry(x, (19, 25))
        out = model(x, (19, 25))
        texture = model.texture_at_anchors(x, geo)
        assert op_calls['forward'] == 2
        with fused.disabled():
            ref = model(x, (19, 25))
            texture_ref = model.texture_at_anchors(x, geo)
        assert op_calls['forward'] == 2
    torch.testing.assert_close(texture, texture_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('size', [(19, 25), (61, 83), (90, 40)])
def test_gradients_match(size, op_calls):
    torch.manual_seed(0)
    model = DownsizeNet(init='random')
    x = torch.rand(2, 3, 61, 83)
    target = torch.randn(2, 3, *size)
    grads = []
    for disable in (False, True):
        model.zero_grad()
        if disable:
            with fused.disabled():
                ((model(x, size) - target)**2).mean().backward()
        else:
            ((model(x, size) - target)**2).mean().backward()
            assert op_calls == {'forward': 1, 'backward': 1}
        grads.append([p.grad.clone() for p in model.parameters()])
    assert op_calls == {'forward': 1, 'backward': 1}
    for (name, _), a, b in zip(model.named_parameters(), *grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def layers(cin: int, dtype: torch.dtype):
    torch.manual_seed(cin)
    conv_a = nn.Conv2d(cin, 16, 3, padding=1).to(dtype)
    conv_b = nn.Conv2d(16, 16, 3, padding=1).to(dtype)
    return conv_a, conv_b


# anchors on the borders (0 and the last row / column) and inside
ANCHORS = (torch.tensor([0, 3, 8, 10]), torch.tensor([0, 1, 6, 12]))


@pytest.mark.parametrize('cin', [3, 16])
def test_both_input_widths_against_dense_layers(cin, op_calls):
    """3 channels (the image) and 16 (a texture layer, with 3 or 4 convs):
    forward and weight gradients against the dense layers."""
    conv_a, conv_b = layers(cin, torch.float32)
    x = torch.rand(2, cin, 11, 13)
    ys, xs = ANCHORS
    grad = torch.randn(2, 16, 4, 4)
    out = fused.texture_at_anchors(x, conv_a, conv_b, ys, xs)
    out.backward(grad)
    assert op_calls == {'forward': 1, 'backward': 1}
    mine = [p.grad.clone() for m in (conv_a, conv_b) for p in m.parameters()]
    for m in (conv_a, conv_b):
        m.zero_grad()
    ref = reference(x, conv_a, conv_b, ys, xs)
    ref.backward(grad)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    theirs = [p.grad for m in (conv_a, conv_b) for p in m.parameters()]
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('cin', [3, 16])
@pytest.mark.parametrize('scale', [0.3, 3.0])
def test_gradcheck_float64(cin, scale, op_calls):
    """The custom Function's backward is the derivative of its forward, in
    float64, with anchors on the borders (zero padding) and inside, at two
    weight scales (many and few units active)."""
    conv_a, conv_b = layers(cin, torch.float64)
    x = torch.randn(1, cin, 11, 13, dtype=torch.float64)
    ys, xs = ANCHORS
    weights = [(scale * p.detach()).requires_grad_()
               for m in (conv_a, conv_b) for p in m.parameters()]

    def run(wa, ba, wb, bb):
        return fused._TextureAtAnchors.apply(x, wa, ba, wb, bb, ys, xs)

    assert torch.autograd.gradcheck(run, weights, eps=1e-6, atol=1e-6)
    assert op_calls['forward'] > 0 and op_calls['backward'] > 0


def test_input_needing_gradient_takes_the_pytorch_path(op_calls):
    torch.manual_seed(0)
    model = DownsizeNet(init='random')
    x = torch.rand(1, 3, 30, 30, requires_grad=True)
    model(x, (10, 10)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert op_calls == {'forward': 0, 'backward': 0}


def test_dispatch_picks_the_widest_instruction_set_of_this_cpu():
    """The portable build's run-time choice against /proc/cpuinfo."""
    if fused._ext is None:
        pytest.skip('mmresize._ext is not built (MMRESIZE_WITH_OPS=0)')
    if not os.path.isfile('/proc/cpuinfo'):
        pytest.skip('no /proc/cpuinfo to read the CPU flags from')
    with open('/proc/cpuinfo') as f:
        flags = next((line.split(':', 1)[1].split() for line in f
                      if line.startswith('flags')), [])
    if all(f'avx512{x}' in flags for x in ('f', 'vl', 'bw', 'dq')):
        expected = 'avx512'
    elif 'avx2' in flags and 'fma' in flags:
        expected = 'avx2'
    else:
        expected = 'baseline'
    assert fused._ext.isa() == expected
    assert fused._ext.available_isas()[-1] == expected
