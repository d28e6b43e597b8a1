"""The real YOLOX-nano experiment trains on tiny_coco and its checkpoint rebuilds the model."""

from __future__ import annotations

import torch

from yolox.models.build import ModelConfig, build_model
from yolox.tools.train import main


def test_nano_on_tiny_coco_one_epoch(shared_datasets, tmp_path):
    data = shared_datasets / "tiny_coco"
    argv = [
        "-n", "yolox-nano", "-b", "4", "--device", "cpu", "-expn", "nano",
        "output_dir", str(tmp_path), "data_dir", str(data),
        "val_ann", "instances_train2017.json", "val_name", "train2017",
        "input_size", "(64,64)", "test_size", "(64,64)", "random_size", "(2,2)",
        "max_epoch", "1", "warmup_epochs", "1", "no_aug_epochs", "0", "data_num_workers", "0",
        "print_interval", "2", "eval_interval", "1",
    ]  # fmt: skip
    assert main(argv) == 0
    state = torch.load(tmp_path / "nano" / "best_ckpt.pth", map_location="cpu", weights_only=True)
    model = build_model(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"], strict=True)  # checkpoint alone rebuilds the model
    assert state["iteration"] == 4 and state["start_epoch"] == 1
    assert all(
        torch.isfinite(t).all() for t in state["train_model"].values() if t.is_floating_point()
    )
    log = (tmp_path / "nano" / "train_log.txt").read_text()
    assert "Average Precision" in log and "ETA" in log and "size: 64" in log
