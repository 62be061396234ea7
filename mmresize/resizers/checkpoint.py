"""Loading checkpoint files, and the resizer checkpoints that
``tools/transfer_resizer.py`` writes (``mmresize.transfer``).

Resizer checkpoints are meant to be shared, so they are always read with
``torch.load(..., weights_only=True)``: they hold only tensors and plain data
(dicts, lists, str, int, float, bool, None), and a file holding anything else
is refused before any of it is unpickled. Task checkpoints (mmengine's, with
the message hub and numpy arrays) need full unpickling, which runs code named
in the file: ``load_local`` does it only for the user's own files
(``mmresize.trust``) and loads any other file weights-only.
``trust_local_checkpoints`` makes mmengine load local files through
``load_local`` (mmengine 0.10.7 calls ``torch.load`` without
``weights_only``, which torch >= 2.6 reads as ``True``, so ``--resume``
failed); remote URLs keep mmengine's own loader.

A resizer checkpoint is ``{'state_dict': ..., 'meta': {'mmresize_resizer':
{'type', 'args', 'sha256', ...}}}``: ``load_resizer_checkpoint`` checks type,
arguments and checksum before loading it strictly.
"""
import hashlib
import inspect
import os.path as osp
import pickle
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from mmresize.trust import UntrustedCheckpointError, is_trusted, untrusted_message

IGNORED_ARGS = ('frozen', 'init_cfg')
# mmresize 0.1's gated DownsizeNet: its gate parameter and its arguments
GATE_KEY = 'blend'
GATED_ARG = 'learned_start'
GATED_INIT = 'interp'


def refused_types(path: str, err: Exception) -> Optional[str]:
    """The globals a weights-only ``torch.load`` of ``path`` refused, as
    text; ``None`` when ``err`` is no such refusal (e.g. a corrupt file)."""
    text = str(err)
    if not (isinstance(err, pickle.UnpicklingError)
            and 'Unsupported global' in text):
        return None
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # legacy (non-zip) format: the first one torch names
        names = re.findall(r'GLOBAL (\S+)', text)[:1]
    return ', '.join(sorted(names)) or 'unknown globals'


