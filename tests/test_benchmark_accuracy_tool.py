"""mmresize.benchmark (behind tools/benchmark_accuracy.py and
tools/summarize_accuracy.py): the paired matrix is queued seed by seed and
resumes, the EMA and raw weights are what their metrics say, and results on
disk become paired gains with t-intervals and verdicts computed as by
hand."""
import functools
import itertools
import json
import math
import os
import os.path as osp
import threading
import time

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmresize.benchmark import matrix, measure, provenance, report
from mmresize.evaluation.paired import mean_std, paired_gain, t_interval, verdict
from tests import real_data
from tests.data_factory import make_voc_segmentation
from tests.tiny_runner import tiny_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Student's t quantiles (two-sided 95%), from tables
T_975 = {1: 12.7062047, 2: 4.30265273, 4: 2.77644511}


def test_t_interval_by_hand():
    gains = [0.5, 1.0, 1.2]
    mean, sd = 0.9, math.sqrt(((0.4**2) + (0.1**2) + (0.3**2)) / 2)
    interval = t_interval(gains)
    half = T_975[2] * sd / math.sqrt(3)
    assert interval['low'] == pytest.approx(mean - half, abs=1e-6)
    assert interval['high'] == pytest.approx(mean + half, abs=1e-6)
    assert verdict(interval) == 'better'  # 0.9 - 0.895 > 0
    assert verdict(t_interval([-1.0, -2.0, -1.5])) == 'worse'
    assert verdict(t_interval([-1.0, 1.0, 0.2])) == 'no difference'
    assert verdict(t_interval([3.0])) == 'n/a (fewer than 2 paired seeds)'
    assert mean_std([]) == dict(mean=None, std=None)
    empty = paired_gain({0: 1.0}, {1: 1.0})
    assert empty['seeds'] == [] and empty['mean'] is None
    gain = paired_gain({0: 2.0, 1: 3.0, 7: 9.0}, {0: 1.0, 1: 1.0, 2: 5.0})
    assert gain['seeds'] == [0, 1] and gain['gains'] == [1.0, 2.0]
    assert gain['interval']['half_width'] == pytest.approx(
        T_975[1] * math.sqrt(0.5) / math.sqrt(2), abs=1e-6)


def write_result(work, variant, seed, mAP, platelets, raw_mAP=None,
                 load=1.0, **fields):
    """A result.json as the matrix writes it (current names: naming 2);
    ``fields`` override or add record fields."""
    out = osp.join(work, 'bccd_0.3x_50it', variant, f'seed{seed}')
    os.makedirs(out, exist_ok=True)

    def metrics(value):
        return {'pascal_voc/mAP': value, 'pascal_voc/AP.Platelets': platelets}

    with open(osp.join(out, 'result.json'), 'w') as f:
        json.dump(dict(task='bccd', variant=variant, seed=seed, factor=0.3,
                       iters=50, train_seconds=10.0 + seed / 2,
                       resizer_share=0.1, metrics=metrics(mAP),
                       metrics_raw=metrics(raw_mAP or mAP), drift=seed,
                       host=dict(cpus=2, threads=1, parallel_runs=2,
                                 loadavg_at_end=[load, load, load]),
                       naming=2, **fields), f)


def test_runs_on_disk_are_summarised_with_paired_intervals(tmp_path):
    for seed, (base, learned) in enumerate([(0.40, 0.43), (0.50, 0.525),
                                            (0.45, 0.47)]):
        write_result(tmp_path, 'bilinear', seed, base, 10.0 * (seed + 1))
        write_result(tmp_path, 'DownsizeNet', seed, learned, 20.0,
                     raw_mAP=base - 0.01, load=3.5 if seed == 2 else 2.0)
    folder = osp.join(str(tmp_path), 'bccd_0.3x_50it')
    results = report.load_results(folder)
    assert [(r['variant'], r['seed']) for r in results] == [
        ('bilinear', 0), ('bilinear', 1), ('bilinear', 2),
        ('DownsizeNet', 0), ('DownsizeNet', 1), ('DownsizeNet', 2)]
    summary = report.summarise(results, 'bccd')
    # mAP fractions are shown as percent; per-class AP is percent already
    assert summary['bilinear']['metric']['mean'] == pytest.approx(45.0)
    assert summary['bilinear']['metric']['std'] == pytest.approx(5.0)
    assert summary['bilinear']['thin']['Platelets']['mean'] == 20.0
    gain = summary['DownsizeNet']['gain']
    assert gain['gains'] == pytest.approx([3.0, 2.5, 2.0])
    half = T_975[2] * 0.5 / math.sqrt(3)
    assert gain['interval']['low'] == pytest.approx(2.5 - half)
    assert gain['verdict'] == 'better'
    assert summary['DownsizeNet']['gain_raw']['verdict'] == 'worse'
    assert summary['DownsizeNet']['shared_cpu_seeds'] == [2]
    table = report.write_summary(folder)
    assert (f'| DownsizeNet | 3 | 47.50 ± 4.77 | +2.50 [{2.5 - half:+.2f}, '
            f'{2.5 + half:+.2f}] | better | -1.00 [-1.00, -1.00] | worse | '
            '20.0 | 10 | 10.0% | 1.00 | 2 |') in table
    for name in ('summary.md', 'summary.json', 'gain_vs_overhead.png'):
        assert osp.getsize(osp.join(folder, name)) > 100


