"""Moving a trained resizer between tasks (Ma & Li, BMVC 2022, section on
task generalisation): extract it from a task checkpoint, check it against a
target config, load it frozen.

A resizer checkpoint is ``{'state_dict': ..., 'meta': {'mmresize_resizer':
{'type', 'args', 'sha256', 'source_checkpoint', 'source_config',
'source_iter', 'ema'}}}``; mmengine's ``Pretrained`` init can read it, and
``BaseResizer.init_weights`` verifies it (``load_resizer_checkpoint``).
"""
import hashlib
import inspect
import io
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

from mmresize.checkpoint import load_local
from mmresize.resizers.downsizenet import GatedCheckpointError, check_not_gated

PREFIX = 'data_preprocessor.resizer.'
IGNORED_ARGS = ('frozen', 'init_cfg')
FIXED_TYPES = ('InterpolateResizer',)


class TransferError(ValueError):
    """A resizer checkpoint or config that cannot be used; says why."""


def short_type(name: str) -> str:
    """'mmresize.DownsizeNet' -> 'DownsizeNet'."""
    return name.split('.')[-1]


def arch_args(module: torch.nn.Module) -> Dict:
    """Constructor arguments of a built resizer, except frozen/init_cfg."""
    params = inspect.signature(type(module).__init__).parameters
    return {
        name: getattr(module, name)
        for name in params
        if name not in ('self', *IGNORED_ARGS) and hasattr(module, name)
    }


def full_args(cfg: Dict) -> Dict:
    """A resizer config's arguments with the class defaults filled in."""
    import mmresize.resizers  # noqa: F401
    from mmresize.registry import MODELS
    cls = MODELS.get(short_type(cfg['type']))
    if cls is None:
        raise TransferError(f'unknown resizer type {cfg["type"]!r}')
    params = inspect.signature(cls.__init__).parameters
    args = {
        name: p.default
        for name, p in params.items()
        if name not in ('self', *IGNORED_ARGS) and
        p.default is not inspect.Parameter.empty
    }
    args.update({k: v for k, v in cfg.items()
                 if k not in ('type', *IGNORED_ARGS)})
    return {k: (list(v) if isinstance(v, tuple) else v)
            for k, v in args.items()}


def checksum(state_dict: Dict[str, torch.Tensor]) -> str:
    """sha256 over the tensors' names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f'{key}:{tensor.dtype}:{tuple(tensor.shape)}'.encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _read(path: str) -> dict:
    if not osp.isfile(path):
        raise TransferError(f'checkpoint {path} does not exist')
    try:
        checkpoint = load_local(path, map_location='cpu')
    except Exception as err:  # corrupt, truncated, not a checkpoint
        raise TransferError(
            f'cannot read {path} as a PyTorch checkpoint ({err}); is the '
            'file complete?') from err
    if not isinstance(checkpoint, dict):
        raise TransferError(f'{path} holds a {type(checkpoint).__name__}, '
                            'not an mmengine checkpoint dict')
    return checkpoint


def _source_resizer_cfg(meta: dict, path: str) -> dict:
    if 'cfg' not in meta:
        raise TransferError(
            f'{path} records no config (meta["cfg"]); it was not written by '
            'tools/train.py')
    cfg = Config.fromstring(meta['cfg'], '.py')
    resizer = cfg.get('model', {}).get('data_preprocessor', {}).get('resizer')
    if resizer is None:
        raise TransferError(
            f'the config recorded in {path} has no '
            'model.data_preprocessor.resizer: not an mmresize model')
    return resizer.to_dict() if hasattr(resizer, 'to_dict') else dict(resizer)


def refuse_gated(state: Dict[str, torch.Tensor], path: str) -> None:
    """TransferError for weights of mmresize 0.1's gated DownsizeNet."""
    try:
        check_not_gated(state)
    except GatedCheckpointError as err:
        raise TransferError(f'{path}: {err}') from err


def resizer_state_dict(state: Dict[str, torch.Tensor]
                       ) -> Dict[str, torch.Tensor]:
    """The resizer's weights (copies) from a whole model's state dict."""
    return {k[len(PREFIX):]: v.clone()
            for k, v in state.items() if k.startswith(PREFIX)}


