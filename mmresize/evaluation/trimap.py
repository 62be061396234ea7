"""mIoU in a band around the label boundaries (the "trimap" measure).

Kohli, Ladicky and Torr (IJCV 2009) and DeepLab (Chen et al., TPAMI 2018,
section 4.1) score segmentation on the pixels within a few pixels of a
ground-truth boundary: that is where the detail a downsizing loses shows,
while the interior of large regions (most of CamVid's pixels) is right for
any interpolation. Here a pixel is in the band of width ``d`` when the
(2d+1) x (2d+1) square around it holds two different (non-ignored) labels;
the band's pixels are then scored with mmseg's ``IoUMetric`` (plus the
per-class entries), the others ignored. An ignored label never makes a
boundary: on CamVid (void = 11, given as ``ignore_index``) only changes
between real classes do; on VOC-style labels, whose objects are outlined
by a strip of ignored pixels, a narrow band is almost empty.
"""
import torch
import torch.nn.functional as F
from mmseg.registry import METRICS

from .seg_metrics import PerClassIoUMetric


def check_band(width) -> int:
    """``width`` if it is a band half-width: a whole number of pixels >= 1
    (not a bool); ValueError naming it otherwise."""
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f'a band width must be a whole number of pixels '
                         f'>= 1, got {width!r}')
    return width


def boundary_band(label: torch.Tensor, width: int,
                  ignore_index: int = 255) -> torch.Tensor:
    """Pixels within ``width`` (Chebyshev distance) of a label change.

    Args:
        label: (H, W) integer label map.
        width: the band's half-width d in pixels (>= 1).
        ignore_index: a label that neither counts as a region nor is scored.

    Returns:
        (H, W) bool: True where the (2d+1)^2 square around the pixel holds
        two different labels other than ``ignore_index``, and the pixel's
        own label is not ``ignore_index``.
    """
    check_band(width)
    valid = label != ignore_index
    lab = label.double()[None, None]
    size = 2 * width + 1
    # max_pool2d pads with -inf, so the borders add no label
    high = F.max_pool2d(torch.where(valid, lab, -1.0), size, 1, width)
    low = -F.max_pool2d(torch.where(valid, -lab, -1e9), size, 1, width)
    return (high != low)[0, 0] & valid


@METRICS.register_module()
class TrimapIoUMetric(PerClassIoUMetric):
    """``PerClassIoUMetric`` on the pixels of ``boundary_band(gt, band)``.

    Args:
        band: the band's half-width in pixels of the evaluated label map
            (the original image for mmseg's test pipelines).
        **kwargs: ``IoUMetric``'s arguments; give each instance its own
            ``prefix`` (e.g. ``'band5'``) when several share an evaluator.
    """

    def __init__(self, band: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.band = check_band(band)

    def process(self, data_batch: dict, data_samples: list) -> None:
        """Score each sample (``pred_sem_seg`` and ``gt_sem_seg`` label
        maps of shape (1, H, W)) with its ground truth outside the band set
        to ``ignore_index``."""
        banded = []
        for sample in data_samples:
            gt = sample['gt_sem_seg']['data']
            label = gt.squeeze(0)
            inside = boundary_band(label, self.band, self.ignore_index)
            masked = label.masked_fill(~inside, self.ignore_index)
            banded.append(dict(sample,
                               gt_sem_seg=dict(data=masked.view_as(gt))))
        super().process(data_batch, banded)
