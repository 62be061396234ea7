"""SPNet's strip pooling (SPM), mixed pooling (MPM) and SPHead."""
import pytest
import torch
import torch.nn.functional as F

from mmresize.models.sp_head import MixedPooling, SPHead, StripPooling

BN = dict(type='BN', requires_grad=True)


def test_strip_pooling_is_the_papers_formula():
    """x * sigmoid(fuse(relu(conv_h(row means) + conv_v(column means))),
    the means written out by hand and broadcast back over the strips."""
    torch.manual_seed(0)
    spm = StripPooling(4, BN).eval()
    x = torch.randn(2, 4, 5, 7)
    rows = torch.stack([x[:, :, i, :].sum(-1) / 7 for i in range(5)], -1)
    cols = torch.stack([x[:, :, :, j].sum(-1) / 5 for j in range(7)], -1)
    with torch.no_grad():
        h = spm.conv_h(rows[..., None])  # (B, C, 5, 1)
        v = spm.conv_v(cols[:, :, None])  # (B, C, 1, 7)
        expected = x * torch.sigmoid(spm.fuse(F.relu(h + v)))
        torch.testing.assert_close(spm(x), expected)


@pytest.mark.parametrize('size', [(3, 4), (9, 13), (30, 17)])
def test_mixed_pooling_keeps_shape_and_is_residual(size):
    torch.manual_seed(0)
    mpm = MixedPooling(16, (4, 2), BN, dict(type='ReLU')).eval()
    x = torch.rand(2, 16, *size)
    out = mpm(x)
    assert out.shape == x.shape and (out >= 0).all()
    with torch.no_grad():  # zero projection: the module is relu(x)
        for p in mpm.project.parameters():
            p.zero_()
        mpm.project.bn.running_mean.zero_()
    torch.testing.assert_close(mpm(x), F.relu(x))


def _block_means(x, p):
    """Adaptive average pooling to p x p written out for H, W divisible by p."""
    b, c, h, w = x.shape
    return x.reshape(b, c, p, h // p, p, w // p).mean(dim=(3, 5))


def test_mixed_pooling_is_its_definition_written_out():
    """relu(x + project(cat(fuse_s(relu(short(s) + sum_p up(conv_p(pool_p(s))))),
    fuse_l(relu(up(rows(row means of l)) + up(cols(column means of l)))))))
    with s, l the two 1 x 1 reductions, pools as block means by hand and up
    as F.interpolate (bilinear, align_corners=False). Sizes divisible by the
    pool sizes, so that the pools are plain block means; uneven bins are
    F.adaptive_avg_pool2d's own (the shape test runs them)."""
    torch.manual_seed(0)
    mpm = MixedPooling(16, (4, 2), BN, dict(type='ReLU')).eval()
    for m in mpm.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 8, 12)

    def up(t):
        return F.interpolate(t, (8, 12), mode='bilinear', align_corners=False)

    with torch.no_grad():
        s, lg = mpm.reduce_short(x), mpm.reduce_long(x)
        near = mpm.short(s) + up(mpm.pyramid[0](_block_means(s, 4))) + \
            up(mpm.pyramid[1](_block_means(s, 2)))
        rows = torch.stack([lg[:, :, i, :].sum(-1) / 12 for i in range(8)], -1)
        cols = torch.stack([lg[:, :, :, j].sum(-1) / 8 for j in range(12)], -1)
        far = up(mpm.rows(rows[..., None])) + up(mpm.cols(cols[:, :, None]))
        expected = F.relu(x + mpm.project(torch.cat(
            [mpm.fuse_short(F.relu(near)), mpm.fuse_long(F.relu(far))], 1)))
        torch.testing.assert_close(mpm(x), expected)


def test_sp_head_shapes_and_gradients():
    torch.manual_seed(0)
    head = SPHead(in_channels=32, in_index=1, mid_channels=16, channels=8,
                  pool_sizes=(4, 2), num_classes=5, norm_cfg=BN)
    feats = [torch.rand(2, 8, 20, 20), torch.rand(2, 32, 9, 11)]
    logits = head(feats)
    assert logits.shape == (2, 5, 9, 11)
    logits.sum().backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
