"""A hook for the multi-process test: every rank saves its resizer."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class SaveResizerPerRankHook(Hook):
    """Save the resizer's state before and after training, per rank."""

    def _save(self, runner, tag: str) -> None:
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        state = model.data_preprocessor.resizer.state_dict()
        torch.save({k: v.clone() for k, v in state.items()},
                   osp.join(runner.work_dir, f'resizer_{tag}_rank{get_rank()}.pth'))

    def before_train(self, runner) -> None:
        self._save(runner, 'start')

    def after_train(self, runner) -> None:
        self._save(runner, 'end')
