"""ONNX export with the learned resizer inside, checked in ONNX Runtime
against the real preprocessor and the real test-time prediction."""
import os.path as osp
import re
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
import torch

pytest.importorskip('onnxruntime', reason='ONNX export extras not installed '
                    '(pip install -r requirements/deploy.txt)')
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from mmresize.deploy import (  # noqa: E402
    DetectorHeadGraph,
    PreprocessGraph,
    SegmentorGraph,
    build_trained_model,
    compare_onnx,
    export_onnx,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG = osp.join(ROOT, 'configs', 'deeplabv3plus_downsize_voc.py')
DET = osp.join(ROOT, 'configs', 'refinedet',
               'refinedet_vgg16_voc0712_300to100_downsize.py')
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True)
RESIZERS = {
    'DownsizeNet': dict(type='mmresize.DownsizeNet', init='random'),
    'DownsizeNet-16nb': dict(type='mmresize.DownsizeNet', init='random',
                             kernel='bicubic'),
    'LearnableResizer': dict(type='mmresize.LearnableResizer'),
    'MullerResizer': dict(type='mmresize.MullerResizer'),
    'bilinear': dict(type='mmresize.InterpolateResizer'),
    'area': dict(type='mmresize.InterpolateResizer', mode='area'),
    'bilinear-aa': dict(type='mmresize.InterpolateResizer', antialias=True),
    'LearnedZoom': dict(type='mmresize.LearnedZoom'),
    'LearnedZoom-bilinear-prior': dict(type='mmresize.LearnedZoom',
                                       filter='bilinear', saliency='prior'),
}


def images(count, shape, seed=0):
    rng = np.random.default_rng(seed)
    return [torch.from_numpy(rng.integers(0, 255, (1, 3, *shape))).float()
            for _ in range(count)]


def run_session(path, image):
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {session.get_inputs()[0].name: image.numpy()})


@pytest.mark.parametrize('name', list(RESIZERS))
def test_resizer_graph_equals_the_preprocessor(name, tmp_path):
    """ONNX Runtime against what the real preprocessor hands the model."""
    from mmresize.seg import DownsizeSegDataPreProcessor
    torch.manual_seed(0)
    pre = DownsizeSegDataPreProcessor(
        resizer=RESIZERS[name], target_scale=0.3, pad_size_divisor=8,
        test_cfg=dict(size_divisor=16), **NORM).eval()
    pre.unwarps_predictions = True  # used outside a model (LearnedZoom)
    with torch.no_grad():  # train mode BN stats of LearnableResizer: eval
        for p in pre.resizer.parameters():
            # LearnedZoom: strongly, so that the grid is really warped
            p.add_((3.0 if name.startswith('LearnedZoom') else 0.05)
                   * torch.randn_like(p))
    graph = PreprocessGraph(pre, (70, 90))
    path = str(tmp_path / f'{name}.onnx')
    export_onnx(graph, torch.zeros(1, 3, 70, 90), path, ['resized'],
                graph.metadata())
    from mmseg.structures import SegDataSample
    for image in images(2, (70, 90)):
        sample = SegDataSample(metainfo=dict(img_shape=(70, 90),
                                             ori_shape=(70, 90)))
        with torch.no_grad():
            real = pre(dict(inputs=[image[0].byte()], data_samples=[sample]),
                       False)['inputs']
        ours = run_session(path, image)[0]
        assert ours.shape == tuple(real.shape) == (1, 3, 24, 32)
        np.testing.assert_allclose(ours, real.numpy(), rtol=0, atol=1e-4)
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert 'mean=[123.675' in meta['mmresize.preprocessing']
    assert meta['mmresize.resizer'] == type(pre.resizer).__name__


@pytest.fixture(scope='module')
def seg_checkpoint(tmp_path_factory):
    """The README config's model with random (seeded) weights, saved as a
    training checkpoint (DownsizeNet's coefficients perturbed from the
    start, so the resizer matters; classifier weights large
    enough for a class map with several classes)."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    torch.manual_seed(0)
    cfg = Config.fromfile(SEG)
    init_default_scope('mmseg')
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for p in model.data_preprocessor.resizer.coef_conv.parameters():
            p.normal_(0, 0.5)
        # a classifier strong enough that the class map has regions (the
        # default init's 0.01 std gives one class everywhere)
        model.decode_head.conv_seg.weight.normal_(0, 1)
    path = tmp_path_factory.mktemp('seg') / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


def export_segmentor(model, shape, ori_shape, path):
    """SegmentorGraph of ``model`` written to ``path``; returns the graph."""
    graph = SegmentorGraph(model, shape, ori_shape)
    export_onnx(graph, torch.zeros(1, 3, *shape), path, ['class_map'],
                graph.metadata())
    return graph


def predicted(model, image, shape, ori_shape):
    """mmseg's test_step on one (1, 3, H, W) image: the data sample."""
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(img_shape=shape,
                                         ori_shape=ori_shape))
    with torch.no_grad():
        return model.test_step(dict(inputs=[image[0].byte()],
                                    data_samples=[sample]))[0]


