"""Checkpoint reading/writing: atomic saves, clear errors, and load reports."""

from __future__ import annotations

import os

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


def test_unreadable_files_are_explained_without_torchs_unsafe_advice(tmp_path):
    import argparse

    noise = tmp_path / "noise.pth"
    noise.write_bytes(bytes(range(256)) * 8)
    pickled = tmp_path / "pickled.pth"
    torch.save({"model": {}, "args": argparse.Namespace(lr=1)}, pickled)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(pickled.read_bytes()[:200])
    expected = {
        noise: "not a PyTorch checkpoint",
        pickled: "argparse.Namespace",
        truncated: "truncated or corrupted",
    }
    for path, reason in expected.items():
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert str(path) in message and reason in message
        assert "weights_only" not in message and "will likely succeed" not in message


def test_stale_temp_file_pattern_matches_what_save_checkpoint_writes(tmp_path, monkeypatch):
    from yolox.utils.checkpoint import remove_stale_temp_files

    def killed(obj, handle, *args, **kwargs):
        raise KeyboardInterrupt  # before the cleanup of save_checkpoint can run, see below

    real_unlink = ckpt_mod.os.unlink
    monkeypatch.setattr(ckpt_mod.os, "unlink", lambda path: None)  # as if killed (-9)
    monkeypatch.setattr(ckpt_mod.torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "latest_ckpt.pth", {"model": {}})
    monkeypatch.setattr(ckpt_mod.os, "unlink", real_unlink)
    left = list(tmp_path.glob(".*.tmp"))
    assert len(left) == 1
    keep = [tmp_path / "other.tmp", tmp_path / "latest_ckpt.pth.tmp"]
    for path in keep:
        path.write_text("x")
    assert remove_stale_temp_files(tmp_path) == left
    assert not left[0].exists() and all(path.exists() for path in keep)


def test_inference_settings_round_trip_through_a_checkpoint(tmp_path):
    from types import SimpleNamespace

    from yolox.utils.checkpoint import InferenceSettings

    exp = SimpleNamespace(
        exp_name="ignored", test_size=(128, 160), input_size=(256, 256), test_conf=0.02,
        nmsthre=0.5, dataset_format="voc", voc_metric="voc10", val_sets=(("2007", "test"),),
        val_fraction=0.0, val_ann="val.json", val_name="val2017", data_dir="data/voc",
        data_yaml="export/data.yaml", annotations_dir="xmls",
    )  # fmt: skip
    settings = InferenceSettings.from_exp(exp, "my_run")
    path = save_checkpoint(tmp_path / "c.pth", {"inference": settings.to_dict()})
    restored = InferenceSettings.from_checkpoint(load_checkpoint(path))
    assert restored == settings and restored.exp_name == "my_run"
    target = SimpleNamespace()
    restored.apply_to(target)
    assert target.test_size == (128, 160) and target.val_sets == (("2007", "test"),)
    assert target.data_dir == os.path.abspath("data/voc")  # found again from another folder
    assert target.data_yaml == os.path.abspath("export/data.yaml")
    assert target.annotations_dir == "xmls"  # a name beside images/ stays a name
    assert InferenceSettings.from_checkpoint({}) == InferenceSettings()  # older checkpoints
