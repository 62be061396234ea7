"""The boundary-band ("trimap") mIoU: the band by hand, and the metric
against mmseg's own IoUMetric."""
import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmresize.evaluation.trimap import TrimapIoUMetric, boundary_band

CLASSES = ('a', 'b', 'c')


def _sample(pred: torch.Tensor, gt: torch.Tensor) -> dict:
    return dict(pred_sem_seg=dict(data=pred[None]),
                gt_sem_seg=dict(data=gt[None]))


def _score(metric, pairs) -> dict:
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [_sample(p, g) for p, g in pairs])
    return metric.compute_metrics(metric.results)


def test_band_by_hand():
    label = torch.zeros(6, 8, dtype=torch.long)
    label[:, 4:] = 1  # a vertical edge between columns 3 and 4
    label[:, 0] = 255  # an ignored strip next to class 0: no boundary
    band = boundary_band(label, 1)
    expected = torch.zeros(6, 8, dtype=torch.bool)
    expected[:, 3:5] = True
    assert torch.equal(band, expected)
    expected[:, 2:6] = True
    assert torch.equal(boundary_band(label, 2), expected)
    # an ignored pixel on the edge is never in the band
    label[0, 3] = 255
    expected = torch.zeros(6, 8, dtype=torch.bool)
    expected[:, 3:5] = True
    expected[0, 3] = False
    assert torch.equal(boundary_band(label, 1), expected)
    # one odd pixel: its square (and only that) is in the band
    label = torch.zeros(7, 7, dtype=torch.long)
    label[3, 3] = 2
    expected = torch.zeros(7, 7, dtype=torch.bool)
    expected[2:5, 2:5] = True
    assert torch.equal(boundary_band(label, 1), expected)
    with pytest.raises(ValueError, match='whole number of pixels >= 1'):
        boundary_band(label, 0)


@pytest.mark.parametrize('band', [0, -2, 1.5, True, '5'])
def test_metric_refuses_a_band_that_is_no_pixel_count(band):
    with pytest.raises(ValueError, match=f'got {band!r}'):
        TrimapIoUMetric(band=band)


def test_errors_inside_regions_do_not_count():
    gt = torch.zeros(6, 8, dtype=torch.long)
    gt[:, 4:] = 1
    pred = gt.clone()
    pred[0, 0] = 1  # far from the edge: outside the band of width 1
    pred[2, 3] = 1  # on the edge
    scores = _score(TrimapIoUMetric(band=1), [(pred, gt)])
    # band: columns 3, 4 (12 pixels); class a: 5 right of 6, 1 wrongly b
    iou_a = 5 / 6
    iou_b = 6 / 7
    assert scores['IoU.a'] == pytest.approx(100 * iou_a, abs=0.01)
    assert scores['IoU.b'] == pytest.approx(100 * iou_b, abs=0.01)
    assert scores['mIoU'] == pytest.approx(
        np.round(100 * (iou_a + iou_b) / 2, 2))


def test_a_band_wider_than_the_image_is_mmsegs_miou():
    gen = torch.Generator().manual_seed(0)
    pairs = []
    for _ in range(3):
        gt = torch.randint(0, 3, (20, 30), generator=gen)
        gt[:4, :5] = 255
        pred = torch.where(torch.rand(20, 30, generator=gen) < 0.7, gt,
                           torch.randint(0, 3, (20, 30), generator=gen))
        pairs.append((pred, gt))
    ours = _score(TrimapIoUMetric(band=40), pairs)
    reference = _score(IoUMetric(), pairs)
    assert ours['mIoU'] == reference['mIoU']
    assert ours['aAcc'] == reference['aAcc']
    # and a narrow band scores fewer pixels: a different figure
    assert _score(TrimapIoUMetric(band=1), pairs)['mIoU'] != ours['mIoU']
