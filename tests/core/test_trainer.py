"""Trainer on a toy experiment: checkpoints, exact resume, NaN guard, atomic saves."""

from __future__ import annotations

import os

import pytest
import torch
from toy_exp import load, make_args, make_exp

import yolox.utils.checkpoint as ckpt_module
from yolox.core.errors import EXIT_DIVERGED, TrainingDiverged
from yolox.core.trainer import Trainer
from yolox.utils.errors import UserError


class Interrupted(Exception):
    """Stands in for a crash / Ctrl-C in the middle of training."""


class StoppingTrainer(Trainer):
    """Dies right before global iteration ``stop_at`` (1-based) would run."""

    stop_at = 0

    def train_one_iter(self) -> None:
        if self.progress_in_iter + 1 == self.stop_at:
            raise Interrupted
        super().train_one_iter()


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


def _assert_same_final_state(ref: dict, got: dict) -> None:
    for key in ("model", "train_model"):
        for name, tensor in ref[key].items():
            assert torch.equal(tensor, got[key][name]), f"{key}.{name} differs after resume"
    assert got["ema_updates"] == ref["ema_updates"] and got["iteration"] == ref["iteration"]
    ref_opt, got_opt = ref["optimizer"]["state"], got["optimizer"]["state"]
    for idx in ref_opt:
        assert torch.equal(ref_opt[idx]["momentum_buffer"], got_opt[idx]["momentum_buffer"])


@pytest.mark.parametrize(
    "kind", ["latest", "last_epoch", "best", "epoch_1", "epoch_2", "last_mosaic_epoch"]
)
def test_every_checkpoint_kind_resumes_exactly(tmp_path, deterministic, kind):
    # 3 epochs of 6 iterations; mosaic closes at epoch 2 (max_epoch 3 - no_aug_epochs 1 is the
    # first no-aug epoch, as in official YOLOX), so last_mosaic_epoch is the end of epoch 1.
    Trainer(make_exp(tmp_path / "a"), make_args("run")).train()
    ref = load(tmp_path / "a" / "run" / "latest_ckpt.pth")
    trainer = StoppingTrainer(make_exp(tmp_path / "b"), make_args("run"))
    trainer.stop_at = 15
    with pytest.raises(Interrupted):
        trainer.train()
    source = tmp_path / "b" / "run" / f"{kind}_ckpt.pth"
    saved = load(source)
    epoch = {"epoch_1": 1, "last_mosaic_epoch": 1}.get(kind, 2 if kind != "best" else None)
    if epoch is not None:
        assert saved["start_epoch"] == epoch and saved["iter_in_epoch"] == 0
        assert saved["iteration"] == saved["data_position"] == saved["ema_updates"] == 6 * epoch

    Trainer(make_exp(tmp_path / "c"), make_args("run", resume=True, ckpt=str(source))).train()
    _assert_same_final_state(ref, load(tmp_path / "c" / "run" / "latest_ckpt.pth"))


def test_last_mosaic_checkpoint_is_written_after_a_mid_epoch_resume(tmp_path, deterministic):
    Trainer(make_exp(tmp_path / "a"), make_args("run")).train()
    ref = load(tmp_path / "a" / "run" / "last_mosaic_epoch_ckpt.pth")
    trainer = StoppingTrainer(make_exp(tmp_path / "b"), make_args("run", save_interval=4))
    trainer.stop_at = 6  # mid epoch 1, the last mosaic epoch; latest holds iteration 4
    with pytest.raises(Interrupted):
        trainer.train()
    out = tmp_path / "b" / "run"
    assert not (out / "last_mosaic_epoch_ckpt.pth").exists()
    Trainer(make_exp(tmp_path / "b"), make_args("run", resume=True, save_interval=4)).train()
    got = load(out / "last_mosaic_epoch_ckpt.pth")
    assert got["iteration"] == ref["iteration"] == 6
    for name, tensor in ref["model"].items():
        assert torch.equal(tensor, got["model"][name]), name


def test_non_finite_gradients_stop_before_the_step(tmp_path):
    exp = make_exp(tmp_path)
    model = exp.get_model()
    calls = []

    def poison_third_step(grad):
        calls.append(1)
        return grad * float("inf") if len(calls) == 3 else grad

    model.stem.weight.register_hook(poison_third_step)
    trainer = Trainer(exp, make_args("run"))
    weights_before = {}

    real_stop = trainer._stop_if_diverged

    def remember_weights(loss, outputs):
        weights_before.update({k: v.clone() for k, v in model.state_dict().items()})
        real_stop(loss, outputs)

    trainer._stop_if_diverged = remember_weights
    with pytest.raises(TrainingDiverged, match="iteration 3 .*non-finite gradients"):
        trainer.train()
    for name, tensor in model.state_dict().items():  # the poisoned step was not applied
        assert torch.equal(tensor, weights_before[name]), name


