"""Attention in the neck: positions, deterministic keys, nothing unused, exact identity start."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from yolox.models import available_attention, build_attention, build_model, zoo_config
from yolox.models.neck_attention import resolve_attention_plan
from yolox.models.yolo_pafpn import YOLOPAFPN
from yolox.utils.checkpoint import load_model_weights

POSITIONS = YOLOPAFPN.POSITIONS


def test_plan_defaults_to_the_backbone_outputs():
    assert list(resolve_attention_plan("cam", POSITIONS)) == ["dark3", "dark4", "dark5"]
    assert resolve_attention_plan(None, POSITIONS) == {}


def test_plan_accepts_positions_list_and_mapping():
    plan = resolve_attention_plan({"type": "se", "positions": ["C3_n4", "C3_p3"]}, POSITIONS)
    assert list(plan) == ["C3_p3", "C3_n4"]  # canonical order, not the user's
    assert plan["C3_p3"] == {"type": "se"}
    plan = resolve_attention_plan(
        {"positions": {"dark5": "cam", "C3_n3": {"type": "eca", "k_size": 3}}}, POSITIONS
    )
    assert plan == {"dark5": {"type": "cam"}, "C3_n3": {"type": "eca", "k_size": 3}}


@pytest.mark.parametrize(
    "spec",
    [None, "none", "None", " NONE ", {}, {"type": "None", "positions": ["dark3"]}],
)
def test_none_in_any_spelling_means_no_module(spec):
    assert resolve_attention_plan(spec, POSITIONS) == {}
    assert len(YOLOPAFPN(0.33, 0.25, attention=spec).attention) == 0


def test_none_for_one_position_builds_nothing_there():
    spec = {"positions": {"dark3": "None", "dark4": {"type": "none"}, "dark5": "CA", "C3_p3": None}}
    assert resolve_attention_plan(spec, POSITIONS) == {"dark5": {"type": "cam"}}
    neck = YOLOPAFPN(0.33, 0.25, attention=spec)
    assert list(neck.attention) == ["dark5"]  # no nn.Identity entries for the "none" positions


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "se", "positions": ["dark2"]},
        {"ratio": 4},
        {"positions": {"dark3": "se"}, "type": "se"},
        3,
    ],
)
def test_plan_rejects_bad_specs_with_a_message(bad):
    with pytest.raises((ValueError, TypeError)):
        resolve_attention_plan(bad, POSITIONS)


def test_only_selected_modules_are_built_and_official_keys_are_untouched():
    base = build_model(zoo_config("yolox-nano")).state_dict()
    model = build_model(
        zoo_config("yolox-nano", attention={"type": "se", "positions": ["dark4", "C3_n3"]})
    )
    state = model.state_dict()
    extra = [k for k in state if k not in base]
    assert extra and all(
        k.startswith(("backbone.attention.dark4.", "backbone.attention.C3_n3.")) for k in extra
    )
    official = [k for k in state if k in base]
    assert official == list(base)  # same keys, same relative order
    assert all(state[k].shape == base[k].shape for k in base)
    # every parameter is used (unused ones break DDP)
    model.train()
    losses = model(
        torch.rand(1, 3, 64, 64) * 255, torch.tensor([[[0, 30, 30, 20, 20]]], dtype=torch.float32)
    )
    losses["total_loss"].backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused


@pytest.mark.parametrize("kind", available_attention())
def test_identity_init_reproduces_the_loaded_checkpoint_exactly(kind, shared_fixtures):
    golden = torch.load(shared_fixtures / "golden_yolox_nano.pt", weights_only=True)
    baseline = build_model(zoo_config("yolox-nano"))
    baseline.load_state_dict(golden["model"], strict=True)
    spec = {"type": kind, "init": "identity", "positions": list(POSITIONS)}
    model = build_model(zoo_config("yolox-nano", attention=spec))
    report = load_model_weights(model, golden)
    assert not report.unexpected and not report.mismatched
    assert report.missing and all(".attention." in k for k in report.missing)
    baseline.eval()
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(golden["input"]), baseline(golden["input"]))
    # and in training mode the losses agree too (BN batch statistics included)
    baseline.train()
    model.train()
    ours = model(golden["input"], golden["targets"])
    ref = baseline(golden["input"], golden["targets"])
    assert torch.equal(ours["total_loss"].detach(), ref["total_loss"].detach())


def test_yolox_initialisation_sets_every_batchnorm_of_a_built_model():
    """Decision (docs/attention.md): inside a YOLOX model attention BNs get eps 1e-3 / momentum
    0.03 like every other BN, as official init_yolo does; a bare module keeps its own values."""
    spec = {"positions": {"dark3": "cbam", "dark4": "triplet", "dark5": "cam"}}
    bare = [m for m in build_attention("cbam", 64).modules() if isinstance(m, nn.BatchNorm2d)]
    assert bare and all((m.eps, m.momentum) == (1e-5, 0.01) for m in bare)
    model = build_model(zoo_config("yolox-nano", attention=spec))
    inside = [m for m in model.backbone.attention.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(inside) == 1 + 3 + 1  # cbam spatial gate, triplet's three gates, cam's bn1
    assert all(
        (m.eps, m.momentum) == (1e-3, 0.03)
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d)
    )
