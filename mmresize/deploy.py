"""Deploying what was trained: ONNX graphs with the learned resizer inside.

OpenMMLab's deployment path turns a data preprocessor into fixed steps
(normalise, pad); a learned resizer living in the preprocessor would fall
out of the exported model. The graphs here keep it, for static shapes:

- ``PreprocessGraph``: the raw image batch as the data pipeline hands it to
  the preprocessor, (B, 3, H, W) float in the pipeline's channel order
  (BGR for OpenMMLab's loaders), to the batch the model consumes: channel
  conversion, ``(x - mean) / std``, the parent preprocessor's test-time
  padding (mmseg ``test_cfg``), the resizer, padding to
  ``pad_size_divisor``. ``--what resizer`` exports this.
- ``SegmentorGraph``: raw image -> (B, H0, W0) int64 class map at the
  original size, as mmseg's ``predict`` + ``postprocess_result`` compute it
  (whole-image inference); with ``LearnedZoom``, the logits unwarped first,
  as ``ZoomEncoderDecoder`` does.
- ``DetectorHeadGraph``: raw image -> the dense head's raw outputs (per level
  class scores and box deltas); box decoding and NMS remain
  (``head.predict_by_feat`` with ``scale_factor``), as in mmdeploy. Not for
  a warping resizer (the outputs carry no warp to unwarp boxes with).

A DownsizeNet with 2 convs is exported in its deployed form
(``mmresize.resizers.deployed.DeployedDownsizeNet``: the same function, with
the anchors' rows gathered before the convolutions and their columns once
after; in ONNX Runtime its own cost is about a quarter lower than the
module graph's at 0.2x-0.5x, ``docs/deploy.md``); with 3 or 4 convs, where
it measured slower, and every other resizer, the module itself is exported
(``module_graph=True`` forces that). The compiled CPU op cannot be
exported: neither path uses it.
"""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from mmresize.benchmark.timing import interleaved_median_ms, median_ms
from mmresize.preprocessors.core import (
    divisor_shape,
    pad_bottom_right,
    resize_and_pad,
)
from mmresize.resizers import DownsizeNet, fused
from mmresize.resizers.deployed import DeployedDownsizeNet
from mmresize.resizers.warp import Warp, resample_linear


class ExportError(ValueError):
    """A model, shape or setting the exporter cannot handle; says why."""


def build_trained_model(config: str, checkpoint: str, strict: bool = True):
    """The config's model with the checkpoint's weights, in eval mode, with
    SyncBN turned into BN (one process, and exportable); and the config's
    default scope. Weight downloads in the config are dropped: the weights
    come from the checkpoint."""
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import load_checkpoint

    from mmresize.preflight import strip_downloads
    from mmresize.resizers.checkpoint import trust_local_checkpoints
    trust_local_checkpoints()
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    strip_downloads(cfg.model)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    load_checkpoint(model, checkpoint, map_location='cpu', strict=strict,
                    logger='silent')
    return model.eval(), cfg.default_scope


def deployed_resizer(resizer: nn.Module, in_hw: Tuple[int, int],
                     out_hw: Tuple[int, int],
                     module_graph: bool = False) -> nn.Module:
    """The form of ``resizer`` that the graphs export for (H, W) -> (h, w):
    the deployed form of a 2-conv DownsizeNet (measured faster in ONNX
    Runtime), else (or with ``module_graph``) the resizer itself."""
    if (isinstance(resizer, DownsizeNet) and resizer.num_convs == 2
            and not module_graph):
        return DeployedDownsizeNet(resizer, in_hw, out_hw)
    return resizer


