"""What a trained run is measured by, besides its metric: the test metrics
of the EMA and of the raw final weights, how far the trained resizer's
output is from bilinear, and the resizer's share of a training step."""
import statistics
from typing import TYPE_CHECKING, Dict

from mmresize.benchmark.timing import timed

if TYPE_CHECKING:
    import torch


def evaluate(runner, ema: bool) -> Dict[str, float]:
    """Test the trained model, with the EMA weights or the raw final ones.

    Runs the test loop directly: ``runner.test()`` would call every hook's
    ``before_run``, and ``EMAHook.before_run`` rebuilds its average from
    the current (raw) weights, losing it. ``EMAHook`` swaps the averaged
    weights in around the test epoch; for the raw weights it is left out of
    this one loop. Uses the runner's private ``_test_loop`` / ``_hooks``
    (mmengine 0.10.7 has no public way to run the loop without
    ``before_run``).
    """
    from mmengine.hooks import EMAHook
    runner._test_loop = runner.build_test_loop(runner._test_loop)
    hooks = runner._hooks
    if not ema:
        runner._hooks = [h for h in hooks if not isinstance(h, EMAHook)]
    try:
        return {k: float(v) for k, v in runner.test_loop.run().items()}
    finally:
        runner._hooks = hooks


def resizer_drift(cfg, checkpoint: str, images: int = 4) -> float:
    """How far the trained resizer's output is from bilinear interpolation:
    mean |resizer - bilinear| over the first ``images`` test images, as the
    preprocessor hands them to the resizer ((N, 3, H, W), normalised), in
    0-255 grey levels. Uses the checkpoint's ``state_dict`` (the EMA
    weights when EMAHook ran)."""
    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from mmresize.capture import resizer_calls
    from mmresize.engine.hooks import drift_from_bilinear
    from mmresize.transfer import standalone_preprocessor

    init_default_scope(cfg.default_scope)
    pre = standalone_preprocessor(cfg.model.data_preprocessor, checkpoint)
    loader = Runner.build_dataloader(
        dict(cfg.test_dataloader, batch_size=images, num_workers=0,
             persistent_workers=False))
    with torch.no_grad(), resizer_calls(pre.resizer) as calls:
        pre(next(iter(loader)), False)
        x, size = calls[0]
        return drift_from_bilinear(x, pre.resizer(x, size), pre.std)


def step_share(runner, batches: int = 3) -> float:
    """Median time of the resizer's forward+backward over the median time
    of a whole training step, on the resizer's real inputs (``batches``
    training batches; GPU-synchronised, ``mmresize.benchmark.timing``)."""
    from mmresize.capture import resizer_calls
    model = runner.model
    loader_cfg = dict(runner.cfg.train_dataloader, num_workers=0,
                      persistent_workers=False)
    loader = iter(runner.build_dataloader(loader_cfg))
    resizer = model.data_preprocessor.resizer
    step_times, resizer_times = [], []

    def resizer_step(x, size) -> None:
        out = resizer(x, size)
        if out.requires_grad:
            out.sum().backward()

    for _ in range(batches):
        batch = next(loader)
        with resizer_calls(resizer) as calls:
            step_times.append(timed(lambda: model.train_step(
                batch, runner.optim_wrapper))[1])
        x, size = calls[0]
        resizer_times.append(timed(lambda: resizer_step(x, size))[1])
    runner.optim_wrapper.zero_grad()
    return statistics.median(resizer_times) / statistics.median(step_times)


def first_test_batch(cfg) -> dict:
    """The first test image of ``cfg`` (an mmengine Config)'s test set, as
    a batch of one."""
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(dict(
        cfg.test_dataloader, batch_size=1, num_workers=0,
        persistent_workers=False))
    for batch in loader:
        return batch
    raise FileNotFoundError(
        f'the test set of {cfg.filename} is empty: are its images where '
        'test_dataloader says (data root, img_suffix)?')


def cost_record(model: 'torch.nn.Module', batch: dict) -> Dict[str, object]:
    """Multiply-adds of ``model`` (eval mode) on ``batch``, the resizer
    included (``mmresize.benchmark.cost.inference_cost``: ``model_gmacs``,
    ``resizer_gmacs``, ``task_gmacs``, the sizes); a model the count
    cannot trace gets ``cost_error`` (what failed) instead."""
    import torch

    from mmresize.benchmark.cost import inference_cost
    from mmresize.capture import resizer_calls
    with torch.no_grad():
        with resizer_calls(model.data_preprocessor.resizer) as calls:
            data = model.data_preprocessor(batch, False)
        x, size = calls[0]
        try:
            return inference_cost(model, tuple(x.shape[-2:]), size,
                                  data['inputs'], data['data_samples'])
        except Exception as err:  # a model jit tracing cannot follow
            return dict(cost_error=f'{type(err).__name__}: {err}')


def inference_record(runner, repeats: int = 5) -> Dict[str, object]:
    """What the trained model costs at inference, on its first test image:
    multiply-adds with the resizer included (``cost_record``) and the
    median latency of one ``test_step`` (batch 1: preprocessing, resizer,
    model and post-processing) of this model and of its bilinear twin (a
    copy with the resizer replaced by bilinear interpolation), timed in
    this process in turns
    (``interleaved_median_ms``): ``latency_ms``, ``bilinear_latency_ms``
    and their ratio. On a CPU shared with other runs the ratio is noise:
    two identical models differed by 1.2-1.5x there (the host record says
    whether the CPU was shared); compare latencies from a quiet machine
    (``tools/benchmark_resizers.py``, ``tools/export.py --against``)."""
    import copy

    import torch

    from mmresize.benchmark.cost import preserved_modes
    from mmresize.benchmark.timing import interleaved_median_ms
    from mmresize.resizers import InterpolateResizer
    model = getattr(runner.model, 'module', runner.model)
    batch = first_test_batch(runner.cfg)
    with preserved_modes(model):
        model.eval()
        twin = copy.deepcopy(model)
        twin.data_preprocessor.resizer = InterpolateResizer(mode='bilinear')
        record = cost_record(model, batch)
        with torch.no_grad():
            latency, bilinear = interleaved_median_ms(
                [lambda: model.test_step(batch),
                 lambda: twin.test_step(batch)], repeats)
    record.update(latency_ms=latency, bilinear_latency_ms=bilinear,
                  latency_ratio=latency / bilinear)
    return record