@pytest.mark.parametrize('shape,ori_shape,test_cfg,pad_divisor', [
    ((96, 128), None, None, 1),
    # mmseg's test-time padding to 32, the downsized batch padded to 8 and
    # an original size other than the input's: every crop and resize counts
    ((90, 118), (120, 150), dict(size_divisor=32), 8),
])
def test_segmentor_graph_equals_the_test_prediction(seg_checkpoint, tmp_path,
                                                    shape, ori_shape,
                                                    test_cfg, pad_divisor):
    """Class map of ONNX Runtime against mmseg's own test_step on the same
    image (what tools/test.py computes), at the original size."""
    model, _ = build_trained_model(SEG, seg_checkpoint)
    model.data_preprocessor.test_cfg = test_cfg
    model.data_preprocessor.pad_size_divisor = pad_divisor
    path = str(tmp_path / 'seg.onnx')
    export_segmentor(model, shape, ori_shape, path)
    ori_shape = ori_shape or shape
    for image in images(2, shape, seed=1):
        real = predicted(model, image, shape, ori_shape)
        expected = real.pred_sem_seg.data.numpy()
        # a map of one class could hide a misplaced crop or resize
        _, counts = np.unique(expected, return_counts=True)
        assert len(counts) > 1 and counts.min() >= 0.02 * expected.size
        ours = run_session(path, image)[0]
        assert ours.shape == expected.shape == (1, *ori_shape)
        assert (ours == expected).mean() >= 0.999


