"""A kill between any two checkpoint writes of an epoch end leaves a consistent set (issue 18.4).

Each case lets the first ``k`` writes of one epoch end succeed and kills the run at the next
one (nothing of it reaches the disk), then resumes from latest. The finished run must hold the
same best checkpoint as an uninterrupted one, and what latest records as the best AP must be
what best_ckpt.pth holds.
"""

from __future__ import annotations

import pytest
import torch
from toy_exp import load, make_args, make_exp

import yolox.core.trainer as trainer_module
from yolox.core.trainer import Trainer

EPOCHS = 3
#: AP50:95 of each epoch: the best improves at epoch 2, not at epoch 3
SCRIPTED_AP = (0.2, 0.5, 0.4)


class Killed(Exception):
    """Stands in for kill -9 right before a checkpoint write."""


def _train(folder, monkeypatch=None, kill_epoch=None, kill_at=None, **args):
    exp = make_exp(folder, max_epoch=EPOCHS, eval_interval=1, seed=0, dataset_size=4)
    trainer = Trainer(exp, make_args("run", **args))
    toy_eval = exp.eval

    def scripted_eval(model, evaluator, is_distributed, **kwargs):
        toy_eval(model, evaluator, is_distributed, **kwargs)
        ap = SCRIPTED_AP[trainer.epoch]
        return ap, ap, f"scripted AP {ap}"

    exp.eval = scripted_eval
    writes: list = []
    if monkeypatch is not None:
        real = trainer_module.save_checkpoint

        def save(path, state):
            if trainer.epoch + 1 == kill_epoch and trainer.iter + 1 == trainer.max_iter:
                if len(writes) == kill_at:
                    raise Killed(path)
                writes.append(str(path))
            return real(path, state)

        monkeypatch.setattr(trainer_module, "save_checkpoint", save)
    trainer.train()
    return writes


@pytest.fixture(scope="module")
def deterministic():
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(previous)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, deterministic):
    folder = tmp_path_factory.mktemp("ref")
    _train(folder)
    return load(folder / "run" / "best_ckpt.pth"), load(folder / "run" / "latest_ckpt.pth")


# epoch 1 writes latest, last_epoch, best, epoch_1, last_mosaic_epoch; epoch 2 four, epoch 3 three
@pytest.mark.parametrize("kill_at", range(5))
@pytest.mark.parametrize("kill_epoch", range(1, EPOCHS + 1))
def test_a_kill_between_checkpoint_writes_keeps_best_and_latest_consistent(
    tmp_path, monkeypatch, deterministic, reference, kill_epoch, kill_at
):
    ref_best, ref_latest = reference
    try:
        written = _train(tmp_path, monkeypatch, kill_epoch, kill_at)
    except Killed:
        pass
    else:
        assert len(written) <= kill_at
        pytest.skip(f"epoch {kill_epoch} ends with {len(written)} writes")
    monkeypatch.undo()
    run = tmp_path / "run"
    if (run / "latest_ckpt.pth").exists():
        _train(tmp_path, resume=True)
    else:  # killed before the first latest: the run starts again
        _train(tmp_path)
    best, latest = load(run / "best_ckpt.pth"), load(run / "latest_ckpt.pth")
    assert latest["best_ap"] == best["curr_ap"] == ref_latest["best_ap"] == max(SCRIPTED_AP)
    assert best["start_epoch"] == ref_best["start_epoch"]
    for name, tensor in ref_best["model"].items():
        assert torch.equal(tensor, best["model"][name]), name
