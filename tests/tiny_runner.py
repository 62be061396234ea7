"""Turn a shipped config into a seconds-long run on generated data.

Runs keep the config's preprocessor, resizer, heads, losses and data
pipeline, but a ResNet-50/101 (or -18) backbone becomes a narrow ResNet-18
(``slim_overrides``): the same mmdet / mmseg ResNet code at a fraction of
the cost. The config tests also build every shipped model as it is
(``build_shipped_model``). A checkpoint is written only where asked for.
"""
import copy
import functools
import os.path as osp
from pathlib import Path
from typing import Any, Dict, List, Tuple

from mmengine.config import Config, ConfigDict

from mmresize.preflight import point_data_root, strip_downloads

SLIM_DEPTH = 18
SLIM_BASE = 16  # the slim ResNet's base (and stem) channels
# Output channels of ResNet stage i: base_channels * 2**i * expansion.
EXPANSION = {18: 1, 34: 1, 50: 4, 101: 4, 152: 4}
# The model parts that read the backbone's stages, and the keys that hold
# the channels they read (mapped stage by stage) or their own widths (scaled
# down by the same factor as the backbone).
BACKBONE_READERS = ('neck', 'decode_head', 'auxiliary_head', 'rpn_head')
STAGE_KEYS = ('in_channels', 'c1_in_channels')
WIDTH_KEYS = ('channels', 'mid_channels', 'c1_channels', 'feat_channels')


def unformatted(cfg: Config) -> Config:
    """``cfg``, its text (as runners log and dump it, several times each)
    not run through yapf, which took most of a tiny run's time.

    mmengine 0.10.7's ``Config.fromfile`` ignores ``format_python_code``
    for ordinary (non-lazy) configs, hence the copy.
    """
    return Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                  format_python_code=False)


@functools.lru_cache(maxsize=None)
def _parsed(path: str) -> Config:
    return unformatted(Config.fromfile(path))


def load_config(path: str) -> Config:
    """The config at ``path``, parsed once per session (a parse takes about
    a second; tests read the shipped configs many times), as a copy of its
    own, ``unformatted``."""
    return copy.deepcopy(_parsed(path))