def test_detector_head_graph_equals_the_model_outputs(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    torch.manual_seed(0)
    cfg = Config.fromfile(DET)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()  # the heads' own init keeps the outputs in range
    checkpoint = str(tmp_path / 'det.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    model, _ = build_trained_model(DET, checkpoint)
    shape = (300, 300)
    graph = DetectorHeadGraph(model, shape)
    with torch.no_grad():
        graph(torch.zeros(1, 3, *shape))
    names = [f'out{i}' for i in range(sum(graph.groups))]
    path = str(tmp_path / 'det.onnx')
    export_onnx(graph, torch.zeros(1, 3, *shape), path, names,
                graph.metadata())
    image = images(1, shape)[0]
    with torch.no_grad():  # the real preprocessor, backbone, neck and head
        data = model.data_preprocessor(dict(inputs=[image[0].byte()]), False)
        real = model.bbox_head(model.extract_feat(data['inputs']))
    real = [t.numpy() for group in real for t in group]
    ours = run_session(path, image)
    assert len(ours) == len(real) == 4 * 4  # ARM/ODM cls/reg x 4 levels
    for a, b in zip(ours, real):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    result = compare_onnx(path, graph, [image])
    assert result['max_abs_diff'] < 1e-3 and result['onnxruntime_ms'] > 0


def test_export_tool_end_to_end(seg_checkpoint, tmp_path):
    out = tmp_path / 'model.onnx'
    args = [sys.executable, 'tools/export.py', SEG, seg_checkpoint, str(out),
            '--shape', '64', '96', '--check', '2']
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'equal class-map pixels' in result.stdout
    assert 'deployed form of the resizer against its own forward' in \
        result.stdout
    assert 'ONNX Runtime' in result.stdout and out.is_file()
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode != 0 and 'exists' in again.stderr
    # the resizer alone, timed in turns against its bilinear twin
    twin = tmp_path / 'twin.py'
    twin.write_text(f'_base_ = [{SEG!r}]\nmodel = dict(data_preprocessor=dict('
                    "resizer=dict(_delete_=True, type="
                    "'mmresize.InterpolateResizer')))\n")
    resizer = subprocess.run(
        args[:4] + [str(tmp_path / 'resizer.onnx'), '--what', 'resizer',
                    '--shape', '64', '96', '--check', '1', '--against',
                    str(twin)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resizer.returncode == 0, resizer.stderr[-3000:]
    assert 'max |PyTorch - ONNX Runtime|' in resizer.stdout
    ours, theirs, ratio = re.search(
        r'in turns: ([\d.]+) ms against ([\d.]+) ms, ratio ([\d.]+)x',
        resizer.stdout).groups()
    assert float(ours) > 0 and float(theirs) > 0
    assert float(ratio) == pytest.approx(float(ours) / float(theirs),
                                         rel=0.02)
    assert (tmp_path / 'resizer_against.onnx').is_file()
    # the two graphs timed in turns by the latency tool, the first the base
    timed = subprocess.run(
        [sys.executable, 'tools/onnx_latency.py',
         str(tmp_path / 'resizer_against.onnx'),
         str(tmp_path / 'resizer.onnx'), '--repeats', '2'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert timed.returncode == 0, timed.stderr[-3000:]
    assert timed.stdout.startswith('64x96, 2 turns')
    assert re.search(r'resizer_against.onnx +[\d.]+ ms  1.00x the first',
                     timed.stdout)
    # and each graph's costliest nodes: the deployed resizer's convolutions
    profiled = subprocess.run(
        [sys.executable, 'tools/onnx_latency.py',
         str(tmp_path / 'resizer_against.onnx'),
         str(tmp_path / 'resizer.onnx'), '--repeats', '2', '--profile', '3',
         '--match', 'resizer'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert profiled.returncode == 0, profiled.stderr[-3000:]
    ours = profiled.stdout.split('resizer.onnx: ')[1].splitlines()
    assert re.match(r"\d+ nodes matching 'resizer', [\d.]+ ms of kernels",
                    ours[0]), ours[0]
    assert len(ours) == 4 and all(
        float(line.split()[0]) > 0 for line in ours[1:])
    assert any(' Conv ' in line for line in ours[1:]), ours
    # the twin's only resizer node is its interpolation (normalising is not)
    twin = profiled.stdout.split('resizer_against.onnx: ')[1].splitlines()
    assert twin[0].startswith("1 nodes matching 'resizer'"), twin[0]
    assert twin[1].split()[2] == 'Resize', twin[1]


def zoom_checkpoint(base, model_type, tmp_path):
    """``base`` with a strongly warping LearnedZoom in ``model_type``: the
    config file and a checkpoint of seeded weights."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    config = tmp_path / 'zoom.py'
    config.write_text(
        f"_base_ = ['{base}']\n"
        f"model = dict(type='{model_type}', data_preprocessor=dict("
        "resizer=dict(_delete_=True, type='mmresize.LearnedZoom')))\n")
    cfg = Config.fromfile(str(config))
    init_default_scope(cfg.default_scope)
    if cfg.model.get('pretrained'):
        cfg.model.pretrained = None
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for p in model.data_preprocessor.resizer.parameters():
            p.add_(3.0 * torch.randn_like(p))
    if hasattr(model, 'decode_head'):
        centre_classifier(model)
    checkpoint = tmp_path / 'zoom.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return str(config), str(checkpoint)


def centre_classifier(model, shape=(90, 118)):
    """Random classifier weights, and a bias that cancels the features' mean
    on a smooth image: with random weights the features barely vary over
    the image, so the class map would otherwise be one class everywhere."""
    import torch.nn.functional as F
    conv = model.decode_head.conv_seg
    seen = []
    hook = conv.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    image = F.interpolate(torch.rand(1, 3, 5, 6) * 255, size=shape,
                          mode='bilinear')
    predicted(model.eval(), image, shape, shape)
    hook.remove()
    with torch.no_grad():
        conv.weight.normal_(0, 1)
        mean = seen[0].mean(dim=(0, 2, 3))
        conv.bias.copy_(-(conv.weight.flatten(1) @ mean))


def test_zoom_segmentor_graph_unwarps_as_the_test_prediction(tmp_path):
    """LearnedZoom: the class map of ONNX Runtime against
    ZoomEncoderDecoder's test_step (logits unwarped, then mmseg's crop and
    resize); read in the warped frame instead, it would not match."""
    config, checkpoint = zoom_checkpoint(SEG, 'ZoomEncoderDecoder', tmp_path)
    model, _ = build_trained_model(config, checkpoint)
    model.data_preprocessor.test_cfg = dict(size_divisor=32)
    model.data_preprocessor.pad_size_divisor = 8
    shape, ori_shape = (90, 118), (120, 150)
    path = str(tmp_path / 'zoom_seg.onnx')
    graph = export_segmentor(model, shape, ori_shape, path)
    for image in images(2, shape, seed=1):
        real = predicted(model, image, shape, ori_shape)
        warp = real.zoom_warp
        assert (warp.cdf_x.diff() * warp.cdf_x.shape[-1]).max() > 1.2
        expected = real.pred_sem_seg.data.numpy()
        _, counts = np.unique(expected, return_counts=True)
        assert (counts >= 0.02 * expected.size).sum() >= 3
        ours = run_session(path, image)[0]
        assert ours.shape == expected.shape == (1, *ori_shape)
        assert (ours == expected).mean() >= 0.999
        with torch.no_grad(), mock.patch.object(graph.preprocess, 'warp',
                                                lambda: None):
            naive = graph(image).numpy()  # the warped frame, read as uniform
        assert (naive == expected).mean() < 0.98


def test_zoom_detector_head_export_is_refused(tmp_path):
    config, checkpoint = zoom_checkpoint(DET, 'ZoomSingleStageDetector',
                                         tmp_path)
    model, _ = build_trained_model(config, checkpoint)
    with pytest.raises(ValueError, match='warped frame.*--what resizer'):
        DetectorHeadGraph(model, (300, 300))