class PreprocessGraph(nn.Module):
    """Raw (B, 3, H, W) float image batch -> the model's input batch.

    The host's steps (channel order, ``(x - mean) / std``, mmseg's
    test-time padding) are traced from the preprocessor's public settings;
    resizing and padding are ``mmresize.preprocessors.core.resize_and_pad``,
    the function the preprocessor itself runs.

    Args:
        pre: a built mmresize data preprocessor (det or seg).
        shape: (H, W) of the images the graph takes.
        module_graph: export the resizer module itself, not its deployed
            form (``deployed_resizer``).
    """

    def __init__(self, pre: nn.Module, shape: Tuple[int, int],
                 module_graph: bool = False) -> None:
        super().__init__()
        self.pre = pre
        self.shape = tuple(shape)
        if min(self.shape) < 1:
            raise ExportError(f'the input size must be positive, got '
                              f'{self.shape}')
        self.padded = self._parent_padded(pre, self.shape)
        plan = pre.plan(self.padded)
        self.size = plan.out_hw
        if plan.upsizes:
            raise ExportError(
                f'the resizer would upsize {self.padded} to {self.size}: '
                f'export a --shape of at least {self.size} (mmresize '
                'downsizes)')
        self.bgr_to_rgb = pre.converts_bgr_to_rgb()
        self.normalize = pre.normalizes
        self.resizer = deployed_resizer(pre.resizer, self.padded, self.size,
                                        module_graph)

    @staticmethod
    def _parent_padded(pre: nn.Module, shape: Tuple[int, int]
                       ) -> Tuple[int, int]:
        """Shape after mmseg's test-time padding (``test_cfg``), if any."""
        test_cfg = getattr(pre, 'test_cfg', None) or {}
        if test_cfg.get('size'):
            size = tuple(test_cfg['size'])
            if size[0] < shape[0] or size[1] < shape[1]:
                raise ExportError(
                    f"the preprocessor's test_cfg.size {size} is smaller than "
                    f'the input {shape}: mmseg would not pad it; export a '
                    '--shape within it')
            return size
        divisor = test_cfg.get('size_divisor')
        if divisor:
            return divisor_shape(shape, divisor)
        return shape

    def host_steps(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) raw image -> the resizer's input: channel order,
        ``(x - mean) / std``, mmseg's test-time padding."""
        x = image.float()
        if self.bgr_to_rgb:
            x = x[:, [2, 1, 0]]
        if self.normalize:
            x = (x - self.pre.mean) / self.pre.std
        return pad_bottom_right(x, self.padded, self.pre.pad_fill())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) raw image -> (B, 3, h', w') resized, padded batch."""
        resized, _ = resize_and_pad(self.host_steps(image), self.resizer,
                                    self.pre.target,
                                    self.pre.pad_size_divisor,
                                    self.pre.pad_fill())
        return resized

    def deployed_error(self, image: torch.Tensor) -> Optional[float]:
        """Largest |deployed form - the trained module's own forward| of
        the resized image, or None where the module itself is exported."""
        if self.resizer is self.pre.resizer:
            return None
        with torch.no_grad(), fused.disabled():
            x = self.host_steps(image)
            return float((self.resizer(x, self.size)
                          - self.pre.resizer(x, self.size)).abs().max())

    def warp(self) -> Optional[Warp]:
        """The warp of the batch the last forward resized (``LearnedZoom``),
        traced with it; None for a resizer that keeps the uniform grid."""
        return getattr(self.resizer, 'last_warp', None)

    def downsized_image_shape(self) -> Tuple[int, int]:
        """The image's extent in the resized batch (without any padding)."""
        return self.pre.plan(self.padded).image_hw(self.shape)

    def metadata(self) -> Dict[str, str]:
        """What the graph's input and output are, for the ONNX file."""
        mean = self.pre.mean.flatten().tolist() if self.normalize else None
        std = self.pre.std.flatten().tolist() if self.normalize else None
        return {
            'mmresize.input': f'(B, 3, {self.shape[0]}, {self.shape[1]}) '
            'float image as the data pipeline hands it over (channel order '
            'of the pipeline, 0-255)',
            'mmresize.preprocessing': f'bgr_to_rgb={self.bgr_to_rgb}, '
            f'mean={mean}, std={std} (inside the graph)',
            'mmresize.resizer': type(self.pre.resizer).__name__,
            'mmresize.resizer_graph': type(self.resizer).__name__,
            'mmresize.resized_size': f'{self.size[0]}x{self.size[1]}',
        }


