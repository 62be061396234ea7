"""mmresize.resizers.deployed: the exported form of DownsizeNet computes the
module's function, every configuration, borders included."""
import itertools

import numpy as np
import pytest
import torch

from mmresize.resizers import DownsizeNet
from mmresize.resizers.deployed import DeployedDownsizeNet

CONFIGS = list(itertools.product([2, 3, 4], ['bilinear', 'bicubic'],
                                 ['softmax', 'sigmoid'],
                                 ['random', 'near_bilinear']))
# non-integer factors and both aspect ratios; at factor 1 and when
# upsizing, the last layer reads rows and columns outside the image (its
# zero padding); (9, 7) -> (3, 5) has anchors on the border
SIZES = [((37, 53), (11, 16)), ((53, 37), (16, 11)), ((9, 7), (3, 5)),
         ((30, 20), (30, 20)), ((7, 9), (14, 18))]


def trained_like(num_convs, kernel, coef_act, init, seed=0):
    """A DownsizeNet in float64 with every weight moved from its start (a
    zero-initialised coefficient conv would hide the features' part)."""
    torch.manual_seed(seed)
    resizer = DownsizeNet(num_convs=num_convs, kernel=kernel,
                          coef_act=coef_act, init=init).double().eval()
    with torch.no_grad():
        for p in resizer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return resizer


@pytest.mark.parametrize('num_convs,kernel,coef_act,init', CONFIGS)
def test_deployed_form_is_the_module_in_float64(num_convs, kernel, coef_act,
                                                init):
    resizer = trained_like(num_convs, kernel, coef_act, init)
    for in_hw, out_hw in SIZES:
        x = torch.randn(2, 3, *in_hw, dtype=torch.float64)
        deployed = DeployedDownsizeNet(resizer, in_hw, out_hw, torch.float64)
        with torch.no_grad():
            ref = resizer(x, out_hw)
            ours = deployed(x, out_hw)
        assert ours.shape == ref.shape == (2, 3, *out_hw)
        assert ours.dtype == torch.float64
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)


def test_deployed_form_in_float32_and_its_inputs():
    """In float32, on inputs in a normalised image's range (what the
    exported graph feeds it, after ``(x - mean) / std``), it is the float64
    function to 1e-4 (measured: at most 2e-5 over 24 seeds and
    configurations; on 0-255 inputs the texture's large logits amplify
    float32 rounding to about 1e-2 in both the module and this form)."""
    resizer = trained_like(2, 'bilinear', 'softmax', 'random')
    torch.manual_seed(1)
    x = torch.randn(1, 3, 60, 80) * 1.5
    deployed = DeployedDownsizeNet(resizer.float(), (60, 80), (18, 24))
    assert not any(p.requires_grad for p in deployed.parameters())
    with torch.no_grad():
        ours = deployed(x, (18, 24))
        exact = resizer.double()(x.double(), (18, 24))
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), exact, rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match=r'maps \(60, 80\) -> \(18, 24\)'):
        deployed(x, (20, 24))
    with pytest.raises(TypeError, match='deploys a DownsizeNet'):
        DeployedDownsizeNet(torch.nn.Identity(), (60, 80), (18, 24))


def test_what_the_exporter_deploys():
    from mmresize.deploy import deployed_resizer
    from mmresize.resizers import InterpolateResizer
    two, three = DownsizeNet(), DownsizeNet(num_convs=3)
    assert isinstance(deployed_resizer(two, (60, 80), (18, 24)),
                      DeployedDownsizeNet)
    # measured slower with 3 convs: the module itself; and on request
    assert deployed_resizer(three, (60, 80), (18, 24)) is three
    assert deployed_resizer(two, (60, 80), (18, 24), module_graph=True) is two
    bilinear = InterpolateResizer()
    assert deployed_resizer(bilinear, (60, 80), (18, 24)) is bilinear


def test_deployed_form_in_onnx_runtime(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    from mmresize.deploy import PreprocessGraph, export_onnx
    from mmresize.seg import DownsizeSegDataPreProcessor
    pre = DownsizeSegDataPreProcessor(
        resizer=dict(type='mmresize.DownsizeNet', kernel='bicubic',
                     coef_act='sigmoid'), target_scale=0.3).eval()
    graph = PreprocessGraph(pre, (50, 70))
    assert isinstance(graph.resizer, DeployedDownsizeNet)
    assert graph.deployed_error(torch.rand(1, 3, 50, 70) * 255) < 1e-3
    assert PreprocessGraph(pre, (50, 70), module_graph=True).deployed_error(
        torch.rand(1, 3, 50, 70)) is None
    path = str(tmp_path / 'resizer.onnx')
    export_onnx(graph, torch.zeros(1, 3, 50, 70), path, ['resized'],
                graph.metadata())
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    image = torch.rand(1, 3, 50, 70) * 255
    ours = session.run(None, {'image': image.numpy()})[0]
    with torch.no_grad():
        ref = pre.resizer(image, (15, 21))
    np.testing.assert_allclose(ours, ref.numpy(), rtol=0, atol=1e-3)
    import onnx
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert meta['mmresize.resizer'] == 'DownsizeNet'
    assert meta['mmresize.resizer_graph'] == 'DeployedDownsizeNet'


def test_deployed_form_follows_to_dtype():
    """Built in float32 and moved to float64 with ``.to``, it computes in
    float64 (rounding of the float32 copy aside: the weights were float64)."""
    resizer = trained_like(2, 'bicubic', 'softmax', 'near_bilinear')
    in_hw, out_hw = (37, 53), (11, 16)
    deployed = DeployedDownsizeNet(resizer, in_hw, out_hw).to(torch.float64)
    assert deployed.dtype == torch.float64
    x = torch.randn(2, 3, *in_hw, dtype=torch.float64)
    with torch.no_grad():
        ours = deployed(x, out_hw)
        ref = resizer(x, out_hw)
    assert ours.dtype == torch.float64
    # the old attribute kept float32 and failed on the float64 weights;
    # the tolerance only allows for the float32 copy of the weights
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_deployed_form_on_cuda():
    """Built from a resizer on the GPU, it lives there and is its function."""
    resizer = trained_like(2, 'bicubic', 'sigmoid', 'near_bilinear').cuda()
    in_hw, out_hw = (37, 53), (11, 16)
    deployed = DeployedDownsizeNet(resizer, in_hw, out_hw, torch.float64)
    assert all(t.is_cuda for t in deployed.state_dict().values())
    x = torch.randn(2, 3, *in_hw, dtype=torch.float64, device='cuda')
    with torch.no_grad():
        torch.testing.assert_close(deployed(x, out_hw), resizer(x, out_hw),
                                   rtol=0, atol=1e-10)
