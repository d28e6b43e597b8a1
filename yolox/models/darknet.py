"""Backbones: CSPDarknet (YOLOX) and Darknet-21/53 (YOLOv3)."""

from __future__ import annotations

from typing import Dict, List, Sequence

import torch
from torch import nn

from .network_blocks import BaseConv, CSPLayer, Focus, ResLayer, SPPBottleneck, conv_block

__all__ = ["CSPDarknet", "Darknet"]

STAGES = ("stem", "dark2", "dark3", "dark4", "dark5")


def _select(
    outputs: Dict[str, torch.Tensor], out_features: Sequence[str]
) -> Dict[str, torch.Tensor]:
    return {name: outputs[name] for name in out_features}


def _check_features(out_features: Sequence[str]) -> None:
    unknown = [f for f in out_features if f not in STAGES]
    if not out_features or unknown:
        raise ValueError(
            f"out_features must be a non-empty subset of {STAGES}, got {list(out_features)}"
        )


class CSPDarknet(nn.Module):
    """YOLOX backbone; ``dep_mul``/``wid_mul`` scale block counts and channels (s: 0.33/0.50)."""

    def __init__(
        self,
        dep_mul: float,
        wid_mul: float,
        out_features: Sequence[str] = ("dark3", "dark4", "dark5"),
        depthwise: bool = False,
        act: str = "silu",
    ) -> None:
        super().__init__()
        _check_features(out_features)
        self.out_features = tuple(out_features)
        Conv = conv_block(depthwise)
        base = int(wid_mul * 64)
        depth = max(round(dep_mul * 3), 1)

        self.stem = Focus(3, base, ksize=3, act=act)
        self.dark2 = nn.Sequential(
            Conv(base, base * 2, 3, 2, act=act),
            CSPLayer(base * 2, base * 2, n=depth, depthwise=depthwise, act=act),
        )
        self.dark3 = nn.Sequential(
            Conv(base * 2, base * 4, 3, 2, act=act),
            CSPLayer(base * 4, base * 4, n=depth * 3, depthwise=depthwise, act=act),
        )
        self.dark4 = nn.Sequential(
            Conv(base * 4, base * 8, 3, 2, act=act),
            CSPLayer(base * 8, base * 8, n=depth * 3, depthwise=depthwise, act=act),
        )
        self.dark5 = nn.Sequential(
            Conv(base * 8, base * 16, 3, 2, act=act),
            SPPBottleneck(base * 16, base * 16, activation=act),
            CSPLayer(base * 16, base * 16, n=depth, shortcut=False, depthwise=depthwise, act=act),
        )

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        outputs = {}
        for name in STAGES:
            x = getattr(self, name)(x)
            outputs[name] = x
        return _select(outputs, self.out_features)


class Darknet(nn.Module):
    """Darknet-21 or Darknet-53 with an SPP block at the end (the YOLOv3 baseline's backbone)."""

    depth2blocks = {21: [1, 2, 2, 1], 53: [2, 8, 8, 4]}

    def __init__(
        self,
        depth: int,
        in_channels: int = 3,
        stem_out_channels: int = 32,
        out_features: Sequence[str] = ("dark3", "dark4", "dark5"),
    ) -> None:
        super().__init__()
        if depth not in self.depth2blocks:
            raise ValueError(
                f"Darknet depth must be one of {sorted(self.depth2blocks)}, got {depth}"
            )
        _check_features(out_features)
        self.out_features = tuple(out_features)
        blocks = self.depth2blocks[depth]
        c = stem_out_channels
        self.stem = nn.Sequential(
            BaseConv(in_channels, c, ksize=3, stride=1, act="lrelu"),
            *self._group(c, num_blocks=1, stride=2),
        )
        c *= 2
        self.dark2 = nn.Sequential(*self._group(c, blocks[0], stride=2))
        c *= 2
        self.dark3 = nn.Sequential(*self._group(c, blocks[1], stride=2))
        c *= 2
        self.dark4 = nn.Sequential(*self._group(c, blocks[2], stride=2))
        c *= 2
        self.dark5 = nn.Sequential(
            *self._group(c, blocks[3], stride=2), *self._spp_block(c * 2, (c, c * 2))
        )

    @staticmethod
    def _group(in_channels: int, num_blocks: int, stride: int) -> List[nn.Module]:
        """A stride-2 3x3 conv doubling the channels, then ``num_blocks`` residual units."""
        return [
            BaseConv(in_channels, in_channels * 2, ksize=3, stride=stride, act="lrelu"),
            *(ResLayer(in_channels * 2) for _ in range(num_blocks)),
        ]

    @staticmethod
    def _spp_block(in_channels: int, filters: Sequence[int]) -> List[nn.Module]:
        low, high = filters
        return [
            BaseConv(in_channels, low, 1, stride=1, act="lrelu"),
            BaseConv(low, high, 3, stride=1, act="lrelu"),
            SPPBottleneck(high, low, activation="lrelu"),
            BaseConv(low, high, 3, stride=1, act="lrelu"),
            BaseConv(high, low, 1, stride=1, act="lrelu"),
        ]

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        outputs = {}
        for name in STAGES:
            x = getattr(self, name)(x)
            outputs[name] = x
        return _select(outputs, self.out_features)
