"""The paired, resumable matrix: what a resizer buys and costs on real
images.

For a task and a downsizing factor, every resizer variant is trained on
every seed with the same schedule and pipeline. Runs with the same seed are
truly paired: the task model starts from the same weights and sees the same
data order (the resizer is built on its own random stream). Each run is one
subprocess (``python -m mmresize.benchmark.matrix SPEC``) and is saved as it
finishes (``WORK/TASK_FACTORx_ITERSit/VARIANT/seedN/result.json``: metrics
of the EMA weights and of the raw final weights, per-class scores, training
time, the resizer's share of a training step, its distance from bilinear,
the inference cost (multiply-adds with the resizer included, latency
against a bilinear twin), the host, the code version, the config options,
the resizer config and the naming scheme of the variant names), so an
interrupted matrix resumes where it stopped.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Callable, Iterable, List, Optional

from mmresize.benchmark.provenance import (
    ROOT,
    LoadSampler,
    code_version,
    host_record,
)
from mmresize.catalogue import (
    NAMING,
    TASKS,
    TRAINING_VARIANTS,
    resizer_config,
    warping_model_type,
)


def matrix_dir(work: str, task: str, factor: float, iters: int) -> str:
    """One folder per (task, factor, schedule): its runs are comparable."""
    return osp.join(work, f'{task}_{factor}x_{iters}it')


def run_dir(work: str, task: str, factor: float, iters: int, variant: str,
            seed: int) -> str:
    """The folder of one run: ``matrix_dir/VARIANT/seedN``."""
    return osp.join(matrix_dir(work, task, factor, iters), variant,
                    f'seed{seed}')


def build_cfg(task: str, variant: str, seed: int, factor: float, iters: int,
              out: str, cfg_options: Optional[dict] = None,
              resizer: Optional[dict] = None):
    """The task's config with the variant's resizer (``resizer``, a resizer
    config, where the variant is not one of the catalogue's), the seed, the
    factor and the schedule; ``cfg_options`` (``--cfg-options``) merged
    last."""
    from mmengine.config import Config

    from mmresize.engine.schedules import set_iterations
    cfg = Config.fromfile(osp.join(ROOT, TASKS[task]['config']))
    cfg.model.data_preprocessor.resizer = dict(resizer) if resizer \
        else resizer_config(variant)
    cfg.model.type = warping_model_type(cfg.model.type,
                                        cfg.model.data_preprocessor.resizer)
    cfg.merge_from_dict(TRAINING_VARIANTS.get(variant, (None, {}))[1])
    cfg.model.data_preprocessor.target_scale = factor
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = out
    set_iterations(cfg, iters)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def resizer_record(variant: str, resizer: Optional[dict] = None) -> dict:
    """The resizer a variant runs, as recorded: ``{type, args}``."""
    config = dict(resizer) if resizer else resizer_config(variant)
    return dict(type=config.pop('type'), args=config)


def run_one(task: str, variant: str, seed: int, factor: float, iters: int,
            out: str, jobs: int = 1, cfg_options: Optional[dict] = None,
            resizer: Optional[dict] = None) -> dict:
    """Train and test one variant; returns (and saves as
    ``out/result.json``) its result. ``jobs``: how many runs the matrix ran
    at once (recorded with the host); ``cfg_options``: config overrides
    (recorded with the result); ``resizer``: the resizer config of a
    variant the catalogue does not have (a transferred resizer, recorded
    as ``resizer``)."""
    from mmengine.runner import Runner

    from mmresize.benchmark.measure import (
        evaluate,
        inference_record,
        resizer_drift,
        step_share,
    )
    from mmresize.benchmark.timing import timed
    from mmresize.engine.cpu_nms import route_nms_to_cpu
    from mmresize.resizers.checkpoint import trust_local_checkpoints
    from mmresize.trust import trust_dir
    trust_local_checkpoints()
    trust_dir(out)  # this run's own checkpoints (resizer_drift reads one)
    nms_on_cpu = route_nms_to_cpu()  # GPU run, mmcv without CUDA ops
    code = code_version()  # before training: the code that runs
    cfg = build_cfg(task, variant, seed, factor, iters, out, cfg_options,
                    resizer)
    runner = Runner.from_cfg(cfg)
    with LoadSampler() as load:
        _, train_s = timed(runner.train)
    host = host_record(jobs, load)
    if nms_on_cpu:
        host['mmcv_ops'] = 'CPU only: nms routed to the CPU'
    metrics = evaluate(runner, ema=True)
    raw = evaluate(runner, ema=False)
    result = dict(
        task=task, variant=variant, naming=NAMING,
        resizer=resizer_record(variant, resizer), seed=seed, factor=factor,
        iters=iters, train_seconds=train_s, resizer_share=step_share(runner),
        metrics=metrics, metrics_raw=raw,
        drift=resizer_drift(cfg, osp.join(out, f'iter_{iters}.pth')),
        inference=inference_record(runner), host=host, code=code,
        cfg_options=cfg_options or {})
    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def launch(spec: dict, threads: int) -> subprocess.Popen:
    """Start one run (``spec``: ``run_one``'s arguments) as a subprocess
    with ``threads`` threads, writing its log next to its result."""
    os.makedirs(spec['out'], exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    log = open(osp.join(spec['out'], 'log.txt'), 'w')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'mmresize.benchmark.matrix', json.dumps(spec)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    return proc


def check_finished_run(result_path: str, variant: str,
                       cfg_options: dict) -> None:
    """A finished run is reused only if it is the variant asked for (its
    name translated from the naming it was written under) and ran with the
    same ``--cfg-options`` (none recorded: none given); else runs of two
    set-ups would be paired as one."""
    from mmresize.benchmark.report import read_result
    record = read_result(result_path)
    if 'variant' in record and record['variant'] != variant:
        raise SystemExit(
            f'{result_path} is a run of {record["variant"]} (written under '
            f'the naming before "naming": 2), not of {variant}: move its '
            f'variant folders to their current names '
            '(mmresize.catalogue.LEGACY_NAMES) or give this matrix its own '
            '--work-dir and --results-dir.')
    recorded = record.get('cfg_options') or {}
    if recorded != cfg_options:
        raise SystemExit(
            f'{result_path} ran with --cfg-options {recorded}, this matrix '
            f'asks for {cfg_options}: runs of two set-ups must not be paired. '
            'Give this matrix its own --work-dir and --results-dir.')


def pending_runs(work: str, tasks: Iterable[str], factor: float,
                 iters: Optional[int], variants: Iterable[str],
                 seeds: Iterable[int], results: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> List[dict]:
    """Specs of the runs without a result.json (in ``work``, or in
    ``results`` where finished runs are kept), seed-major (then task, then
    variant), so that a stopped matrix has whole seeds. ``iters`` None:
    each task's default. Folders do not name ``cfg_options``: runs with
    other options need another ``work``/``results`` folder."""
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
                    check_finished_run(path, variant, options)
                if not found:
                    specs.append(dict(task=task, variant=variant, seed=seed,
                                      factor=factor, iters=n_iters, out=out,
                                      cfg_options=options))
    return specs


def keep_result(spec: dict, work: str, results: str) -> None:
    """Copy a finished run's result.json (and log) into ``results``."""
    kept = osp.join(results, osp.relpath(spec['out'], work))
    os.makedirs(kept, exist_ok=True)
    for name in ('result.json', 'log.txt'):
        shutil.copyfile(osp.join(spec['out'], name), osp.join(kept, name))


def run_matrix(specs: List[dict], jobs: int = 1,
               on_done: Optional[Callable[[dict], None]] = None,
               window: Optional[float] = None,
               run_seconds: float = 0.0) -> List[dict]:
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
            running.append((spec, launch(dict(spec, jobs=jobs), threads),
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


if __name__ == '__main__':  # a run's child process: one run, isolated
    run_one(**json.loads(sys.argv[1]))
