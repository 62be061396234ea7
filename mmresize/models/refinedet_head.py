"""A RefineDet-style head for mmdet 3.x.

Zhang, Wen, Bian, Lei and Li, "Single-Shot Refinement Neural Network for
Object Detection", CVPR 2018. Three parts on the SSD-style feature pyramid:

- anchor refinement module (ARM): an SSD head with one class (object vs
  background) that coarsely regresses the anchors;
- transfer connection blocks (TCB): per level, two 3x3 convs, plus the
  upsampled TCB output of the level above (top-down), then a 3x3 conv;
- object detection module (ODM): an SSD head on the TCB features whose
  anchors are the ARM-refined ones; anchors the ARM calls background with
  probability above ``neg_threshold`` are left out of the ODM (negative
  anchor filtering) in training and scored as background at test time.

mmdet has no RefineDet; this reuses ``SSDHead`` for both modules (its hard
negative mining, targets and decoding). ``SSDHead`` lacks ``loss_cls``, which
mmdet 3.3's prediction path reads (upstream issue #11780): defined here.
"""
import contextlib
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads import SSDHead
from mmdet.models.losses import CrossEntropyLoss
from mmdet.models.utils import select_single_mlvl
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList
from mmengine.structures import InstanceData
from torch import Tensor, nn

# Added to the background logit of filtered anchors: their softmax score for
# every object class becomes exp(-50), i.e. zero.
FILTERED_LOGIT = 50.0


class TransferConnection(nn.Module):
    """One transfer connection block: (B, C_in, H, W) -> (B, C, H, W)."""

    def __init__(self, in_channels: int, channels: int, has_upper: bool):
        super().__init__()
        self.lateral = nn.Sequential(
            ConvModule(in_channels, channels, 3, padding=1),
            nn.Conv2d(channels, channels, 3, padding=1))
        self.upsample = nn.ConvTranspose2d(
            channels, channels, 2, stride=2) if has_upper else None
        self.out = ConvModule(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, upper: Optional[Tensor]) -> Tensor:
        feat = self.lateral(x)
        if upper is not None:
            up = self.upsample(upper)[..., :feat.shape[-2], :feat.shape[-1]]
            feat = feat + up
        return self.out(F.relu(feat))


