"""OpenVINO bf16: the runtime's precision hint, and ``export_openvino --bf16`` kept where it pays."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from yolox.testing.fixtures import make_model, save_model_checkpoint, write_synthetic_exp
from yolox.utils.precision import cpu_has_fast_bf16

ov = pytest.importorskip("openvino", reason="openvino not installed (pip install -e '.[deploy]')")

from yolox.deploy.openvino_export import export_openvino, mark_bf16, save_openvino  # noqa: E402
from yolox.deploy.runtimes import OpenVinoRuntime  # noqa: E402

SIZE = 64


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("ov_bf16")
    exp_file = write_synthetic_exp(
        root / "tiny_exp.py",
        f"self.data_dir = {str(root / 'data')!r}\n"
        "self.synthetic_images = (6, 4)\n"
        f"self.input_size = self.test_size = ({SIZE}, {SIZE})",
    )
    from yolox.exp import get_exp

    exp = get_exp(str(exp_file))
    model, cfg = make_model(None, seed=2, class_names=exp.class_names)
    ckpt = save_model_checkpoint(root / "model.pth", model, cfg)
    return {"exp_file": exp_file, "ckpt": ckpt, "model": model, "root": root}


def test_runtime_precision_hint_follows_the_ask_or_the_mark(tiny, tmp_path):
    path = tmp_path / "fp32.xml"
    ov_model = export_openvino(copy.deepcopy(tiny["model"]), path, test_size=(SIZE, SIZE))
    marked = save_openvino(mark_bf16(ov_model.clone()), tmp_path / "bf16.xml")
    assert OpenVinoRuntime(path).config["INFERENCE_PRECISION_HINT"] == "f32"
    assert OpenVinoRuntime(path, precision="bf16").config["INFERENCE_PRECISION_HINT"] == "bf16"
    assert OpenVinoRuntime(marked).config["INFERENCE_PRECISION_HINT"] == "bf16"
    assert OpenVinoRuntime(marked, precision="fp32").config["INFERENCE_PRECISION_HINT"] == "f32"
    with pytest.raises(ValueError, match="precision must be one of"):
        OpenVinoRuntime(path, precision="fp16")
    # the hint reaches the compiled model: on a CPU with native bf16 the outputs change by
    # bf16 rounding (this perturbed random nano amplifies it, so only "changed" is checked;
    # the tool's AP check judges accuracy on trained models)
    batch = np.random.default_rng(0).uniform(0, 255, (1, 3, SIZE, SIZE)).astype(np.float32)
    fp32, bf16 = OpenVinoRuntime(path).run(batch), OpenVinoRuntime(marked).run(batch)
    assert fp32.shape == bf16.shape and np.isfinite(bf16).all()
    if cpu_has_fast_bf16():
        assert not np.array_equal(fp32, bf16)


@pytest.mark.parametrize("bf16_ms", [5.0, 20.0])
def test_export_bf16_is_kept_only_where_it_pays(tiny, tmp_path, capsys, monkeypatch, bf16_ms):
    import yolox.deploy.int8 as quantize_module
    from yolox.tools.export_openvino import main

    timed = []

    def fake_speed(fp32, candidate, batch, runs, label, **kw):
        timed.append((label, OpenVinoRuntime(candidate).precision))
        return quantize_module.SpeedComparison(10.0, bf16_ms, len(batch), runs, label)

    monkeypatch.setattr(quantize_module, "compare_speed", fake_speed)
    output = tmp_path / "model.xml"
    argv = ["-f", str(tiny["exp_file"]), "-c", str(tiny["ckpt"]), "--output-name", str(output)]
    argv += ["--bf16", "--max-ap-drop", "100"]
    code = main(argv)
    captured = capsys.readouterr()
    assert timed == [("bf16", "bf16")]  # the candidate timed is the bf16-marked IR
    assert f"| bf16 | {bf16_ms:.1f} |" in captured.out
    written = tmp_path / "model_bf16.xml"
    if bf16_ms < 10:
        assert code == 0 and written.is_file()
        assert OpenVinoRuntime(written).precision == "bf16"
        assert "| fp32 |" in captured.out and "AP on the validation set" in captured.out
        return
    assert code == 2 and not written.exists()
    assert "bf16 is not faster than fp32 here" in captured.err
    assert "--keep-slow-int8" in captured.err


def test_export_bf16_needs_an_experiment(tiny, tmp_path, capsys):
    from yolox.tools.export_openvino import main

    argv = ["-c", str(tiny["ckpt"]), "--output-name", str(tmp_path / "m.xml"), "--bf16"]
    assert main(argv) == 2
    assert "--bf16 needs the experiment" in capsys.readouterr().err
