"""NormalizedSSDNeck against mmdet's SSDNeck and a hand-computed L2Norm."""
import pytest
import torch
from mmdet.models.necks import SSDNeck

import mmresize.det  # noqa: F401  registers NormalizedSSDNeck
from mmresize.models.normalized_ssd_neck import NormalizedSSDNeck

NECK = dict(in_channels=(8, 12, 16), out_channels=(8, 12, 16, 10),
            level_strides=(2, ), level_paddings=(1, ))


def _levels(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(2, c, s, s, generator=gen) * 5
            for c, s in zip(NECK['in_channels'], (12, 6, 3))]


def _hand_l2norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x / ||x||_2 over channels, times the per-channel weight."""
    return weight.view(1, -1, 1, 1) * x / x.norm(dim=1, keepdim=True)


def test_levels_normalised_where_asked_and_extra_levels_as_ssdneck():
    neck = NormalizedSSDNeck(l2_norm_scales=(20, 8, None), **NECK)
    neck.init_weights()
    reference = SSDNeck(l2_norm_scale=None, **NECK)
    reference.load_state_dict(
        {k: v for k, v in neck.state_dict().items()
         if not k.startswith('l2_norms.')})
    neck.eval()
    reference.eval()
    inputs = _levels()
    outs = neck(inputs)
    assert len(outs) == 4
    torch.testing.assert_close(outs[0],
                               _hand_l2norm(inputs[0], torch.full((8, ), 20.)))
    torch.testing.assert_close(outs[1],
                               _hand_l2norm(inputs[1], torch.full((12, ), 8.)))
    torch.testing.assert_close(outs[2], inputs[2])
    # the extra level is built from the last level as output (here left
    # unnormalised)
    torch.testing.assert_close(outs[3], reference(inputs)[3])
    # with the last level normalised, from its normalised map
    last = NormalizedSSDNeck(l2_norm_scales=(None, None, 5), **NECK)
    last.load_state_dict(dict(neck.state_dict(), **{
        'l2_norms.2.weight': torch.full((16, ), 5.)}), strict=False)
    last.eval()
    normalised = inputs[:2] + [_hand_l2norm(inputs[2], torch.full((16, ), 5.))]
    torch.testing.assert_close(last(inputs)[3], reference(normalised)[3])
    # and the level-0 case equals mmdet's own L2Norm on its first level
    first_only = NormalizedSSDNeck(l2_norm_scales=(20, None, None), **NECK)
    mmdet_neck = SSDNeck(l2_norm_scale=20, **NECK)
    mmdet_neck.init_weights()
    first_only.load_state_dict(
        {k.replace('l2_norm.', 'l2_norms.0.'): v
         for k, v in mmdet_neck.state_dict().items()})
    torch.testing.assert_close(first_only(inputs)[0], mmdet_neck(inputs)[0])


def test_scales_start_at_their_value_before_init_weights_and_learn():
    neck = NormalizedSSDNeck(l2_norm_scales=(None, 8, None), **NECK)
    assert list(neck.l2_norms) == ['1']
    assert torch.equal(neck.l2_norms['1'].weight, torch.full((12, ), 8.))
    neck(_levels())[1].sum().backward()
    assert neck.l2_norms['1'].weight.grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs, match', [
    (dict(l2_norm_scales=(20, None)), 'one entry per input level'),
    (dict(l2_norm_scales=(20, 0, None)), r'l2_norm_scales\[1\] must be'),
    (dict(l2_norm_scales=(20, None, None), l2_norm_scale=20),
     'not l2_norm_scale'),
])
def test_bad_arguments_say_what_was_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NormalizedSSDNeck(**kwargs, **NECK)
