"""Loading mmengine checkpoints under torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine
0.10.7 calls it without the argument, so a checkpoint holding its message
hub (``HistoryBuffer``), numpy scalars or config objects fails to load and
``--resume`` breaks. ``trust_local_checkpoints`` re-registers mmengine's loader
for local paths with ``weights_only=False``: the files our tools load are the
user's own training outputs, which are pickles by design (as with torch < 2.6).
Remote URLs keep torch's safe default.
"""
import inspect
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

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
