"""DownsizeNet: spatial and texture aware image downsizing.

Lin Ma and Weiming Li, "Task Generalizable Spatial and Texture Aware Image
Downsizing Network", BMVC 2022. Every output pixel is a convex combination of
its K = 4 (bilinear grid) or 16 (bicubic grid) input neighbours, with
coefficients inferred from the relative distance vector r and texture features
read at the projected point ("floating-point pooling"). The exact definition
lives in ``shared/design/downsizenet.md``; section numbers below refer to it.

Exact bilinear start (section 4, ours): the suggested ``softmax(log r + z)``
saturates wherever r has zeros, and at odd integer factors (300 -> 100) every
r is one-hot, so no gradient reaches the network at all. Instead the
coefficients blend the bilinear weights with the network's,
``(1 - g) r + g act(z)``, through a scalar gate g that starts at 0 (see
``gated_blend`` for how both keep learning while the gate is closed).

Cost: the last texture layer is evaluated only at the h x w anchor points it is
read at (section 5). On CPU a compiled op (``fused.py``) evaluates the last
two layers from the 5x5 input patch of each anchor; elsewhere the layer before
runs densely in channels_last and the last as a stride-3 convolution over the
gathered 3 x 3 neighbourhoods.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from . import fused
from .base import BaseResizer
from .grid import Geometry, sampling_geometry
from .sampling import gather_grid, gather_neighbourhood

# While the gate is (nearly) closed the network's coefficients are trained as
# if it were open this much, so they keep learning from the bilinear start.
MIN_GATE_GRAD = 0.1


class _GatedBlend(torch.autograd.Function):
    """``lerp(prior, learned, clamp(gate, 0, 1))`` with the gradients below."""

    @staticmethod
    def forward(ctx, prior, learned, gate):
        g = gate.clamp(0, 1)
        ctx.save_for_backward(prior, learned, g)
        return torch.lerp(prior.expand_as(learned), learned, g)

    @staticmethod
    def backward(ctx, grad):
        prior, learned, g = ctx.saved_tensors
        grad_gate = (grad * (learned - prior)).sum().reshape(g.shape)
        return None, grad * g.clamp(min=MIN_GATE_GRAD), grad_gate


def gated_blend(prior: torch.Tensor, learned: torch.Tensor,
                gate: torch.Tensor) -> torch.Tensor:
    """``(1 - g) * prior + g * learned`` with g = gate clamped to [0, 1].

    Forward: exactly that convex blend (exactly ``prior`` at g = 0). Backward:
    the gate gets the straight-through gradient ``sum((learned - prior) *
    grad)`` (also outside [0, 1], so it can reopen), and ``learned`` gets
    ``max(g, MIN_GATE_GRAD) * grad``: the first-order direction that would
    make blending pay, which is also what opens the gate.

    Shapes: prior (1, K, h, w), learned (B, K, h, w), gate () -> (B, K, h, w).
    """
    return _GatedBlend.apply(prior, learned, gate)


# Floor on the bilinear weights when they are turned into logits, so that no
# logit is -inf and every coefficient keeps a gradient (section 4, ours).
PRIOR_FLOOR = 0.01


def prior_logits(prior: torch.Tensor, coef_act: str) -> torch.Tensor:
    """Logits whose activation is (about) the bilinear weights ``prior``.

    ``normalised_coefficients(prior_logits(r, act), act)`` is r up to the
    floor ``PRIOR_FLOOR`` on its zero entries. Shapes: (1, K, h, w) in and out.
    """
    p = prior.clamp(PRIOR_FLOOR, 1 - PRIOR_FLOOR)
    return p.log() if coef_act == 'softmax' else torch.logit(p)


def normalised_coefficients(logits: torch.Tensor,
                            coef_act: str) -> torch.Tensor:
    """Coefficients (B, K, h, w), non-negative, summing to 1 over K."""
    if coef_act == 'softmax':
        return logits.softmax(dim=1)
    weights = logits.sigmoid()
    return weights / weights.sum(dim=1, keepdim=True)


@MODELS.register_module()
class DownsizeNet(BaseResizer):
    """Learned downsizing by per-pixel convex combination of neighbours.

    Args:
        in_channels: image channels C.
        feat_channels: channels of the texture features (paper: 16).
        num_convs: 3x3 conv layers of the texture branch, 2 to 4.
        kernel: 'bilinear' (K = 4 neighbours) or 'bicubic' (K = 16).
        coef_act: 'softmax' or 'sigmoid' (then normalised to sum to 1).
        init: 'interp' starts exactly as bilinear interpolation: the
            coefficients are ``(1 - g) * r_bilinear + g * act(z)`` with a
            learnable scalar gate ``blend`` g starting at 0 and the 1x1
            conv z at zero (one parameter more than the paper's 2,852).
            'random' is the paper's plain ``act(z)`` with random weights.
        learned_start: with ``init='interp'``, where the network's own
            coefficients ``act(z)`` start: 'uniform' (z = 0: a box filter
            over the K neighbours) or 'prior' (z is added to the logits of
            the bilinear weights, see ``prior_logits``, so the network
            starts at bilinear too and learns a deviation from it). Where
            r is one-hot (integer factors) those coefficients start near
            saturation, with gradients of about ``PRIOR_FLOOR``: plain SGD
            barely moves them there; AdamW (the benchmark's) does.
        frozen: see ``BaseResizer``.
        init_cfg: mmengine initialisation config.

    Shapes: ``forward(x, (h, w))`` with x (B, C, H, W) returns (B, C, h, w).
    Coefficients are computed in float32, also under autocast.
    """

    def __init__(self,
                 in_channels: int = 3,
                 feat_channels: int = 16,
                 num_convs: int = 2,
                 kernel: str = 'bilinear',
                 coef_act: str = 'softmax',
                 init: str = 'interp',
                 learned_start: str = 'uniform',
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        _check_choice('kernel', kernel, ('bilinear', 'bicubic'))
        _check_choice('coef_act', coef_act, ('softmax', 'sigmoid'))
        _check_choice('init', init, ('interp', 'random'))
        _check_choice('learned_start', learned_start, ('uniform', 'prior'))
        if learned_start == 'prior' and init != 'interp':
            raise ValueError("learned_start='prior' needs init='interp' (the "
                             "gate is what keeps the start exactly bilinear)")
        if not isinstance(num_convs, int) or not 2 <= num_convs <= 4:
            raise ValueError(f'num_convs must be 2, 3 or 4, got {num_convs!r}')
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        self.feat_channels = feat_channels
        self.num_convs = num_convs
        self.kernel = kernel
        self.coef_act = coef_act
        self.init = init
        self.learned_start = learned_start
        self.num_neighbours = 4 if kernel == 'bilinear' else 16

        channels = [in_channels] + [feat_channels] * num_convs
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 3, padding=1)
            for cin, cout in zip(channels[:-1], channels[1:]))
        self.coef_conv = nn.Conv2d(feat_channels + self.num_neighbours,
                                   self.num_neighbours, 1)
        if init == 'interp':
            self.blend = nn.Parameter(torch.zeros(()))
        self._reset_coef_conv()
        if frozen:
            self.freeze()

    def _reset_coef_conv(self) -> None:
        if self.init == 'interp':
            nn.init.zeros_(self.coef_conv.weight)
            nn.init.zeros_(self.coef_conv.bias)
            nn.init.zeros_(self.blend)

    def init_weights(self) -> None:
        """Keep the 'interp' start unless an ``init_cfg`` says otherwise."""
        super().init_weights()
        if self.init_cfg is None:
            self._reset_coef_conv()

    def geometry(self, x: torch.Tensor, size: Tuple[int, int]) -> Geometry:
        """Sampling geometry of x (B, C, H, W) -> (h, w), cached per size."""
        dtype = torch.promote_types(x.dtype, torch.float32)
        return sampling_geometry(tuple(x.shape[-2:]), tuple(size),
                                 self.kernel, x.device, dtype)

    def texture_at_anchors(self, x: torch.Tensor,
                           geo: Geometry) -> torch.Tensor:
        """Texture features read at the anchors P (floating-point pooling).

        Args:
            x: (B, C, H, W) images.
            geo: the sampling geometry (anchors (h,) and (w,)).

        Returns:
            (B, F, h, w) features of the last conv layer, evaluated only at
            the anchors.
        """
        ys, xs = geo.anchor_y, geo.anchor_x
        head = self.convs[:-2]
        feats = x
        if len(head):
            feats = x.contiguous(memory_format=torch.channels_last)
            for conv in head:
                feats = F.relu(conv(feats), inplace=True)
        conv_a, conv_b = self.convs[-2], self.convs[-1]
        if fused.available(feats, conv_a, conv_b):
            return fused.texture_at_anchors(feats.contiguous(), conv_a, conv_b,
                                            ys, xs)
        feats = F.relu(conv_a(feats.contiguous(
            memory_format=torch.channels_last)), inplace=True)
        # The 3x3 neighbourhoods of all anchors, tiled as (3h, 3w): a stride-3
        # conv over them is the last layer at the anchors (zero padding kept).
        offsets = torch.arange(-1, 2, device=x.device)
        neigh = gather_neighbourhood(feats, ys, xs, offsets)
        return F.relu(F.conv2d(neigh, conv_b.weight, conv_b.bias, stride=3))

    def _coefficients(self, feats: torch.Tensor,
                      geo: Geometry) -> torch.Tensor:
        """Coefficients (B, K, h, w), float32 or wider, from anchor features."""
        device = feats.device
        # float32 at least (float64 stays float64, for gradcheck).
        dtype = geo.r.dtype
        r = geo.r
        feat_channels = feats.shape[1]
        weight = self.coef_conv.weight.to(dtype).flatten(1)  # (K, F + K)
        bias = self.coef_conv.bias.to(dtype)[:, None, None]
        with torch.autocast(device_type=device.type, enabled=False):
            # The 1x1 conv over [features, r], split so that r's part (the
            # same for every image) is computed once: (B, K, h, w).
            z = torch.einsum('kf,bfhw->bkhw', weight[:, :feat_channels],
                             feats.to(dtype))
            z = z + (torch.einsum('kr,rhw->khw', weight[:, feat_channels:], r)
                     + bias)
            if self.learned_start == 'prior':
                z = z + prior_logits(geo.prior, self.coef_act)
            coef = normalised_coefficients(z, self.coef_act)
            if self.init == 'interp':
                coef = gated_blend(geo.prior, coef, self.blend.to(dtype))
            return coef

    def resize_with_coefficients(
            self, x: torch.Tensor,
            size: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Output (B, C, h, w) and coefficients a (B, K, h, w) (section 3.5).

        ``x`` and ``size`` must already be checked (use ``forward``).
        """
        geo = self.geometry(x, size)
        coef = self._coefficients(self.texture_at_anchors(x, geo), geo)
        out = gather_grid(x, geo.index_y, geo.index_x, coef)
        return out, coef

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        return self.resize_with_coefficients(x, size)[0]

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, feat_channels='
                f'{self.feat_channels}, num_convs={self.num_convs}, kernel='
                f'{self.kernel!r}, coef_act={self.coef_act!r}, init='
                f'{self.init!r}, learned_start={self.learned_start!r}, '
                f'frozen={self.frozen}')


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


__all__ = ['DownsizeNet', 'normalised_coefficients', 'prior_logits']
