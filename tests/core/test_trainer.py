"""Trainer on a toy experiment: checkpoints, exact resume, NaN guard, atomic saves."""

from __future__ import annotations

import argparse
import os

import pytest
import torch
from toy_exp import Exp

import yolox.utils.checkpoint as ckpt_module
from yolox.core.errors import EXIT_DIVERGED, TrainingDiverged
from yolox.core.trainer import Trainer


class Interrupted(Exception):
    """Stands in for a crash / Ctrl-C in the middle of training."""


class StoppingTrainer(Trainer):
    """Dies right before global iteration ``stop_at`` (1-based) would run."""

    stop_at = 0

    def train_one_iter(self) -> None:
        if self.progress_in_iter + 1 == self.stop_at:
            raise Interrupted
        super().train_one_iter()


def make_exp(tmp_path, **fields) -> Exp:
    exp = Exp()
    exp.output_dir = str(tmp_path)
    exp.max_epoch = 3
    exp.dataset_size = 12
    for key, value in fields.items():
        setattr(exp, key, value)
    return exp


def make_args(name: str, **extra) -> argparse.Namespace:
    args = dict(
        batch_size=2,
        device="cpu",
        experiment_name=name,
        resume=False,
        ckpt=None,
        start_epoch=None,
        fp16=False,
        cache=None,
        occupy=False,
        logger="tensorboard",
        save_interval=0,
    )
    args.update(extra)
    return argparse.Namespace(**args)


