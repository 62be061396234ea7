"""Export a trained model with its learned resizer inside to ONNX, and check
it in ONNX Runtime.

    python tools/export.py CONFIG CHECKPOINT OUT.onnx --shape H W \\
        [--what resizer|model] [--ori-shape H0 W0] [--check N] \\
        [--images DIR] [--against TWIN_CONFIG [CKPT]] [--tolerance 1e-3]

--what resizer: the preprocessing (channel order, mean/std) and the trained
resizer, from the raw (B, 3, H, W) image batch to the downsized batch the
model consumes: put it in front of a model exported by mmdeploy.
--what model (default): segmentation configs, raw image -> class map at
--ori-shape (default --shape); detection configs, raw image -> the dense
head's raw outputs (box decoding and NMS remain, see README "Deploy").
--check N runs N images (--images, else procedural ones) through PyTorch
and ONNX Runtime, fails when outputs differ by more than --tolerance (class
maps: when more than 0.1% of pixels differ) and prints the latency of both.
and, for a 2-conv DownsizeNet, that its deployed form (what is exported,
mmresize/resizers/deployed.py) equals the trained module's own forward.
--against TWIN_CONFIG also exports the twin config (e.g. the bilinear one)
with the same weights and times both graphs in turns in this run.
--module-graph exports the module's own graph instead of the deployed form.
"""
import argparse
import os
import os.path as osp
import sys
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='task checkpoint from train.py')
    parser.add_argument('out', help='the ONNX file to write')
    parser.add_argument('--shape', type=int, nargs=2, required=True,
                        metavar=('H', 'W'), help='input image size')
    parser.add_argument('--what', choices=['model', 'resizer'],
                        default='model')
    parser.add_argument('--ori-shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='size of the class map (segmentation)')
    parser.add_argument('--check', type=int, default=0, metavar='N')
    parser.add_argument('--images', help='image file or folder for --check')
    parser.add_argument(
        '--against', nargs='+', metavar='TWIN_CONFIG [CHECKPOINT]',
        help='also export and time this config (its own checkpoint, else '
        "CHECKPOINT's weights without the resizer's)")
    parser.add_argument('--tolerance', type=float, default=1e-3)
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--module-graph', action='store_true',
                        help="export a 2-conv DownsizeNet's own module graph, "
                        'not its deployed form (mmresize.deploy.'
                        'deployed_resizer)')
    parser.add_argument('--force', action='store_true',
                        help='overwrite OUT if it exists')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle CHECKPOINT (and the --against one) fully although it '
        'lies outside your work dirs (only for files you trust: unpickling '
        'runs code; see docs/reliability.md)')
    return parser.parse_args()


def require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise SystemExit(
            f'tools/export.py needs onnx and onnxruntime ({err.name} is '
            'missing): pip install -r requirements/deploy.txt (tools/setup.sh '
            'installs them unless MMRESIZE_DEPLOY=0)') from err


def graph_for(model, scope: str, what: str, shape, ori_shape,
              module_graph: bool = False):
    """(module, output names, description of the output)."""
    from mmresize.deploy import DetectorHeadGraph, PreprocessGraph, SegmentorGraph
    if what == 'resizer':
        return (PreprocessGraph(model.data_preprocessor, shape, module_graph),
                ['resized'],
                'the normalised, downsized (and padded) batch the model '
                'consumes, (B, 3, h, w) float')
    if scope == 'mmseg':
        return (SegmentorGraph(model, shape, ori_shape, module_graph),
                ['class_map'],
                '(B, H0, W0) int64 class map at the original size')
    if scope == 'mmdet':
        module = DetectorHeadGraph(model, shape, module_graph)
        import torch
        with torch.no_grad():
            module(torch.zeros(1, 3, *shape))
        names = [f'head_out{g}_level{lvl}'
                 for g, count in enumerate(module.groups)
                 for lvl in range(count)]
        return (module, names, 'the dense head outputs, per group (e.g. '
                'class scores, box deltas) one tensor per level; decode '
                'with head.predict_by_feat and the scale_factor')
    raise SystemExit(f'unsupported default_scope {scope!r}')


