"""What a resizer buys and costs on real images: the paired, resumable matrix.

For a task and a downsizing factor, trains every resizer variant on every
seed with the same schedule and pipeline. Runs with the same seed are truly
paired: the task model starts from the same weights and sees the same data
order (the resizer is built on its own random stream). Each run is one
subprocess and is saved as it finishes
(``WORK/TASK_FACTORx_ITERSit/VARIANT/seedN/result.json``: metrics of the EMA
weights and of the raw final weights, per-class scores, training time, the
resizer's share of a training step, its distance from bilinear, the CPU load
at the end), so an interrupted matrix resumes where it stopped. At the end
``tools/summarize_accuracy.py`` writes the tables and plot from every run in
the folder.

    python tools/benchmark_accuracy.py --task camvid --factor 0.3 \\
        --seeds 0 1 2 3 4 [--variants ...] [--iters N] [--jobs 2] [--quick]

Data: $MMRESIZE_DATA/{camvid,bccd} (default ../shared/data). On a GPU the
runs use it (mmengine's choice); several runs can share one GPU
(``--jobs``). ``tools/gpu_matrix.sh`` runs a matrix on an offline GPU
machine within a fixed time window.
"""
import argparse
import json
import os
import os.path as osp
import platform
import shutil
import statistics
import subprocess
import sys
import time
from typing import Callable, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmengine.config import DictAction  # noqa: E402

from mmresize.catalogue import (  # noqa: E402
    ALL_VARIANTS,
    MAIN_VARIANTS,
    TASKS,
    TRAINING_VARIANTS,
    resizer_config,
)


def matrix_dir(work: str, task: str, factor: float, iters: int) -> str:
    """One folder per (task, factor, schedule): its runs are comparable."""
    return osp.join(work, f'{task}_{factor}x_{iters}it')


def run_dir(work: str, task: str, factor: float, iters: int, variant: str,
            seed: int) -> str:
    return osp.join(matrix_dir(work, task, factor, iters), variant,
                    f'seed{seed}')


def build_cfg(task: str, variant: str, seed: int, factor: float, iters: int,
              out: str, cfg_options: Optional[dict] = None):
    """The task's config with the variant's resizer, the seed, the factor and
    the schedule; ``cfg_options`` (``--cfg-options``) merged last."""
    from mmengine.config import Config

    from mmresize.engine.schedules import set_iterations
    cfg = Config.fromfile(osp.join(ROOT, TASKS[task]['config']))
    cfg.model.data_preprocessor.resizer = resizer_config(variant)
    cfg.merge_from_dict(TRAINING_VARIANTS.get(variant, (None, {}))[1])
    cfg.model.data_preprocessor.target_scale = factor
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = out
    set_iterations(cfg, iters)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def resizer_drift(cfg, checkpoint: str, images: int = 4) -> float:
    """How far the trained resizer's output is from bilinear interpolation:
    mean |resizer - bilinear| over the first ``images`` test images, as the
    preprocessor hands them to the resizer, in 0-255 grey levels. Uses the
    checkpoint's ``state_dict`` (the EMA weights when EMAHook ran)."""
    import torch
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import Runner

    from mmresize.capture import resizer_calls
    from mmresize.engine.hooks import drift_from_bilinear
    from mmresize.resizers.checkpoint import load_local
    from mmresize.transfer import resizer_state_dict

    init_default_scope(cfg.default_scope)
    pre = MODELS.build(cfg.model.data_preprocessor)
    state = load_local(checkpoint, map_location='cpu')['state_dict']
    pre.resizer.load_state_dict(resizer_state_dict(state))
    pre.eval()
    loader = Runner.build_dataloader(
        dict(cfg.test_dataloader, batch_size=images, num_workers=0,
             persistent_workers=False))
    with torch.no_grad(), resizer_calls(pre.resizer) as calls:
        pre(next(iter(loader)), False)
        x, size = calls[0]
        return drift_from_bilinear(x, pre.resizer(x, size), pre.std)


