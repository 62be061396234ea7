"""The one preprocessing core: a normalised batch to the resized, padded
batch, with its scale factors and the padding added.

Used by both data preprocessors (``DownsizeMixin.forward``) and by the
export graph (``mmresize.deploy.PreprocessGraph``), so training, testing and
deployment compute the same sizes. Framework-neutral (torch only).

Rounding rule (everywhere a size is scaled: the target of ``target_scale``,
``img_shape`` of each image, the full-resolution extent of the padded batch):
half away from zero, ``floor(x + 0.5)`` for the positive sizes met here, and
at least one pixel. So 5 x 0.5 = 2.5 gives 3 and 7 x 0.5 = 3.5 gives 4
(Python's ``round`` rounds halves to even: 2.5 would give 2).

Padding: always at the bottom and right (as mmdet and mmseg pad), with one
function, ``pad_bottom_right``.
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmresize.resizers import check_size

Scale = Union[float, Sequence[float]]
HW = Tuple[int, int]


def round_half_up(x: float) -> int:
    """The rounding rule of every scaled size: ``floor(x + 0.5)``.

    For the positive values met here this rounds halves away from zero
    (2.5 -> 3, 3.5 -> 4), unlike ``round`` (halves to even: 2.5 -> 2).
    """
    return int(math.floor(x + 0.5))


def scaled_shape(shape: Sequence[int], sy: float, sx: float) -> HW:
    """An (h, w) extent scaled by (sy, sx), rounded by ``round_half_up``
    and at least one pixel."""
    return (max(1, round_half_up(shape[0] * sy)),
            max(1, round_half_up(shape[1] * sx)))


def divisor_shape(shape: Sequence[int], divisor: int) -> HW:
    """``shape`` (h, w) rounded up to multiples of ``divisor``."""
    return (-(-int(shape[0]) // divisor) * divisor,
            -(-int(shape[1]) // divisor) * divisor)


def check_divisor(divisor: int) -> int:
    """Return ``divisor`` if it is a positive int, else raise saying so."""
    if isinstance(divisor, bool) or not isinstance(divisor, int) \
            or divisor < 1:
        raise ValueError('pad_size_divisor must be a positive integer (1: no '
                         f'padding), got {divisor!r}')
    return divisor


def pad_bottom_right(t: torch.Tensor, shape: Sequence[int],
                     value: float) -> torch.Tensor:
    """Pad (..., h, w) at the bottom and right to (..., H, W) = ``shape``.

    Images, label maps and masks all pad this way; ``t`` is returned as is
    when it already has that size.
    """
    h, w = t.shape[-2:]
    pad_h, pad_w = int(shape[0]) - h, int(shape[1]) - w
    if pad_h < 0 or pad_w < 0:
        raise ValueError(f'cannot pad {(h, w)} to the smaller {tuple(shape)}')
    if pad_h == 0 and pad_w == 0:
        return t
    return F.pad(t, (0, pad_w, 0, pad_h), value=value)


@dataclass(frozen=True)
class Target:
    """A preprocessor's target: a fixed (h, w) size or (fy, fx) factors.

    Build it with ``Target.parse``; ``hw`` gives a batch's output size.
    """

    size: Optional[HW] = None
    scale: Optional[Tuple[float, float]] = None

    @classmethod
    def parse(cls, target_size: Optional[Sequence[int]],
              target_scale: Optional[Scale]) -> 'Target':
        """Validate exactly one of ``target_size`` = (h, w) and
        ``target_scale`` = f or (fy, fx); raise saying what was wrong."""
        if (target_size is None) == (target_scale is None):
            raise ValueError(
                'give exactly one of target_size=(h, w) or target_scale=f '
                f'(got target_size={target_size!r}, target_scale='
                f'{target_scale!r})')
        if target_size is not None:
            if isinstance(target_size, list):
                target_size = tuple(target_size)
            return cls(size=check_size(target_size))
        scale = target_scale
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            scale = (scale, scale)
        if (not isinstance(scale, (tuple, list)) or len(scale) != 2
                or not all(isinstance(s, (int, float))
                           and not isinstance(s, bool) for s in scale)):
            raise TypeError('target_scale must be a number or a pair '
                            f'(fy, fx), got {target_scale!r}')
        if min(scale) <= 0 or not all(math.isfinite(s) for s in scale):
            raise ValueError('target_scale must be positive and finite, got '
                             f'{target_scale!r}')
        return cls(scale=(float(scale[0]), float(scale[1])))

    def hw(self, in_hw: Sequence[int]) -> HW:
        """Output (h, w) for a batch of (H, W): the size, or
        ``scaled_shape(in_hw, fy, fx)``."""
        if self.size is not None:
            return self.size
        return scaled_shape(in_hw, *self.scale)


@dataclass(frozen=True)
class BatchResize:
    """How a batch of ``in_hw`` is resized to ``out_hw`` and padded to
    multiples of ``divisor`` (at the bottom and right)."""

    in_hw: HW
    out_hw: HW
    divisor: int = 1

    @classmethod
    def plan(cls, in_hw: Sequence[int], target: Target,
             divisor: int) -> 'BatchResize':
        in_hw = (int(in_hw[0]), int(in_hw[1]))
        return cls(in_hw, target.hw(in_hw), check_divisor(divisor))

    @property
    def scale(self) -> Tuple[float, float]:
        """(sy, sx) = (h / H, w / W): input coordinates to output ones."""
        return (self.out_hw[0] / self.in_hw[0], self.out_hw[1] / self.in_hw[1])

    @property
    def batch_hw(self) -> HW:
        """(h', w') of the padded output batch."""
        return divisor_shape(self.out_hw, self.divisor)

    @property
    def padding(self) -> HW:
        """(bottom, right) pixels of padding added after resizing."""
        return (self.batch_hw[0] - self.out_hw[0],
                self.batch_hw[1] - self.out_hw[1])

    @property
    def upsizes(self) -> bool:
        """Whether either side grows."""
        return self.out_hw[0] > self.in_hw[0] or self.out_hw[1] > self.in_hw[1]

    def image_hw(self, hw: Sequence[int]) -> HW:
        """An image's (h, w) extent in the resized batch."""
        return scaled_shape(hw, *self.scale)

    def input_extent(self) -> HW:
        """The padded batch's extent in input pixels (rounded; the padding
        rarely maps to whole input pixels): ``batch_hw * in_hw / out_hw``."""
        return (max(1, round_half_up(
            self.batch_hw[0] * self.in_hw[0] / self.out_hw[0])),
                max(1, round_half_up(
                    self.batch_hw[1] * self.in_hw[1] / self.out_hw[1])))


