"""A trained DownsizeNet for one input and output size, in the form that
``mmresize.deploy`` exports: plain convolutions, contiguous gathers and
elementwise ops, laid out for what ONNX Runtime runs fast.

The module's own forward (``downsizenet.py``) runs the layer before last
densely over the full-resolution image and gathers the 3 x 3
neighbourhoods of its 16-channel map at the anchors. Exported, that graph
spends most of its time moving the 16-channel map (reordering it out of the
convolution's blocked layout, gathering single elements along its rows),
not computing. Here the anchors' rows are chosen before any convolution
runs, and the anchors' columns once, at 16 values a pixel:

1. gather the input rows each anchor row needs: for the rows ``anchor_y +
   u`` (u in {-1, 0, 1}) that the last layer reads, their 3 taps, as 9 h
   whole rows (zero rows outside the image: the conv's zero padding);
2. the layer before last as a convolution with stride 3 along the rows,
   dense along the columns (its own zero padding there): (B, F, 3 h, W);
   rows outside the image zeroed (the last layer's zero padding);
3. the last layer, stride 3 along the rows: (B, F, h, W); then the anchors'
   columns picked in (B, h, W, F) layout: the texture at the anchors
   (method section 5), (B, h, w, F);
4. the 1x1 coefficient conv over [features, r] as a matrix product with a
   constant of the sizes added (r's share, the bias, the near-bilinear
   start's prior logits); the activation over the K neighbours;
5. the convex combination: the neighbours' rows, then their columns (3
   values a pixel), weighted and summed: (B, C, h, w).

With more than 2 convs, the ones before run densely first, as in the
module. It computes the module's function (``tests/test_deployed_resizer.py``
checks it in float64 against ``DownsizeNet.forward``, every configuration).
What it costs: ``docs/deploy.md``. Method: ``docs/method.md`` (Ma & Li,
BMVC 2022).
"""
import copy
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .downsizenet import DownsizeNet, normalised_coefficients
from .grid import sampling_geometry

_OFFSETS = torch.arange(-1, 2)  # a 3x3 conv's taps, and the last layer's


