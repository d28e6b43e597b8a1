"""The decoupled YOLOX head: per-level stems, cls/reg branches, decoding and the training losses."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .losses import IOUloss
from .network_blocks import BaseConv, conv_block
from .simota import simota_assign

__all__ = ["YOLOXHead"]

REG_WEIGHT = 5.0


def make_grid(hsize: int, wsize: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Grid cell (x, y) offsets [h * w, 2], row-major ('ij' meshgrid), as the checkpoints expect."""
    yv, xv = torch.meshgrid(
        torch.arange(hsize, device=device), torch.arange(wsize, device=device), indexing="ij"
    )
    return torch.stack((xv, yv), 2).view(-1, 2).to(dtype)


class YOLOXHead(nn.Module):
    """Anchor-free decoupled head; one anchor per cell, strides 8/16/32 by default."""

    def __init__(
        self,
        num_classes: int,
        width: float = 1.0,
        strides: Sequence[int] = (8, 16, 32),
        in_channels: Sequence[int] = (256, 512, 1024),
        act: str = "silu",
        depthwise: bool = False,
    ) -> None:
        super().__init__()
        if len(strides) != len(in_channels):
            raise ValueError(
                f"one stride per input level: strides {strides}, in_channels {in_channels}"
            )
        self.num_classes = num_classes
        # the architecture as built, for checkpoints (an exp's own get_model may differ from its fields)
        self.width, self.in_channels, self.act = width, tuple(in_channels), act
        self.depthwise = bool(depthwise)
        self.decode_in_inference = True
        Conv = conv_block(depthwise)
        hidden = int(256 * width)

        # Registration order fixes the official state-dict key order.
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        self.cls_preds = nn.ModuleList()
        self.reg_preds = nn.ModuleList()
        self.obj_preds = nn.ModuleList()
        self.stems = nn.ModuleList()
        for channels in in_channels:
            self.stems.append(BaseConv(int(channels * width), hidden, 1, 1, act=act))
            self.cls_convs.append(
                nn.Sequential(
                    Conv(hidden, hidden, 3, 1, act=act), Conv(hidden, hidden, 3, 1, act=act)
                )
            )
            self.reg_convs.append(
                nn.Sequential(
                    Conv(hidden, hidden, 3, 1, act=act), Conv(hidden, hidden, 3, 1, act=act)
                )
            )
            self.cls_preds.append(nn.Conv2d(hidden, num_classes, 1, 1, 0))
            self.reg_preds.append(nn.Conv2d(hidden, 4, 1, 1, 0))
            self.obj_preds.append(nn.Conv2d(hidden, 1, 1, 1, 0))

        self.use_l1 = False
        self.l1_loss = nn.L1Loss(reduction="none")
        self.bcewithlog_loss = nn.BCEWithLogitsLoss(reduction="none")
        self.iou_loss = IOUloss(reduction="none")
        self.strides = list(strides)
        self.hw: List[Tuple[int, int]] = []

    def initialize_biases(self, prior_prob: float) -> None:
        """Start cls/obj probabilities at ``prior_prob`` (focal-loss style prior, 0.01 in YOLOX)."""
        bias_value = -math.log((1 - prior_prob) / prior_prob)
        for conv in list(self.cls_preds) + list(self.obj_preds):
            nn.init.constant_(conv.bias, bias_value)

    # ------------------------------------------------------------------ forward
    def _level_outputs(
        self, xin: Sequence[torch.Tensor]
    ) -> List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(reg, obj, cls) raw maps per level."""
        outputs = []
        for k, x in enumerate(xin):
            x = self.stems[k](x)
            cls_feat = self.cls_convs[k](x)
            reg_feat = self.reg_convs[k](x)
            outputs.append(
                (
                    self.reg_preds[k](reg_feat),
                    self.obj_preds[k](reg_feat),
                    self.cls_preds[k](cls_feat),
                )
            )
        return outputs

    def forward(
        self,
        xin: Sequence[torch.Tensor],
        labels: Optional[torch.Tensor] = None,
        imgs: Optional[torch.Tensor] = None,
    ):
        levels = self._level_outputs(xin)
        if levels and levels[0][0].dtype == torch.bfloat16:
            # bf16 autocast (CPU): box decoding, SimOTA and the losses run in float32; bf16's
            # 8-bit mantissa would round pixel coordinates near 640 to steps of 4
            levels = [tuple(t.float() for t in level) for level in levels]
        if self.training:
            if labels is None:
                raise ValueError("YOLOXHead in training mode needs labels [B, max_labels, 5]")
            return self.get_losses(levels, labels)

        flat = [torch.cat([reg, obj.sigmoid(), cls.sigmoid()], 1) for reg, obj, cls in levels]
        self.hw = [tuple(x.shape[-2:]) for x in flat]
        outputs = torch.cat([x.flatten(start_dim=2) for x in flat], dim=2).permute(0, 2, 1)
        if self.decode_in_inference:
            return self.decode_outputs(outputs)
        return outputs

    def _grids_and_strides(
        self, shapes: Sequence[Tuple[int, int]], device, dtype
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Concatenated cell offsets [A, 2] and per-anchor strides [A, 1] over all levels."""
        grids, strides = [], []
        for (hsize, wsize), stride in zip(shapes, self.strides):
            grid = make_grid(hsize, wsize, device, dtype)
            grids.append(grid)
            strides.append(torch.full((grid.shape[0], 1), stride, device=device, dtype=dtype))
        return torch.cat(grids, 0), torch.cat(strides, 0)

    def decode_outputs(self, outputs: torch.Tensor) -> torch.Tensor:
        """Raw (dx, dy, log w, log h) per cell -> (cx, cy, w, h) in input pixels."""
        grids, strides = self._grids_and_strides(self.hw, outputs.device, outputs.dtype)
        return torch.cat(
            [
                (outputs[..., 0:2] + grids) * strides,
                torch.exp(outputs[..., 2:4]) * strides,
                outputs[..., 4:],
            ],
            dim=-1,
        )

    # ------------------------------------------------------------------ training
    def get_losses(self, levels, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """SimOTA assignment per image, then IoU/obj/cls (and L1) losses normalised by num_fg."""
        batch = labels.shape[0]
        shapes = [tuple(reg.shape[-2:]) for reg, _, _ in levels]
        raw = torch.cat(
            [torch.cat([reg, obj, cls], 1).flatten(start_dim=2) for reg, obj, cls in levels], dim=2
        ).permute(0, 2, 1)  # [B, A, 5 + C], raw logits
        grids, strides = self._grids_and_strides(shapes, raw.device, raw.dtype)
        box_preds = torch.cat(
            [(raw[..., 0:2] + grids) * strides, torch.exp(raw[..., 2:4]) * strides], dim=-1
        )
        obj_preds = raw[..., 4:5]
        cls_preds = raw[..., 5:]
        anchor_centers = (grids + 0.5) * strides
        anchor_strides = strides[:, 0]
        if not bool(torch.isfinite(raw.detach()).all() & torch.isfinite(box_preds.detach()).all()):
            return self._diverged_losses(raw)

        num_gt_per_image = (labels.sum(dim=2) > 0).sum(dim=1).tolist()
        cls_targets, reg_targets, l1_targets, fg_masks = [], [], [], []
        num_fg = 0
        num_gts = 0
        for b in range(batch):
            num_gt = int(num_gt_per_image[b])
            num_gts += num_gt
            if num_gt == 0:
                fg_masks.append(torch.zeros(raw.shape[1], dtype=torch.bool, device=raw.device))
                continue
            gt_boxes = labels[b, :num_gt, 1:5]
            gt_classes = labels[b, :num_gt, 0]
            assign = simota_assign(
                gt_boxes,
                gt_classes,
                box_preds[b].detach(),
                cls_preds[b].detach(),
                obj_preds[b].detach(),
                anchor_centers,
                anchor_strides,
            )
            num_fg += assign.num_fg
            fg_masks.append(assign.fg_mask)
            matched_boxes = gt_boxes[assign.matched_gt_inds]
            onehot = F.one_hot(assign.matched_classes.long(), self.num_classes).to(raw.dtype)
            cls_targets.append(onehot * assign.matched_ious.unsqueeze(-1).to(raw.dtype))
            reg_targets.append(matched_boxes)
            if self.use_l1:
                fg = assign.fg_mask
                l1_targets.append(self._l1_target(matched_boxes, strides[fg, 0], grids[fg]))

        fg_mask = torch.cat(fg_masks, 0)
        obj_targets = fg_mask.unsqueeze(-1).to(raw.dtype)
        divisor = max(num_fg, 1)
        flat_boxes = box_preds.reshape(-1, 4)[fg_mask]
        if cls_targets:
            cls_t = torch.cat(cls_targets, 0)
            reg_t = torch.cat(reg_targets, 0)
        else:
            cls_t = raw.new_zeros((0, self.num_classes))
            reg_t = raw.new_zeros((0, 4))

        loss_iou = self.iou_loss(flat_boxes, reg_t).sum() / divisor
        loss_obj = self.bcewithlog_loss(obj_preds.reshape(-1, 1), obj_targets).sum() / divisor
        loss_cls = (
            self.bcewithlog_loss(cls_preds.reshape(-1, self.num_classes)[fg_mask], cls_t).sum()
            / divisor
        )
        if self.use_l1:
            l1_t = torch.cat(l1_targets, 0) if l1_targets else raw.new_zeros((0, 4))
            loss_l1 = self.l1_loss(raw[..., :4].reshape(-1, 4)[fg_mask], l1_t).sum() / divisor
        else:
            loss_l1 = raw.new_zeros(())
        loss_iou = REG_WEIGHT * loss_iou
        total = loss_iou + loss_obj + loss_cls + loss_l1
        return {
            "total_loss": total,
            "iou_loss": loss_iou,
            "l1_loss": loss_l1,
            "conf_loss": loss_obj,
            "cls_loss": loss_cls,
            "num_fg": num_fg / max(num_gts, 1),
        }

    @staticmethod
    def _diverged_losses(raw: torch.Tensor) -> Dict[str, torch.Tensor]:
        """NaN losses for NaN/Inf predictions (a diverged model), in place of SimOTA, which
        cannot assign them; the trainer stops on the NaN loss. Still attached to the graph,
        so backward and DDP's gradient all-reduce run as for any step."""
        nan = raw.sum() * float("nan")
        return {
            "total_loss": nan,
            "iou_loss": nan.detach(),
            "l1_loss": nan.detach(),
            "conf_loss": nan.detach(),
            "cls_loss": nan.detach(),
            "num_fg": float("nan"),
        }

    @staticmethod
    def _l1_target(
        gt: torch.Tensor, stride: torch.Tensor, grid: torch.Tensor, eps: float = 1e-8
    ) -> torch.Tensor:
        """Ground truth in the raw regression space: (cx/s - gx, cy/s - gy, log(w/s), log(h/s))."""
        return torch.stack(
            [
                gt[:, 0] / stride - grid[:, 0],
                gt[:, 1] / stride - grid[:, 1],
                torch.log(gt[:, 2] / stride + eps),
                torch.log(gt[:, 3] / stride + eps),
            ],
            dim=1,
        )
