"""Fitting a benchmark config's schedule to a number of iterations."""
from mmengine.config import Config


def set_iterations(cfg: Config, iters: int) -> None:
    """Fit an iteration-based config with a [warm-up, decay] schedule (the
    benchmark configs) to ``iters`` iterations: warm-up over the first tenth
    (at most its configured length), decay to the end, one checkpoint, and
    an ``EMAHook`` (if any) averaging over about the last tenth (momentum
    10 / iters)."""
    cfg.train_cfg.max_iters = iters
    warmup, decay = cfg.param_scheduler
    warmup['end'] = decay['begin'] = max(1, min(warmup['end'], iters // 10))
    decay['end'] = max(iters, decay['begin'] + 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=iters, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'EMAHook':
            hook['momentum'] = min(0.5, 10 / iters)
