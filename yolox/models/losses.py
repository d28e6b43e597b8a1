"""Box regression losses used by the YOLOX head."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IOUloss"]


class IOUloss(nn.Module):
    """1 - IoU^2 (``loss_type="iou"``, YOLOX's default) or 1 - GIoU between (cx, cy, w, h) boxes."""

    def __init__(self, reduction: str = "none", loss_type: str = "iou") -> None:
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"reduction must be none, mean or sum, got {reduction!r}")
        if loss_type not in ("iou", "giou"):
            raise ValueError(f"loss_type must be iou or giou, got {loss_type!r}")
        self.reduction = reduction
        self.loss_type = loss_type

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.shape[0] != target.shape[0]:
            raise ValueError(
                f"pred and target must pair up, got {tuple(pred.shape)} and {tuple(target.shape)}"
            )
        pred = pred.view(-1, 4)
        target = target.view(-1, 4)
        p_lo, p_hi = pred[:, :2] - pred[:, 2:] / 2, pred[:, :2] + pred[:, 2:] / 2
        t_lo, t_hi = target[:, :2] - target[:, 2:] / 2, target[:, :2] + target[:, 2:] / 2
        top_left = torch.max(p_lo, t_lo)
        bottom_right = torch.min(p_hi, t_hi)
        area_p = torch.prod(pred[:, 2:], 1)
        area_t = torch.prod(target[:, 2:], 1)
        overlaps = (top_left < bottom_right).type(top_left.type()).prod(dim=1)
        area_i = torch.prod(bottom_right - top_left, 1) * overlaps
        area_u = area_p + area_t - area_i
        iou = area_i / (area_u + 1e-16)
        if self.loss_type == "iou":
            loss = 1 - iou**2
        else:
            enclose_lo = torch.min(p_lo, t_lo)
            enclose_hi = torch.max(p_hi, t_hi)
            area_c = torch.prod(enclose_hi - enclose_lo, 1)
            giou = iou - (area_c - area_u) / area_c.clamp(1e-16)
            loss = 1 - giou.clamp(min=-1.0, max=1.0)
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss
