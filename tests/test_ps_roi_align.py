"""Position-sensitive RoI Align against a direct reference written from the
definition (mmcv's bilinear sampling rules, aligned=True), forward and
gradient."""
import math

import pytest
import torch

from mmresize.models.ps_roi_align import PSRoIAlign, ps_roi_align


def bilinear(plane: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """mmcv's roi_align sample of a (C, H, W) map at (y, x)."""
    height, width = plane.shape[-2:]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return plane.new_zeros(plane.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * plane[:, y0, x0] +
            (1 - ly) * lx * plane[:, y0, x1] + ly * (1 - lx) *
            plane[:, y1, x0] + ly * lx * plane[:, y1, x1])


def reference(feats, rois, k, scale, ratio):
    groups = feats.shape[1] // (k * k)
    out = []
    for roi in rois.tolist():
        b, x1, y1, x2, y2 = roi
        sx, sy = x1 * scale - 0.5, y1 * scale - 0.5
        bw, bh = (x2 - x1) * scale / k, (y2 - y1) * scale / k
        bins = []
        for i in range(k):
            row = []
            for j in range(k):
                group = i * k + j
                plane = feats[int(b), group * groups:(group + 1) * groups]
                samples = [bilinear(plane, sy + i * bh + (iy + 0.5) * bh /
                                    ratio, sx + j * bw + (ix + 0.5) * bw /
                                    ratio)
                           for iy in range(ratio) for ix in range(ratio)]
                row.append(torch.stack(samples).mean(0))
            bins.append(torch.stack(row, -1))
        out.append(torch.stack(bins, -2))
    return torch.stack(out)


ROIS = torch.tensor([[0, 3.0, 4.0, 40.0, 30.0],  # inside
                     [1, -6.0, 10.0, 20.0, 55.0],  # across the border
                     [0, 12.3, 7.9, 13.1, 9.0],  # smaller than a bin
                     [1, 0.0, 0.0, 63.0, 47.0]])  # the whole image


@pytest.mark.parametrize('k,groups', [(3, 2), (7, 3)])
def test_forward_and_gradient_match_the_definition(k, groups):
    torch.manual_seed(0)
    feats = torch.randn(2, k * k * groups, 12, 16, dtype=torch.float64,
                        requires_grad=True)
    scale, ratio = 0.25, 2
    ours = ps_roi_align(feats, ROIS.double(), k, scale, ratio)
    ref = reference(feats, ROIS.double(), k, scale, ratio)
    assert ours.shape == (4, groups, k, k)
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-8)
    grad = torch.randn_like(ref)
    (g_ours, ) = torch.autograd.grad(ours, feats, grad)
    (g_ref, ) = torch.autograd.grad(ref, feats, grad)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-6, atol=1e-8)


def test_each_bin_reads_only_its_channel_group():
    k = 3  # one channel per bin
    feats = torch.zeros(1, k * k, 8, 8)
    for b in range(k * k):
        feats[0, b] = b  # channel group b is the constant b
    out = PSRoIAlign(k, 1.0)(feats, torch.tensor([[0, 1.0, 1.0, 7.0, 7.0]]))
    expected = torch.arange(k * k, dtype=torch.float32).reshape(1, 1, k, k)
    torch.testing.assert_close(out, expected)


def test_bad_channel_count():
    with pytest.raises(ValueError, match='k\\*k\\*C'):
        ps_roi_align(torch.zeros(1, 10, 4, 4), ROIS[:1], 3, 1.0)
    assert math.isclose(PSRoIAlign(7, 1 / 16).spatial_scale, 1 / 16)
