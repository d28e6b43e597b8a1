"""Parameter groups: each trainable parameter exactly once, in the group the policy says."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from yolox.utils.optim import ParamGroupError, build_param_groups, check_param_groups


class Block(nn.Module):
    """Conv+BN, a LayerNorm'd linear, raw parameters (1-D scale and 2-D table), a frozen one."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.proj = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.pos_table = nn.Parameter(torch.zeros(4, 4))
        self.frozen = nn.Parameter(torch.zeros(2), requires_grad=False)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block()
        self.b = Block()
        self.b.proj.weight = self.a.proj.weight  # shared parameter must appear once


def _names(model: nn.Module, group: dict) -> set[str]:
    ids = {id(p) for p in group["params"]}
    return {n for n, p in model.named_parameters() if id(p) in ids}


def test_groups_follow_policy_and_cover_everything_once():
    model = Model()
    groups = build_param_groups(model, weight_decay=5e-4)
    assert [g["weight_decay"] for g in groups] == [0.0, 5e-4, 0.0]
    expected_norm, expected_decay, expected_bias = set(), set(), set()
    for prefix in ("a", "b"):
        expected_norm |= {f"{prefix}.bn.weight", f"{prefix}.norm.weight", f"{prefix}.gamma"}
        expected_decay |= {f"{prefix}.conv.weight", f"{prefix}.pos_table"}
        expected_bias |= {f"{prefix}.bn.bias", f"{prefix}.norm.bias", f"{prefix}.proj.bias"}
    expected_decay.add("a.proj.weight")  # named_parameters reports a shared tensor once
    assert _names(model, groups[0]) == expected_norm
    assert _names(model, groups[1]) == expected_decay
    assert _names(model, groups[2]) == expected_bias
    all_ids = [id(p) for g in groups for p in g["params"]]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(all_ids) == len(set(all_ids)) == len(trainable)
    optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True)
    check_param_groups(model, optimizer.param_groups)


def _official_style_groups(model: nn.Module) -> list[dict]:
    """The upstream grouping, which only looks at ``.weight`` and ``.bias`` attributes."""
    norm, decay, bias = [], [], []
    for name, module in model.named_modules():
        if isinstance(getattr(module, "bias", None), nn.Parameter):
            bias.append(module.bias)
        if isinstance(module, nn.BatchNorm2d) or "bn" in name:
            norm.append(module.weight)
        elif isinstance(getattr(module, "weight", None), nn.Parameter):
            decay.append(module.weight)
    return [{"params": norm}, {"params": decay, "weight_decay": 5e-4}, {"params": bias}]


def test_missing_raw_parameter_fails_loudly():
    model = Block()
    with pytest.raises(ParamGroupError, match="gamma"):
        check_param_groups(model, _official_style_groups(model))


def test_duplicate_parameter_fails_loudly():
    model = nn.Linear(2, 2)
    groups = [{"params": [model.weight, model.bias]}, {"params": [model.weight]}]
    with pytest.raises(ParamGroupError, match="more than one"):
        check_param_groups(model, groups)


def test_shuffle_attention_gate_biases_are_not_decayed():
    from yolox.models.attention import build_attention
    from yolox.utils.optim import build_param_groups

    module = build_attention("sa", 128)
    groups = build_param_groups(module, weight_decay=5e-4)
    named = {id(p): n for n, p in module.named_parameters()}
    no_decay = {named[id(p)] for g in groups if g["weight_decay"] == 0.0 for p in g["params"]}
    decayed = {named[id(p)] for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    assert {"cbias", "sbias"} <= no_decay
    assert {"cweight", "sweight"} <= decayed
