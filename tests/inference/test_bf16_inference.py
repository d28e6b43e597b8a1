"""bf16 autocast in the Predictor (fast path or asked) and in tools/eval.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import yolox.utils.precision as precision_module
from yolox.inference import Predictor
from yolox.testing.fixtures import CLASS_NAMES, make_model
from yolox.utils.errors import UserError

AMX = ("avx2", "avx512f", "amx_tile", "amx_bf16")
AVX2 = ("avx2", "fma")


def _conv_dtypes(model: torch.nn.Module) -> list:
    seen: list = []
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    first.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    return seen


@pytest.mark.parametrize(
    "flags, fast, precision, expected",
    [
        (AMX, True, "auto", "bf16"),  # --fast implies bf16 where the CPU has it
        (AMX, False, "auto", "fp32"),  # a plain predictor reproduces the fp32 scores
        (AVX2, True, "auto", "fp32"),  # emulated bf16 does not pay
        (AVX2, False, "bf16", "bf16"),  # asked: honoured anywhere
        (AMX, True, "fp32", "fp32"),
    ],
)
def test_predictor_precision_choice(monkeypatch, flags, fast, precision, expected):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: flags)
    model, _ = make_model(None)
    predictor = Predictor(
        model, CLASS_NAMES, test_size=(64, 64), device="cpu", fast=fast, precision=precision
    )
    dtypes = _conv_dtypes(predictor.model)
    predictor.predict(np.zeros((64, 64, 3), np.uint8))
    assert predictor.precision == expected
    assert dtypes == [torch.bfloat16 if expected == "bf16" else torch.float32]


def test_bf16_predictions_stay_close_to_fp32(trained_synthetic):
    """A trained nano on its validation images: bf16 moves confident boxes by well under a pixel
    and scores by a few hundredths (independent reference: the same model in float32)."""
    import copy

    batch = torch.from_numpy(trained_synthetic.val_batch)
    size = tuple(batch.shape[-2:])
    outputs = {}
    for precision in ("fp32", "bf16"):
        model = copy.deepcopy(trained_synthetic.base)
        predictor = Predictor(model, test_size=size, device="cpu", fast=True, precision=precision)
        outputs[precision] = predictor.forward(batch)
    fp32, bf16 = outputs["fp32"], outputs["bf16"]
    assert bf16.dtype == torch.float32 and not torch.equal(fp32, bf16)
    confident = fp32[..., 4] > 0.5
    assert int(confident.sum()) > 0
    centre_error = (fp32[..., :4] - bf16[..., :4]).abs()[confident]
    assert float(centre_error.median()) < 0.5  # pixels
    assert float((fp32[..., 4] - bf16[..., 4]).abs().max()) < 0.1


def test_fp16_and_bf16_cannot_be_combined():
    with pytest.raises(UserError, match="exclude each other"):
        precision_module.inference_precision("bf16", "cuda", fast=False, half=True)
    assert precision_module.inference_precision("auto", "cuda", fast=True, half=True) == "fp16"


def test_eval_tool_scores_in_bf16_with_fast_under_auto(trained_synthetic, tmp_path, monkeypatch):
    """tools/eval.py --fast on a CPU with native bf16 evaluates under bf16 autocast, and the AP
    stays close to the fp32 eval of the same checkpoint (independent reference: fp32 eval)."""
    import yolox.tools.eval as eval_tool
    from yolox.testing.fixtures import save_model_checkpoint, write_synthetic_exp
    from yolox.testing.shapes_training import SHAPES_IMAGES, SHAPES_SIZE

    ckpt = save_model_checkpoint(
        tmp_path / "base.pth", trained_synthetic.base, trained_synthetic.config
    )
    exp_file = write_synthetic_exp(
        tmp_path / "exp.py",
        f"self.data_dir = {trained_synthetic.exp.data_dir!r}\n"
        f"self.synthetic_images = {SHAPES_IMAGES}\n"
        f"self.input_size = self.test_size = ({SHAPES_SIZE}, {SHAPES_SIZE})",
    )
    seen = []
    real_autocast = eval_tool.precision_autocast

    def recording(device, precision):
        seen.append(precision)
        return real_autocast(device, precision)

    monkeypatch.setattr(eval_tool, "precision_autocast", recording)
    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: AMX)

    def run(*extra):
        args = eval_tool.make_parser().parse_args(
            ["-f", str(exp_file), "-c", str(ckpt), "-b", "4", "--device", "cpu", *extra]
        )
        return eval_tool.evaluate(eval_tool.prepare_exp(args), args, 1)

    fp32 = run("--fast", "--precision", "fp32")
    bf16 = run("--fast")
    plain = run()
    assert seen == ["fp32", "bf16", "fp32"]
    assert fp32["ap50_95"] > 0.2
    assert bf16["ap50_95"] == pytest.approx(fp32["ap50_95"], abs=0.03)
    assert plain["ap50_95"] == pytest.approx(fp32["ap50_95"], abs=1e-3)