class SegmentorGraph(nn.Module):
    """Raw image -> (B, H0, W0) int64 class map at the original size.

    Args:
        model: a built mmseg ``EncoderDecoder`` with an mmresize
            preprocessor, in eval mode, ``test_cfg.mode='whole'``.
        shape: (H, W) of the input images.
        ori_shape: (H0, W0) of the class map (the image before the test
            pipeline's resize, if it resizes); default ``shape``.
        module_graph: see ``PreprocessGraph``.
    """

    def __init__(self, model: nn.Module, shape: Tuple[int, int],
                 ori_shape: Optional[Tuple[int, int]] = None,
                 module_graph: bool = False) -> None:
        super().__init__()
        mode = model.test_cfg.get('mode', 'whole')
        if mode != 'whole':
            raise ExportError(f"export needs test_cfg.mode='whole', the "
                              f'config has {mode!r}; set '
                              "model.test_cfg.mode='whole'")
        self.model = model
        self.preprocess = PreprocessGraph(model.data_preprocessor, shape,
                                          module_graph)
        self.ori_shape = tuple(ori_shape or shape)

    def metadata(self) -> Dict[str, str]:
        return self.preprocess.metadata()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        from mmseg.models.utils import resize
        x = self.preprocess(image)
        logits = self.model.decode_head.forward(self.model.extract_feat(x))
        align = self.model.align_corners
        # as predict_by_feat, then postprocess_result: to the batch size,
        # padding cropped, to the original size
        logits = resize(logits, size=tuple(x.shape[-2:]), mode='bilinear',
                        align_corners=align)
        warp = self.preprocess.warp()
        if warp is None:
            h, w = self.preprocess.downsized_image_shape()
            logits = logits[..., :h, :w]
        else:  # as ZoomEncoderDecoder: onto the padded input's uniform grid
            h, w = warp.out_hw
            logits = resample_linear(logits[..., :h, :w], warp, inverse=True)
            logits = logits[..., :self.preprocess.shape[0],
                            :self.preprocess.shape[1]]
        logits = resize(logits, size=self.ori_shape, mode='bilinear',
                        align_corners=align, warning=False)
        if logits.shape[1] > 1:
            return logits.argmax(dim=1)
        threshold = self.model.decode_head.threshold
        return (logits.sigmoid() > threshold)[:, 0].long()


class DetectorHeadGraph(nn.Module):
    """Raw image -> the dense head's raw outputs, flattened to a tuple
    (for each output group of ``head.forward``, one tensor per level).

    Args:
        model: a built single-stage mmdet detector (a dense head taking only
            the features: RefineDet-style, SSD, RetinaNet, CenterNet, ...).
        shape: (H, W) of the input images.
        module_graph: see ``PreprocessGraph``.
    """

    def __init__(self, model: nn.Module, shape: Tuple[int, int],
                 module_graph: bool = False) -> None:
        super().__init__()
        if not hasattr(model, 'bbox_head') or hasattr(model, 'decoder'):
            raise ExportError(
                f'{type(model).__name__}: head export needs a single-stage '
                'detector with a dense head (forward(features)); DETR-like '
                'and two-stage detectors are not supported')
        if hasattr(model.data_preprocessor.resizer, 'last_warp'):
            raise ExportError(
                f'{type(model.data_preprocessor.resizer).__name__} warps the '
                "image: the head's outputs would decode to boxes in the "
                'warped frame, and the graph does not output the warp to '
                'unwarp them with. Export the resizer alone (--what '
                'resizer), or a detector with a uniform-grid resizer')
        self.model = model
        self.preprocess = PreprocessGraph(model.data_preprocessor, shape,
                                          module_graph)
        self.groups: List[int] = []

    def metadata(self) -> Dict[str, str]:
        return self.preprocess.metadata()

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = self.model.bbox_head.forward(
            self.model.extract_feat(self.preprocess(image)))
        self.groups = [len(group) for group in outs]
        return tuple(t for group in outs for t in group)


def export_onnx(module: nn.Module, example: torch.Tensor, path: str,
                output_names: Sequence[str], metadata: Dict[str, str],
                opset: int = 17) -> str:
    """Write ``module`` (static shapes) to ``path``; returns the exporter.

    The TorchScript exporter is tried first; operators it lacks (area and
    antialiased interpolation) are left to the dynamo exporter. The compiled
    CPU op is switched off: the PyTorch path computes the same function.
    """
    import onnx
    module.eval()
    errors = []
    for dynamo in (False, True):
        try:
            with fused.disabled(), torch.no_grad(), warnings.catch_warnings():
                # static shapes: the tracer's notes on Python branches over
                # shapes are expected
                warnings.simplefilter('ignore', torch.jit.TracerWarning)
                torch.onnx.export(module, (example, ), path,
                                  input_names=['image'],
                                  output_names=list(output_names),
                                  opset_version=max(opset, 18) if dynamo
                                  else opset, dynamo=dynamo)
            break
        except Exception as err:  # try the other exporter
            errors.append(f'{"dynamo" if dynamo else "torchscript"}: {err}')
    else:
        raise ExportError('neither ONNX exporter could export the model:\n'
                          + '\n'.join(e[:2000] for e in errors))
    graph = onnx.load(path)
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, path)
    return 'dynamo' if errors else 'torchscript'