def resize_and_pad(x: torch.Tensor,
                   resizer: Callable[[torch.Tensor, HW], torch.Tensor],
                   target: Target, divisor: int, fill: float
                   ) -> Tuple[torch.Tensor, BatchResize]:
    """The core of every preprocessor: resize, then pad to the divisor.

    Args:
        x: (B, C, H, W) normalised (and host-padded) batch.
        resizer: called as ``resizer(x, (h, w))`` -> (B, C, h, w).
        target: the output size (``Target.hw`` of (H, W)).
        divisor: pad the resized batch to multiples of this (1: no padding).
        fill: value of the padding.

    Returns:
        The (B, C, h', w') batch and its ``BatchResize`` (scale factors,
        padding added).
    """
    plan = BatchResize.plan(x.shape[-2:], target, divisor)
    out = pad_bottom_right(resizer(x, plan.out_hw), plan.batch_hw, fill)
    return out, plan


def resize_labels(labels: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Nearest (pixel-centre aligned) resize of (..., H, W) label maps."""
    lead = labels.shape[:-2]
    flat = labels.reshape(1, -1, *labels.shape[-2:])
    out = F.interpolate(flat.float(), size=tuple(size), mode='nearest-exact')
    return out.to(labels.dtype).reshape(*lead, *size)


__all__ = ['BatchResize', 'Target', 'check_divisor', 'divisor_shape',
           'pad_bottom_right', 'resize_and_pad', 'resize_labels',
           'round_half_up', 'scaled_shape']
