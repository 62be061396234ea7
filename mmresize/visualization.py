"""Pictures of what a resizer does: original, bilinear, learned output and
(DownsizeNet) how far its per-pixel coefficients moved from bilinear."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmresize.resizers import DownsizeNet


def normalise(image_bgr: np.ndarray, mean: Sequence[float],
              std: Sequence[float], bgr_to_rgb: bool) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> (1, 3, H, W) normalised float."""
    image = image_bgr[..., ::-1] if bgr_to_rgb else image_bgr
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
    mean_t = torch.tensor(mean, dtype=torch.float32)[:, None, None]
    std_t = torch.tensor(std, dtype=torch.float32)[:, None, None]
    return ((x - mean_t) / std_t)[None]


def denormalise(x: torch.Tensor, mean: Sequence[float],
                std: Sequence[float]) -> np.ndarray:
    """(1, 3, h, w) normalised -> (h, w, 3) uint8 in the input's order."""
    mean_t = torch.tensor(mean, dtype=x.dtype)[:, None, None]
    std_t = torch.tensor(std, dtype=x.dtype)[:, None, None]
    image = (x[0] * std_t + mean_t).clamp(0, 255).round().byte()
    return image.permute(1, 2, 0).numpy()


@torch.no_grad()
def resizer_panels(resizer: torch.nn.Module, x: torch.Tensor,
                   size: Tuple[int, int]) -> dict:
    """Bilinear and learned (1, 3, h, w) outputs, and for DownsizeNet the
    coefficients (K, h, w) and their total deviation from bilinear (h, w)."""
    panels = dict(
        bilinear=F.interpolate(x, size, mode='bilinear', align_corners=False))
    if isinstance(resizer, DownsizeNet):
        out, coef = resizer.resize_with_coefficients(x, size)
        prior = resizer.geometry(x, size).prior[0]
        panels.update(learned=out, coefficients=coef[0],
                      deviation=(coef[0] - prior).abs().sum(0) / 2)
    else:
        panels['learned'] = resizer(x, size)
    return panels


def save_figure(path: str, original: np.ndarray, panels: dict,
                mean: Sequence[float], std: Sequence[float],
                title: Optional[str] = None) -> None:
    """Write one PNG: the images in a row, coefficient maps below."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    coef = panels.get('coefficients')
    rows = 1 if coef is None else 2
    cols = max(4, 0 if coef is None else min(coef.shape[0], 4) + 1)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3 * rows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    images = [('original', original),
              ('bilinear', denormalise(panels['bilinear'], mean, std)),
              ('learned resizer', denormalise(panels['learned'], mean, std))]
    for ax, (name, image) in zip(axes[0], images):
        ax.imshow(image, interpolation='nearest')
        ax.set_title(f'{name} {image.shape[1]}x{image.shape[0]}')
    if coef is not None:
        ax = axes[0][3]
        shown = ax.imshow(panels['deviation'].numpy(), cmap='magma',
                          vmin=0, vmax=1, interpolation='nearest')
        ax.set_title('coefficient change vs bilinear')
        fig.colorbar(shown, ax=ax, fraction=0.046)
        for k in range(min(coef.shape[0], 4)):
            ax = axes[1][k]
            ax.imshow(coef[k].numpy(), cmap='viridis', vmin=0, vmax=1,
                      interpolation='nearest')
            ax.set_title(f'coefficient a{k}')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
