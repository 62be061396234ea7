"""``DownsizeMixin``: what the detection and segmentation preprocessors
share: build the resizer, run the host framework's preprocessor, resize and
pad its batch with the one core (``mmresize.preprocessors.core``), and hand
the result to the host's metainfo rewriting.

Framework-neutral (mmengine and torch only); ``mmresize.det`` and
``mmresize.seg`` add the metainfo rewriting their frameworks need.
"""
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from mmresize.preprocessors.core import (
    BatchResize,
    Scale,
    Target,
    check_divisor,
    resize_and_pad,
)
from mmresize.registry import MODELS
from mmresize.resizers import BaseResizer
from mmresize.resizers.warp import Warp


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
    """Puts a resizer after a host data preprocessor (mmdet's or mmseg's).

    The host class calls ``build_downsizer`` from its ``__init__`` and
    implements ``rewrite_samples``. ``forward`` runs the host's own
    preprocessing (cast, channel order, normalisation, stacking, the host's
    padding), then ``core.resize_and_pad``, then ``rewrite_samples``.

    What a user configured reads back unchanged: ``target_size``,
    ``target_scale``, ``pad_size_divisor``, ``check_finite``. The host's
    private flags are read through public accessors: ``normalizes``,
    ``converts_bgr_to_rgb()``, ``pad_fill()``; ``target`` and ``plan()``
    give the parsed target and a batch's geometry.
    """

    resizer: BaseResizer
    # Set by a model that unwarps predictions made on a warped batch
    # (ZoomEncoderDecoder, ZoomSingleStageDetector); a warping resizer in any
    # other model is refused (see check_unwarped).
    unwarps_predictions: bool = False
    # True only while the host framework's forward runs (see
    # pad_size_divisor)
    _host_pass: bool = False

    def build_downsizer(self, resizer: Union[dict, nn.Module],
                        target_size: Optional[Sequence[int]],
                        target_scale: Optional[Scale],
                        pad_size_divisor: int = 1,
                        check_finite: bool = True) -> None:
        """Validate the target and divisor and build the resizer (on its own
        random stream, see ``own_random_stream``)."""
        self._target = Target.parse(target_size, target_scale)
        self._target_size, self._target_scale = target_size, target_scale
        self.pad_size_divisor = pad_size_divisor
        self.check_finite = check_finite
        if isinstance(resizer, dict):
            with own_random_stream():
                resizer = MODELS.build(resizer)
        if not isinstance(resizer, nn.Module):
            raise TypeError('resizer must be a config dict or a module, got '
                            f'{type(resizer).__name__}')
        self.resizer = resizer
        self._warned_upsizing = False

    @property
    def pad_size_divisor(self) -> int:
        """The divisor the *resized* batch is padded to, as configured.

        While the host framework's own forward runs it reads 1, so that
        mmdet pads the full-resolution batch only to its largest image
        (padding before resizing would change the scale).
        """
        return 1 if self._host_pass else self._pad_size_divisor

    @pad_size_divisor.setter
    def pad_size_divisor(self, divisor: int) -> None:
        self._pad_size_divisor = check_divisor(divisor)

    @property
    def target_size(self) -> Optional[Sequence[int]]:
        """``target_size`` as configured (None when ``target_scale`` is)."""
        return self._target_size

    @property
    def target_scale(self) -> Optional[Scale]:
        """``target_scale`` as configured (None when ``target_size`` is)."""
        return self._target_scale

    @property
    def target(self) -> Target:
        """The parsed target: ``target.hw((H, W))`` is a batch's output
        size."""
        return self._target

    def plan(self, in_hw: Sequence[int]) -> BatchResize:
        """The geometry of resizing and padding a batch of ``in_hw``."""
        return BatchResize.plan(in_hw, self._target, self.pad_size_divisor)

    @property
    def normalizes(self) -> bool:
        """Whether the host computes ``(x - mean) / std`` (mmengine's,
        mmdet's and mmseg's preprocessors keep this as the private
        ``_enable_normalize``; they do when given ``mean`` and ``std``)."""
        return bool(getattr(self, '_enable_normalize', False))

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

    def forward(self, data: dict, training: bool = False) -> dict:
        """The host's preprocessing, then resizing and padding, then the
        host's rewriting of the data samples.

        Returns:
            ``dict(inputs=(B, C, h', w'), data_samples=...)``.
        """
        self._host_pass = True
        try:
            data = super().forward(data=data, training=training)
        finally:
            self._host_pass = False
        inputs, samples = data['inputs'], data['data_samples']
        resized, plan = self.downsize(inputs, samples)
        warp = self.last_warp()
        self.check_unwarped(warp)
        if samples is not None:
            self.rewrite_samples(samples, plan, training, warp)
        return dict(inputs=resized, data_samples=samples)

    def check_unwarped(self, warp: Optional[Warp]) -> None:
        """Refuse a warped batch unless the model unwarps its predictions.

        A model that does not would score, and pick its checkpoints by, a
        metric computed in the warped frame, which misleads (docs/zoom.md);
        raised at the first training step, not after the run.
        """
        if warp is None or self.unwarps_predictions:
            return
        raise RuntimeError(
            f'{type(self.resizer).__name__} moves its samples (a warped '
            'batch), but this model does not unwarp its predictions, so its '
            'boxes or label maps would be scored in the warped frame. Use '
            "the unwarping model type in the config's model: "
            "type='ZoomEncoderDecoder' for mmseg's EncoderDecoder, "
            "type='ZoomSingleStageDetector' for mmdet's SingleStageDetector "
            '(mmresize.catalogue.warping_model_type maps a type to its '
            'twin); or choose a resizer that keeps the uniform grid.')

    def last_warp(self) -> Optional[Warp]:
        """The warp of the batch just resized, for a resizer that moves its
        samples (``LearnedZoom``); None for the uniform-grid ones."""
        return getattr(self.resizer, 'last_warp', None)

    def downsize(self, inputs: torch.Tensor,
                 samples: Optional[Sequence] = None
                 ) -> Tuple[torch.Tensor, BatchResize]:
        """Check the batch, resize and pad it (``core.resize_and_pad``).

        Args:
            inputs: (B, C, H, W) normalised batch from the host.
            samples: its data samples, to name images in errors.

        Returns:
            The (B, C, h', w') batch and its ``BatchResize``.

        Upsizing is warned about once per preprocessor instance (each model
        built warns on its own).
        """
        if self.check_finite:
            check_finite(inputs, sample_names(samples))
        plan = self.plan(inputs.shape[-2:])
        if plan.upsizes and not self._warned_upsizing:
            warnings.warn(
                f'the resizer is upsizing the batch from {plan.in_hw} to '
                f'{plan.out_hw}: check target_size / target_scale against '
                "the pipeline's image size (warned once per preprocessor)")
            self._warned_upsizing = True
        return resize_and_pad(inputs, self.resizer, self._target,
                              self.pad_size_divisor, self.pad_fill())

    def rewrite_samples(self, samples: Sequence, plan: BatchResize,
                        training: bool, warp: Optional[Warp] = None) -> None:
        """Describe the resized batch in each data sample (host-specific);
        with a ``warp``, record it so that predictions can be unwarped."""
        raise NotImplementedError
