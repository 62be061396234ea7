"""Pictures of what a resizer does: original, bilinear, learned output and
(DownsizeNet) how far its per-pixel coefficients moved from bilinear, or
(LearnedZoom) its warped sampling grid over the original."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmresize.resizers import DownsizeNet, LearnedZoom
from mmresize.resizers.warp import output_centres


def resizer_input(pre: torch.nn.Module, image_bgr: np.ndarray,
                  scope: str, path: str = '') -> Tuple[torch.Tensor,
                                                         Tuple[int, int]]:
    """What ``pre``'s resizer is called with for one image.

    Runs the data preprocessor (cast, colour order, normalisation, padding,
    as configured) on the (H, W, 3) uint8 BGR image as the data pipeline
    hands it over, and captures the resizer's input with a forward pre-hook.

    Args:
        pre: a built mmresize data preprocessor.
        image_bgr: (H, W, 3) uint8, as cv2 reads it.
        scope: 'mmdet' or 'mmseg', the config's default scope.
        path: the image's path, for error messages.

    Returns:
        x (1, 3, H', W') normalised (and padded) float, and the target size.
    """
    from mmresize.capture import resizer_calls
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample as Sample
    else:
        from mmseg.structures import SegDataSample as Sample
    hw = image_bgr.shape[:2]
    sample = Sample(metainfo=dict(img_shape=hw, ori_shape=hw, pad_shape=hw,
                                  scale_factor=(1.0, 1.0), img_path=path))
    inputs = torch.from_numpy(np.ascontiguousarray(image_bgr)).permute(2, 0, 1)
    with torch.no_grad(), resizer_calls(pre.resizer) as calls:
        pre(dict(inputs=[inputs], data_samples=[sample]), False)
    return calls[0]


def denormalise(x: torch.Tensor, mean: Sequence[float],
                std: Sequence[float]) -> np.ndarray:
    """(1, 3, h, w) normalised -> (h, w, 3) uint8 in the resizer's channel
    order (RGB when the preprocessor converts BGR to RGB)."""
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
    elif isinstance(resizer, LearnedZoom):
        out, warp = resizer.resize_with_warp(x, size)
        panels.update(learned=out, grid_rows=output_centres(warp, 0)[0],
                      grid_cols=output_centres(warp, 1)[0])
    else:
        panels['learned'] = resizer(x, size)
    return panels


def _draw_grid(ax, original: np.ndarray, rows: torch.Tensor,
               cols: torch.Tensor, lines: int = 24) -> None:
    """The original with the warped sampling grid over it: about ``lines``
    of the output rows and columns, at the input positions they sample."""
    ax.imshow(original, interpolation='nearest')
    for positions, draw in ((rows, ax.axhline), (cols, ax.axvline)):
        step = max(1, len(positions) // lines)
        for p in positions[::step].tolist():
            draw(p - 0.5, color='yellow', lw=0.5, alpha=0.8)
    ax.set_title(f'sampling grid (1 in {max(1, len(rows) // lines)} rows, '
                 f'1 in {max(1, len(cols) // lines)} columns)')


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
    if 'grid_rows' in panels:
        _draw_grid(axes[0][3], original, panels['grid_rows'],
                   panels['grid_cols'])
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
