"""The detector: a neck (backbone + FPN) and a head."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .yolo_head import YOLOXHead
from .yolo_pafpn import YOLOPAFPN

__all__ = ["YOLOX"]


class YOLOX(nn.Module):
    """``eval()``: decoded [B, N, 5 + C] outputs; ``train()`` with targets: the loss dict."""

    def __init__(
        self, backbone: Optional[nn.Module] = None, head: Optional[nn.Module] = None
    ) -> None:
        super().__init__()
        self.backbone = backbone if backbone is not None else YOLOPAFPN()
        self.head = head if head is not None else YOLOXHead(80)

    def forward(self, x: torch.Tensor, targets: Optional[torch.Tensor] = None):
        fpn_outs = self.backbone(x)
        if self.training:
            if targets is None:
                raise ValueError(
                    "YOLOX in training mode needs targets [B, max_labels, 5]; call model.eval() for inference"
                )
            return self.head(fpn_outs, targets, x)
        return self.head(fpn_outs)
