"""What tools/train.py and tools/test.py share: arguments, config loading,
distributed set-up without GPUs, which checkpoints the run may unpickle
(``mmresize.trust``), building the runner."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmresize.engine.cpu_nms import route_nms_to_cpu
from mmresize.engine.visualizers import release_visualizers
from mmresize.preflight import point_data_root, preflight
from mmresize.resizers.checkpoint import trust_local_checkpoints
from mmresize.trust import remember_work_dir, trust_file


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where to save logs and outputs')
    parser.add_argument('--data-root',
                        help="use this folder as every dataset's data_root "
                        "(instead of the config's, e.g. data/VOCdevkit/)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle the checkpoint this run loads (CHECKPOINT, --resume '
        'CKPT or load_from) fully although it is outside the work dirs: only '
        'for your own file, unpickling runs code in it')


def trust_named_checkpoint(cfg: Config, args: argparse.Namespace) -> None:
    """With ``--trust-checkpoint``, trust the file ``cfg.load_from``."""
    if args.trust_checkpoint and cfg.get('load_from'):
        trust_file(cfg.load_from)


def use_cpu_ddp(cfg: Config) -> None:
    """Distributed runs without GPUs: gloo, and DDP without device ids.

    mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device``, so the
    process group is created here (from torchrun's environment) and mmengine
    finds it ready.
    """
    import torch.distributed as dist
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.launcher == 'pytorch' and not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def load_config(args: argparse.Namespace) -> Config:
    """The config at ``args.config`` with the common options applied."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root:
        point_data_root(cfg, args.data_root)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        use_cpu_ddp(cfg)
    return cfg


def stop_unless_ready(cfg: Config, args: argparse.Namespace, action: str,
                      loaders, weights: bool) -> None:
    """Exit with the pre-flight message when data or weights are missing."""
    message = preflight(cfg, args.config, action, loaders, weights)
    if message:
        raise SystemExit(message)


def build_runner(cfg: Config, train: bool = True) -> Runner:
    """The config's runner; on a GPU with an mmcv built without CUDA ops,
    detectors' nms runs on the CPU (``mmresize.engine.cpu_nms``). A runner
    built earlier in the process does not lend it its visualizer
    (``mmresize.engine.visualizers``). ``train``: the runner will train, so
    its work dir holds the user's own checkpoints, which may be unpickled
    fully, now (``--resume``) and by later tools (``mmresize.trust``); a
    runner that only tests (``train=False``) trusts nothing it writes."""
    release_visualizers()
    trust_local_checkpoints()
    if train and cfg.get('work_dir'):
        remember_work_dir(cfg.work_dir)
    if route_nms_to_cpu():
        print('mmcv was built without CUDA ops: nms runs on the CPU (other '
              'mmcv ops, e.g. RoIAlign, still need an mmcv built with CUDA)')
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