def slim_overrides(model: ConfigDict) -> Dict[str, Any]:
    """Dotted config keys (as ``--cfg-options`` and ``merge_from_dict`` take
    them) that make a ResNet-backed ``model`` a ResNet-18 with
    ``SLIM_BASE`` channels, with the parts reading its stages to match;
    ``{}`` for other backbones (RefineDet's VGG16 stays).

    Strides, dilations, out_indices, norms and the ResNet variant (V1c's
    deep stem, contract_dilation) are the config's own.
    """
    backbone = model.get('backbone') or {}
    depth = backbone.get('depth')
    if not str(backbone.get('type', '')).split('.')[-1].startswith(
            'ResNet') or depth not in EXPANSION:
        return {}
    base = backbone.get('base_channels', 64)
    stage = {base * 2**i * EXPANSION[depth]: SLIM_BASE * 2**i
             for i in range(backbone.get('num_stages', 4))}
    factor = base * EXPANSION[depth] // SLIM_BASE
    out = {'model.backbone.depth': SLIM_DEPTH,
           'model.backbone.base_channels': SLIM_BASE,
           'model.backbone.stem_channels': SLIM_BASE}
    for part in BACKBONE_READERS:
        head = model.get(part) or {}
        for key in STAGE_KEYS:
            if key in head:
                value = head[key]
                out[f'model.{part}.{key}'] = stage[value] if isinstance(
                    value, int) else type(value)(stage[v] for v in value)
        for key in WIDTH_KEYS:
            if isinstance(head.get(key), int):
                out[f'model.{part}.{key}'] = max(head[key] // factor, 1)
    return out


def slim_options(path: str) -> List[str]:
    """``slim_overrides`` of the config at ``path`` as ``--cfg-options``
    arguments for ``tools/train.py`` / ``tools/test.py``."""
    overrides = slim_overrides(load_config(path).model)
    return [f'{key}={value}'.replace(' ', '')
            for key, value in overrides.items()]


def split_resizer(path: str) -> Tuple[dict, dict]:
    """(the resizer, the rest of the config) of the config at ``path``, as
    dicts: twins that differ only in the resizer have equal rests."""
    cfg = load_config(path).to_dict()
    return cfg['model']['data_preprocessor'].pop('resizer'), cfg


def check_bilinear_twin(config: str) -> None:
    """The ``*_bilinear.py`` twin of a ``*_downsize.py`` config exists and
    is identical but for its fixed-interpolation resizer: training the twin
    too would run no code the DownsizeNet config does not."""
    twin = config.replace('_downsize.py', '_bilinear.py')
    assert osp.isfile(twin), twin
    resizer, rest = split_resizer(twin)
    assert rest == split_resizer(config)[1], twin
    assert resizer['type'] == 'mmresize.InterpolateResizer', twin


def build_shipped_model(path: str):
    """The model of the config at ``path``, exactly as shipped (full
    backbone, no weights downloaded), in the config's default scope."""
    from mmengine.registry import MODELS, init_default_scope
    cfg = load_config(path)
    strip_downloads(cfg.model)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    return MODELS.build(cfg.model)


def tiny_config(path: str, data_root: str, work_dir: Path,
                iters: int = 1, slim: bool = True, checkpoint: bool = True,
                **overrides: Dict[str, Any]) -> Config:
    """The config at ``path``, made to train ``iters`` steps on tiny data.

    Args:
        slim: swap a ResNet backbone for a narrow ResNet-18
            (``slim_overrides``).
        checkpoint: save the weights (no optimizer or scheduler state) at
            the last iteration, ``work_dir/iter_{iters}.pth``; False for
            tests that read no checkpoint.
        **overrides: dotted keys merged last.

    The config text mmengine logs and dumps (several times per runner) is
    left unformatted (``load_config``).
    """
    cfg = load_config(path)
    point_data_root(cfg, data_root)
    strip_downloads(cfg.model)
    if slim:
        cfg.merge_from_dict(slim_overrides(cfg.model))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=iters,
                               val_interval=10**6)
    cfg.param_scheduler = []
    cfg.pop('auto_scale_lr', None)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2 if loader == 'train_dataloader' else
                           1, num_workers=0, persistent_workers=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=iters, by_epoch=False,
        save_optimizer=False, save_param_scheduler=False) if checkpoint \
        else None
    cfg.log_level = 'WARNING'
    cfg.merge_from_dict(overrides)
    return cfg


def evaluate_and_capture(runner):
    """``runner.test()`` and the data samples its evaluator received (with
    their predictions, after the model mapped them back), as dicts."""
    seen = []
    process = runner.test_evaluator.process

    def capture(data_samples, data_batch=None):
        seen.extend(s.to_dict() for s in data_samples)
        return process(data_samples, data_batch)

    runner.test_evaluator.process = capture
    return runner.test(), seen


def total_loss(model, batch):
    """The summed training loss of one batch, through the preprocessor."""
    data = model.data_preprocessor(batch, True)
    return model.parse_losses(model(**data, mode='loss'))[0]


def assert_resizer_learns(model, batch, steps: int = 3) -> None:
    """After ``steps`` SGD steps every resizer parameter has a gradient.

    With the default random start every parameter has one from the first
    step; at the near-bilinear start the 1x1 coefficient conv has one and
    the texture convs (whose true gradient is 0 while that conv is zero)
    follow after one step.
    """
    import torch
    resizer = model.data_preprocessor.resizer
    optim = torch.optim.SGD(resizer.parameters(), lr=0.01)
    for _ in range(steps):
        optim.zero_grad()
        total_loss(model, batch).backward()
        optim.step()
    for name, p in resizer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def assert_frozen_stays(model, batch, optim_cfg, task_param) -> None:
    """Task training steps leave a frozen resizer bitwise unchanged while
    ``task_param`` (a parameter of the task model) changes."""
    import torch
    from mmengine.optim import build_optim_wrapper
    model.train()
    resizer = model.data_preprocessor.resizer
    before = {k: v.clone() for k, v in resizer.state_dict().items()}
    task_before = task_param.detach().clone()
    optim = build_optim_wrapper(model, optim_cfg)
    for _ in range(3):
        model.train_step(batch, optim)
    for key, value in resizer.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not torch.equal(task_param, task_before)
    assert not any(p.requires_grad for p in resizer.parameters())
