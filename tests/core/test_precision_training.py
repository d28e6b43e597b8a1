"""bf16 autocast training on CPU: finite losses, float32 weights and EMA, precision recorded."""

from __future__ import annotations

import argparse

import pytest
import torch
from toy_exp import Exp as ToyExp
from toy_exp import make_args as trainer_args

from yolox.core.trainer import Trainer
from yolox.exp import Exp as YoloxExp
from yolox.utils.errors import UserError


class TinyYoloxExp(ToyExp):
    """The toy data and evaluator with a real (tiny) YOLOX: backbone, PAFPN, head, SimOTA."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.width = 0.33, 0.125
        self.input_size = self.test_size = (64, 64)
        self.random_size = (2, 2)
        self.max_epoch = 1
        self.warmup_epochs = 0
        self.no_aug_epochs = 0
        self.dataset_size = 8

    def model_config(self):
        return YoloxExp.model_config(self)

    def get_model(self):
        if getattr(self, "model", None) is None:
            self.model = YoloxExp.get_model(self)
        return self.model


class RecordingTrainer(Trainer):
    """Keeps every step's loss and the dtype the first convolution computed in."""

    def before_train(self) -> None:
        super().before_train()
        self.losses, self.conv_dtypes = [], []
        first_conv = next(m for m in self.model.modules() if isinstance(m, torch.nn.Conv2d))
        first_conv.register_forward_hook(lambda _m, _i, out: self.conv_dtypes.append(out.dtype))

    def train_one_iter(self) -> None:
        super().train_one_iter()
        self.losses.append(float(self.meter["total_loss"].latest))


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_training_steps_in_the_asked_precision(tmp_path, precision):
    exp = TinyYoloxExp()
    exp.output_dir = str(tmp_path)
    trainer = RecordingTrainer(exp, make_args("run", precision=precision))
    trainer.train()

    wanted = torch.bfloat16 if precision == "bf16" else torch.float32
    assert trainer.conv_dtypes and all(d == wanted for d in trainer.conv_dtypes)
    assert len(trainer.losses) == 2 and all(torch.isfinite(torch.tensor(trainer.losses)))
    # autocast changes what ops compute in, never what is stored
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert all(
        v.dtype == torch.float32
        for v in trainer.ema_model.ema.state_dict().values()
        if v.is_floating_point()
    )
    ckpt = torch.load(tmp_path / "run" / "latest_ckpt.pth", map_location="cpu", weights_only=True)
    assert ckpt["precision"] == precision
    assert all(v.dtype == torch.float32 for v in ckpt["model"].values() if v.is_floating_point())


def test_the_exp_field_is_the_default_and_auto_follows_the_cpu(tmp_path, monkeypatch):
    import yolox.utils.precision as precision_module

    exp = TinyYoloxExp()
    exp.output_dir = str(tmp_path)
    exp.precision = "auto"
    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2", "amx_bf16"))
    trainer = Trainer(exp, make_args("a"))
    # trains in bf16, evaluates as `eval -c` does by default, so the logged AP is reproducible
    assert (trainer.precision, trainer.eval_precision) == ("bf16", "fp32")
    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2", "fma"))
    assert Trainer(exp, make_args("b")).precision == "fp32"
    asked = Trainer(exp, make_args("c", precision="bf16"))
    assert (asked.precision, asked.eval_precision) == ("bf16", "bf16")


def test_resuming_in_another_precision_says_so(tmp_path, monkeypatch):
    """``auto`` resolves per CPU: a run resumed on a CPU without bf16 warns that it switches."""
    from loguru import logger

    import yolox.utils.precision as precision_module

    exp = TinyYoloxExp()
    exp.output_dir = str(tmp_path)
    exp.precision = "auto"
    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2", "avx512_bf16"))
    Trainer(exp, make_args("run")).train()

    lines = []
    sink = logger.add(lambda message: lines.append(str(message)), level="WARNING")
    try:
        monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2",))
        exp.max_epoch = 2
        Trainer(exp, make_args("run", resume=True)).train()
        same = len(lines)
        monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2",))
        exp.max_epoch = 3
        Trainer(exp, make_args("run", resume=True, precision="fp32")).train()
    finally:
        logger.remove(sink)
    switched = [line for line in lines[:same] if "trained in bf16" in line]
    assert switched and "continues in fp32" in switched[0] and "--precision bf16" in switched[0]
    assert not any("trained in" in line for line in lines[same:])  # fp32 after fp32: silent


def test_fp16_and_bf16_together_is_an_error(tmp_path, monkeypatch):
    exp = TinyYoloxExp()
    exp.output_dir = str(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(UserError, match="exclude each other"):
        Trainer(exp, make_args("run", device="cuda", fp16=True, precision="bf16"))


def test_the_head_decodes_in_float32_under_bf16_autocast():
    """Boxes are decoded in float32 from the bf16 logits: no rounding of pixel coordinates."""
    exp = TinyYoloxExp()
    exp.test_size = (128, 128)
    model = exp.get_model().eval()
    x = torch.rand(1, 3, 128, 128) * 255
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        model.head.decode_in_inference = False
        raw = model(x)
        model.head.decode_in_inference = True
        decoded = model(x)
    assert raw.dtype == decoded.dtype == torch.float32
    # independent reference: decode the raw logits in float64
    grids, strides = [], []
    for stride in model.head.strides:
        size = 128 // stride
        yv, xv = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        grids.append(torch.stack((xv, yv), 2).view(-1, 2))
        strides.append(torch.full((size * size, 1), stride))
    grid = torch.cat(grids).double()
    stride = torch.cat(strides).double()
    raw = raw.double()[0]
    centers = (raw[:, :2] + grid) * stride
    sizes = torch.exp(raw[:, 2:4]) * stride
    torch.testing.assert_close(decoded[0, :, :2].double(), centers, atol=1e-3, rtol=1e-5)
    torch.testing.assert_close(decoded[0, :, 2:4].double(), sizes, atol=1e-3, rtol=1e-4)


def make_args(name: str, **extra) -> argparse.Namespace:
    return trainer_args(name, batch_size=4, **extra)
