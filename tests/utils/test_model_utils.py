"""Parameter/FLOP counts (attention included) and conv+BN fusion."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from yolox.models import available_attention, build_model, zoo_config
from yolox.utils.flops import count_flops
from yolox.utils.model_utils import fuse_model, profile_model


def test_conv_flops_match_a_hand_count():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1, stride=2))
    total, _ = count_flops(net, torch.zeros(1, 3, 32, 32))
    expected = 2 * (8 * 32 * 32 * 3 * 9) + 2 * (4 * 16 * 16 * 8)
    assert total == expected


def test_elementwise_ops_count_only_inside_named_modules():
    class Gate(nn.Module):
        def forward(self, x):
            return x * x.mean((2, 3), keepdim=True).sigmoid()

    net = nn.Sequential(nn.Conv2d(2, 2, 1, bias=False), Gate())
    x = torch.zeros(1, 2, 4, 4)
    base, _ = count_flops(net, x)
    total, breakdown = count_flops(net, x, ["1"])
    # mean reads 32 elements, sigmoid writes 2, the product writes 32
    assert breakdown["1"] == 32 + 2 + 32 and total == base + 66


def test_zoo_numbers_match_the_published_ones():
    # Official README: yolox-s 9.0M params / 26.8 GFLOPs at 640; nano 0.91M / 1.08 GFLOPs at 416.
    s = profile_model(build_model(zoo_config("yolox-s")), 640)
    assert abs(s["params_m"] - 8.97) < 0.01 and abs(s["gflops"] - 26.8) < 0.2
    nano = profile_model(build_model(zoo_config("yolox-nano")), 416)
    assert abs(nano["params_m"] - 0.91) < 0.01 and abs(nano["gflops"] - 1.08) < 0.05


def test_attention_cost_is_counted_at_the_real_size_not_scaled():
    model = build_model(zoo_config("yolox-nano", attention="cbam"))
    small = profile_model(model, 64)
    large = profile_model(model, 256)
    assert small["attention_gflops"] > 0 and small["attention_params_m"] > 0
    # The spatial gate grows with the area (16x) but the channel MLP does not: a count scaled
    # from a small input (the official thop-at-64px shortcut) would give exactly 16x.
    assert 6 < large["attention_gflops"] / small["attention_gflops"] < 15


@pytest.mark.parametrize("kind", [None, *available_attention()])
def test_fuse_model_keeps_outputs(kind):
    torch.manual_seed(0)
    model = build_model(zoo_config("yolox-nano", num_classes=4, attention=kind))
    model.train()
    with torch.no_grad():  # give BN layers non-trivial running statistics
        for _ in range(3):
            model.backbone(torch.rand(2, 3, 64, 64) * 255)
    model.eval()
    x = torch.rand(1, 3, 96, 96) * 255
    with torch.no_grad():
        before = model(x)
        fuse_model(model)
        after = model(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()), (
        "a BatchNorm survived fusion"
    )
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-3)