def check_images(path, count: int, shape):
    """``count`` (1, 3, H, W) float images in file channel order (BGR):
    from ``path``, resized to ``shape``, else procedural ones."""
    import cv2
    import numpy as np
    import torch
    if path:
        files = ([path] if osp.isfile(path) else sorted(
            osp.join(path, f) for f in os.listdir(path)
            if f.lower().endswith(IMAGE_EXTS)))
        if not files:
            raise SystemExit(f'no images found at {path}')
        images = [cv2.imread(f) for f in files[:count]]
    else:
        rng = np.random.default_rng(0)
        images = []
        for _ in range(count):
            yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
            base = rng.uniform(40, 200, 3) + 40 * np.sin(
                xx / rng.uniform(2, 30))[..., None]
            check = ((yy // 2 + xx // 2) % 2)[..., None] * rng.uniform(0, 80)
            images.append(np.clip(base + check + rng.normal(
                0, 8, (*shape, 3)), 0, 255).astype(np.uint8))
    return [torch.from_numpy(cv2.resize(img, (shape[1], shape[0]))).permute(
        2, 0, 1)[None].float().contiguous() for img in images]


def main() -> None:
    args = parse_args()
    require_onnx()
    import torch

    from mmresize.deploy import (
        ExportError,
        build_trained_model,
        compare_onnx,
        export_onnx,
        onnx_latencies,
    )
    if osp.exists(args.out) and not args.force:
        raise SystemExit(f'{args.out} exists; pass --force to overwrite it')
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    if args.trust_checkpoint:
        from mmresize.trust import trust_file
        for path in [args.checkpoint] + (args.against or [])[1:]:
            trust_file(path)
    shape = tuple(args.shape)
    if min(shape) < 1:
        raise SystemExit(f'--shape must be positive, got {shape}')
    try:
        model, scope = build_trained_model(args.config, args.checkpoint)
        module, names, output = graph_for(model, scope, args.what, shape,
                                          args.ori_shape, args.module_graph)
        meta = dict(module.metadata(), **{'mmresize.output': output,
                       'mmresize.config': osp.abspath(args.config),
                       'mmresize.checkpoint': osp.abspath(args.checkpoint)})
        exporter = export_onnx(module, torch.zeros(1, 3, *shape), args.out,
                               names, meta, args.opset)
    except ExportError as err:
        raise SystemExit(f'export failed: {err}') from err
    print(f'wrote {args.out} ({exporter} exporter): {output}')
    for key, value in meta.items():
        print(f'  {key}: {value}')
    if not args.check:
        return
    images = check_images(args.images, args.check, shape)
    result = compare_onnx(args.out, module, images)
    pre = module if args.what == 'resizer' else module.preprocess
    deployed = [pre.deployed_error(image) for image in images]
    if deployed[0] is not None:
        print(f'deployed form of the resizer against its own forward: max '
              f'|difference| = {max(deployed):.3g} ({len(images)} image(s))')
    print(f'checked {len(images)} image(s): max |PyTorch - ONNX Runtime| = '
          f'{result["max_abs_diff"]:.3g}' +
          ('' if result['equal_fraction'] is None else
           f', equal class-map pixels {100 * result["equal_fraction"]:.3f}%'))
    print(f'latency per image ({shape[0]}x{shape[1]}, this CPU, '
          f'{torch.get_num_threads()} threads): PyTorch '
          f'{result["torch_ms"]:.1f} ms, ONNX Runtime '
          f'{result["onnxruntime_ms"]:.1f} ms')
    if args.against:
        twin_config, *twin_checkpoint = args.against
        twin, _ = build_trained_model(
            twin_config, (twin_checkpoint or [args.checkpoint])[0],
            strict=bool(twin_checkpoint))
        twin_module, _, _ = graph_for(twin, scope, args.what, shape,
                                      args.ori_shape, args.module_graph)
        twin_out = osp.splitext(args.out)[0] + '_against.onnx'
        export_onnx(twin_module, torch.zeros(1, 3, *shape), twin_out, names,
                    twin_module.metadata(), args.opset)
        twin_result = compare_onnx(twin_out, twin_module, images)
        ours_ms, twin_ms = onnx_latencies([args.out, twin_out], images[-1])
        print(f'against {twin_config} ({twin_out}): PyTorch '
              f'{twin_result["torch_ms"]:.1f} ms; ONNX Runtime, the two timed '
              f'in turns: {ours_ms:.4g} ms against {twin_ms:.4g} ms, ratio '
              f'{ours_ms / twin_ms:.2f}x (the difference is '
              f'{100 * (ours_ms / twin_ms - 1):.0f}% of the twin)')
    if deployed[0] is not None and max(deployed) > args.tolerance:
        raise SystemExit('the deployed form of the resizer disagrees with '
                         f'its own forward beyond the tolerance '
                         f'({args.tolerance}): export with --module-graph')
    bad_float = result['max_abs_diff'] > args.tolerance
    bad_map = (result['equal_fraction'] is not None
               and result['equal_fraction'] < 0.999)
    if bad_float or bad_map:
        raise SystemExit('ONNX Runtime disagrees with PyTorch beyond the '
                         f'tolerance ({args.tolerance}, 99.9% of class-map '
                         'pixels)')


if __name__ == '__main__':
    main()
