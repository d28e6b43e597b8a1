"""YOLOv3 neck: Darknet + FPN, with optional attention on the backbone outputs."""

from __future__ import annotations

from typing import Sequence, Tuple

import torch
from torch import nn

from .darknet import Darknet
from .neck_attention import apply_at, build_position_modules, resolve_attention_plan
from .network_blocks import BaseConv

__all__ = ["YOLOFPN"]


def _cbl(in_channels: int, out_channels: int, ksize: int) -> BaseConv:
    return BaseConv(in_channels, out_channels, ksize, stride=1, act="lrelu")


def _embedding(filters: Sequence[int], in_channels: int) -> nn.Sequential:
    """Five alternating 1x1/3x3 CBL blocks, as in YOLOv3's detection branches."""
    low, high = filters
    return nn.Sequential(
        _cbl(in_channels, low, 1),
        _cbl(low, high, 3),
        _cbl(high, low, 1),
        _cbl(low, high, 3),
        _cbl(high, low, 1),
    )


class YOLOFPN(nn.Module):
    """Top-down FPN over Darknet's dark3/dark4/dark5; outputs 128/256/512 channels.

    Attention positions: ``dark3`` (256 ch), ``dark4`` (512 ch), ``dark5`` (512 ch).
    """

    POSITIONS = ("dark3", "dark4", "dark5")

    def __init__(
        self,
        depth: int = 53,
        in_features: Sequence[str] = ("dark3", "dark4", "dark5"),
        attention=None,
    ) -> None:
        super().__init__()
        self.backbone = Darknet(depth)
        self.depth = depth  # Darknet depth, recorded for checkpoints
        self.in_features = tuple(in_features)
        self.out1_cbl = _cbl(512, 256, 1)
        self.out1 = _embedding([256, 512], 512 + 256)
        self.out2_cbl = _cbl(256, 128, 1)
        self.out2 = _embedding([128, 256], 256 + 128)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")

        self.attention_plan = resolve_attention_plan(attention, self.POSITIONS)
        channels = {"dark3": 256, "dark4": 512, "dark5": 512}
        self.attention = build_position_modules(self.attention_plan, channels)

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.backbone(inputs)
        x2, x1, x0 = (apply_at(self.attention, name, features[name]) for name in self.in_features)
        x1_in = torch.cat([self.upsample(self.out1_cbl(x0)), x1], 1)
        out_dark4 = self.out1(x1_in)
        x2_in = torch.cat([self.upsample(self.out2_cbl(out_dark4)), x2], 1)
        out_dark3 = self.out2(x2_in)
        return out_dark3, out_dark4, x0