class DeployedDownsizeNet(nn.Module):
    """``resizer(x, out_hw)`` for x of spatial size ``in_hw`` (eval only,
    with the weights ``resizer`` has at construction).

    Args:
        resizer: a trained ``DownsizeNet`` (any configuration).
        in_hw: (H, W) of the inputs.
        out_hw: (h, w) of the outputs.
        dtype: what it computes in (float32 for deployment; float64 checks
            that it is the module's function to rounding).

    Shapes: ``forward(x, size)`` with x (B, C, H, W) float and ``size`` =
    ``out_hw`` returns (B, C, h, w) in x's dtype. It lives on the
    resizer's device.
    """

    def __init__(self, resizer: DownsizeNet, in_hw: Tuple[int, int],
                 out_hw: Tuple[int, int],
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if not isinstance(resizer, DownsizeNet):
            raise TypeError(f'DeployedDownsizeNet deploys a DownsizeNet, got '
                            f'{type(resizer).__name__}')
        self.in_hw, self.out_hw = tuple(in_hw), tuple(out_hw)
        self.coef_act = resizer.coef_act
        self.head = nn.ModuleList(
            _copy(conv, dtype) for conv in resizer.convs[:-2])
        # the last two layers, strided along the rows (step 2, 3)
        self.conv_a = _row_strided(resizer.convs[-2], dtype)
        self.conv_b = _row_strided(resizer.convs[-1], dtype)
        with torch.no_grad():
            self._constants(resizer, dtype)
        self.to(resizer.coef_conv.weight.device)  # the constants too

    def _constants(self, resizer: DownsizeNet, dtype: torch.dtype) -> None:
        """Row and column indices, the row mask, the coefficient weights and
        the logits' constant part, for these sizes."""
        height, h = self.in_hw[0], self.out_hw[0]
        geo = sampling_geometry(self.in_hw, self.out_hw, resizer.kernel,
                                torch.device('cpu'), torch.float64)
        rows = geo.anchor_y[:, None] + _OFFSETS  # (h, 3): the last layer's
        taps = rows[:, :, None] + _OFFSETS  # (h, 3, 3) input rows
        # into the input padded with 2 zero rows above and below
        self.register_buffer('tap_rows', (taps + 2).reshape(-1), False)
        inside = ((rows >= 0) & (rows < height)).reshape(1, 1, 3 * h, 1)
        self.register_buffer(
            'row_mask', None if bool(inside.all()) else inside.to(dtype),
            False)
        self.register_buffer('anchor_x', geo.anchor_x.clone(), False)
        feat = resizer.convs[-1].out_channels
        weight = resizer.coef_conv.weight.detach().double().flatten(1)
        self.register_buffer('weight_z',
                             weight[:, :feat].t().to(dtype).clone(),
                             False)  # (F, K)
        with torch.no_grad():  # (K, h, w) -> (h, w, K)
            const = resizer.logit_offset(geo).double().permute(1, 2, 0)
        self.register_buffer('logits_const',
                             const.to(dtype).contiguous(), False)
        self.grid_t = (geo.index_y.shape[1], geo.index_x.shape[1])
        # copies: the geometry's tensors are shared through its cache
        self.register_buffer('index_y', geo.index_y.reshape(-1).clone(),
                             False)
        self.register_buffer('index_x', geo.index_x.reshape(-1).clone(),
                             False)

    @property
    def dtype(self) -> torch.dtype:
        """What it computes in: its weights' dtype (follows ``.to()``)."""
        return self.conv_b.weight.dtype

    def forward(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, h, w); ``size`` must be ``out_hw``."""
        if tuple(x.shape[-2:]) != self.in_hw or tuple(size) != self.out_hw:
            raise ValueError(
                f'this deployed resizer maps {self.in_hw} -> {self.out_hw}, '
                f'got {tuple(x.shape[-2:])} -> {tuple(size)}; build it for '
                'those sizes')
        image = x.to(self.dtype)
        feats = image
        for conv in self.head:
            feats = F.relu(conv(feats))
        coef = self._coefficients(self._texture(feats))
        return self._combine(image, coef).to(x.dtype)

    def _texture(self, feats: torch.Tensor) -> torch.Tensor:
        """The last two layers at the anchors: (B, C', H, W) ->
        (B, h, w, F)."""
        rows = F.pad(feats, (0, 0, 2, 2)).index_select(2, self.tap_rows)
        layer_a = F.relu(self.conv_a(rows))  # (B, F, 3 h, W)
        if self.row_mask is not None:
            layer_a = layer_a * self.row_mask
        layer_b = F.relu(self.conv_b(layer_a))  # (B, F, h, W)
        return layer_b.permute(0, 2, 3, 1).index_select(2, self.anchor_x)

    def _coefficients(self, texture: torch.Tensor) -> torch.Tensor:
        """(B, h, w, F) texture -> (B, h, w, K) coefficients."""
        logits = texture @ self.weight_z + self.logits_const
        return normalised_coefficients(logits, self.coef_act, dim=-1)

    def _combine(self, image: torch.Tensor,
                 coef: torch.Tensor) -> torch.Tensor:
        """Convex combination of the K neighbours: (B, C, H, W) image and
        (B, h, w, K) coefficients -> (B, C, h, w)."""
        batch, channels = image.shape[:2]
        (h, w), (ty, tx) = self.out_hw, self.grid_t
        neigh = image.index_select(2, self.index_y).permute(0, 2, 3, 1)
        neigh = neigh.index_select(2, self.index_x)  # (B, h Ty, w Tx, C)
        neigh = neigh.reshape(batch, h, ty, w, tx, channels)
        coef = coef.reshape(batch, h, w, ty, tx).permute(0, 1, 3, 2, 4)
        out = (neigh * coef.unsqueeze(-1)).sum(dim=(2, 4))  # (B, h, w, C)
        return out.permute(0, 3, 1, 2)


def _copy(conv: nn.Conv2d, dtype: torch.dtype) -> nn.Conv2d:
    """A copy of ``conv`` in ``dtype``, detached from the trained module."""
    return copy.deepcopy(conv).to(dtype).requires_grad_(False)


def _row_strided(conv: nn.Conv2d, dtype: torch.dtype) -> nn.Conv2d:
    """``conv`` (3x3, padding 1) with stride 3 along the rows and no row
    padding (the rows come gathered, 3 per output row), the same weights."""
    strided = nn.Conv2d(conv.in_channels, conv.out_channels, 3,
                        stride=(3, 1), padding=(0, 1))
    strided = strided.to(dtype)
    strided.load_state_dict(conv.state_dict())
    return strided.requires_grad_(False)


__all__ = ['DeployedDownsizeNet']