def torch_reason(err: Exception) -> str:
    """What a ``torch.load`` error says was wrong, in one line."""
    text = str(err).split('WeightsUnpickler error:')[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # torch's advice to allow-list the global is not ours
    return lines[0].split(' Please use')[0] if lines else type(err).__name__


def load_local(filename: str, map_location=None, trusted: bool = False
               ) -> Any:
    """``torch.load`` of a local checkpoint: fully when it is the user's own
    (``mmresize.trust.is_trusted``, or ``trusted``: the user said so),
    weights-only otherwise.

    Raises:
        FileNotFoundError: no such file.
        UntrustedCheckpointError: not the user's own, and it holds objects
            beyond tensors and plain data; nothing of it was unpickled.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    if trusted or is_trusted(filename):
        checkpoint = torch.load(filename, map_location=map_location,
                                weights_only=False)
    else:
        try:
            checkpoint = torch.load(filename, map_location=map_location,
                                    weights_only=True)
        except pickle.UnpicklingError as err:
            needs = refused_types(filename, err)
            if needs is None:
                raise
            raise UntrustedCheckpointError(
                untrusted_message(filename, needs)) from None
    refuse_gated_task_checkpoint(checkpoint, filename)
    return checkpoint


def refuse_gated_task_checkpoint(checkpoint: Any, path: str) -> None:
    """``refuse_gated`` for a whole task checkpoint: a resizer gate weight
    (``...resizer.blend``) in its ``state_dict`` (or EMA copy) means an
    mmresize 0.1 gated DownsizeNet, which mmengine's non-strict loading
    would otherwise drop silently, leaving a different resizer."""
    if not isinstance(checkpoint, dict):
        return
    suffix = f'resizer.{GATE_KEY}'
    for state in (checkpoint.get('state_dict', checkpoint),
                  checkpoint.get('ema_state_dict')):
        if not isinstance(state, dict):
            continue
        for key, value in state.items():
            if isinstance(key, str) and (key == GATE_KEY
                                         or key.endswith(suffix)):
                refuse_gated({GATE_KEY: value}, {}, path)


def trust_local_checkpoints() -> None:
    """Make mmengine load local checkpoints with ``load_local``
    (idempotent)."""
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


def load_plain(path: str) -> Any:
    """``torch.load(path, weights_only=True)`` with no extra types allowed;
    a ResizerCheckpointError, before anything is unpickled, for a file
    holding more than tensors and plain data."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        needs = refused_types(path, err)
        if needs is None:
            raise
        raise ResizerCheckpointError(
            f'{path} holds objects beyond tensors and plain data ({needs}); '
            'a resizer checkpoint never does, and loading them would run '
            'code named in the file, so it is not loaded. Use a file written '
            'by tools/transfer_resizer.py or a plain state dict '
            '(torch.save(resizer.state_dict(), PATH)).') from None


def _read_dict(path: str, load: Callable[[str], Any]) -> dict:
    if not osp.isfile(path):
        raise ResizerCheckpointError(f'checkpoint {path} does not exist')
    try:
        checkpoint = load(path)
    except (ResizerCheckpointError, UntrustedCheckpointError):
        raise
    except Exception as err:  # corrupt, truncated, not a checkpoint
        raise ResizerCheckpointError(
            f'cannot read {path} as a PyTorch checkpoint ({torch_reason(err)})'
            '; is the file complete?') from err
    if not isinstance(checkpoint, dict):
        raise ResizerCheckpointError(
            f'{path} holds a {type(checkpoint).__name__}, not a checkpoint '
            'dict')
    return checkpoint


def read_resizer_checkpoint(path: str) -> dict:
    """A resizer checkpoint (or plain state dict), read weights-only."""
    return _read_dict(path, load_plain)


def read_task_checkpoint(path: str, trusted: bool = False) -> dict:
    """A task checkpoint, unpickled fully only if it is the user's own
    (``load_local``); UntrustedCheckpointError otherwise if it needs it."""
    return _read_dict(
        path, lambda p: load_local(p, map_location='cpu', trusted=trusted))


def refuse_gated(state: Dict[str, torch.Tensor], args: Dict,
                 path: str) -> None:
    """ResizerCheckpointError for a resizer of mmresize 0.1's gated
    DownsizeNet: its gate weight ``blend`` in ``state`` (the resizer's keys)
    or its arguments (``init='interp'``, ``learned_start``) in ``args``."""
    gate = state.get(GATE_KEY)
    if gate is None and args.get('init') != GATED_INIT \
            and GATED_ARG not in args:
        return
    value = (f' (its gate g = {float(gate):.4g})'
             if isinstance(gate, torch.Tensor) and gate.numel() == 1 else '')
    raise ResizerCheckpointError(
        f'{path} is an mmresize 0.1 gated DownsizeNet checkpoint{value}. Its '
        'coefficients were (1 - g) r_bilinear + g act(z), which the current '
        'DownsizeNet cannot represent, so it cannot be converted exactly: '
        'retrain with the current DownsizeNet. A gate at g <= 0 was exactly '
        "bilinear interpolation: use InterpolateResizer(mode='bilinear') "
        'for that.')


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


def check_checksum(state: Dict[str, torch.Tensor], record: Dict,
                   path: str) -> None:
    """ResizerCheckpointError unless ``state`` holds the weights that a
    resizer checkpoint's ``record`` (``meta['mmresize_resizer']``) was
    written with."""
    if checksum(state) != record.get('sha256'):
        raise ResizerCheckpointError(
            f'{path}: checksum mismatch, the weights were modified or the '
            'file is damaged; extract it again (tools/transfer_resizer.py)')


def load_resizer_checkpoint(module: torch.nn.Module, path: str) -> None:
    """Load a resizer checkpoint into ``module``, strictly and verified.

    An mmresize resizer checkpoint must match the module's type and
    arguments and its checksum; a plain state dict (bare or under
    ``'state_dict'``) is loaded strictly. Both are read weights-only.
    """
    checkpoint = read_resizer_checkpoint(path)
    state = checkpoint.get('state_dict', checkpoint)
    record = checkpoint.get('meta', {}).get('mmresize_resizer')
    refuse_gated(state, (record or {}).get('args', {}), path)
    if record is not None:
        mine = dict(type=type(module).__name__, **arch_args(module))
        lines = differences(record, mine)
        if lines:
            raise ResizerCheckpointError(
                f'{path} holds a different resizer than the one being '
                'built:\n  ' + '\n  '.join(lines))
        check_checksum(state, record, path)
    lines = shape_differences(state, module)
    if lines:
        raise ResizerCheckpointError(
            f'{path} does not fit this resizer:\n  ' + '\n  '.join(lines))
    module.load_state_dict(state, strict=True)
