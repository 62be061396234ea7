"""Moving a trained resizer between tasks (Ma & Li, BMVC 2022, section on
task generalisation): extract it from a task checkpoint, check it against a
target config, load it frozen.

The task checkpoint is unpickled fully only if it is the user's own
(``mmresize.trust``); the resizer checkpoint written from it holds only
tensors and plain data, so that it can be shared and read weights-only.

A resizer checkpoint is ``{'state_dict': ..., 'meta': {'mmresize_resizer':
{'type', 'args', 'sha256', 'source_checkpoint', 'source_config',
'source_iter', 'ema'}}}``; mmengine's ``Pretrained`` init can read it, and
``BaseResizer.init_weights`` verifies it (``load_resizer_checkpoint``).
"""
import io
import os
import os.path as osp
import pickle
import tempfile
from typing import Dict, Set

import torch
from mmengine.config import Config

from mmresize.resizers.checkpoint import (
    IGNORED_ARGS,
    ResizerCheckpointError,
    check_checksum,
    checksum,
    differences,
    full_args,
    read_resizer_checkpoint,
    read_task_checkpoint,
    refuse_gated,
    refuse_gated_task_checkpoint,
    shape_differences,
    short_type,
    torch_reason,
)

PREFIX = 'data_preprocessor.resizer.'
FIXED_TYPES = ('InterpolateResizer',)


def _source_resizer_cfg(meta: dict, path: str) -> dict:
    if 'cfg' not in meta:
        raise ResizerCheckpointError(
            f'{path} records no config (meta["cfg"]); it was not written by '
            'tools/train.py')
    cfg = Config.fromstring(meta['cfg'], '.py')
    resizer = cfg.get('model', {}).get('data_preprocessor', {}).get('resizer')
    if resizer is None:
        raise ResizerCheckpointError(
            f'the config recorded in {path} has no '
            'model.data_preprocessor.resizer: not an mmresize model')
    return resizer.to_dict() if hasattr(resizer, 'to_dict') else dict(resizer)


def resizer_state_dict(state: Dict[str, torch.Tensor]
                       ) -> Dict[str, torch.Tensor]:
    """The resizer's weights (copies) from a whole model's state dict."""
    return {k[len(PREFIX):]: v.clone()
            for k, v in state.items() if k.startswith(PREFIX)}


def trained_resizer_state(checkpoint: str, resizer_keys: Set[str],
                          trusted: bool = False) -> Dict[str, torch.Tensor]:
    """The resizer weights held by ``checkpoint``.

    Args:
        checkpoint: a resizer checkpoint from tools/transfer_resizer.py
            (its checksum verified) or a plain resizer state dict, read
            weights-only; or a task checkpoint from tools/train.py, read
            under the trust policy (``load_local``): its ``state_dict``,
            which holds the EMA weights when EMAHook ran (``extract``'s
            default is the raw ones).
        resizer_keys: the keys of the resizer's own state dict; a state
            dict with other keys is a whole model's.
        trusted: unpickle a task checkpoint fully wherever it lies.

    Raises:
        ResizerCheckpointError: unreadable, an mmresize 0.1 gated resizer,
            or a resizer checkpoint whose weights fail its checksum.
    """
    try:
        read = read_resizer_checkpoint(checkpoint)
    except ResizerCheckpointError:  # objects beyond tensors, or unreadable
        read = read_task_checkpoint(checkpoint, trusted)
    refuse_gated_task_checkpoint(read, checkpoint)
    state = read.get('state_dict', read)
    meta = read.get('meta')
    record = meta.get('mmresize_resizer') if isinstance(meta, dict) else None
    if record is not None:
        check_checksum(state, record, checkpoint)
        return state
    if set(state) <= resizer_keys:
        return state  # a plain resizer state dict
    # a whole model's; its resizer may be a fixed interpolation (no weights)
    return resizer_state_dict(state)