@MODELS.register_module()
class RefineDetHead(SSDHead):
    """ARM + TCB + ODM on a list of feature maps.

    Args:
        num_classes: object classes (background excluded).
        in_channels: channels of each input level (e.g. SSDNeck outputs).
        tcb_channels: channels of the transfer connection blocks (paper: 256).
        neg_threshold: ARM background probability above which an anchor is
            filtered out of the ODM (paper: 0.99).
        anchor_generator, bbox_coder, train_cfg, test_cfg, init_cfg: as
            ``SSDHead``; the ARM uses the same anchors and coder.

    ``forward`` returns ``(arm_cls, arm_reg, odm_cls, odm_reg)``, each a list
    of per-level (B, A * ch, H, W) maps.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int],
                 tcb_channels: int = 256,
                 neg_threshold: float = 0.99,
                 **kwargs) -> None:
        super().__init__(
            num_classes=num_classes,
            in_channels=[tcb_channels] * len(in_channels),
            **kwargs)
        shared = {k: v for k, v in kwargs.items()
                  if k in ('anchor_generator', 'bbox_coder', 'train_cfg',
                           'test_cfg')}
        # The ARM is class-agnostic, like an RPN; a name ending in 'rpn_head'
        # also tells mmdet's NumClassCheckHook to skip its single class.
        self.arm_rpn_head = SSDHead(num_classes=1, in_channels=in_channels,
                                    **shared)
        self.tcbs = nn.ModuleList(
            TransferConnection(c, tcb_channels, i < len(in_channels) - 1)
            for i, c in enumerate(in_channels))
        self.neg_threshold = neg_threshold
        self.loss_cls = CrossEntropyLoss(use_sigmoid=False)
        self._refined: Optional[Tuple[list, list]] = None

    def forward(self, x: Tuple[Tensor, ...]) -> Tuple[List[Tensor], ...]:
        arm_cls, arm_reg = self.arm_rpn_head(x)
        upper = None
        tcb_feats: List[Tensor] = []
        for feat, tcb in zip(reversed(x), reversed(self.tcbs)):
            upper = tcb(feat, upper)
            tcb_feats.insert(0, upper)
        odm_cls, odm_reg = super().forward(tuple(tcb_feats))
        return arm_cls, arm_reg, odm_cls, odm_reg

    def _arm_negative(self, arm_cls: Tensor) -> Tensor:
        """(B, A * 2, H, W) ARM logits -> (B, H * W * A) filtered mask."""
        batch = arm_cls.shape[0]
        probs = arm_cls.permute(0, 2, 3, 1).reshape(batch, -1, 2).softmax(-1)
        return probs[..., 1] > self.neg_threshold  # channel 1: background

    def refine(self, arm_cls: List[Tensor], arm_reg: List[Tensor],
               batch_img_metas: List[dict]) -> Tuple[list, list, list]:
        """ARM-refined anchors, valid flags and filtered masks per image.

        Returns three nested lists ``[image][level]``: anchors (N_l, 4),
        valid flags (N_l,) that exclude filtered anchors, filtered (N_l,).
        """
        sizes = [c.shape[-2:] for c in arm_cls]
        anchors, valid = self.get_anchors(sizes, batch_img_metas,
                                          device=arm_cls[0].device)
        refined, flags, filtered = [], [], []
        for i, meta in enumerate(batch_img_metas):
            r_img, f_img, n_img = [], [], []
            for lvl, (cls, reg) in enumerate(zip(arm_cls, arm_reg)):
                deltas = reg[i].detach().permute(1, 2, 0).reshape(-1, 4)
                r_img.append(self.bbox_coder.decode(
                    anchors[i][lvl], deltas, max_shape=meta['img_shape']))
                negative = self._arm_negative(cls[i:i + 1].detach())[0]
                f_img.append(valid[i][lvl] & ~negative)
                n_img.append(negative)
            refined.append(r_img)
            flags.append(f_img)
            filtered.append(n_img)
        return refined, flags, filtered

    @contextlib.contextmanager
    def _anchors_from(self, refined: list, flags: list) -> Iterator[None]:
        """Make ``SSDHead.loss_by_feat`` use the refined anchors."""
        self._refined = (refined, flags)
        try:
            yield
        finally:
            self._refined = None

    def get_anchors(self, featmap_sizes, batch_img_metas, device='cuda'):
        if self._refined is not None:
            return self._refined
        return super().get_anchors(featmap_sizes, batch_img_metas, device)

    def loss_by_feat(self,
                     arm_cls: List[Tensor],
                     arm_reg: List[Tensor],
                     odm_cls: List[Tensor],
                     odm_reg: List[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None
                     ) -> dict:
        """ARM loss (object vs background) + ODM loss on refined anchors."""
        objects = [
            InstanceData(bboxes=gt.bboxes,
                         labels=torch.zeros_like(gt.labels))
            for gt in batch_gt_instances
        ]
        arm = self.arm_rpn_head.loss_by_feat(arm_cls, arm_reg, objects,
                                    batch_img_metas, batch_gt_instances_ignore)
        refined, flags, _ = self.refine(arm_cls, arm_reg, batch_img_metas)
        with self._anchors_from(refined, flags):
            odm = super().loss_by_feat(odm_cls, odm_reg, batch_gt_instances,
                                       batch_img_metas,
                                       batch_gt_instances_ignore)
        return dict(arm_loss_cls=arm['loss_cls'],
                    arm_loss_bbox=arm['loss_bbox'],
                    loss_cls=odm['loss_cls'], loss_bbox=odm['loss_bbox'])

    def predict_by_feat(self,
                        arm_cls: List[Tensor],
                        arm_reg: List[Tensor],
                        odm_cls: List[Tensor],
                        odm_reg: List[Tensor],
                        batch_img_metas: Optional[List[dict]] = None,
                        cfg=None,
                        rescale: bool = False,
                        with_nms: bool = True) -> InstanceList:
        """Decode ODM outputs against the refined anchors, per image."""
        refined, _, filtered = self.refine(arm_cls, arm_reg, batch_img_metas)
        results = []
        for i, meta in enumerate(batch_img_metas):
            scores = []
            for lvl, cls in enumerate(select_single_mlvl(odm_cls, i,
                                                         detach=True)):
                scores.append(self._suppress(cls, filtered[i][lvl]))
            results.append(self._predict_by_feat_single(
                cls_score_list=scores,
                bbox_pred_list=select_single_mlvl(odm_reg, i, detach=True),
                score_factor_list=[None] * len(scores),
                mlvl_priors=refined[i],
                img_meta=meta,
                cfg=cfg,
                rescale=rescale,
                with_nms=with_nms))
        return results

    def _suppress(self, cls: Tensor, filtered: Tensor) -> Tensor:
        """Raise the background logit of ARM-filtered anchors.

        cls: (A * (num_classes + 1), H, W); filtered: (H * W * A,).
        """
        channels = self.cls_out_channels
        flat = cls.permute(1, 2, 0).reshape(-1, channels).clone()
        flat[:, -1] += FILTERED_LOGIT * filtered.to(flat.dtype)
        height, width = cls.shape[-2:]
        return flat.reshape(height, width, -1).permute(2, 0, 1)
