"""Position-sensitive RoI Align (R-FCN, Dai et al. 2016; Light-Head R-CNN,
Li et al. 2017), built from mmcv's compiled ``roi_align``.

Each RoI is split into k x k bins; bin (i, j) is RoI-aligned (bilinear
samples averaged over the bin) from its own group of C channels of a
(B, k * k * C, H, W) map, giving (N, C, k, k). mmcv 2.1 has no such op; here
the channel groups are viewed as k * k images per image, and every bin of
every RoI becomes a 1 x 1 RoI Align of its own group: one compiled call,
exactly the same samples as a k x k RoI Align of the whole RoI
(``aligned=True``: the bin of a sub-RoI starts where the bin starts), and
only C channels computed per bin.

Channel layout (bin-major): channel ``(i * k + j) * C + c`` feeds output
channel c of bin (i, j).
"""
import torch
from mmcv.ops import roi_align
from torch import nn


def ps_roi_align(feats: torch.Tensor, rois: torch.Tensor, output_size: int,
                 spatial_scale: float, sampling_ratio: int = 2
                 ) -> torch.Tensor:
    """Position-sensitive RoI Align.

    Args:
        feats: (B, k * k * C, H, W) position-sensitive score maps.
        rois: (N, 5) rows ``[batch index, x1, y1, x2, y2]`` in image pixels.
        output_size: k, bins per side.
        spatial_scale: feature pixels per image pixel (1 / stride).
        sampling_ratio: samples per bin side (0: adaptive, as mmcv's).

    Returns:
        (N, C, k, k).
    """
    k = output_size
    batch, channels, height, width = feats.shape
    if channels % (k * k):
        raise ValueError(f'position-sensitive maps need k*k*C channels '
                         f'(k={k}), got {channels}')
    groups = channels // (k * k)
    # (B, k*k, C, H, W) -> k*k "images" per image, one per bin
    maps = feats.reshape(batch * k * k, groups, height, width)
    x1, y1, x2, y2 = rois[:, 1:].unbind(1)
    bin_w, bin_h = (x2 - x1) / k, (y2 - y1) / k
    step = torch.arange(k, dtype=rois.dtype, device=rois.device)
    # sub-RoI of bin (i, j): (N, k, k)
    bx1 = (x1[:, None] + step[None] * bin_w[:, None])[:, None, :].expand(
        -1, k, -1)
    by1 = (y1[:, None] + step[None] * bin_h[:, None])[:, :, None].expand(
        -1, -1, k)
    bx2 = bx1 + bin_w[:, None, None]
    by2 = by1 + bin_h[:, None, None]
    index = rois[:, 0, None, None] * (k * k) + (
        step[:, None] * k + step[None, :])[None]
    sub = torch.stack([index, bx1, by1, bx2, by2], dim=-1).reshape(-1, 5)
    out = roi_align(maps, sub, (1, 1), spatial_scale, sampling_ratio, 'avg',
                    True)
    return out.reshape(-1, k, k, groups).permute(0, 3, 1, 2).contiguous()


class PSRoIAlign(nn.Module):
    """``ps_roi_align`` as a module: (B, k*k*C, H, W), (N, 5) -> (N, C, k, k).
    """

    def __init__(self, output_size: int, spatial_scale: float,
                 sampling_ratio: int = 2) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, feats: torch.Tensor,
                rois: torch.Tensor) -> torch.Tensor:
        return ps_roi_align(feats, rois, self.output_size,
                            self.spatial_scale, self.sampling_ratio)

    def extra_repr(self) -> str:
        return (f'output_size={self.output_size}, spatial_scale='
                f'{self.spatial_scale}, sampling_ratio={self.sampling_ratio}')
