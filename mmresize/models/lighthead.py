"""Light-Head R-CNN (Zeming Li et al., "Light-Head R-CNN: In Defense of
Two-Stage Object Detector", arXiv:1711.07264) for mmdet 3.x.

A two-stage detector on mmdet's ``TwoStageDetector``: the RPN reads C4
(stride 16); the R-CNN subnet reads a *thin feature map* that a large
separable convolution makes from C5 (dilated, stride 16):
``relu(conv_1xk(conv_kx1(C5)) + conv_kx1(conv_1xk(C5)))``, k = 15, C_mid = 64
(light) or 256, C_out = 10 x 7 x 7; position-sensitive RoI Align pools each
RoI to 10 x 7 x 7, and one fully connected layer (2048) feeds the class and
box branches (mmdet's ``ConvFCBBoxHead`` with one shared fc).

Modules, all in mmdet's registry:

- ``LightHeadNeck``: (C4, C5) -> (thin map, C4).
- ``LevelRPNHead``: mmdet's ``RPNHead`` on selected levels (C4 here).
- ``PSRoIExtractor``: position-sensitive RoI Align on the first level (the
  thin map; ``StandardRoIHead`` passes the extractor the first
  ``num_inputs`` levels).
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import RPNHead
from mmdet.models.detectors import TwoStageDetector
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from .ps_roi_align import PSRoIAlign


class LargeSeparableConv(BaseModule):
    """``relu(conv_1xk(conv_kx1(x)) + conv_kx1(conv_1xk(x)))``.

    No activation inside the branches, one ReLU after their sum: so the
    authors' released code builds it (``global_context_module`` in
    zengarden/light_head_rcnn, followed by ``relu`` on the thin map); the
    paper's Fig. 3 does not say.

    Args:
        in_channels: channels of x.
        mid_channels: C_mid (64 light, 256 heavy).
        out_channels: C_out (10 * 7 * 7 in the paper).
        kernel_size: k (15 in the paper).

    Shapes: (B, in, H, W) -> (B, out, H, W).
    """

    def __init__(self, in_channels: int, mid_channels: int = 64,
                 out_channels: int = 490, kernel_size: int = 15,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg or dict(
            type='Normal', layer='Conv2d', std=0.01))
        pad = kernel_size // 2
        self.branch_a = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, (kernel_size, 1),
                      padding=(pad, 0)),
            nn.Conv2d(mid_channels, out_channels, (1, kernel_size),
                      padding=(0, pad)))
        self.branch_b = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, (1, kernel_size),
                      padding=(0, pad)),
            nn.Conv2d(mid_channels, out_channels, (kernel_size, 1),
                      padding=(pad, 0)))

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.branch_a(x) + self.branch_b(x))


@MODELS.register_module()
class LightHeadRCNN(TwoStageDetector):
    """Light-Head R-CNN: mmdet's ``TwoStageDetector`` (backbone, neck, RPN,
    RoI head) with the neck, RPN and RoI extractor below in its config; the
    name says which detector a config builds."""


@MODELS.register_module()
class LightHeadNeck(BaseModule):
    """Backbone (C4, C5) -> (thin feature map from C5, C4 for the RPN).

    Args:
        in_channels: channels of C4 and C5, e.g. (1024, 2048) for ResNet-50.
        mid_channels: C_mid of the large separable convolution.
        ps_channels: C in the C x k x k thin map (10 in the paper).
        roi_size: k (7).
        kernel_size: the separable kernel (15).
    """

    def __init__(self, in_channels: Sequence[int], mid_channels: int = 64,
                 ps_channels: int = 10, roi_size: int = 7,
                 kernel_size: int = 15,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 2:
            raise ValueError('LightHeadNeck takes (C4, C5): two levels, got '
                             f'in_channels={in_channels}')
        self.thin = LargeSeparableConv(in_channels[1], mid_channels,
                                       ps_channels * roi_size * roi_size,
                                       kernel_size)

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
        c4, c5 = feats
        return self.thin(c5), c4


@MODELS.register_module()
class LevelRPNHead(RPNHead):
    """mmdet's ``RPNHead`` on the levels ``in_index`` of the features only.

    Args:
        in_index: which levels of the neck output the RPN reads.
        **kwargs: ``RPNHead``'s.
    """

    def __init__(self, in_index: Sequence[int] = (1, ), **kwargs) -> None:
        self.in_index = tuple(in_index)
        super().__init__(**kwargs)

    def forward(self, x: Tuple[Tensor, ...]) -> Tuple[List[Tensor], ...]:
        return super().forward(tuple(x[i] for i in self.in_index))


@MODELS.register_module()
class PSRoIExtractor(BaseModule):
    """Position-sensitive RoI Align on one feature map (stride
    ``featmap_strides[0]``): (N, 5) RoIs -> (N, out_channels, k, k).

    Args:
        out_channels: C (10 in Light-Head).
        output_size: k (7).
        featmap_strides: one stride, of the thin map (16).
        sampling_ratio: samples per bin side.
    """

    def __init__(self, out_channels: int = 10, output_size: int = 7,
                 featmap_strides: Sequence[int] = (16, ),
                 sampling_ratio: int = 2,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(featmap_strides) != 1:
            raise ValueError('PSRoIExtractor reads one feature map, got '
                             f'featmap_strides={featmap_strides}')
        self.out_channels = out_channels
        self.featmap_strides = list(featmap_strides)
        self.roi_layer = PSRoIAlign(output_size, 1 / featmap_strides[0],
                                    sampling_ratio)

    @property
    def num_inputs(self) -> int:
        return 1

    def forward(self, feats: Tuple[Tensor, ...], rois: Tensor,
                roi_scale_factor: Optional[float] = None) -> Tensor:
        if roi_scale_factor is not None:
            raise ValueError('PSRoIExtractor does not rescale RoIs')
        return self.roi_layer(feats[0], rois)


__all__ = ['LargeSeparableConv', 'LevelRPNHead', 'LightHeadNeck',
           'LightHeadRCNN', 'PSRoIExtractor']