def _sync() -> None:
    """Wait for the GPU's queued work, so that wall-clock times are true."""
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def step_share(runner, batches: int = 3) -> float:
    """Median time of the resizer's forward+backward over the median time
    of a whole training step, on the resizer's real inputs."""
    from mmresize.capture import resizer_calls
    model = runner.model
    loader_cfg = dict(runner.cfg.train_dataloader, num_workers=0,
                      persistent_workers=False)
    loader = iter(runner.build_dataloader(loader_cfg))
    resizer = model.data_preprocessor.resizer
    step_times, resizer_times = [], []
    for _ in range(batches):
        batch = next(loader)
        _sync()
        start = time.perf_counter()
        with resizer_calls(resizer) as calls:
            model.train_step(batch, runner.optim_wrapper)
        _sync()
        step_times.append(time.perf_counter() - start)
        x, size = calls[0]
        start = time.perf_counter()
        out = resizer(x, size)
        if out.requires_grad:
            out.sum().backward()
        _sync()
        resizer_times.append(time.perf_counter() - start)
    runner.optim_wrapper.zero_grad()
    return statistics.median(resizer_times) / statistics.median(step_times)


def evaluate(runner, ema: bool) -> dict:
    """Test the trained model, with the EMA weights or the raw final ones.

    Runs the test loop directly: ``runner.test()`` would call every hook's
    ``before_run``, and ``EMAHook.before_run`` rebuilds its average from
    the current (raw) weights, losing it. ``EMAHook`` swaps the averaged
    weights in around the test epoch; for the raw weights it is left out of
    this one loop.
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


def code_version() -> Optional[str]:
    """The git commit the run's code came from (``+dirty`` when the package,
    tools or configs differ from it), or None outside a git checkout.

    ``$MMRESIZE_CODE_VERSION``, where set, is returned instead: a copy sent
    to another machine says what it was made from (``tools/gpu_matrix.sh``
    sets it from the bundle's record), since the git metadata travelling
    with a copy need not be that of the copied tree.
    """
    if os.environ.get('MMRESIZE_CODE_VERSION'):
        return os.environ['MMRESIZE_CODE_VERSION']
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root,
                              capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--', 'mmresize', 'tools',
             'configs'],
            cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ('+dirty' if dirty.stdout.strip() else '')


def device_name() -> str:
    """What trained: the GPU's name, else the CPU's model name."""
    import torch
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def host_record(jobs: int) -> dict:
    """The machine a run trained on and how busy it was, for result.json."""
    import torch
    return dict(cpus=os.cpu_count(), threads=torch.get_num_threads(),
                parallel_runs=jobs, loadavg_at_end=list(os.getloadavg()),
                device=device_name())


def run_one(task: str, variant: str, seed: int, factor: float, iters: int,
            out: str, jobs: int = 1,
            cfg_options: Optional[dict] = None) -> dict:
    """Train and test one variant; returns (and saves) its result. ``jobs``:
    how many runs the matrix ran at once (recorded with the host);
    ``cfg_options``: config overrides (recorded with the result)."""
    from mmengine.runner import Runner

    from mmresize.engine.cpu_nms import route_nms_to_cpu
    from mmresize.resizers.checkpoint import trust_local_checkpoints
    trust_local_checkpoints()
    nms_on_cpu = route_nms_to_cpu()  # GPU run, mmcv without CUDA ops
    code = code_version()  # before training: the code that runs
    cfg = build_cfg(task, variant, seed, factor, iters, out, cfg_options)
    runner = Runner.from_cfg(cfg)
    _sync()
    start = time.perf_counter()
    runner.train()
    _sync()
    train_s = time.perf_counter() - start
    host = host_record(jobs)
    if nms_on_cpu:
        host['mmcv_ops'] = 'CPU only: nms routed to the CPU'
    metrics = evaluate(runner, ema=True)
    raw = evaluate(runner, ema=False)
    result = dict(
        task=task, variant=variant, seed=seed, factor=factor, iters=iters,
        train_seconds=train_s, resizer_share=step_share(runner),
        metrics=metrics, metrics_raw=raw,
        drift=resizer_drift(cfg, osp.join(out, f'iter_{iters}.pth')),
        host=host, code=code, cfg_options=cfg_options or {})
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def _launch(spec: dict, threads: int) -> subprocess.Popen:
    """Start one run as a subprocess writing its log next to its result."""
    os.makedirs(spec['out'], exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    log = open(osp.join(spec['out'], 'log.txt'), 'w')
    proc = subprocess.Popen(
        [sys.executable, __file__, '--run-one', json.dumps(spec)], cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    return proc


def pending_runs(work: str, tasks, factor: float, iters, variants,
                 seeds, results: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> list:
    """Specs of the runs without a result.json (in ``work``, or in
    ``results`` where finished runs are kept), seed-major (then task, then
    variant), so that a stopped matrix has whole seeds. Folders do not
    name ``cfg_options``: runs with other options need another
    ``work``/``results`` folder."""
    specs, options = [], cfg_options or {}
    for seed in seeds:
        for task in tasks:
            n_iters = iters or TASKS[task]['iters']
            for variant in variants:
                out = run_dir(work, task, factor, n_iters, variant, seed)
                kept = results and run_dir(results, task, factor, n_iters,
                                           variant, seed)
                found = [osp.join(d, 'result.json') for d in (out, kept)
                         if d and osp.isfile(osp.join(d, 'result.json'))]
                for path in found:
                    check_same_options(path, options)
                if not found:
                    specs.append(dict(task=task, variant=variant, seed=seed,
                                      factor=factor, iters=n_iters, out=out,
                                      cfg_options=options))
    return specs


def check_same_options(result_path: str, cfg_options: dict) -> None:
    """A finished run is reused only if it ran with the same
    ``--cfg-options`` (none recorded: none given); else runs of two set-ups
    would be paired as one."""
    with open(result_path) as f:
        recorded = json.load(f).get('cfg_options', {})
    if recorded != cfg_options:
        raise SystemExit(
            f'{result_path} ran with --cfg-options {recorded}, this matrix '
            f'asks for {cfg_options}: runs of two set-ups must not be paired. '
            'Give this matrix its own --work-dir and --results-dir.')


def keep_result(spec: dict, work: str, results: str) -> None:
    """Copy a finished run's result.json (and log) into ``results``."""
    kept = osp.join(results, osp.relpath(spec['out'], work))
    os.makedirs(kept, exist_ok=True)
    for name in ('result.json', 'log.txt'):
        shutil.copyfile(osp.join(spec['out'], name), osp.join(kept, name))


def run_matrix(specs: list, jobs: int = 1,
               on_done: Optional[Callable[[dict], None]] = None,
               window: Optional[float] = None,
               run_seconds: float = 0.0) -> list:
    """Run ``specs``, ``jobs`` at a time with cores // jobs threads each;
    ``on_done(spec)`` after each finished run.

    ``window``: seconds to finish in. A run starts only if it is expected to
    end inside it: as long as the slowest run finished so far took, or
    ``run_seconds`` before any has finished. The rest stay pending for the
    next call to resume.

    Returns the specs that failed (their logs say why); the others have
    their result.json, or were not started.
    """
    threads = max(1, (os.cpu_count() or 1) // jobs)
    queue, running, failed = list(specs), [], []
    started = time.monotonic()
    slowest = None  # the longest finished run so far
    while queue or running:
        now = time.monotonic()
        # decided when a slot is free: would the next run end in time?
        expected = run_seconds if slowest is None else slowest
        if (window is not None and queue and len(running) < jobs
                and now - started + expected > window):
            print(f'time window closing: {len(queue)} run(s) left for the '
                  'next call', flush=True)
            queue = []
        while queue and len(running) < jobs:
            spec = queue.pop(0)
            print(f'{spec["task"]} x{spec["factor"]} {spec["variant"]} seed '
                  f'{spec["seed"]}: training {spec["iters"]} iterations '
                  f'({len(queue)} queued)...', flush=True)
            running.append((spec, _launch(dict(spec, jobs=jobs), threads),
                            now))
        time.sleep(2)
        for spec, proc, launched in list(running):
            if proc.poll() is None:
                continue
            running.remove((spec, proc, launched))
            slowest = max(slowest or 0.0, time.monotonic() - launched)
            if proc.returncode != 0:
                failed.append(spec)
                print(f'FAILED ({proc.returncode}): see {spec["out"]}/log.txt',
                      flush=True)
                continue
            if on_done:
                on_done(spec)
            with open(osp.join(spec['out'], 'result.json')) as f:
                result = json.load(f)
            metric = TASKS[spec['task']]['metric']
            print(f'{spec["task"]} {spec["variant"]} seed {spec["seed"]}: '
                  f'{metric} {result["metrics"][metric]:.4f}, '
                  f'{result["train_seconds"]:.0f} s', flush=True)
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', nargs='+', choices=list(TASKS),
                        default=['camvid'],
                        help='one or more tasks; their runs interleave')
    parser.add_argument('--factor', type=float, default=0.3)
    parser.add_argument('--variants', nargs='+', default=MAIN_VARIANTS,
                        choices=ALL_VARIANTS)
    parser.add_argument('--seeds', nargs='+', type=int,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--iters', type=int,
                        help="iterations per run (default: each task's)")
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at once, each with cores // jobs threads '
                        '(2 on 2 cores: about 1.25x the throughput of 1; '
                        'then every run shares the CPU with another)')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_accuracy')
    parser.add_argument(
        '--results-dir',
        help='also keep each finished run\'s result.json (and log) here, '
        'e.g. configs/benchmarks/results/runs; runs with a result there are '
        'skipped, so a matrix resumes from results kept in the repository')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides for every run, key=value as in '
        'tools/train.py (recorded in each result.json); runs with other '
        'options belong in their own --work-dir/--results-dir')
    parser.add_argument(
        '--window', type=float, metavar='SECONDS',
        help='finish inside this many seconds: start a run only if it is '
        'expected to end in time (as long as the slowest finished run, or '
        '--run-seconds before any); the rest resume next time')
    parser.add_argument(
        '--run-seconds', type=float, default=0.0,
        help='expected length of one run before any has finished '
        '(with --window)')
    parser.add_argument('--quick', action='store_true',
                        help='sanity run: 2 variants, 1 seed, 20 iterations')
    parser.add_argument('--run-one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:  # child process: one run, isolated
        run_one(**json.loads(args.run_one))
        return
    if args.quick:
        args.variants, args.seeds, args.iters = ['bilinear', 'DownsizeNet'], [
            0], 20
        args.work_dir = osp.join(args.work_dir, 'quick')
    specs = pending_runs(args.work_dir, args.task, args.factor, args.iters,
                         args.variants, args.seeds, args.results_dir,
                         args.cfg_options)
    keep = None if not args.results_dir else (
        lambda spec: keep_result(spec, args.work_dir, args.results_dir))
    failed = run_matrix(specs, args.jobs, keep, args.window,
                        args.run_seconds)
    for task in args.task:
        folder = matrix_dir(args.results_dir or args.work_dir, task,
                            args.factor, args.iters or TASKS[task]['iters'])
        if osp.isdir(folder):
            subprocess.check_call([
                sys.executable,
                osp.join(ROOT, 'tools', 'summarize_accuracy.py'), folder])
    if failed:
        sys.exit(f'{len(failed)} run(s) failed; see their log.txt')


if __name__ == '__main__':
    main()
