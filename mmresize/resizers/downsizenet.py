"""DownsizeNet: spatial and texture aware image downsizing.

Lin Ma and Weiming Li, "Task Generalizable Spatial and Texture Aware Image
Downsizing Network", BMVC 2022. Every output pixel is a convex combination of
its K = 4 (bilinear grid) or 16 (bicubic grid) input neighbours, with
coefficients inferred from the relative distance vector r and texture features
read at the projected point ("floating-point pooling"). The exact definition
lives in ``docs/method.md``; section numbers below refer to it.

Start (section 4): an exactly-bilinear start from which every parameter
trains is impossible wherever r has zeros (every integer factor). Two starts,
both with true gradients (no custom backward: the gradients are PyTorch's
derivatives of the forward): the paper's random one, the default, and a
near-bilinear one, ``softmax(z + log r_eps)`` with r_eps the bilinear weights
smoothed by eps towards uniform and the 1x1 conv z zero-initialised. The
measurements behind the default are in ``docs/benchmarks.md``.

Cost: the last texture layer is evaluated only at the h x w anchor points it is
read at (section 5). On CPU a compiled op (``fused.py``) evaluates the last
two layers from the 5x5 input patch of each anchor; on CUDA one Triton kernel
(``fused_triton.py``) does that and the rest of the forward; elsewhere the
layer before runs densely in channels_last and the last as a stride-3
convolution over the gathered 3 x 3 neighbourhoods.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from . import fused, fused_triton
from .base import BaseResizer
from .grid import Geometry, sampling_geometry
from .sampling import gather_grid, gather_neighbourhood

# Initialisation choices (section 4): 'random' is the paper's plain
# start (the default); the near-bilinear start adds the logits of the
# smoothed bilinear weights to the network's (zero-initialised) ones.
INITS = ('random', 'near_bilinear')
# Smoothing of the bilinear weights in the near-bilinear start:
# r_eps = (1 - eps) r + eps / K, so that no logit is -inf and every
# coefficient keeps a true, non-zero gradient (see ``bilinear_logits``).
DEFAULT_INIT_EPS = 0.05
# Sigmoid coefficients are normalised after the activation; the prior logits
# put every sigmoid at half its smoothed bilinear weight, away from saturation.
SIGMOID_PRIOR_SCALE = 0.5


def smoothed_prior(prior: torch.Tensor, eps: float) -> torch.Tensor:
    """``r_eps = (1 - eps) * prior + eps / K``: (1, K, h, w), sums to 1."""
    return torch.lerp(prior, torch.full_like(prior, 1 / prior.shape[1]), eps)


def bilinear_logits(prior: torch.Tensor, eps: float,
                    coef_act: str) -> torch.Tensor:
    """Logits whose normalised activation is exactly ``smoothed_prior``.

    softmax: ``log r_eps`` (softmax of it is r_eps, which sums to 1).
    sigmoid: ``logit(r_eps / 2)``, so ``sigmoid(z) / sum(sigmoid(z))`` is
    r_eps again. Shapes: (1, K, h, w) in and out; finite for eps > 0.
    """
    r_eps = smoothed_prior(prior, eps)
    if coef_act == 'softmax':
        return r_eps.log()
    return torch.logit(SIGMOID_PRIOR_SCALE * r_eps)


def normalised_coefficients(logits: torch.Tensor, coef_act: str,
                            dim: int = 1) -> torch.Tensor:
    """Coefficients, non-negative, summing to 1 over the K neighbours along
    ``dim`` (logits (B, K, h, w) by default)."""
    if coef_act == 'softmax':
        return logits.softmax(dim=dim)
    weights = logits.sigmoid()
    return weights / weights.sum(dim=dim, keepdim=True)


@MODELS.register_module()
class DownsizeNet(BaseResizer):
    """Learned downsizing by per-pixel convex combination of neighbours.

    Args:
        in_channels: image channels C.
        feat_channels: channels of the texture features (paper: 16).
        num_convs: 3x3 conv layers of the texture branch, 2 to 4.
        kernel: 'bilinear' (K = 4 neighbours) or 'bicubic' (K = 16).
        coef_act: 'softmax' or 'sigmoid' (then normalised to sum to 1).
        init: 'random' (default): the paper's plain ``act(z)`` with
            PyTorch's default random weights. 'near_bilinear': the
            coefficients are ``act(z + bilinear_logits(r, init_eps))`` with
            the 1x1 conv z zero-initialised, so training starts at the
            smoothed bilinear weights ``(1 - eps) r + eps / K``: the output
            is ``(1 - eps) * bilinear + eps * (mean of the K neighbours)``,
            within ``eps * (max - min)`` of the image's values of bilinear
            everywhere, and every coefficient has its true gradient. Both
            have the paper's 2,852 parameters.
        init_eps: the smoothing eps of 'near_bilinear', in (0, 1).
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
                 init: str = 'random',
                 init_eps: float = DEFAULT_INIT_EPS,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        _check_choice('kernel', kernel, ('bilinear', 'bicubic'))
        _check_choice('coef_act', coef_act, ('softmax', 'sigmoid'))
        _check_choice('init', init, INITS)
        if not isinstance(num_convs, int) or not 2 <= num_convs <= 4:
            raise ValueError(f'num_convs must be 2, 3 or 4, got {num_convs!r}')
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        if not isinstance(init_eps, (int, float)) or not 0 < init_eps < 1:
            raise ValueError(
                f'init_eps must be in (0, 1), got {init_eps!r}: at 0 the '
                'logits of the zero bilinear weights are -inf and those '
                'coefficients could never learn')
        self.feat_channels = feat_channels
        self.num_convs = num_convs
        self.kernel = kernel
        self.coef_act = coef_act
        self.init = init
        self.init_eps = float(init_eps)
        self.num_neighbours = 4 if kernel == 'bilinear' else 16

        channels = [in_channels] + [feat_channels] * num_convs
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 3, padding=1)
            for cin, cout in zip(channels[:-1], channels[1:]))
        self.coef_conv = nn.Conv2d(feat_channels + self.num_neighbours,
                                   self.num_neighbours, 1)
        self._reset_coef_conv()
        if frozen:
            self.freeze()

    def _reset_coef_conv(self) -> None:
        if self.init == 'near_bilinear':
            nn.init.zeros_(self.coef_conv.weight)
            nn.init.zeros_(self.coef_conv.bias)

    def init_weights(self) -> None:
        """Re-apply the near-bilinear start (if chosen) unless an
        ``init_cfg`` says otherwise."""
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
        dtype = geo.r.dtype  # float32 at least (float64 for gradcheck)
        with torch.autocast(device_type=feats.device.type, enabled=False):
            # The 1x1 conv over [features, r]: (B, K, h, w).
            z = torch.einsum('kf,bfhw->bkhw', self.coef_weight_features(dtype),
                             feats.to(dtype)) + self.logit_offset(geo)
            return normalised_coefficients(z, self.coef_act)

    def coef_weight_features(self, dtype: torch.dtype) -> torch.Tensor:
        """The 1x1 conv's weights on the texture features: (K, F)."""
        return self.coef_conv.weight.to(dtype).flatten(1)[:, :self.feat_channels]

    def logit_offset(self, geo: Geometry) -> torch.Tensor:
        """The logits' part that is the same for every image: (K, h, w).

        The 1x1 conv's weights on r times r, its bias, and the near-bilinear
        start's prior logits; in r's dtype (float32 at least).
        """
        dtype = geo.r.dtype
        weight = self.coef_conv.weight.to(dtype).flatten(1)[:, self.feat_channels:]
        with torch.autocast(device_type=geo.r.device.type, enabled=False):
            z = (torch.einsum('kr,rhw->khw', weight, geo.r)
                 + self.coef_conv.bias.to(dtype)[:, None, None])
            if self.init == 'near_bilinear':
                z = z + bilinear_logits(geo.prior, self.init_eps,
                                        self.coef_act)[0]
        return z

    def resize_with_coefficients(
            self, x: torch.Tensor,
            size: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Output (B, C, h, w) and coefficients a (B, K, h, w) (section 3.5).

        ``x`` and ``size`` must already be checked (use ``forward``).
        """
        geo = self.geometry(x, size)
        if fused_triton.available(x, self):
            return fused_triton.resize(self, x, geo)
        coef = self._coefficients(self.texture_at_anchors(x, geo), geo)
        out = gather_grid(x, geo.index_y, geo.index_x, coef)
        return out, coef

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        return self.resize_with_coefficients(x, size)[0]

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, feat_channels='
                f'{self.feat_channels}, num_convs={self.num_convs}, kernel='
                f'{self.kernel!r}, coef_act={self.coef_act!r}, init='
                f'{self.init!r}, init_eps={self.init_eps}, '
                f'frozen={self.frozen}')


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


__all__ = [
    'DownsizeNet', 'bilinear_logits', 'normalised_coefficients',
    'smoothed_prior'
]