def standalone_preprocessor(pre_cfg: dict, checkpoint: str,
                            trusted: bool = False):
    """A config's data preprocessor built outside its model, with the
    trained resizer of ``checkpoint`` (``trained_resizer_state``), in eval
    mode: for looking at what the resizer makes of an image.

    Only the resizer's output is looked at, nothing is scored, so a warping
    resizer needs no unwarping model here (``DownsizeMixin.check_unwarped``).
    ``init_weights`` is not called (a ``Pretrained`` ``init_cfg`` is not
    read): the resizer's weights come from ``checkpoint``, loaded
    strictly. The caller has set the config's default scope.
    """
    from mmengine.registry import MODELS
    pre = MODELS.build(pre_cfg).eval()
    pre.unwarps_predictions = True
    state = trained_resizer_state(checkpoint, set(pre.resizer.state_dict()),
                                  trusted)
    pre.resizer.load_state_dict(state, strict=True)
    return pre


def extract(path: str, ema: bool = False, trusted: bool = False) -> dict:
    """A resizer checkpoint dict from a task checkpoint written by train.py.

    Args:
        path: the task checkpoint.
        ema: take the EMA weights (mmengine's EMAHook stores them in
            ``state_dict`` and the raw weights in ``ema_state_dict``).
        trusted: unpickle ``path`` fully wherever it lies (the user said it
            is their own); otherwise only under a trusted work dir.

    Raises:
        ResizerCheckpointError: the file is no usable task checkpoint.
        UntrustedCheckpointError: it needs full unpickling and is not the
            user's own (``mmresize.trust``).
    """
    checkpoint = read_task_checkpoint(path, trusted)
    state = checkpoint.get('state_dict')
    if not isinstance(state, dict):
        raise ResizerCheckpointError(f'{path} has no state_dict')
    has_ema = 'ema_state_dict' in checkpoint
    if ema and not has_ema:
        raise ResizerCheckpointError(f'--ema given but {path} holds no EMA weights '
                            '(train with EMAHook, or drop --ema)')
    if has_ema and not ema:  # EMAHook swapped: raw weights live here
        state = {k[len('module.'):]: v
                 for k, v in checkpoint['ema_state_dict'].items()
                 if k.startswith('module.')}
    resizer_state = resizer_state_dict(state)
    meta = checkpoint.get('meta', {})
    resizer_cfg = _source_resizer_cfg(meta, path)
    refuse_gated(resizer_state, resizer_cfg, path)
    kind = short_type(resizer_cfg['type'])
    if kind in FIXED_TYPES:
        raise ResizerCheckpointError(
            f'the resizer in {path} is a fixed interpolation ({kind}): it '
            'has no weights to transfer')
    if not resizer_state:
        raise ResizerCheckpointError(f'{path} holds no resizer weights (no keys '
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


def check_against_config(resizer_ckpt: dict, config_path: str) -> None:
    """Raise ResizerCheckpointError listing every mismatch with a target config."""
    from mmresize.registry import MODELS
    cfg = Config.fromfile(config_path)
    target = cfg.get('model', {}).get('data_preprocessor', {}).get('resizer')
    if target is None:
        raise ResizerCheckpointError(f'{config_path} has no '
                            'model.data_preprocessor.resizer')
    target = target.to_dict()
    record = resizer_ckpt['meta']['mmresize_resizer']
    lines = differences(record, target)
    if not lines:
        built = MODELS.build({k: v for k, v in target.items()
                              if k not in IGNORED_ARGS})
        lines = shape_differences(resizer_ckpt['state_dict'], built)
    if lines:
        raise ResizerCheckpointError(
            f'the resizer in the checkpoint does not match {config_path}:\n  '
            + '\n  '.join(lines))


def save_atomic(obj: dict, path: str, force: bool = False) -> None:
    """torch.save to ``path`` via a temporary file; never a half file, and
    never one that needs more than a weights-only load."""
    if osp.exists(path) and not force:
        raise ResizerCheckpointError(
            f'{path} exists; pass --force to overwrite it')
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    try:  # what every reader does (load_resizer_checkpoint)
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    except pickle.UnpicklingError as err:
        raise ResizerCheckpointError(
            f'not writing {path}: the resizer record holds more than tensors '
            f'and plain data ({torch_reason(err)}), so it could not be loaded '
            'weights-only; give the resizer config plain values') from None
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
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


