"""Checkpoint reading/writing: atomic saves, clear errors, and load reports."""

from __future__ import annotations

import pytest
import torch

from yolox.models import build_model, zoo_config
from yolox.utils import checkpoint as ckpt_mod
from yolox.utils.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model_weights,
    save_checkpoint,
)


def test_save_then_load_round_trip(tmp_path):
    state = {"model": {"w": torch.arange(4.0)}, "start_epoch": 3, "best_ap": 0.25}
    path = save_checkpoint(tmp_path / "sub" / "latest_ckpt.pth", state)
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["w"], state["model"]["w"]) and loaded["start_epoch"] == 3
    assert not list(path.parent.glob("*.tmp"))


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest_ckpt.pth"
    save_checkpoint(path, {"model": {"w": torch.ones(3)}, "epoch": 1})

    def crash(obj, handle, *args, **kwargs):
        handle.write(b"partial bytes")
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(ckpt_mod.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"model": {"w": torch.zeros(3)}, "epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert not list(tmp_path.glob("*.tmp")), "temporary file left behind"


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found: .*nope.pth"):
        load_checkpoint(tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pth"):
        load_checkpoint(bad)


def test_load_report_separates_new_attention_missing_unexpected_and_mismatched():
    official = build_model(zoo_config("yolox-nano")).state_dict()
    official["head.extra_thing"] = torch.zeros(1)
    model = build_model(zoo_config("yolox-nano", num_classes=3, attention="se"))
    report = load_model_weights(model, {"model": official})
    assert report.unexpected == ["head.extra_thing"]
    mismatched = {k for k, _, _ in report.mismatched}
    assert mismatched == {f"head.cls_preds.{i}.{p}" for i in range(3) for p in ("weight", "bias")}
    assert report.missing and all(".attention." in k for k in report.missing)
    text = report.summary()
    assert "new (attention" in text and "shape mismatch" in text and "unexpected" in text
    # mismatched tensors are skipped, matching ones are copied
    key = "backbone.backbone.stem.conv.conv.weight"
    assert torch.equal(model.state_dict()[key], official[key])
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_model_weights(model, {"model": official}, strict=True)


def test_ddp_prefix_is_stripped():
    model = build_model(zoo_config("yolox-nano"))
    wrapped = {f"module.{k}": v for k, v in model.state_dict().items()}
    report = load_model_weights(build_model(zoo_config("yolox-nano")), {"model": wrapped})
    assert report.exact
