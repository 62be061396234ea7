"""SSDNeck with an L2Norm on any of its input levels.

mmdet's ``SSDNeck`` normalises its first input level only (SSD's conv4_3,
Liu et al., ECCV 2016, section 3.1 of ParseNet, Liu, Rabinovich and Berg,
2015). RefineDet (Zhang et al., CVPR 2018, section 4.1) normalises two
levels of its pretrained VGG, conv4_3 and conv5_3 (scales 10 and 8), since
their feature scales differ from the layers the heads were designed for.
An ImageNet EfficientNet-Lite0 has the same problem on BCCD at each of its
levels (docs/benchmarks.md, BCCD pilot).
"""
from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.necks import SSDNeck
from mmdet.models.necks.ssd_neck import L2Norm
from mmdet.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class NormalizedSSDNeck(SSDNeck):
    """``SSDNeck`` whose input level ``i`` is L2-normalised over channels
    and scaled per channel (a learned weight starting at
    ``l2_norm_scales[i]``) where that entry is not ``None``.

    Args:
        l2_norm_scales: one entry per input level (``len(in_channels)``):
            the L2Norm's initial scale, or ``None`` to pass the level
            through unchanged.
        **kwargs: ``SSDNeck``'s arguments, except ``l2_norm_scale``.

    Input: the backbone's levels ``(B, in_channels[i], H_i, W_i)``; output:
    the same levels, normalised where asked, then the extra levels, built
    (as in ``SSDNeck``) from the last level as output, so from its
    normalised map where that level is normalised.
    """

    def __init__(self, l2_norm_scales: Sequence[Optional[float]],
                 **kwargs) -> None:
        if kwargs.get('l2_norm_scale'):
            raise ValueError(
                'NormalizedSSDNeck takes l2_norm_scales (one per input '
                'level), not l2_norm_scale: got l2_norm_scale='
                f'{kwargs["l2_norm_scale"]!r}')
        kwargs['l2_norm_scale'] = None
        super().__init__(**kwargs)
        in_channels = tuple(kwargs['in_channels'])
        if len(l2_norm_scales) != len(in_channels):
            raise ValueError(
                f'l2_norm_scales needs one entry per input level '
                f'({len(in_channels)}, in_channels={in_channels}); got '
                f'{tuple(l2_norm_scales)}')
        self.l2_norms = nn.ModuleDict()
        for level, scale in enumerate(l2_norm_scales):
            if scale is None:
                continue
            if not scale > 0:
                raise ValueError(
                    f'l2_norm_scales[{level}] must be positive or None, '
                    f'got {scale!r}')
            norm = L2Norm(in_channels[level], float(scale))
            # mmdet's L2Norm weight is uninitialised memory (SSDNeck sets
            # it through its init_cfg); start it at its scale here, which
            # no init_cfg of the neck (convs and BNs) touches
            with torch.no_grad():
                norm.weight.fill_(float(scale))
            self.l2_norms[str(level)] = norm

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Normalise the chosen levels, then SSDNeck's extra levels."""
        normalized = [
            self.l2_norms[str(level)](feat)
            if str(level) in self.l2_norms else feat
            for level, feat in enumerate(inputs)
        ]
        return super().forward(normalized)