def extract(path: str, ema: bool = False) -> dict:
    """A resizer checkpoint dict from a task checkpoint written by train.py.

    Args:
        path: the task checkpoint.
        ema: take the EMA weights (mmengine's EMAHook stores them in
            ``state_dict`` and the raw weights in ``ema_state_dict``).
    """
    checkpoint = _read(path)
    state = checkpoint.get('state_dict')
    if not isinstance(state, dict):
        raise TransferError(f'{path} has no state_dict')
    has_ema = 'ema_state_dict' in checkpoint
    if ema and not has_ema:
        raise TransferError(f'--ema given but {path} holds no EMA weights '
                            '(train with EMAHook, or drop --ema)')
    if has_ema and not ema:  # EMAHook swapped: raw weights live here
        state = {k[len('module.'):]: v
                 for k, v in checkpoint['ema_state_dict'].items()
                 if k.startswith('module.')}
    resizer_state = resizer_state_dict(state)
    refuse_gated(resizer_state, path)
    meta = checkpoint.get('meta', {})
    resizer_cfg = _source_resizer_cfg(meta, path)
    kind = short_type(resizer_cfg['type'])
    if kind in FIXED_TYPES:
        raise TransferError(
            f'the resizer in {path} is a fixed interpolation ({kind}): it '
            'has no weights to transfer')
    if not resizer_state:
        raise TransferError(f'{path} holds no resizer weights (no keys '
                            f'starting with {PREFIX!r})')
    return dict(
        state_dict=resizer_state,
        meta=dict(mmresize_resizer=dict(
            type=kind,
            args=full_args(resizer_cfg),
            sha256=checksum(resizer_state),
            source_checkpoint=osp.abspath(path),
            source_config=meta['cfg'],
            source_iter=meta.get('iter'),
            ema=ema)))


def differences(record: dict, target_cfg: dict,
                target_shapes: Optional[Dict[str, Tuple]] = None
                ) -> List[str]:
    """What differs between a recorded resizer and a target, one per line."""
    lines = []
    target_type = short_type(target_cfg['type'])
    if record['type'] != target_type:
        lines.append(f'type: checkpoint {record["type"]}, target '
                     f'{target_type}')
        return lines
    target_args = full_args(target_cfg)
    for key in sorted(set(record['args']) | set(target_args)):
        mine, theirs = record['args'].get(key), target_args.get(key)
        if mine != theirs:
            lines.append(f'{key}: checkpoint {mine!r}, target {theirs!r}')
    return lines


def shape_differences(state_dict: Dict[str, torch.Tensor],
                      module: torch.nn.Module) -> List[str]:
    target = module.state_dict()
    lines = []
    for key in sorted(set(state_dict) | set(target)):
        if key not in target:
            lines.append(f'{key}: in checkpoint, not in target')
        elif key not in state_dict:
            lines.append(f'{key}: missing from checkpoint')
        elif tuple(state_dict[key].shape) != tuple(target[key].shape):
            lines.append(f'{key}: checkpoint {tuple(state_dict[key].shape)},'
                         f' target {tuple(target[key].shape)}')
    return lines


def check_against_config(resizer_ckpt: dict, config_path: str) -> None:
    """Raise TransferError listing every mismatch with a target config."""
    from mmresize.registry import MODELS
    cfg = Config.fromfile(config_path)
    target = cfg.get('model', {}).get('data_preprocessor', {}).get('resizer')
    if target is None:
        raise TransferError(f'{config_path} has no '
                            'model.data_preprocessor.resizer')
    target = target.to_dict()
    record = resizer_ckpt['meta']['mmresize_resizer']
    lines = differences(record, target)
    if not lines:
        built = MODELS.build({k: v for k, v in target.items()
                              if k not in IGNORED_ARGS})
        lines = shape_differences(resizer_ckpt['state_dict'], built)
    if lines:
        raise TransferError(
            f'the resizer in the checkpoint does not match {config_path}:\n  '
            + '\n  '.join(lines))


def save_atomic(obj: dict, path: str, force: bool = False) -> None:
    """torch.save to ``path`` via a temporary file; never a half file."""
    if osp.exists(path) and not force:
        raise TransferError(f'{path} exists; pass --force to overwrite it')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-resizer-')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def load_resizer_checkpoint(module: torch.nn.Module, path: str) -> None:
    """Load a resizer checkpoint into ``module``, strictly and verified.

    An mmresize resizer checkpoint must match the module's type and
    arguments and its checksum; a plain state dict (or an mmengine
    checkpoint of just the resizer) is loaded strictly.
    """
    checkpoint = _read(path)
    state = checkpoint.get('state_dict', checkpoint)
    refuse_gated(state, path)
    record = checkpoint.get('meta', {}).get('mmresize_resizer')
    if record is not None:
        mine = dict(type=type(module).__name__, **arch_args(module))
        lines = differences(record, mine)
        if lines:
            raise TransferError(
                f'{path} holds a different resizer than the one being '
                'built:\n  ' + '\n  '.join(lines))
        if checksum(state) != record['sha256']:
            raise TransferError(f'{path}: checksum mismatch, the weights '
                                'were modified or the file is damaged')
    lines = shape_differences(state, module)
    if lines:
        raise TransferError(f'{path} does not fit this resizer:\n  ' +
                            '\n  '.join(lines))
    module.load_state_dict(state, strict=True)
