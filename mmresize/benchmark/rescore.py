"""Score a segmentation matrix's trained runs again, from their checkpoints,
with the boundary-band mIoU (``mmresize.evaluation.trimap``) beside mIoU,
and pair the variants against a baseline over seeds.

A run folder (``matrix_dir/VARIANT/seedN``, ``mmresize.benchmark.matrix``)
holds the config its runner dumped (read as the run's config: an mmengine
``.py`` config is Python, as every config is), ``iter_N.pth`` and
``result.json``. The checkpoint's ``state_dict`` holds the EMA weights
(mmengine's ``EMAHook`` swaps them in when it saves), the weights
``result.json``'s ``metrics`` were measured with. Each run is tested once
with

- its own evaluator, as recorded (key ``mIoU``): it must reproduce the
  record, else the checkpoint is refused;
- mIoU with the dataset's ignore index (keys ``all/...``): runs made
  before CamVid's evaluator ignored void (label 11) scored the predictions
  on void pixels in every class's union;
- the band mIoU of each width, with the dataset's ignore index (keys
  ``band{d}/...``).
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence

from mmresize.benchmark.report import check_matrix, read_result
from mmresize.catalogue import TASKS
from mmresize.evaluation.paired import paired_gain

# the rescored mIoU may differ from the recorded one by rounding only
RECORD_TOLERANCE = 0.011


class RescoreError(ValueError):
    """A run folder that cannot be rescored, or whose record disagrees."""


def check_bands(bands: Sequence[int]) -> List[int]:
    """Band widths as distinct integers >= 1, else ``RescoreError``."""
    from mmresize.evaluation.trimap import check_band
    if not bands:
        raise RescoreError('no band widths given')
    try:
        for d in bands:
            check_band(d)
    except ValueError as err:
        raise RescoreError(f'band widths {list(bands)}: {err}') from None
    if len(set(bands)) != len(bands):
        raise RescoreError(f'band widths repeat: {list(bands)}')
    return list(bands)


def extra_evaluators(bands: Sequence[int], ignore_index: int) -> List[dict]:
    """mIoU with per-class IoU ignoring ``ignore_index`` (prefix ``all``),
    then one band mIoU per width (prefix ``band{d}``)."""
    common = dict(iou_metrics=['mIoU'], ignore_index=ignore_index)
    return [dict(type='PerClassIoUMetric', prefix='all', **common)] + [
        dict(type='TrimapIoUMetric', band=d, prefix=f'band{d}', **common)
        for d in check_bands(bands)
    ]


def run_files(run_dir: str) -> Dict[str, str]:
    """The dumped config, the final checkpoint and the result of a run."""
    result = osp.join(run_dir, 'result.json')
    if not osp.isfile(result):
        raise RescoreError(f'{run_dir} has no result.json: not a finished '
                           'matrix run')
    with open(result) as f:
        iters = json.load(f)['iters']
    checkpoint = osp.join(run_dir, f'iter_{iters}.pth')
    configs = sorted(glob.glob(osp.join(run_dir, '*.py')))
    if not osp.isfile(checkpoint) or len(configs) != 1:
        raise RescoreError(
            f'{run_dir} needs its final checkpoint iter_{iters}.pth and '
            f'exactly one dumped config (*.py); found checkpoint: '
            f'{osp.isfile(checkpoint)}, configs: {configs}')
    return dict(result=result, checkpoint=checkpoint, config=configs[0])


def _as_list(evaluator) -> list:
    return list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]


def dataset_ignore_index(dataset_cfg: dict) -> int:
    """The ``ignore_index`` a dataset config builds with (its own argument,
    else its class's default), read without building the dataset."""
    import inspect

    from mmengine.registry import DATASETS
    if 'ignore_index' in dataset_cfg:
        return dataset_cfg['ignore_index']
    # the default scope's registry, as building the dataset would use
    kind = dataset_cfg['type']
    with DATASETS.switch_scope_and_registry(
            dataset_cfg.get('_scope_')) as registry:
        cls = kind if inspect.isclass(kind) else registry.get(kind)
    if cls is None:
        raise RescoreError(f'unknown dataset type {kind!r}')
    for klass in cls.__mro__:  # the nearest __init__ that names it
        param = inspect.signature(klass.__init__).parameters.get(
            'ignore_index')
        if param is not None and param.default is not param.empty:
            return param.default
    raise RescoreError(f'{cls.__name__} takes no ignore_index: not a '
                       'segmentation dataset')


def rescore_run(run_dir: str, bands: Sequence[int], work_dir: str,
                trust_checkpoint: bool = False) -> Dict[str, float]:
    """Test a finished run's EMA weights with its own evaluator and
    ``extra_evaluators(bands, the dataset's ignore index)``.

    Writes only under ``work_dir``. ``trust_checkpoint``: the user vouches
    for the run's checkpoint (``mmresize.trust.trust_file``); otherwise
    ``mmresize.trust``'s rules decide whether it may be unpickled. Raises
    ``RescoreError`` when the rescored mIoU is not the recorded one.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmresize.evaluation.trimap  # noqa: F401  registers the metric
    import mmresize.seg  # noqa: F401
    from mmresize.cli import build_runner
    from mmresize.trust import trust_file
    files = run_files(run_dir)
    with open(files['result']) as f:
        recorded = json.load(f)['metrics']['mIoU']
    cfg = Config.fromfile(files['config'])
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    void = dataset_ignore_index(cfg.test_dataloader.dataset)
    # the checkpoint's state_dict is already the average: no EMAHook
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h.get('type') != 'EMAHook']
    cfg.test_evaluator = _as_list(cfg.test_evaluator) + extra_evaluators(
        bands, void)
    cfg.load_from, cfg.resume = files['checkpoint'], False
    cfg.work_dir = work_dir
    if trust_checkpoint:
        trust_file(files['checkpoint'])
    runner = build_runner(cfg, train=False)
    metrics = {k: float(v) for k, v in runner.test().items()}
    if abs(metrics['mIoU'] - recorded) > RECORD_TOLERANCE:
        raise RescoreError(
            f'{run_dir}: rescored mIoU {metrics["mIoU"]} but result.json '
            f'records {recorded} for these weights; the checkpoint is not '
            'the one that was measured')
    return metrics


def runs_of(matrix_dirs: Sequence[str]) -> Dict[str, Dict[int, str]]:
    """variant -> seed -> run folder, over the finished runs of one or more
    matrix folders of a segmentation task. Their records must make one
    matrix (one task, factor and schedule; each run pairable with its
    seed's baseline: the same code and options), as
    ``tools/summarize_accuracy.py`` requires (``MismatchedRuns``
    otherwise)."""
    runs: Dict[str, Dict[int, str]] = {}
    records = []
    for matrix in matrix_dirs:
        for path in sorted(glob.glob(osp.join(matrix, '*', 'seed*',
                                              'result.json'))):
            record = read_result(path)
            variant, seed = record['variant'], record['seed']
            if seed in runs.get(variant, {}):
                raise RescoreError(
                    f'{variant} seed {seed} is in two matrix folders: '
                    f'{runs[variant][seed]}, {osp.dirname(path)}')
            runs.setdefault(variant, {})[seed] = osp.dirname(
                osp.abspath(path))
            records.append(record)
    if not records:
        raise RescoreError(f'no finished runs (VARIANT/seedN/result.json) '
                           f'under {list(matrix_dirs)}')
    check_matrix(records)
    task = records[0]['task']
    if task in TASKS and TASKS[task]['metric'] != 'mIoU':
        raise RescoreError(f'{task} is scored by {TASKS[task]["metric"]}: '
                           'the band mIoU is for segmentation tasks')
    return runs


def kept_scores(previous: dict, runs: Dict[str, Dict[int, str]],
                bands: Sequence[int]) -> Dict[str, Dict[int, Dict[str, float]]]:
    """The scores of an earlier rescore (its ``--out`` record, as read from
    JSON) that still hold: scored with the same band widths, of the same
    run folder, whose result.json still records the mIoU that was
    rescored. Runs it scored that are no longer in ``runs`` are dropped; a
    metric it wrote as null (NaN: a class absent from a band) reads NaN.
    """
    if sorted(previous.get('bands', [])) != sorted(bands):
        raise RescoreError(
            f'the earlier rescore used bands {previous.get("bands")}, this '
            f'one {list(bands)}: give the same --bands, or --force to '
            'score every run again')
    kept: Dict[str, Dict[int, Dict[str, float]]] = {}
    for variant, seeds in previous.get('scores', {}).items():
        for seed, metrics in seeds.items():
            seed = int(seed)
            was = previous.get('runs', {}).get(variant, {}).get(str(seed))
            if was is None or runs.get(variant, {}).get(seed) != was:
                continue
            recorded = read_result(osp.join(was, 'result.json'))
            if abs(recorded['metrics']['mIoU'] - metrics['mIoU']) \
                    > RECORD_TOLERANCE:
                continue  # the run was made again since: score it again
            kept.setdefault(variant, {})[seed] = {
                k: float('nan') if v is None else v
                for k, v in metrics.items()}
    return kept


def paired_table(scores: Dict[str, Dict[int, Dict[str, float]]],
                 keys: Sequence[str], baseline: str) -> List[dict]:
    """For every variant but ``baseline`` and every metric key: the paired
    gain over the baseline on their common seeds (``paired_gain``)."""
    if baseline not in scores:
        raise RescoreError(f'no {baseline!r} runs to pair against; variants: '
                           f'{sorted(scores)}')
    rows = []
    for variant in sorted(v for v in scores if v != baseline):
        for key in keys:
            gain = paired_gain(
                {s: m[key] for s, m in scores[variant].items()},
                {s: m[key] for s, m in scores[baseline].items()})
            rows.append(dict(variant=variant, key=key, **gain))
    return rows
