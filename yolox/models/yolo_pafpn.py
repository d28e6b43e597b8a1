"""YOLOX neck: CSPDarknet + PAFPN, with optional attention modules at named positions."""

from __future__ import annotations

from typing import Sequence, Tuple

import torch
from torch import nn

from .darknet import CSPDarknet
from .neck_attention import apply_at, build_position_modules, resolve_attention_plan
from .network_blocks import BaseConv, CSPLayer, conv_block

__all__ = ["YOLOPAFPN"]


class YOLOPAFPN(nn.Module):
    """Top-down then bottom-up feature pyramid over the dark3/dark4/dark5 backbone outputs.

    Attention positions: the backbone outputs ``dark3``, ``dark4``, ``dark5`` and the outputs of
    ``C3_p4``, ``C3_p3``, ``C3_n3``, ``C3_n4``. Only selected positions get a module, stored in
    ``self.attention`` (a ModuleDict registered last, so no official key moves or changes).
    """

    POSITIONS = ("dark3", "dark4", "dark5", "C3_p4", "C3_p3", "C3_n3", "C3_n4")

    def __init__(
        self,
        depth: float = 1.0,
        width: float = 1.0,
        in_features: Sequence[str] = ("dark3", "dark4", "dark5"),
        in_channels: Sequence[int] = (256, 512, 1024),
        depthwise: bool = False,
        act: str = "silu",
        attention=None,
    ) -> None:
        super().__init__()
        self.backbone = CSPDarknet(depth, width, depthwise=depthwise, act=act)
        self.in_features = tuple(in_features)
        self.in_channels = tuple(in_channels)
        # the architecture as built, for checkpoints (an exp's own get_model may differ from its fields)
        self.depth, self.width, self.depthwise, self.act = depth, width, bool(depthwise), act
        Conv = conv_block(depthwise)
        c3, c4, c5 = (int(c * width) for c in in_channels)
        n = round(3 * depth)

        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.lateral_conv0 = BaseConv(c5, c4, 1, 1, act=act)
        self.C3_p4 = CSPLayer(2 * c4, c4, n, False, depthwise=depthwise, act=act)
        self.reduce_conv1 = BaseConv(c4, c3, 1, 1, act=act)
        self.C3_p3 = CSPLayer(2 * c3, c3, n, False, depthwise=depthwise, act=act)
        self.bu_conv2 = Conv(c3, c3, 3, 2, act=act)
        self.C3_n3 = CSPLayer(2 * c3, c4, n, False, depthwise=depthwise, act=act)
        self.bu_conv1 = Conv(c4, c4, 3, 2, act=act)
        self.C3_n4 = CSPLayer(2 * c4, c5, n, False, depthwise=depthwise, act=act)

        channels = {
            "dark3": c3,
            "dark4": c4,
            "dark5": c5,
            "C3_p4": c4,
            "C3_p3": c3,
            "C3_n3": c4,
            "C3_n4": c5,
        }
        self.attention_plan = resolve_attention_plan(attention, self.POSITIONS)
        self.attention = build_position_modules(self.attention_plan, channels)

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.backbone(inputs)
        att = self.attention
        x2, x1, x0 = (apply_at(att, name, features[name]) for name in self.in_features)

        fpn_out0 = self.lateral_conv0(x0)  # stride 32
        f_out0 = torch.cat([self.upsample(fpn_out0), x1], 1)
        f_out0 = apply_at(att, "C3_p4", self.C3_p4(f_out0))  # stride 16

        fpn_out1 = self.reduce_conv1(f_out0)
        f_out1 = torch.cat([self.upsample(fpn_out1), x2], 1)
        pan_out2 = apply_at(att, "C3_p3", self.C3_p3(f_out1))  # stride 8

        p_out1 = torch.cat([self.bu_conv2(pan_out2), fpn_out1], 1)
        pan_out1 = apply_at(att, "C3_n3", self.C3_n3(p_out1))  # stride 16

        p_out0 = torch.cat([self.bu_conv1(pan_out1), fpn_out0], 1)
        pan_out0 = apply_at(att, "C3_n4", self.C3_n4(p_out0))  # stride 32
        return pan_out2, pan_out1, pan_out0