def test_stale_temp_files_of_this_run_are_removed_at_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = out / ".latest_ckpt.pth.k2j4_x9q.tmp"  # as save_checkpoint names them
    stale.write_bytes(b"half a checkpoint")
    unrelated = [
        out / "notes.tmp",
        out / ".latest_ckpt.pth.bak",
        tmp_path / ".best_ckpt.pth.a1.tmp",
    ]
    for path in unrelated:
        path.write_text("keep me")
    from loguru import logger

    seen = []
    sink = logger.add(lambda message: seen.append(str(message)), format="{message}")
    try:
        Trainer(make_exp(tmp_path), make_args("run"))
    finally:
        logger.remove(sink)
    assert not stale.exists()
    assert all(path.read_text() == "keep me" for path in unrelated)
    assert any("Removed" in line and stale.name in line for line in seen)


def test_finetuning_from_a_checkpoint_of_another_size_warns_and_strict_fails(tmp_path):
    other = tmp_path / "other.pth"  # as if from a wider model: every conv has another shape
    model = make_exp(tmp_path).get_model()
    torch.save(
        {"model": {k: torch.zeros(*v.shape, 2) for k, v in model.state_dict().items()}}, other
    )
    from loguru import logger

    seen = []
    sink = logger.add(lambda m: seen.append(str(m)), format="{level} {message}")
    try:
        Trainer(make_exp(tmp_path), make_args("ft", ckpt=str(other))).before_train()
    finally:
        logger.remove(sink)
    log = "".join(seen)
    assert "WARNING" in log and "fits this model badly" in log and "--strict" in log
    with pytest.raises(UserError, match="(?s)--strict.*shape mismatch"):
        Trainer(make_exp(tmp_path), make_args("ft2", ckpt=str(other), strict=True)).before_train()


def test_history_checkpoints_are_limited_and_their_space_is_logged(tmp_path):
    exp = make_exp(tmp_path, max_epoch=3, eval_interval=1, max_history_ckpt=2)
    Trainer(exp, make_args("run")).train()
    out = tmp_path / "run"
    assert sorted(p.name for p in out.glob("epoch_*")) == ["epoch_2_ckpt.pth", "epoch_3_ckpt.pth"]
    log = (out / "train_log.txt").read_text()
    assert f"Removed {out / 'epoch_1_ckpt.pth'}" in log
    assert "2 history epoch_*_ckpt.pth" in log and "MB" in log


def test_a_run_of_another_model_never_writes_into_a_folder(tmp_path):
    Trainer(make_exp(tmp_path, max_epoch=1), make_args("run")).train()
    best = tmp_path / "run" / "best_ckpt.pth"
    before = best.read_bytes()
    other = make_exp(tmp_path, max_epoch=1, num_classes=2, class_names=("a", "b"))
    with pytest.raises(UserError, match="another model .*num_classes.*-expn"):
        Trainer(other, make_args("run"))
    assert best.read_bytes() == before
    # the same model may run there again (official behaviour), and resume
    Trainer(make_exp(tmp_path, max_epoch=2), make_args("run", resume=True)).train()


def test_training_keeps_the_callers_log_sinks_and_removes_its_own(tmp_path):
    """Trainer adds its train_log.txt sink for the run only; sinks the caller had stay."""
    from loguru import logger

    seen = []
    sink = logger.add(lambda message: seen.append(str(message)), level="INFO", format="{message}")
    try:
        exp = make_exp(tmp_path, max_epoch=1)
        Trainer(exp, make_args("sinks")).train()
        assert any("Training done" in line for line in seen)  # the caller still heard it all
        logger.info("after the run")  # reaches the caller's sink, not the run's file
        assert seen[-1].strip() == "after the run"
        assert "after the run" not in (tmp_path / "sinks" / "train_log.txt").read_text()
    finally:
        logger.remove(sink)


def test_exp_fields_the_trainer_reads_are_declared_and_settable(tmp_path):
    """save_interval_iters, ema_decay and sync_bn: in the printed table, set by merge, used."""
    exp = make_exp(tmp_path, max_epoch=1)
    exp.merge(["save_interval_iters", "2", "ema_decay", "0.5", "sync_bn", "True"])
    table = repr(exp)
    for name in ("save_interval_iters", "ema_decay", "sync_bn"):
        assert name in table
    trainer = Trainer(exp, make_args("fields"))
    assert trainer.save_interval == 2
    trainer.train()
    assert trainer.ema_model.decay_max == 0.5


def test_a_data_loader_override_still_gets_class_names_before_any_save(tmp_path):
    """Old-style exps build their loader themselves and never bind names; the trainer does."""
    exp = make_exp(tmp_path, max_epoch=1, class_names=None)
    Trainer(exp, make_args("names")).train()
    assert exp.class_names == ("class_0",)  # the toy data have no names: generated, one class


def test_a_seeded_rerun_into_its_own_folder_trains_the_same_model(tmp_path, deterministic):
    """The folder check describes a throwaway model: the trained one is still built after seeding."""
    Trainer(make_exp(tmp_path, max_epoch=1), make_args("run")).train()
    first = load(tmp_path / "run" / "latest_ckpt.pth")["train_model"]
    Trainer(make_exp(tmp_path, max_epoch=1), make_args("run")).train()  # same model: allowed
    second = load(tmp_path / "run" / "latest_ckpt.pth")["train_model"]
    for key, value in first.items():
        assert torch.equal(value, second[key]), key
