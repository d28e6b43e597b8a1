"""Rebuilding models from checkpoints, and reporting checkpoint/exp disagreements."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from yolox.exp import get_exp
from yolox.inference.loading import ModelMismatchError, compare_model_configs, load_model
from yolox.testing.fixtures import (
    CLASS_NAMES,
    make_model,
    nano_config,
    save_model_checkpoint,
)
from yolox.utils.checkpoint import CheckpointError


def nano_exp(num_classes=3, attention="cam", class_names=CLASS_NAMES):
    exp = get_exp(exp_name="yolox-nano")
    exp.num_classes = num_classes
    exp.class_names = tuple(class_names)
    exp.attention = attention
    return exp


@pytest.fixture(scope="module")
def cam_ckpt(tmp_path_factory):
    model, cfg = make_model("cam")
    path = save_model_checkpoint(tmp_path_factory.mktemp("ckpt") / "cam.pth", model, cfg)
    return path, model


def test_rebuilds_from_checkpoint_alone(cam_ckpt):
    path, reference = cam_ckpt
    loaded = load_model(path, device="cpu")
    assert loaded.config_source == "checkpoint"
    assert loaded.class_names == CLASS_NAMES
    assert not loaded.model.training
    assert loaded.report.exact
    x = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), reference(x), rtol=0, atol=0)


def test_matching_exp_is_accepted_even_with_other_spelling(cam_ckpt):
    path, _ = cam_ckpt
    exp = nano_exp(attention={"type": "CA"})  # alias of cam at the default positions
    loaded = load_model(path, exp=exp)
    assert loaded.warnings == []


def test_num_classes_mismatch_is_an_error_naming_the_field(cam_ckpt):
    path, _ = cam_ckpt
    with pytest.raises(ModelMismatchError, match=r"num_classes: checkpoint 3 vs exp 5"):
        load_model(path, exp=nano_exp(num_classes=5, class_names=[str(i) for i in range(5)]))


def test_attention_and_width_mismatch_are_listed_together(cam_ckpt):
    path, _ = cam_ckpt
    exp = nano_exp(attention="se")
    exp.width = 0.5
    with pytest.raises(ModelMismatchError) as info:
        load_model(path, exp=exp)
    assert "attention" in str(info.value) and "width" in str(info.value)


def test_class_name_difference_is_only_a_warning(cam_ckpt):
    path, _ = cam_ckpt
    loaded = load_model(path, exp=nano_exp(class_names=("a", "dog", "bird")))
    assert len(loaded.warnings) == 1 and "class_names" in loaded.warnings[0]
    assert loaded.class_names == CLASS_NAMES  # the checkpoint's names win


def test_compare_configs_reports_nothing_for_equal_configs():
    """Two configs built separately, spelled differently but meaning the same model."""
    _, cfg = make_model("se", perturb=False)
    same = dataclasses.replace(
        nano_config({"type": "SE"}),
        in_channels=list(cfg.in_channels),
        class_names=list(cfg.class_names),
    )
    assert same is not cfg
    assert compare_model_configs(cfg, same) == ([], [])


@pytest.mark.parametrize(
    "field, value",
    [
        ("attention", "cam"),
        ("num_classes", 4),
        ("width", 0.5),
        ("depth", 0.67),
        ("depthwise", False),
        ("act", "relu"),
        ("neck", "yolofpn"),
        ("in_channels", (128, 256, 512)),
    ],
)
def test_compare_configs_reports_each_architecture_field(field, value):
    _, cfg = make_model("se", perturb=False)
    errors, warnings = compare_model_configs(cfg, dataclasses.replace(cfg, **{field: value}))
    assert len(errors) == 1 and errors[0].startswith(f"{field}:") and warnings == []


def test_official_style_checkpoint_needs_an_exp(tmp_path):
    model, _ = make_model("cam")
    path = save_model_checkpoint(tmp_path / "official.pth", model, None)
    with pytest.raises(CheckpointError, match="no model_config.*experiment"):
        load_model(path)
    loaded = load_model(path, exp=nano_exp())
    assert loaded.config_source == "exp" and loaded.report.exact


def test_plain_weights_into_attention_exp_are_refused(tmp_path):
    model, _ = make_model(None)
    path = save_model_checkpoint(tmp_path / "plain.pth", model, None)
    with pytest.raises(ModelMismatchError, match="attention"):
        load_model(path, exp=nano_exp(attention="cam"))


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nope.pth")
