"""DownsizeNet: spatial and texture aware image downsizing.

Lin Ma and Weiming Li, "Task Generalizable Spatial and Texture Aware Image
Downsizing Network", BMVC 2022. Every output pixel is a convex combination of
its K = 4 (bilinear grid) or 16 (bicubic grid) input neighbours, with
coefficients inferred from the relative distance vector r and texture features
read at the projected point ("floating-point pooling"). The exact definition
lives in ``shared/design/downsizenet.md``; section numbers below refer to it.

Cost: the last texture layer is evaluated only at the h x w anchor points it is
read at (section 5), as a stride-3 convolution over the gathered 3 x 3
neighbourhoods; earlier layers run densely in channels_last.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS

from .base import BaseResizer
from .grid import AxisGrid, axis_grid, bilinear_prior, relative_distance
from .sampling import gather_grid, gather_neighbourhood

# Logit standing in for log(0) at init='interp': exp(-20) ~ 2e-9, far below
# float32 round-off on unit-scale images, yet finite so gradients stay defined.
ZERO_LOGIT = -20.0
# Logit of a coefficient of exactly 1 under 'sigmoid' (sigmoid(20) ~ 1 - 2e-9).
ONE_LOGIT = 20.0


def interp_prior(r: torch.Tensor, coef_act: str) -> torch.Tensor:
    """Logits b with ``act(b) == r`` for the activation ``coef_act``.

    Args:
        r: (K, h, w) float64 non-negative weights summing to 1 per pixel.
        coef_act: 'softmax' (b = log r) or 'sigmoid' (b = logit r).

    Returns:
        (K, h, w) float64 logits; zero weights map to ZERO_LOGIT.
    """
    if coef_act == 'softmax':
        logits = r.clamp(min=1e-300).log()
    else:
        logits = torch.logit(r.clamp(min=1e-300, max=1.0), eps=None)
        logits = logits.clamp(max=ONE_LOGIT)
    return torch.where(r > 0, logits.clamp(min=ZERO_LOGIT),
                       torch.full_like(r, ZERO_LOGIT))


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
        init: 'interp' starts exactly as bilinear interpolation (the 1x1
            coefficient conv is zero and a fixed bilinear prior is added to
            its logits); 'random' is the paper's plain initialisation.
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
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, frozen=frozen,
                         init_cfg=init_cfg)
        _check_choice('kernel', kernel, ('bilinear', 'bicubic'))
        _check_choice('coef_act', coef_act, ('softmax', 'sigmoid'))
        _check_choice('init', init, ('interp', 'random'))
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
        if self.init == 'interp':
            nn.init.zeros_(self.coef_conv.weight)
            nn.init.zeros_(self.coef_conv.bias)

    def init_weights(self) -> None:
        """Keep the 'interp' start unless an ``init_cfg`` says otherwise."""
        super().init_weights()
        if self.init_cfg is None:
            self._reset_coef_conv()

    def grids(self, in_size: Tuple[int, int],
              out_size: Tuple[int, int]) -> Tuple[AxisGrid, AxisGrid]:
        """Row and column source grids for (H, W) -> (h, w)."""
        return (axis_grid(in_size[0], out_size[0], self.kernel),
                axis_grid(in_size[1], out_size[1], self.kernel))

    def texture_at_anchors(self, x: torch.Tensor, gy: AxisGrid,
                           gx: AxisGrid) -> torch.Tensor:
        """Texture features read at the anchors P (floating-point pooling).

        Args:
            x: (B, C, H, W) images.
            gy, gx: row and column grids (anchors (h,) and (w,)).

        Returns:
            (B, F, h, w) features of the last conv layer, evaluated only at
            the anchors.
        """
        feats = x.contiguous(memory_format=torch.channels_last)
        for conv in self.convs[:-1]:
            feats = F.relu(conv(feats), inplace=True)
        last = self.convs[-1]
        # The 3x3 neighbourhoods of all anchors, tiled as (3h, 3w): a stride-3
        # conv over them is the last layer at the anchors (zero padding kept).
        offsets = torch.arange(-1, 2, device=x.device)
        neigh = gather_neighbourhood(feats, gy.anchor.to(x.device),
                                     gx.anchor.to(x.device), offsets)
        return F.relu(F.conv2d(neigh, last.weight, last.bias, stride=3))

    def _coefficients(self, feats: torch.Tensor, gy: AxisGrid,
                      gx: AxisGrid) -> torch.Tensor:
        """Coefficients (B, K, h, w), float32 or wider, from anchor features."""
        device = feats.device
        # float32 at least (float64 stays float64, for gradcheck).
        dtype = torch.promote_types(feats.dtype, torch.float32)
        r = relative_distance(gy, gx).to(device, dtype)
        with torch.autocast(device_type=device.type, enabled=False):
            z = F.conv2d(
                torch.cat([feats.to(dtype),
                           r.expand(feats.shape[0], -1, -1, -1)], dim=1),
                self.coef_conv.weight.to(dtype),
                self.coef_conv.bias.to(dtype))
            if self.init == 'interp':
                prior = interp_prior(bilinear_prior(gy, gx), self.coef_act)
                z = z + prior.to(device, dtype)
            return normalised_coefficients(z, self.coef_act)

    def resize_with_coefficients(
            self, x: torch.Tensor,
            size: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Output (B, C, h, w) and coefficients a (B, K, h, w) (section 3.5).

        ``x`` and ``size`` must already be checked (use ``forward``).
        """
        gy, gx = self.grids(x.shape[-2:], size)
        coef = self._coefficients(self.texture_at_anchors(x, gy, gx), gy, gx)
        out = gather_grid(x, gy.index.to(x.device), gx.index.to(x.device),
                          coef)
        return out, coef

    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        return self.resize_with_coefficients(x, size)[0]

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, feat_channels='
                f'{self.feat_channels}, num_convs={self.num_convs}, kernel='
                f'{self.kernel!r}, coef_act={self.coef_act!r}, init='
                f'{self.init!r}, frozen={self.frozen}')


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


__all__ = ['DownsizeNet', 'interp_prior', 'normalised_coefficients']