def test_summary_without_paired_seeds_or_per_class_scores(tmp_path):
    """A variant whose seeds bilinear lacks, and a run without per-class
    scores, give '-' cells and an n/a verdict, not a crash; the table lists
    the runs' code commits ('not recorded' for runs that had none)."""
    write_result(tmp_path, 'bilinear', 0, 0.40, 10.0)
    write_result(tmp_path, 'area', 5, 0.30, 10.0)
    folder = osp.join(str(tmp_path), 'bccd_0.3x_50it')
    path = osp.join(folder, 'area', 'seed5', 'result.json')
    with open(path) as f:
        run = json.load(f)
    del run['metrics']['pascal_voc/AP.Platelets']
    run['code'] = 'abc123'
    with open(path, 'w') as f:
        json.dump(run, f)
    summary = report.summarise(report.load_results(folder),
                                     'bccd')
    assert summary['area']['gain']['seeds'] == []
    assert summary['area']['gain']['mean'] is None
    assert summary['area']['thin']['Platelets'] == dict(mean=None, std=None)
    table = report.write_summary(folder)
    assert ('| area | 1 | 30.00 ± 0.00 |  | n/a (fewer than 2 paired seeds) '
            '|  | n/a (fewer than 2 paired seeds) | - | 12 |') in table
    assert 'Code (git commit) of these runs: abc123, not recorded' in table


def test_code_version_names_this_checkout():
    import subprocess
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT,
                          capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip('not a git checkout: code_version returns None')
    assert provenance.code_version().split('+')[0] == head.stdout.strip()


def test_queue_is_seed_major_and_skips_finished_runs(tmp_path):
    work = str(tmp_path)
    done = matrix.run_dir(work, 'camvid', 0.3, 1000, 'bilinear', 0)
    os.makedirs(done)
    open(osp.join(done, 'result.json'), 'w').write('{}')
    specs = matrix.pending_runs(work, ['camvid', 'bccd'], 0.3, None,
                              ['bilinear', 'area'], [0, 1])
    assert [(s['seed'], s['task'], s['variant'], s['iters'])
            for s in specs] == [
        (0, 'camvid', 'area', 1000), (0, 'bccd', 'bilinear', 600),
        (0, 'bccd', 'area', 600), (1, 'camvid', 'bilinear', 1000),
        (1, 'camvid', 'area', 1000), (1, 'bccd', 'bilinear', 600),
        (1, 'bccd', 'area', 600)]


def test_ema_and_raw_evaluations_use_those_weights(tmp_path):
    """The test loop sees the EMA weights, then the raw final weights (a
    plain runner.test() would rebuild the average from the raw ones)."""
    cfg = tiny_config(
        osp.join(ROOT, 'configs', 'fcn',
                 'fcn_r50-d8_voc12aug_512x512_0.3x_downsize.py'),
        str(make_voc_segmentation(tmp_path)), tmp_path / 'work', iters=3)
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.5,
                             update_buffers=True, priority=49)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    ema = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook')
    key = 'backbone.stem.0.weight'
    averaged = dict(ema.ema_model.module.named_parameters())[key].clone()
    raw = dict(runner.model.named_parameters())[key].detach().clone()
    assert not torch.equal(averaged, raw)
    seen = []
    runner.model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(
            module.stem[0].weight.detach().clone()))
    measure.evaluate(runner, ema=True)
    assert torch.equal(seen[-1], averaged)
    measure.evaluate(runner, ema=False)
    assert torch.equal(seen[-1], raw)
    assert torch.equal(dict(runner.model.named_parameters())[key], raw)


