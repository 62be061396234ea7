"""The common call of every resizer: ``resizer(x, size) -> y``.

``x``: (B, C, H, W) floating tensor; ``size``: (h, w) positive ints;
``y``: (B, C, h, w), same dtype and device. Inputs are checked before any work
so a wrong call fails with a message that prints the bad value.
"""
from abc import abstractmethod
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

SizeLike = Union[int, Sequence[int]]


def check_size(size: SizeLike) -> Tuple[int, int]:
    """Return ``size`` as an ``(h, w)`` pair of positive ints, or raise."""
    if isinstance(size, torch.Size):
        size = tuple(size)
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool)
                       for s in size)):
        raise TypeError(
            f'size must be an int or a pair of ints (h, w), got {size!r}')
    if min(size) <= 0:
        raise ValueError(f'size must be positive, got {tuple(size)}')
    return int(size[0]), int(size[1])


def check_image_batch(x: torch.Tensor,
                      in_channels: Optional[int] = None) -> None:
    """Raise unless ``x`` is a (B, C, H, W) floating tensor with C channels."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'expected a torch.Tensor, got {type(x).__name__}')
    if x.dim() != 4:
        raise ValueError('expected an image batch of shape (B, C, H, W), got '
                         f'a {x.dim()}-D tensor of shape {tuple(x.shape)}')
    if not x.is_floating_point():
        raise TypeError(f'expected a floating-point tensor, got {x.dtype}; '
                        'convert with x.float() first')
    if in_channels is not None and x.shape[1] != in_channels:
        raise ValueError(
            f'this resizer was built for in_channels={in_channels} but the '
            f'batch has {x.shape[1]} channels (shape {tuple(x.shape)}); set '
            'in_channels to match the images or convert the images')
    if 0 in x.shape:
        raise ValueError(f'empty image batch of shape {tuple(x.shape)}')


class BaseResizer(BaseModule):
    """A module mapping (B, C, H, W) images to (B, C, h, w).

    Args:
        in_channels: channels the resizer accepts; ``None`` accepts any.
        frozen: when true, no parameter requires a gradient and norm layers
            stay in eval mode through ``.train()`` (for transferring a trained
            resizer to another task).
        init_cfg: mmengine initialisation config (e.g. ``Pretrained``).
    """

    def __init__(self,
                 in_channels: Optional[int] = None,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.frozen = frozen

    def forward(self, x: torch.Tensor, size: SizeLike) -> torch.Tensor:
        """Resize ``x`` (B, C, H, W) to ``size`` = (h, w): (B, C, h, w)."""
        check_image_batch(x, self.in_channels)
        return self.resize(x, check_size(size))

    @abstractmethod
    def resize(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        """The resizing itself, on checked inputs."""

    def freeze(self) -> None:
        """Stop gradients and put norm layers in eval mode."""
        self.frozen = True
        for param in self.parameters():
            param.requires_grad_(False)
        self._norms_eval()

    def init_weights(self) -> None:
        """Initialise, then re-apply ``frozen``.

        ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` loads a
        resizer checkpoint written by ``tools/transfer_resizer.py`` strictly,
        after checking its recorded type, arguments and checksum against this
        module (``mmresize.resizers.checkpoint.load_resizer_checkpoint``).
        """
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            from .checkpoint import load_resizer_checkpoint
            load_resizer_checkpoint(self, cfg['checkpoint'])
            self._is_init = True
        else:
            super().init_weights()
        if self.frozen:
            self.freeze()

    def train(self, mode: bool = True) -> 'BaseResizer':
        super().train(mode)
        if self.frozen:
            self._norms_eval()
        return self

    def _norms_eval(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._NormBase):
                module.eval()
