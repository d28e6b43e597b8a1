"""ModelEMA: decay ramp and the update formula on parameters and buffers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from yolox.utils.ema import ModelEMA


def test_decay_ramp():
    ema = ModelEMA(nn.Linear(1, 1), decay=0.9999)
    assert ema.decay(0) == 0.0
    assert ema.decay(2000) == pytest.approx(0.9999 * (1 - math.exp(-1)))
    assert ema.decay(10**7) == pytest.approx(0.9999)


def test_update_formula_params_and_buffers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = ModelEMA(model, decay=0.9, updates=1000)
    before = {k: v.clone() for k, v in ema.ema.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.train()
    model(torch.randn(4, 3))  # moves running stats and num_batches_tracked
    ema.update(model)
    d = 0.9 * (1 - math.exp(-1001 / 2000))
    current = model.state_dict()
    for key, old in before.items():
        got = ema.ema.state_dict()[key]
        if old.dtype.is_floating_point:
            torch.testing.assert_close(got, d * old + (1 - d) * current[key])
        else:
            assert torch.equal(got, current[key])
    assert ema.updates == 1001
    assert not any(p.requires_grad for p in ema.ema.parameters())


def test_state_dict_roundtrip():
    model = nn.Linear(2, 2)
    ema = ModelEMA(model)
    ema.update(model)
    other = ModelEMA(nn.Linear(2, 2))
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1
    assert torch.equal(other.ema.weight, ema.ema.weight)