def compare_onnx(path: str, module: nn.Module, images: Sequence[torch.Tensor],
                 repeats: int = 5) -> dict:
    """Run ``images`` (each (1, 3, H, W)) through PyTorch and ONNX Runtime.

    Returns the largest absolute difference of float outputs, the share of
    equal values of integer outputs (class maps), and the median latency of
    both (ms per image, the last image).
    """
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    max_diff, equal, total = 0.0, 0, 0
    for image in images:
        with torch.no_grad():
            ours = module(image)
        ours = ours if isinstance(ours, tuple) else (ours, )
        theirs = session.run(None, {name: image.numpy()})
        for a, b in zip(ours, theirs):
            a = a.numpy()
            if np.issubdtype(a.dtype, np.integer):
                equal += int((a == b).sum())
                total += a.size
            else:
                max_diff = max(max_diff, float(np.abs(a - b).max()))
    last = images[-1]

    def run_torch():
        with torch.no_grad():
            module(last)

    return dict(
        max_abs_diff=max_diff,
        equal_fraction=equal / total if total else None,
        torch_ms=median_ms(run_torch, repeats),
        onnxruntime_ms=median_ms(
            lambda: session.run(None, {name: last.numpy()}), repeats))


def onnx_latencies(paths: Sequence[str], image: torch.Tensor,
                   repeats: int = 20, threads: int = 0) -> List[float]:
    """Median ONNX Runtime latency (ms) of each graph in ``paths`` on
    ``image`` (1, 3, H, W), timed in turns (``interleaved_median_ms``), so
    that their ratios hold on a machine whose speed drifts. Each session
    has ``threads`` threads (0: ONNX Runtime's default, every core) and
    does not spin between runs: spinning threads of one session would take
    the cores from the next."""
    feed = image.numpy()
    runs = []
    for path in paths:
        session = _timing_session(path, threads)
        name = session.get_inputs()[0].name
        runs.append(lambda s=session, n=name: s.run(None, {n: feed}))
    return interleaved_median_ms(runs, repeats)


def _timing_session(path: str, threads: int,
                    profile_prefix: Optional[str] = None):
    """An ONNX Runtime CPU session with ``threads`` threads (0: every core)
    that do not spin between runs (spinning threads of one session would
    take the cores from the next); profiling to ``profile_prefix`` when
    given."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


def onnx_node_profile(path: str, image: torch.Tensor, repeats: int = 20,
                      threads: int = 0) -> List[Tuple[float, str, str]]:
    """ONNX Runtime's profiler on ``path``: each node's median kernel time
    (ms) over ``repeats`` runs on ``image`` (1, 3, H, W), with its operator
    and node name, costliest first. Kernel times only: what a run spends
    between kernels (allocation, waking threads) is not in them, so their
    sum can differ from the latency."""
    import json
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        session = _timing_session(path, threads,
                                  profile_prefix=os.path.join(tmp, 'profile'))
        feed = {session.get_inputs()[0].name: image.numpy()}
        for _ in range(repeats):
            session.run(None, feed)
        with open(session.end_profiling()) as f:
            events = json.load(f)
    times: Dict[Tuple[str, str], List[float]] = {}
    suffix = '_kernel_time'
    for event in events:
        if event.get('cat') == 'Node' and event['name'].endswith(suffix):
            key = (event['args'].get('op_name', '?'),
                   event['name'][:-len(suffix)])
            times.setdefault(key, []).append(event['dur'] / 1000)
    rows = [(float(np.median(t)), op, name)
            for (op, name), t in times.items()]
    return sorted(rows, reverse=True)


__all__ = ['DetectorHeadGraph', 'ExportError', 'PreprocessGraph',
           'SegmentorGraph', 'build_trained_model', 'compare_onnx',
           'deployed_resizer', 'export_onnx', 'onnx_latencies',
           'onnx_node_profile']