def test_lr10_variant_multiplies_only_the_resizer_lr(tmp_path):
    cfg = matrix.build_cfg('camvid', 'DownsizeNet-nearbil-lr10', 0, 0.3, 10,
                         str(tmp_path))
    init_default_scope(cfg.default_scope)
    from mmseg.registry import MODELS

    import mmresize.seg  # noqa: F401 (registers the preprocessor)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    resizer = {id(p) for p in model.data_preprocessor.resizer.parameters()}
    lrs = {True: set(), False: set()}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lrs[id(p) in resizer].add(group['lr'])
    assert lrs[True] == {10 * base_lr}
    assert lrs[False] == {base_lr}


def test_drift_from_bilinear_on_real_images(tmp_path, monkeypatch):
    real_data.require('camvid')
    monkeypatch.setenv('MMRESIZE_DATA', real_data.data_root())
    from mmresize.resizers import DownsizeNet
    start = DownsizeNet(init='near_bilinear')  # 'DownsizeNet-nearbil'
    checkpoint = str(tmp_path / 'start.pth')
    torch.save({'state_dict': {f'data_preprocessor.resizer.{k}': v
                               for k, v in start.state_dict().items()}},
               checkpoint)
    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    drift = {}
    for variant, path in (('DownsizeNet-nearbil', checkpoint), ('area', empty),
                          ('bilinear', empty)):
        cfg = matrix.build_cfg('camvid', variant, 0, 0.3, 10, str(tmp_path))
        drift[variant] = measure.resizer_drift(cfg, path, images=2)
    assert drift['bilinear'] == 0
    # near-bilinear start: eps times the distance of the neighbour mean
    assert 0 < drift['DownsizeNet-nearbil'] < start.init_eps * 255
    assert drift['area'] > 0.5  # area averaging differs from bilinear


def test_results_kept_in_the_repository_resume_the_matrix(tmp_path):
    work, kept = str(tmp_path / 'work'), str(tmp_path / 'kept')
    spec = matrix.pending_runs(work, ['bccd'], 0.3, 50, ['bilinear'], [3],
                             kept)[0]
    os.makedirs(spec['out'])
    for name in ('result.json', 'log.txt'):
        open(osp.join(spec['out'], name), 'w').write('{}')
    matrix.keep_result(spec, work, kept)
    copy = matrix.run_dir(kept, 'bccd', 0.3, 50, 'bilinear', 3)
    assert sorted(os.listdir(copy)) == ['log.txt', 'result.json']
    # a fresh work dir (another machine, a later session) skips the run
    assert matrix.pending_runs(str(tmp_path / 'fresh'), ['bccd'], 0.3, 50,
                             ['bilinear'], [3], kept) == []


def test_cfg_options_are_merged_last_and_travel_with_the_spec(tmp_path):
    options = {'train_dataloader.dataset.img_suffix': '.jpg',
               'env_cfg.cudnn_benchmark': False}
    cfg = matrix.build_cfg('camvid', 'DownsizeNet', 3, 0.3, 10, str(tmp_path),
                         options)
    assert cfg.train_dataloader.dataset.img_suffix == '.jpg'
    assert cfg.env_cfg.cudnn_benchmark is False
    assert cfg.randomness == dict(seed=3)  # the tool's own settings stay
    # merged after the tool's settings: an option on the same key wins
    cfg = matrix.build_cfg('camvid', 'DownsizeNet', 3, 0.3, 10, str(tmp_path),
                         {'randomness.seed': 7,
                          'model.data_preprocessor.target_scale': 0.5})
    assert cfg.randomness.seed == 7
    assert cfg.model.data_preprocessor.target_scale == 0.5
    assert cfg.model.data_preprocessor.resizer.type == 'mmresize.DownsizeNet'
    spec = matrix.pending_runs(str(tmp_path), ['camvid'], 0.3, 10,
                             ['bilinear'], [0], cfg_options=options)[0]
    assert spec['cfg_options'] == options
    assert json.loads(json.dumps(spec)) == spec  # passed to the child as JSON


