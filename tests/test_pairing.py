"""True pairing: with the same seed, every resizer variant trains the same
task model from the same weights on the same data order. The resizer is
built and initialised on a fork of the random generator
(``mmresize.preprocessors.downsizing.own_random_stream``); without the fork a learnable
resizer's draws would shift the model's, which the control test shows."""
import contextlib
import os.path as osp

import torch
from mmengine.runner import Runner

import mmresize.preprocessors.downsizing
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCN_VOC = osp.join(ROOT, 'configs', 'fcn',
                   'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py')
RESIZERS = {
    'bilinear': dict(type='mmresize.InterpolateResizer'),
    'DownsizeNet': dict(type='mmresize.DownsizeNet'),  # the random start
    'DownsizeNet-nearbil': dict(type='mmresize.DownsizeNet',
                                init='near_bilinear'),
    'LearnableResizer': dict(type='mmresize.LearnableResizer'),
    'MullerResizer': dict(type='mmresize.MullerResizer'),
}


def start(seg_root, tmp_path, resizer, seed=0):
    """Task-model weights (resizer excluded) after the runner's init, and
    the image files of the first two training batches."""
    cfg = tiny_config(FCN_VOC, seg_root, tmp_path / 'work', checkpoint=False)
    cfg.model.data_preprocessor.resizer = resizer
    cfg.randomness = dict(seed=seed)
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    weights = {k: v.clone() for k, v in runner.model.state_dict().items()
               if not k.startswith('data_preprocessor.resizer.')}
    loader = iter(runner.train_dataloader)
    order = [s.img_path for _ in range(2) for s in next(loader)['data_samples']]
    return weights, order


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_same_seed_same_model_and_data_order(voc_seg_root, tmp_path):
    weights, order = start(voc_seg_root, tmp_path, RESIZERS['bilinear'])
    for name, resizer in RESIZERS.items():
        other_weights, other_order = start(voc_seg_root, tmp_path, resizer)
        assert_same(weights, other_weights)
        assert other_order == order, name
    # and the seed matters: another seed draws another model
    other, _ = start(voc_seg_root, tmp_path, RESIZERS['bilinear'], seed=1)
    assert any(not torch.equal(weights[k], other[k]) for k in weights
               if weights[k].is_floating_point())


def test_without_the_fork_a_learnable_resizer_shifts_the_model(
        voc_seg_root, tmp_path, monkeypatch):
    """The control: the same comparison fails when the resizer draws from
    the global generator, so the test above can fail."""
    weights, _ = start(voc_seg_root, tmp_path, RESIZERS['bilinear'])
    monkeypatch.setattr(mmresize.preprocessors.downsizing, 'own_random_stream',
                        contextlib.nullcontext)
    shifted, _ = start(voc_seg_root, tmp_path, RESIZERS['DownsizeNet'])
    assert any(not torch.equal(weights[k], shifted[k]) for k in weights
               if weights[k].is_floating_point())