def load(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture
def deterministic():
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(previous)


def test_checkpoint_files_and_content(tmp_path):
    exp = make_exp(tmp_path, max_epoch=2, eval_interval=1)
    Trainer(exp, make_args("run")).train()
    out = tmp_path / "run"
    for name in ("latest", "best", "last_epoch", "epoch_1", "epoch_2"):
        assert (out / f"{name}_ckpt.pth").is_file(), name
    assert (out / "train_log.txt").read_text().count("ETA") >= 2
    assert any((out / "tensorboard").iterdir())
    state = load(out / "latest_ckpt.pth")
    assert state["start_epoch"] == 2 and state["iter_in_epoch"] == 0
    assert state["iteration"] == 12 and state["data_position"] == 12
    assert isinstance(state["best_ap"], float) and isinstance(state["curr_ap"], float)
    assert state["model_config"] == {"name": "toy", "num_classes": 1}
    assert state["train_size"] in ([32, 32], [64, 64])  # the multi-scale size in use
    inference = state["inference"]
    assert inference["input_size"] == [32, 32] and inference["test_size"] == [32, 32]
    assert inference["exp_name"] == "run" and inference["test_conf"] == exp.test_conf
    assert set(state["rng"][0]) >= {"python", "numpy", "torch"}
    model = exp.get_model()
    # "model" holds the EMA weights used for evaluation, "train_model" the raw ones
    assert not torch.equal(state["model"]["stem.weight"], state["train_model"]["stem.weight"])
    torch.testing.assert_close(state["train_model"]["stem.weight"], model.stem.weight.detach())
    assert state["ema_updates"] == 12
    assert "head.gamma" in state["model"]


@pytest.mark.parametrize(
    "stop_at,save_interval", [(9, 0), (10, 4)], ids=["epoch-boundary", "mid-epoch"]
)
def test_resume_is_exact(tmp_path, deterministic, stop_at, save_interval):
    # 6 iterations per epoch, 18 in all; multi-scale resize at iterations 10 and 20.
    straight = make_exp(tmp_path / "a")
    Trainer(straight, make_args("run", save_interval=save_interval)).train()
    ref = load(tmp_path / "a" / "run" / "latest_ckpt.pth")

    first = make_exp(tmp_path / "b")
    trainer = StoppingTrainer(first, make_args("run", save_interval=save_interval))
    trainer.stop_at = stop_at
    with pytest.raises(Interrupted):
        trainer.train()
    saved = load(tmp_path / "b" / "run" / "latest_ckpt.pth")
    assert saved["iteration"] == (6 if save_interval == 0 else 8)

    resumed = make_exp(tmp_path / "b")
    Trainer(resumed, make_args("run", resume=True, save_interval=save_interval)).train()
    got = load(tmp_path / "b" / "run" / "latest_ckpt.pth")
    for key in ("model", "train_model"):
        for name, tensor in ref[key].items():
            assert torch.equal(tensor, got[key][name]), f"{key}.{name} differs after resume"
    assert got["train_size"] == ref["train_size"]
    assert got["best_ap"] == ref["best_ap"]
    ref_opt, got_opt = ref["optimizer"]["state"], got["optimizer"]["state"]
    for idx in ref_opt:
        assert torch.equal(ref_opt[idx]["momentum_buffer"], got_opt[idx]["momentum_buffer"])
    assert [g["lr"] for g in ref["optimizer"]["param_groups"]] == [
        g["lr"] for g in got["optimizer"]["param_groups"]
    ]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    exp = make_exp(tmp_path, nan_at_iter=9)
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 2, iteration 3 .*loss") as info:
        Trainer(exp, make_args("run")).train()
    assert info.value.exit_code == EXIT_DIVERGED
    assert f"last good checkpoint: {tmp_path / 'run' / 'latest_ckpt.pth'}" in str(info.value)
    out = tmp_path / "run"
    state = load(out / "latest_ckpt.pth")
    assert state["start_epoch"] == 1 and state["iteration"] == 6
    assert all(
        torch.isfinite(t).all() for t in state["train_model"].values() if t.is_floating_point()
    )
    assert not (out / "epoch_2_ckpt.pth").exists()
    # the in-memory model never received the poisoned step either
    assert all(torch.isfinite(p).all() for p in exp.get_model().parameters())


def test_crash_while_saving_keeps_previous_checkpoint(tmp_path, monkeypatch):
    exp = make_exp(tmp_path, max_epoch=2, eval_interval=5)
    trainer = StoppingTrainer(exp, make_args("run"))
    trainer.stop_at = 8
    with pytest.raises(Interrupted):
        trainer.train()
    path = tmp_path / "run" / "latest_ckpt.pth"
    before = load(path)

    real_save = torch.save

    def partial_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial bytes of a checkpoint")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ckpt_module.torch, "save", partial_save)
    with pytest.raises(OSError, match="disk full"):
        trainer.save_ckpt("latest")
    monkeypatch.setattr(ckpt_module.torch, "save", real_save)
    after = load(path)
    assert after["iteration"] == before["iteration"] == 6
    assert torch.equal(after["train_model"]["stem.weight"], before["train_model"]["stem.weight"])
    assert not [f for f in os.listdir(path.parent) if f.endswith(".tmp")]


def test_finetune_from_weights_reports_new_keys(tmp_path, capsys):
    source = make_exp(tmp_path, max_epoch=1)
    Trainer(source, make_args("src")).train()
    state = load(tmp_path / "src" / "latest_ckpt.pth")
    weights = {k: v for k, v in state["model"].items() if k != "head.gamma"}
    official_like = tmp_path / "official.pth"
    torch.save({"model": weights, "start_epoch": 300}, official_like)

    target = make_exp(tmp_path, max_epoch=1)
    trainer = Trainer(target, make_args("ft", ckpt=str(official_like)))
    trainer.train()
    log = (tmp_path / "ft" / "train_log.txt").read_text()
    assert "missing from checkpoint: 1: head.gamma" in log
    assert trainer.start_epoch == 0  # -c alone fine-tunes from epoch 1


def test_resume_from_mismatched_checkpoint_is_a_clear_error(tmp_path):
    from yolox.utils.checkpoint import CheckpointError

    bad = tmp_path / "other.pth"
    weights = {"stem.weight": torch.zeros(8, 3, 3, 3)}
    torch.save({"model": weights, "optimizer": {}, "start_epoch": 1}, bad)
    exp = make_exp(tmp_path)
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        Trainer(exp, make_args("run", resume=True, ckpt=str(bad))).train()
    torch.save({"model": weights}, bad)  # weights only, e.g. an exported state dict
    with pytest.raises(CheckpointError, match="not a training checkpoint .*use -c without"):
        Trainer(make_exp(tmp_path), make_args("run", resume=True, ckpt=str(bad))).train()


@pytest.mark.parametrize("wanted, expected", [(None, True), (False, False)])
def test_cpu_training_uses_channels_last_unless_the_exp_says_no(tmp_path, wanted, expected):
    exp = make_exp(tmp_path)
    exp.channels_last = wanted
    trainer = Trainer(exp, make_args("run"))
    trainer.before_train()
    # only kernels whose two layouts differ (1x1 and depthwise kernels are both at once)
    conv_weights = [
        p
        for p in trainer.model.parameters()
        if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1
    ]
    assert conv_weights
    assert all(p.is_contiguous(memory_format=torch.channels_last) == expected for p in conv_weights)


def test_epochs_shorter_than_print_interval_still_log_their_losses(tmp_path):
    # 12 images, batch 2: 6 iterations per epoch, fewer than print_interval
    exp = make_exp(tmp_path, max_epoch=2, print_interval=10)
    Trainer(exp, make_args("short")).train()
    log = (tmp_path / "short" / "train_log.txt").read_text()
    for epoch in (1, 2):
        assert f"epoch: {epoch}/2, iter: 6/6" in log
    assert "iter: 5/6" not in log  # other iterations follow print_interval as before
