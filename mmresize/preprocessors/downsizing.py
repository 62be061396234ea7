"""What the detection and segmentation preprocessors share: build the
resizer, decide the target size of a batch, downsize it and pad it again.

Framework-neutral (mmengine and torch only); ``mmresize.det`` and
``mmresize.seg`` add the metainfo rewriting their frameworks need.
"""
import math
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from mmresize.registry import MODELS
from mmresize.resizers import BaseResizer, check_size

Scale = Union[float, Sequence[float]]


def parse_target(target_size: Optional[Sequence[int]],
                 target_scale: Optional[Scale]):
    """Validate a preprocessor's target: exactly one of size or scale.

    Returns:
        ``('size', (h, w))`` or ``('scale', (fy, fx))``.
    """
    if (target_size is None) == (target_scale is None):
        raise ValueError(
            'give exactly one of target_size=(h, w) or target_scale=f '
            f'(got target_size={target_size!r}, target_scale='
            f'{target_scale!r})')
    if target_size is not None:
        if isinstance(target_size, list):
            target_size = tuple(target_size)
        return 'size', check_size(target_size)
    scale = target_scale
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        scale = (scale, scale)
    if (not isinstance(scale, (tuple, list)) or len(scale) != 2 or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool)
            for s in scale)):
        raise TypeError('target_scale must be a number or a pair (fy, fx), '
                        f'got {target_scale!r}')
    if min(scale) <= 0 or not all(math.isfinite(s) for s in scale):
        raise ValueError(
            f'target_scale must be positive and finite, got {target_scale!r}')
    return 'scale', (float(scale[0]), float(scale[1]))


def target_hw(in_hw: Tuple[int, int], kind: str,
              value: Tuple) -> Tuple[int, int]:
    """Output size of a (H, W) batch for a parsed target."""
    if kind == 'size':
        return value
    return (max(1, int(round(in_hw[0] * value[0]))),
            max(1, int(round(in_hw[1] * value[1]))))


def pad_to_divisor(x: torch.Tensor, divisor: int,
                   value: float) -> torch.Tensor:
    """Pad (B, C, h, w) at the bottom and right to multiples of divisor."""
    h, w = x.shape[-2:]
    pad_h = (-h) % divisor
    pad_w = (-w) % divisor
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), value=value)


def check_finite(x: torch.Tensor, names: Sequence[str]) -> None:
    """Raise naming the samples of (B, C, H, W) that hold NaN or Inf."""
    bad = (~torch.isfinite(x)).flatten(1).any(1)
    if bad.any():
        which = [names[i] if i < len(names) else f'#{i}'
                 for i in bad.nonzero().flatten().tolist()]
        raise ValueError(
            f'NaN or Inf in the input batch, sample(s): {", ".join(which)}. '
            'Check these images and the normalisation (std must not be 0).')


def sample_names(samples: Optional[Sequence]) -> List[str]:
    """Image paths of a batch's data samples, for error messages."""
    return [s.metainfo.get('img_path', f'#{i}')
            for i, s in enumerate(samples or [])]


def own_random_stream():
    """Run a block on a fork of the CPU random generator.

    The resizer is built (and initialised) first, ahead of the backbone:
    without the fork its random weights would shift every draw after it,
    so the same seed would give the task model different weights, and a
    different data order, for each resizer. Inside the fork the resizer
    draws from the seeded state as usual; afterwards the generator is back
    where it was, so runs with the same seed are truly paired.
    """
    return torch.random.fork_rng(devices=[])


class DownsizeMixin:
    """Adds a resizer ahead of a data preprocessor's output.

    The host class calls ``build_downsizer`` from its ``__init__`` and
    ``downsize`` on the normalised, padded batch. The host keeps
    ``pad_size_divisor=1`` for its own padding: the batch is padded to the
    divisor only after downsizing.
    """

    resizer: BaseResizer

    def build_downsizer(self, resizer: Union[dict, nn.Module],
                        target_size: Optional[Sequence[int]],
                        target_scale: Optional[Scale],
                        finite_check: bool = True) -> None:
        self.finite_check = finite_check
        self.target_kind, self.target_value = parse_target(
            target_size, target_scale)
        if isinstance(resizer, dict):
            with own_random_stream():
                resizer = MODELS.build(resizer)
        if not isinstance(resizer, nn.Module):
            raise TypeError('resizer must be a config dict or a module, got '
                            f'{type(resizer).__name__}')
        self.resizer = resizer
        self._warned_upsizing = False

    def converts_bgr_to_rgb(self) -> bool:
        """Whether the host swaps the channel order (mmengine's and mmdet's
        preprocessors keep the flag as ``_channel_conversion``, mmseg's as
        ``channel_conversion``)."""
        return bool(getattr(self, '_channel_conversion',
                            getattr(self, 'channel_conversion', False)))

    def pad_fill(self) -> float:
        """The host's image padding value (mmseg ``pad_val``, mmdet
        ``pad_value``)."""
        return float(getattr(self, 'pad_val', getattr(self, 'pad_value', 0)))

    def init_weights(self) -> None:
        """Forward initialisation (and ``init_cfg``) to the resizer.

        mmengine's ``BaseDataPreprocessor`` has no ``init_weights``, so
        without this a resizer's ``init_cfg`` would be silently ignored.
        """
        if hasattr(self.resizer, 'init_weights'):
            with own_random_stream():
                self.resizer.init_weights()

    def downsize(self, inputs: torch.Tensor,
                 samples: Optional[Sequence] = None
                 ) -> Tuple[torch.Tensor, float, float]:
        """Check the batch and resize it to its target size.

        Args:
            inputs: (B, C, H, W) normalised, padded batch.
            samples: its data samples, to name images in errors.

        Returns:
            The resized batch (B, C, h, w) and the scale factors
            ``sy = h / H``, ``sx = w / W`` that map input coordinates to it.
        """
        if self.finite_check:
            check_finite(inputs, sample_names(samples))
        in_hw = tuple(inputs.shape[-2:])
        out_hw = target_hw(in_hw, self.target_kind, self.target_value)
        if (out_hw[0] > in_hw[0] or out_hw[1] > in_hw[1]) \
                and not self._warned_upsizing:
            warnings.warn(
                f'the resizer is upsizing the batch from {in_hw} to {out_hw}: '
                'check target_size / target_scale against the pipeline\'s '
                'image size (warned once)')
            self._warned_upsizing = True
        out = self.resizer(inputs, out_hw)
        return out, out_hw[0] / in_hw[0], out_hw[1] / in_hw[1]


def resize_labels(labels: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Nearest (pixel-centre aligned) resize of (..., H, W) label maps."""
    lead = labels.shape[:-2]
    flat = labels.reshape(1, -1, *labels.shape[-2:])
    out = F.interpolate(flat.float(), size=tuple(size), mode='nearest-exact')
    return out.to(labels.dtype).reshape(*lead, *size)


def scaled_shape(shape: Sequence[int], sy: float,
                 sx: float) -> Tuple[int, int]:
    """An (h, w) extent mapped by the scale factors, rounded to pixels."""
    return (max(1, int(math.floor(shape[0] * sy + 0.5))),
            max(1, int(math.floor(shape[1] * sx + 0.5))))


def divisor_shape(shape: Sequence[int], divisor: int) -> Tuple[int, int]:
    """``shape`` rounded up to multiples of ``divisor``."""
    return (int(math.ceil(shape[0] / divisor)) * divisor,
            int(math.ceil(shape[1] / divisor)) * divisor)
