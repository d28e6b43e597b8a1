"""The divergence guard on the real model: a huge learning rate ends with exit code 4 and one
message, never with SimOTA's ``all elements of input should be between 0 and 1``, and no
checkpoint ever holds a diverged state, so ``--resume`` from the last good one trains on."""

from __future__ import annotations

import pytest
import torch

from yolox.core.errors import EXIT_DIVERGED
from yolox.models import build_model, zoo_config
from yolox.testing.fixtures import write_synthetic_exp
from yolox.tools.train import main
from yolox.utils.checkpoint import load_checkpoint, non_finite_tensors


def _tiny_synthetic_exp(tmp_path):
    return write_synthetic_exp(
        tmp_path / "tiny_exp.py",
        f"self.data_dir = {str(tmp_path / 'synthetic')!r}\n"
        "self.synthetic_images = (16, 8)\n"
        "self.input_size = self.test_size = (64, 64)\n"
        "self.random_size = (2, 2)\n"
        "self.max_epoch, self.warmup_epochs, self.no_aug_epochs = 2, 1, 1\n"
        "self.eval_interval = self.print_interval = 1\n",
    )


@pytest.mark.slow
def test_huge_learning_rate_exits_diverged_and_the_last_good_checkpoint_resumes(tmp_path, capsys):
    run = ["-f", str(_tiny_synthetic_exp(tmp_path)), "-b", "8", "--device", "cpu", "-expn", "r"]
    out = ["output_dir", str(tmp_path / "out")]
    latest = tmp_path / "out" / "r" / "latest_ckpt.pth"

    assert main(run + out + ["max_epoch", "1"]) == 0  # one sane epoch: a good checkpoint
    capsys.readouterr()
    rc = main(run + ["--resume", "--save-interval", "1"] + out + ["basic_lr_per_img", "10"])
    err = capsys.readouterr().err
    assert rc == EXIT_DIVERGED, err
    assert "training diverged at epoch 2, iteration" in err
    assert f"last good checkpoint: {latest}" in err
    assert "between 0 and 1" not in err and "Traceback" not in err
    assert non_finite_tensors(load_checkpoint(latest)) == []

    assert main(run + ["--resume"] + out) == 0  # default learning rate: trains to the end
    assert load_checkpoint(latest)["start_epoch"] == 2


def test_head_turns_non_finite_predictions_into_a_nan_loss_instead_of_simota_crashing():
    model = build_model(zoo_config("yolox-nano", num_classes=3))
    with torch.no_grad():
        model.head.cls_preds[0].bias.fill_(float("nan"))
    labels = torch.zeros(2, 5, 5)
    labels[:, 0] = torch.tensor([1.0, 32.0, 32.0, 20.0, 20.0])
    losses = model(torch.rand(2, 3, 64, 64) * 255, labels)
    assert torch.isnan(losses["total_loss"])
    losses["total_loss"].backward()  # still part of the graph: backward and DDP work as usual
    assert model.head.cls_preds[0].weight.grad is not None
