"""The compiled texture op against the PyTorch path it replaces."""
import os

import pytest
import torch

from mmresize.resizers import DownsizeNet, fused

BUILT = os.environ.get('MMRESIZE_WITH_OPS', '1') != '0'


def test_op_is_built_by_setup():
    if not BUILT:
        pytest.skip('installed with MMRESIZE_WITH_OPS=0: PyTorch path only')
    assert fused._ext is not None, 'run tools/setup.sh: mmresize._ext missing'


def both_paths(model, x, size):
    out = model(x, size)
    with fused.disabled():
        ref = model(x, size)
    return out, ref


@pytest.mark.parametrize('num_convs', [2, 3, 4])
@pytest.mark.parametrize('kernel', ['bilinear', 'bicubic'])
def test_forward_matches(num_convs, kernel):
    torch.manual_seed(0)
    model = DownsizeNet(num_convs=num_convs, kernel=kernel, init='random')
    x = torch.rand(2, 3, 61, 83)  # anchors on every border
    with torch.no_grad():
        out, ref = both_paths(model, x, (19, 25))
        geo = model.geometry(x, (19, 25))
        texture = model.texture_at_anchors(x, geo)
        with fused.disabled():
            texture_ref = model.texture_at_anchors(x, geo)
    torch.testing.assert_close(texture, texture_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('size', [(19, 25), (61, 83), (90, 40)])
def test_gradients_match(size):
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
        grads.append([p.grad.clone() for p in model.parameters()])
    for (name, _), a, b in zip(model.named_parameters(), *grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_input_needing_gradient_takes_the_pytorch_path():
    torch.manual_seed(0)
    model = DownsizeNet(init='random')
    x = torch.rand(1, 3, 30, 30, requires_grad=True)
    model(x, (10, 10)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
