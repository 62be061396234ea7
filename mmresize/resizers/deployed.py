"""A trained DownsizeNet for one input and output size, in the form that
``mmresize.deploy`` exports: plain convolutions, contiguous gathers and
elementwise ops, laid out for what ONNX Runtime runs fast.

The module's own forward (``downsizenet.py``) runs the layer before last
densely over the full-resolution image and gathers the 3 x 3
neighbourhoods of its 16-channel map at the anchors. Exported, that graph
spends most of its time moving the 16-channel map (reordering it out of the
convolution's blocked layout, gathering single elements along its rows),
not computing. Here the anchors' rows are chosen before any convolution
runs, and the anchors' columns once, at K values a pixel:

1. gather the input rows each anchor row needs: for the rows ``anchor_y +
   u`` (u in {-1, 0, 1}) that the last layer reads, their 3 taps, as 9 h
   whole rows (zero rows outside the image: the conv's zero padding);
2. the layer before last as a convolution with stride 3 along the rows,
   dense along the columns (its own zero padding there): (B, F, 3 h, W);
   rows outside the image zeroed (the last layer's zero padding);
3. the last layer, stride 3 along the rows: (B, F, h, W): the texture
   (method section 5) at the anchors' rows, every column;
4. the coefficient conv's share of the features, a 1x1 conv F -> K, still
   at every column: (B, K, h, W); then the anchors' columns, picked as
   whole (K h) columns of its transpose: (B, w, K', h), K' the neighbours
   in (Tx, Ty) order; the constant part of the logits added (r's share,
   the bias, the near-bilinear start's prior logits); the activation over
   the K neighbours;
5. the convex combination: the neighbours' rows, then their columns (of
   the transposed rows), weighted and summed: (B, C, h, w).

The 1x1 conv is linear, so applying it before the columns are picked is
the same function; it moves K values a pixel instead of F through the
layout changes, and ONNX Runtime copies whole columns faster than it
gathers F-value pixels.

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
        self.to(resizer.coef_conv.weight.device)  # the strided copies too

    def _constants(self, resizer: DownsizeNet, dtype: torch.dtype) -> None:
        """Row and column indices, the row mask, the coefficient conv's
        weights on the features and the logits' constant part, for these
        sizes, on the resizer's device."""
        height, h = self.in_hw[0], self.out_hw[0]
        device = resizer.coef_conv.weight.device
        geo = sampling_geometry(self.in_hw, self.out_hw, resizer.kernel,
                                device, torch.float64)
        offsets = _OFFSETS.to(device)
        rows = geo.anchor_y[:, None] + offsets  # (h, 3): the last layer's
        taps = rows[:, :, None] + offsets  # (h, 3, 3) input rows
        # into the input padded with 2 zero rows above and below
        self.register_buffer('tap_rows', (taps + 2).reshape(-1), False)
        inside = ((rows >= 0) & (rows < height)).reshape(1, 1, 3 * h, 1)
        self.register_buffer(
            'row_mask', None if bool(inside.all()) else inside.to(dtype),
            False)
        self.register_buffer('anchor_x', geo.anchor_x.clone(), False)
        # the neighbours in (Tx, Ty) order, k' = tx Ty + ty (the module's k
        # is ty Tx + tx), so that step 5 needs no transpose of coefficients
        ty, tx = self.grid_t = (geo.index_y.shape[1], geo.index_x.shape[1])
        order = torch.arange(ty * tx, device=device)
        order = order.reshape(ty, tx).t().reshape(-1)
        weight = resizer.coef_weight_features(torch.float64)[order]
        self.register_buffer(  # step 4: (K', F, 1, 1)
            'weight_z', weight[:, :, None, None].to(dtype).contiguous(),
            False)
        # (K, h, w) -> (w, K', h), the logits' layout
        const = resizer.logit_offset(geo).double()[order]
        self.register_buffer('logits_const',
                             const.permute(2, 0, 1).to(dtype).contiguous(),
                             False)
        # copies: the geometry's tensors are shared through its cache;
        # rows in (Ty, h) order, columns in (w, Tx) order
        self.register_buffer('index_y', geo.index_y.t().reshape(-1).clone(),
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
        logits = self._logits(feats)  # (B, w, K', h)
        coef = normalised_coefficients(logits, self.coef_act, dim=2)
        return self._combine(image, coef).to(x.dtype)

    def _logits(self, feats: torch.Tensor) -> torch.Tensor:
        """The last two layers, the coefficient conv's share of the texture
        at every column of the anchors' rows, then the anchors' columns and
        the logits' constant part: (B, C', H, W) -> (B, w, K', h)."""
        rows = F.pad(feats, (0, 0, 2, 2)).index_select(2, self.tap_rows)
        layer_a = F.relu(self.conv_a(rows))  # (B, F, 3 h, W)
        if self.row_mask is not None:
            layer_a = layer_a * self.row_mask
        layer_b = F.relu(self.conv_b(layer_a))  # (B, F, h, W)
        z = F.conv2d(layer_b, self.weight_z)  # (B, K', h, W)
        batch, k, h, width = z.shape
        # whole (K h) columns: (B, W, K h) -> (B, w, K h)
        z = z.reshape(batch, k * h, width).transpose(1, 2)
        z = z.index_select(1, self.anchor_x)
        return z.reshape(batch, -1, k, h) + self.logits_const

    def _combine(self, image: torch.Tensor,
                 coef: torch.Tensor) -> torch.Tensor:
        """Convex combination of the K neighbours: (B, C, H, W) image and
        (B, w, K', h) coefficients (K' in (Tx, Ty) order) -> (B, C, h, w).

        The neighbours are gathered as whole rows, then as whole columns of
        the transposed rows, into (B, C, w, Tx, Ty, h): the coefficients'
        layout with a channel axis, over which the product broadcasts
        (ONNX Runtime's broadcast over an innermost axis of 3 channels, the
        form before, took 8.7 times as long: 0.92 against 0.11 ms,
        profiled at 360x480 -> 0.3x, one thread)."""
        batch, channels = image.shape[:2]
        (h, w), (ty, tx) = self.out_hw, self.grid_t
        rows = image.index_select(2, self.index_y)  # (B, C, Ty h, W)
        neigh = rows.transpose(2, 3).index_select(2, self.index_x)
        neigh = neigh.reshape(batch, channels, w, tx, ty, h)
        coef = coef.reshape(batch, 1, w, tx, ty, h)
        return (neigh * coef).sum(dim=(3, 4)).transpose(2, 3)


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
