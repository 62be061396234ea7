"""SPNet's strip pooling for mmsegmentation 1.x (Qibin Hou, Li Zhang,
Ming-Ming Cheng, Jiashi Feng, "Strip Pooling: Rethinking Spatial Pooling for
Scene Parsing", CVPR 2020).

- ``StripPooling`` (the paper's SPM, section 3.1): average each row and each
  column (1 x W and H x 1 strips), a 1-D convolution of 3 along each strip,
  both expanded back to H x W and summed, a 1 x 1 convolution and a sigmoid
  that gates the input: ``x * sigmoid(conv(expand(h) + expand(v)))``.
- ``MixedPooling`` (the paper's MPM, section 3.2): a short-range branch
  (a 3 x 3 convolution plus two lightweight pyramid poolings, adaptive to
  ``pool_sizes``) and a long-range branch (horizontal and vertical strip
  poolings), each on a quarter of the channels, concatenated, projected
  back by 1 x 1 and added to the input (ReLU).
- ``SPHead``: the decode head: 1 x 1 reduction, an SPM, two MPMs, a 3 x 3
  convolution and the classifier. The paper puts SPMs inside the backbone's
  last stage; here the SPM sits at the start of the head (ours), so that any
  mmseg backbone (a dilated ResNet as in the paper) can carry it.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import Tensor, nn


def _expand(x: Tensor, size: Tuple[int, int]) -> Tensor:
    return F.interpolate(x, size, mode='bilinear', align_corners=False)


class StripPooling(nn.Module):
    """The strip pooling module (SPM): (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int, norm_cfg: dict) -> None:
        super().__init__()
        self.conv_h = ConvModule(channels, channels, (3, 1), padding=(1, 0),
                                 norm_cfg=norm_cfg, act_cfg=None)
        self.conv_v = ConvModule(channels, channels, (1, 3), padding=(0, 1),
                                 norm_cfg=norm_cfg, act_cfg=None)
        self.fuse = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[-2:]
        rows = self.conv_h(x.mean(dim=3, keepdim=True))  # (B, C, H, 1)
        cols = self.conv_v(x.mean(dim=2, keepdim=True))  # (B, C, 1, W)
        gate = self.fuse(F.relu(_expand(rows, size) + _expand(cols, size)))
        return x * gate.sigmoid()


class MixedPooling(nn.Module):
    """The mixed pooling module (MPM): (B, C, H, W) -> (B, C, H, W).

    Args:
        channels: C; each branch works on C // 4.
        pool_sizes: output sizes of the two pyramid poolings (the paper's
            (20, 12) for 1/8 feature maps of 769-pixel crops).
    """

    def __init__(self, channels: int, pool_sizes: Sequence[int],
                 norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__()
        inter = channels // 4
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        linear = dict(norm_cfg=norm_cfg, act_cfg=None)
        self.pool_sizes = tuple(pool_sizes)
        self.reduce_short = ConvModule(channels, inter, 1, **conv)
        self.reduce_long = ConvModule(channels, inter, 1, **conv)
        self.short = ConvModule(inter, inter, 3, padding=1, **linear)
        self.pyramid = nn.ModuleList(
            ConvModule(inter, inter, 3, padding=1, **linear)
            for _ in self.pool_sizes)
        self.rows = ConvModule(inter, inter, (3, 1), padding=(1, 0), **linear)
        self.cols = ConvModule(inter, inter, (1, 3), padding=(0, 1), **linear)
        self.fuse_short = ConvModule(inter, inter, 3, padding=1, **conv)
        self.fuse_long = ConvModule(inter, inter, 3, padding=1, **conv)
        self.project = ConvModule(2 * inter, channels, 1, **linear)

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[-2:]
        short = self.reduce_short(x)
        near = self.short(short)
        for pool_size, conv in zip(self.pool_sizes, self.pyramid):
            near = near + _expand(conv(F.adaptive_avg_pool2d(short,
                                                             pool_size)),
                                  size)
        long = self.reduce_long(x)
        far = _expand(self.rows(long.mean(dim=3, keepdim=True)), size) + \
            _expand(self.cols(long.mean(dim=2, keepdim=True)), size)
        out = torch.cat([self.fuse_short(F.relu(near)),
                         self.fuse_long(F.relu(far))], dim=1)
        return F.relu(x + self.project(out))


@MODELS.register_module()
class SPHead(BaseDecodeHead):
    """SPNet's decode head: reduce, SPM, two MPMs, 3 x 3 conv, classifier.

    Args:
        mid_channels: channels after the 1 x 1 reduction (the paper: half of
            the backbone's 2048).
        pool_sizes: the MPMs' pyramid pooling sizes.
        **kwargs: ``BaseDecodeHead``'s (``channels`` is the 3 x 3 conv's
            output, fed to the classifier).

    Shapes: the selected backbone level (B, in_channels, H, W) -> logits
    (B, num_classes, H, W).
    """

    def __init__(self, mid_channels: int = 1024,
                 pool_sizes: Sequence[int] = (20, 12), **kwargs) -> None:
        super().__init__(**kwargs)
        conv = dict(norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.reduce = ConvModule(self.in_channels, mid_channels, 1, **conv)
        self.strip_pool = StripPooling(mid_channels, self.norm_cfg)
        self.mixed_pools = nn.Sequential(
            MixedPooling(mid_channels, pool_sizes, self.norm_cfg,
                         self.act_cfg),
            MixedPooling(mid_channels, pool_sizes, self.norm_cfg,
                         self.act_cfg))
        self.bottleneck = ConvModule(mid_channels, self.channels, 3,
                                     padding=1, **conv)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        x = self.reduce(self._transform_inputs(inputs))
        x = self.mixed_pools(self.strip_pool(x))
        return self.cls_seg(self.bottleneck(x))


__all__ = ['MixedPooling', 'SPHead', 'StripPooling']
