"""Resizer checkpoints: loading local checkpoints under torch >= 2.6, and
reading, checking and loading the resizer checkpoints that
``tools/transfer_resizer.py`` writes (``mmresize.transfer``).

torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine
0.10.7 calls it without the argument, so a checkpoint holding its message
hub (``HistoryBuffer``), numpy scalars or config objects fails to load and
``--resume`` breaks. ``trust_local_checkpoints`` re-registers mmengine's loader
for local paths with ``weights_only=False``: the files our tools load are the
user's own training outputs, which are pickles by design (as with torch < 2.6).
Remote URLs keep torch's safe default.

A resizer checkpoint is ``{'state_dict': ..., 'meta': {'mmresize_resizer':
{'type', 'args', 'sha256', ...}}}``: ``load_resizer_checkpoint`` checks type,
arguments and checksum before loading it strictly.
"""
import hashlib
import inspect
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .downsizenet import GatedCheckpointError, check_not_gated

IGNORED_ARGS = ('frozen', 'init_cfg')
_FULL_LOAD = 'weights_only' in inspect.signature(torch.load).parameters


def load_local(filename: str, map_location=None) -> dict:
    """``torch.load`` of a local checkpoint, objects included."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    if _FULL_LOAD:
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    return torch.load(filename, map_location=map_location)


def trust_local_checkpoints() -> None:
    """Make mmengine load local checkpoints fully (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local)


class ResizerCheckpointError(ValueError):
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
        raise ResizerCheckpointError(f'unknown resizer type {cfg["type"]!r}')
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


def read_checkpoint(path: str) -> dict:
    """A local checkpoint dict, or ResizerCheckpointError saying why not."""
    if not osp.isfile(path):
        raise ResizerCheckpointError(f'checkpoint {path} does not exist')
    try:
        checkpoint = load_local(path, map_location='cpu')
    except Exception as err:  # corrupt, truncated, not a checkpoint
        raise ResizerCheckpointError(
            f'cannot read {path} as a PyTorch checkpoint ({err}); is the '
            'file complete?') from err
    if not isinstance(checkpoint, dict):
        raise ResizerCheckpointError(f'{path} holds a {type(checkpoint).__name__}, '
                            'not an mmengine checkpoint dict')
    return checkpoint


def refuse_gated(state: Dict[str, torch.Tensor], path: str) -> None:
    """ResizerCheckpointError for weights of mmresize 0.1's gated DownsizeNet."""
    try:
        check_not_gated(state)
    except GatedCheckpointError as err:
        raise ResizerCheckpointError(f'{path}: {err}') from err


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


def load_resizer_checkpoint(module: torch.nn.Module, path: str) -> None:
    """Load a resizer checkpoint into ``module``, strictly and verified.

    An mmresize resizer checkpoint must match the module's type and
    arguments and its checksum; a plain state dict (or an mmengine
    checkpoint of just the resizer) is loaded strictly.
    """
    checkpoint = read_checkpoint(path)
    state = checkpoint.get('state_dict', checkpoint)
    refuse_gated(state, path)
    record = checkpoint.get('meta', {}).get('mmresize_resizer')
    if record is not None:
        mine = dict(type=type(module).__name__, **arch_args(module))
        lines = differences(record, mine)
        if lines:
            raise ResizerCheckpointError(
                f'{path} holds a different resizer than the one being '
                'built:\n  ' + '\n  '.join(lines))
        if checksum(state) != record['sha256']:
            raise ResizerCheckpointError(f'{path}: checksum mismatch, the weights '
                                'were modified or the file is damaged')
    lines = shape_differences(state, module)
    if lines:
        raise ResizerCheckpointError(f'{path} does not fit this resizer:\n  ' +
                            '\n  '.join(lines))
    module.load_state_dict(state, strict=True)