def fake_runs(monkeypatch, durations):
    """``run_matrix`` on a fake clock: sleeping advances it, and each run
    launched ends (failing: it has no result to read) after the next of
    ``durations`` seconds. Returns the launches [(seed, start)], the clock
    [now] and six specs."""
    launched, now, lengths = [], [0.0], iter(durations)

    class Run:
        def __init__(self, ends):
            self.ends, self.returncode = ends, 1

        def poll(self):
            return 1 if now[0] >= self.ends else None

    def launch(spec, threads):
        launched.append((spec['seed'], now[0]))
        return Run(now[0] + next(lengths))

    monkeypatch.setattr(matrix, 'launch', launch)
    monkeypatch.setattr(matrix.time, 'sleep',
                        lambda seconds: now.__setitem__(0, now[0] + seconds))
    monkeypatch.setattr(matrix.time, 'monotonic', lambda: now[0])
    specs = [dict(task='camvid', variant='bilinear', seed=s, factor=0.3,
                  iters=10, out=f'/nonexistent/{s}') for s in range(6)]
    return launched, now, specs


def test_runs_start_only_if_expected_to_end_inside_the_window(monkeypatch):
    """Before any run ends, a run is expected to take ``run_seconds``;
    after, as long as the slowest finished one."""
    launched, now, specs = fake_runs(monkeypatch,
                                     itertools.repeat(30))
    failed = matrix.run_matrix(specs, jobs=2, window=100, run_seconds=10)
    # seeds 0-1 at 0 s, 2-3 when they end (30 s), 4-5 at 60 s: the slowest
    # took 30 s, so 60 + 30 <= 100 still fits
    assert [s for s, _ in launched] == [0, 1, 2, 3, 4, 5]
    assert len(failed) == 6
    for window, run_seconds, seeds in (
            (70, 10, [0, 1, 2, 3]),  # at 60 s: 60 + 30 > 70, not started
            (5, 10, []),  # not even the first: 10 s > 5 s
            (None, 0, [0, 1, 2, 3, 4, 5]),  # no window: all of them
            # a pessimistic guess gives way once a run has finished:
            # guessed 80 s, runs take 30, the second round starts at 30 s
            (100, 80, [0, 1, 2, 3, 4, 5])):
        launched.clear()
        now[0] = 0.0
        matrix.run_matrix(specs, jobs=2, window=window,
                        run_seconds=run_seconds)
        assert [s for s, _ in launched] == seeds, (window, run_seconds)


def test_the_slowest_finished_run_sets_the_expectation(monkeypatch):
    """Runs of 20 s and 40 s: after both have finished a run is expected to
    take 40 s, not the latest or the mean."""
    launched, _, specs = fake_runs(monkeypatch, [20, 40] * 3)
    matrix.run_matrix(specs, jobs=2, window=85, run_seconds=1)
    # 0 s: seeds 0 (20 s) and 1 (40 s); 20 s: seed 2 (expected 20); 40 s:
    # seeds 1 and 2 end, expected 40: seeds 3 and 4 (40 + 40 <= 85); 60 s:
    # a slot frees, 60 + 40 > 85: seed 5 is left (the latest run, 20 s, or
    # the mean, 25 s, would have started it)
    starts = dict(launched)
    assert starts[0] == starts[1] == 0 and starts[2] == 20
    assert 5 not in starts and max(starts.values()) <= 45


def test_code_version_of_a_copy_comes_from_its_bundle(monkeypatch):
    def no_git(*args, **kwargs):
        raise OSError('git: not found')

    monkeypatch.setattr(provenance.subprocess, 'run', no_git)
    monkeypatch.delenv('MMRESIZE_CODE_VERSION', raising=False)
    assert provenance.code_version() is None
    monkeypatch.setenv('MMRESIZE_CODE_VERSION', 'abc123+dirty')
    assert provenance.code_version() == 'abc123+dirty'
    monkeypatch.undo()
    # inside a checkout too: a copy's git metadata need not be its tree's
    monkeypatch.setenv('MMRESIZE_CODE_VERSION', 'abc123')
    assert provenance.code_version() == 'abc123'


CPUINFO = """processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
flags		: fpu sse
processor	: 1
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
"""


