"""Turn a shipped config into a seconds-long run on generated data."""
from pathlib import Path
from typing import Any, Dict

from mmengine.config import Config, ConfigDict

from mmresize.preflight import point_data_root, strip_downloads


def tiny_config(path: str, data_root: str, work_dir: Path,
                iters: int = 1, **overrides: Dict[str, Any]) -> Config:
    """The config at ``path``, made to train ``iters`` steps on tiny data."""
    cfg = Config.fromfile(path)
    point_data_root(cfg, data_root)
    strip_downloads(cfg.model)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=iters,
                               val_interval=10**6)
    cfg.param_scheduler = []
    cfg.pop('auto_scale_lr', None)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2 if loader == 'train_dataloader' else
                           1, num_workers=0, persistent_workers=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=iters, by_epoch=False)
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