def test_host_record_names_the_gpu_else_the_cpu(monkeypatch, tmp_path):
    """The device is the first GPU's name where CUDA is there, else the
    ``model name`` of /proc/cpuinfo, else platform.processor()."""
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(CPUINFO)
    monkeypatch.setattr(provenance, 'CPUINFO', str(cpuinfo))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    host = provenance.host_record(jobs=3)
    assert host['device'] == 'Intel(R) Xeon(R) Test CPU @ 2.00GHz'
    assert host['parallel_runs'] == 3 and host['cpus'] == os.cpu_count()
    assert host['threads'] == torch.get_num_threads()
    assert len(host['loadavg_at_end']) == 3
    asked = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_device_name',
                        lambda index: asked.append(index) or 'Test GPU 80GB')
    assert provenance.host_record(jobs=1)['device'] == 'Test GPU 80GB'
    assert asked == [0]
    # no model name line (e.g. ARM), or no /proc/cpuinfo at all
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(provenance.platform, 'processor', lambda: 'aarch64')
    cpuinfo.write_text('processor\t: 0\nBogoMIPS\t: 50.00\n')
    assert provenance.device_name() == 'aarch64'
    monkeypatch.setattr(provenance, 'CPUINFO', str(tmp_path / 'missing'))
    monkeypatch.setattr(provenance.platform, 'processor', lambda: '')
    assert provenance.device_name() == 'unknown CPU'


def test_load_is_sampled_through_training_not_only_at_its_end():
    """The sampler reads the 1-minute load at the start and the end on the
    caller's thread, every interval on its own, and stops its thread on the
    way out, an exception included; host_record carries what it read."""
    readings = itertools.chain([1.0, 2.5, 3.75], itertools.repeat(4.0))
    threads = []

    def loadavg():
        threads.append(threading.current_thread())
        return next(readings), 0.0, 0.0

    sampler = provenance.LoadSampler(interval=0.02, loadavg=loadavg)
    with sampler:
        deadline = time.monotonic() + 10
        while len(sampler.samples) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # start + two on the thread
    assert sampler.samples[:3] == [1.0, 2.5, 3.75]
    main = threading.current_thread()
    assert threads[0] is main and threads[-1] is main  # start, end
    assert threads[1] is not main  # the sampling thread
    assert not sampler._thread.is_alive()
    taken = len(sampler.samples)
    time.sleep(0.1)  # five intervals: nothing samples any more
    assert len(sampler.samples) == taken
    host = provenance.host_record(jobs=2, load=sampler)
    assert host['loadavg_1min'] == dict(interval_s=0.02,
                                        samples=sampler.samples)
    json.dumps(host)
    with pytest.raises(RuntimeError, match='training failed'):
        with sampler:
            raise RuntimeError('training failed')
    assert not sampler._thread.is_alive()
    assert len(sampler.samples) >= taken + 2  # its start and end

    def unreadable():
        raise OSError('no load average here')
    with provenance.LoadSampler(interval=0.02, loadavg=unreadable) as quiet:
        time.sleep(0.05)
    assert quiet.samples == []  # skipped, not raised
    with pytest.raises(ValueError, match='interval must be > 0'):
        provenance.LoadSampler(interval=0)


def test_run_one_samples_the_load_while_training(tmp_path, monkeypatch):
    """run_one's result.json carries the load sampled around and during
    ``runner.train()`` (the runner and the measurements are stand-ins)."""
    phase = ['before']
    loads = dict(before=1.0, training=5.0, after=2.0)

    class Runner:
        def train(self):
            phase[0] = 'training'
            time.sleep(0.1)  # five sampling intervals
            phase[0] = 'after'

    from mmengine import runner as mmengine_runner

    from mmresize.benchmark import measure
    monkeypatch.setattr(mmengine_runner.Runner, 'from_cfg',
                        staticmethod(lambda cfg: Runner()))
    monkeypatch.setattr(matrix, 'build_cfg', lambda *args: None)
    monkeypatch.setattr(matrix, 'LoadSampler', functools.partial(
        provenance.LoadSampler, interval=0.02,
        loadavg=lambda: (loads[phase[0]], 0.0, 0.0)))
    monkeypatch.setattr(measure, 'evaluate', lambda runner, ema: {})
    monkeypatch.setattr(measure, 'step_share', lambda runner: 0.0)
    monkeypatch.setattr(measure, 'resizer_drift', lambda cfg, path: 0.0)
    monkeypatch.setattr(measure, 'inference_record', lambda runner: {})
    matrix.run_one('camvid', 'bilinear', 0, 0.3, 10, str(tmp_path), jobs=2)
    with open(tmp_path / 'result.json') as f:
        host = json.load(f)['host']
    samples = host['loadavg_1min']['samples']
    assert samples[0] == 1.0 and samples[-1] == 2.0
    assert samples[1:-1] and set(samples[1:-1]) <= {5.0, 2.0}
    assert 5.0 in samples
    assert host['parallel_runs'] == 2


@pytest.mark.parametrize('samples, shared', [
    # the first sample (the minute before training) is left out
    ([9.0] + [2.0] * 18 + [3.5] * 2, True),   # above cores + 1 in 2 of 20
    ([9.0] + [2.0] * 19 + [3.5] * 2, False),  # 2 of 21: under a tenth
    ([9.0] + [2.0] * 27 + [3.5] * 3, True),   # 3 of 30: exactly a tenth
    ([9.0] + [2.0] * 4 + [3.5], False),       # one spike of 5: not sharing
    ([9.0] + [2.0] * 3 + [3.5] * 2, True),    # two of 5
    ([9.0] + [3.0] * 10, False),              # at cores + 1, not above
    ([], None),                   # nothing sampled: the load at the end
    ([9.0], None),                # only the start: the load at the end
])
def test_shared_cpu_reads_the_load_through_training(samples, shared):
    host = dict(cpus=2, loadavg_at_end=[1.0, 3.5, 1.0],
                loadavg_1min=dict(interval_s=30.0, samples=samples))
    # the load at the end (3.5 over 5 minutes) decides only without samples
    assert report.shared_cpu(dict(host=host)) is (
        True if shared is None else shared)
    del host['loadavg_1min']  # records from before the sampling
    assert report.shared_cpu(dict(host=host)) is True
    host['loadavg_at_end'] = [9.0, 2.5, 9.0]
    assert report.shared_cpu(dict(host=host)) is False
    assert report.shared_cpu({}) is False


def test_finished_runs_of_other_options_are_not_reused(tmp_path):
    work = str(tmp_path)
    done = matrix.run_dir(work, 'camvid', 0.3, 10, 'bilinear', 0)
    os.makedirs(done)
    with open(osp.join(done, 'result.json'), 'w') as f:
        json.dump(dict(cfg_options={'env_cfg.cudnn_benchmark': False}), f)
    same = {'env_cfg.cudnn_benchmark': False}
    assert matrix.pending_runs(work, ['camvid'], 0.3, 10, ['bilinear'], [0],
                             cfg_options=same) == []
    with pytest.raises(SystemExit, match='must not be paired'):
        matrix.pending_runs(work, ['camvid'], 0.3, 10, ['bilinear'], [0])
    with pytest.raises(SystemExit, match='img_suffix'):
        matrix.pending_runs(work, ['camvid'], 0.3, 10, ['bilinear'], [0],
                          cfg_options={'train_dataloader.dataset.img_suffix':
                                       '.jpg'})


def test_compact_table_is_the_summary_in_short(tmp_path):
    for seed, (base, ours) in enumerate([(0.50, 0.60), (0.52, 0.64),
                                         (0.48, 0.56)]):
        write_result(str(tmp_path), 'bilinear', seed, base, 10.0)
        write_result(str(tmp_path), 'DownsizeNet', seed, ours, 12.0)
    folder = str(tmp_path / 'bccd_0.3x_50it')
    summary = report.summarise(report.load_results(folder), 'bccd')
    table = report.compact(summary, 'bccd').splitlines()
    gain = summary['DownsizeNet']['gain']['interval']
    assert table[0].startswith('| resizer | seeds | mAP (EMA)')
    # write_result records drift = seed: mean 1.00
    assert table[2] == '| bilinear | 3 | 50.00 ± 2.00 |  |  | 10.0% | 1.00 |'
    assert table[3].startswith(
        f'| DownsizeNet | 3 | 60.00 ± 4.00 | +10.00 [{gain["low"]:+.2f}, '
        f'{gain["high"]:+.2f}] (0-2) | better |')


def test_kept_results_do_not_make_the_code_dirty():
    """Results kept under configs/benchmarks/results are data: a matrix that
    keeps them as it goes must not record its later runs as other code
    (the report refuses to pair runs of different code)."""
    if provenance.code_version() is None:
        pytest.skip('not a git checkout: code_version returns None')
    before = provenance.code_version()
    kept = osp.join(ROOT, 'configs', 'benchmarks', 'results',
                    'test_kept_result.json')
    code = osp.join(ROOT, 'configs', 'test_code_change.py')
    try:
        with open(kept, 'w') as f:
            f.write('{}')
        assert provenance.code_version() == before
        with open(code, 'w') as f:
            f.write('x = 1\n')
        assert provenance.code_version() == before.split('+')[0] + '+dirty'
    finally:
        for path in (kept, code):
            if osp.exists(path):
                os.remove(path)
