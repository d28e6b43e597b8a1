"""int8 export tools: ONNX Runtime quantization (``export_onnx --int8``), NNCF accuracy control
(``export_openvino --accuracy-control``), the shared flags and the validation-subset scorer."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from yolox.testing.fixtures import make_model, save_model_checkpoint, write_synthetic_exp

onnx = pytest.importorskip("onnx", reason="onnx not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime not installed")

from yolox.deploy import ExportedPredictor  # noqa: E402
from yolox.deploy.compare import score_exported  # noqa: E402
from yolox.deploy.export import export_onnx  # noqa: E402
from yolox.deploy.int8 import (  # noqa: E402
    INT8_CPU_FLAGS,
    cpu_int8_flags,
    has_int8_dot_product,
    head_output_nodes,
    int8_path_for,
)
from yolox.deploy.quantize_nncf import ValidationScorer  # noqa: E402
from yolox.deploy.quantize_onnxruntime import quantize_onnx  # noqa: E402
from yolox.deploy.runtimes import OnnxRuntime  # noqa: E402

SIZE = 64
SYNTHETIC = (12, 5)  # train, val images of the generated dataset


@pytest.fixture(scope="module")
def tiny_exp(tmp_path_factory):
    """An exp file on a small generated dataset at 64 px, and a checkpoint for its classes."""
    root = tmp_path_factory.mktemp("int8_tools")
    exp_file = write_synthetic_exp(
        root / "tiny_exp.py",
        f"self.data_dir = {str(root / 'data')!r}\n"
        f"self.synthetic_images = {SYNTHETIC}\n"
        f"self.input_size = self.test_size = ({SIZE}, {SIZE})",
    )
    from yolox.exp import get_exp

    exp = get_exp(str(exp_file))
    model, cfg = make_model(None, seed=7, class_names=exp.class_names)
    ckpt = save_model_checkpoint(root / "model.pth", model, cfg)
    return {"exp_file": exp_file, "exp": exp, "ckpt": ckpt, "model": model, "config": cfg}


def _calibration(count: int = 3) -> list:
    rng = np.random.default_rng(0)
    return [rng.uniform(0, 255, (3, SIZE, SIZE)).astype(np.float32) for _ in range(count)]


def _onnx_file(tmp_path: Path, model: torch.nn.Module, cfg=None) -> Path:
    path = tmp_path / "fp32.onnx"
    export_onnx(
        copy.deepcopy(model),
        path,
        test_size=(SIZE, SIZE),
        dynamic=True,
        decode_in_inference=False,
        opset=13,
        config=cfg,
        class_names=("circle", "square", "triangle"),
    )
    return path


def _dequantized_inputs(model) -> dict:
    """conv name -> (activation, weight) come from a DequantizeLinear (QDQ int8 inputs)."""
    producers = {out: node.op_type for node in model.graph.node for out in node.output}
    return {
        node.name: tuple(producers.get(i) == "DequantizeLinear" for i in node.input[:2])
        for node in model.graph.node
        if node.op_type == "Conv"
    }


# ------------------------------------------------------------------ ONNX Runtime quantization


def test_onnx_int8_quantizes_every_conv_and_keeps_the_metadata(tmp_path, monkeypatch):
    model, cfg = make_model("cbam", seed=2)
    fp32 = _onnx_file(tmp_path, model, cfg)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # ONNX Runtime's tools like to leave temporary files in the cwd
    int8 = quantize_onnx(fp32, tmp_path / "int8.onnx", _calibration(), signed_weights=False)
    assert not list(work.iterdir())
    graph = onnx.load(int8)
    inputs = _dequantized_inputs(graph)
    # activations and weights of every convolution are int8 (a QDQ pair feeds both)
    assert inputs and all(all(pair) for pair in inputs.values()), inputs
    weight_types = {
        init.data_type
        for init in graph.graph.initializer
        if init.name.endswith("_quantized") and len(init.dims) == 4
    }
    assert weight_types == {onnx.TensorProto.UINT8}
    predictor = ExportedPredictor(int8)
    assert predictor.metadata["precision"] == "int8"
    assert predictor.metadata["int8_weights"] == "u8"
    assert predictor.metadata["model_config"] == cfg.to_dict()
    assert predictor.class_names == ("circle", "square", "triangle")
    # it runs at another batch than calibrated (agreement with fp32 needs trained weights:
    # see test_openvino.py, every attention type on a trained model)
    batch = np.stack(_calibration(2))
    got = OnnxRuntime(int8).run(batch)
    assert got.shape == OnnxRuntime(fp32).run(batch).shape and np.isfinite(got).all()


def test_onnx_int8_signed_weights_and_head_kept_in_float(tmp_path):
    model, _ = make_model(None, seed=3)
    fp32 = _onnx_file(tmp_path, model)
    int8 = quantize_onnx(
        fp32, tmp_path / "int8.onnx", _calibration(), keep_head_fp32=True, signed_weights=True
    )
    graph = onnx.load(int8)
    inputs = _dequantized_inputs(graph)
    heads = set(head_output_nodes(inputs))
    assert len(heads) == 9  # cls, reg and obj prediction convs at three strides
    # their weights stay float (their inputs are the int8 outputs of the layers before them)
    assert not any(inputs[name][1] for name in heads), {n: inputs[n] for n in heads}
    assert all(all(inputs[name]) for name in inputs if name not in heads)
    assert {
        init.data_type
        for init in graph.graph.initializer
        if init.name.endswith("_quantized") and len(init.dims) == 4
    } == {onnx.TensorProto.INT8}
    assert ExportedPredictor(int8).metadata["int8_weights"] == "s8"


def test_cpu_int8_flags_come_from_the_one_cpu_capability_function():
    from yolox.utils.precision import cpu_description

    assert cpu_int8_flags(["fpu", "sse", "avx2", "fma", "avx512f", "avx512_vnni"]) == (
        "avx2",
        "avx512f",
        "avx512_vnni",
    )
    assert has_int8_dot_product(cpu_int8_flags(["avx2", "avx512f", "avx512_vnni"]))
    assert not has_int8_dot_product(cpu_int8_flags(["fpu", "sse", "avx2", "fma"]))
    # this CPU's: what yolox.utils.precision reports, not a second reading of /proc/cpuinfo
    reported = set(cpu_description()["cpu_flags"])
    assert cpu_int8_flags() == tuple(f for f in INT8_CPU_FLAGS if f in reported)


def test_int8_file_names():
    assert int8_path_for("out/model.xml") == "out/model_int8.xml"
    assert int8_path_for("model.onnx") == "model_int8.onnx"


# ------------------------------------------------------------------ the export_onnx tool


def test_export_onnx_int8_writes_a_checked_model(tiny_exp, tmp_path, capsys):
    from yolox.tools.export_onnx import main

    output = tmp_path / "out" / "model.onnx"
    argv = ["-f", str(tiny_exp["exp_file"]), "-c", str(tiny_exp["ckpt"])]
    argv += ["--output-name", str(output), "--int8", "--calib-images", "4", "--keep-slow-int8"]
    assert main([*argv, "--max-ap-drop", "100", "--speed-runs", "2"]) == 0
    out = capsys.readouterr().out
    int8 = tmp_path / "out" / "model_int8.onnx"
    assert "| fp32 |" in out and "| int8 |" in out and f"saved {int8}" in out
    assert "median ms per batch of 1 (2 runs)" in out  # both timed, side by side
    # an untrained model scores near 0 AP: its AP drop says nothing, and the tool says so
    assert "the AP check cannot judge this model" in out
    assert onnx.load(output).opset_import[0].version >= 13
    assert ExportedPredictor(int8).metadata["precision"] == "int8"
    # the printed int8 AP is the int8 file's AP on the exp's validation set
    exp = tiny_exp["exp"]
    ap50_95, _ = score_exported(exp, int8)
    assert f"| int8 | {ap50_95:.2f} |" in out


def test_export_onnx_int8_refuses_over_the_threshold_and_writes_nothing(tiny_exp, tmp_path, capsys):
    from yolox.tools.export_onnx import main

    output = tmp_path / "model.onnx"
    argv = ["-f", str(tiny_exp["exp_file"]), "-c", str(tiny_exp["ckpt"])]
    argv += ["--output-name", str(output), "--int8", "--calib-images", "2", "--keep-slow-int8"]
    # any AP change, even a gain, exceeds a threshold of -100 points
    assert main([*argv, "--max-ap-drop", "-100"]) == 2
    err = capsys.readouterr().err
    assert "more than --max-ap-drop -100.0" in err and "model_int8.onnx not written;" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    # an int8 file of an earlier export is left alone, and the message says whose it is
    (tmp_path / "model_int8.onnx").write_bytes(b"earlier")
    assert main([*argv, "--max-ap-drop", "-100"]) == 2
    assert "already there is from an earlier export" in capsys.readouterr().err
    assert (tmp_path / "model_int8.onnx").read_bytes() == b"earlier"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--int8", "-o", "11"], "--int8 needs opset >= 13"),
        (["--int8", "--decode_in_inference"], "drop --decode_in_inference"),
        (["--keep-head-fp32"], "--keep-head-fp32 only apply with --int8"),
    ],
)
def test_export_onnx_int8_flag_mistakes_are_one_line_errors(
    tiny_exp, tmp_path, capsys, extra, message
):
    from yolox.tools.export_onnx import main

    argv = ["-f", str(tiny_exp["exp_file"]), "-c", str(tiny_exp["ckpt"])]
    assert main([*argv, "--output-name", str(tmp_path / "m.onnx"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not list(tmp_path.iterdir())


def test_int8_without_an_experiment_is_refused(tiny_exp, tmp_path, capsys):
    from yolox.tools.export_onnx import main

    argv = ["-c", str(tiny_exp["ckpt"]), "--output-name", str(tmp_path / "m.onnx"), "--int8"]
    assert main(argv) == 2
    assert "--int8 needs the experiment (-f or -n)" in capsys.readouterr().err


# ------------------------------------------------------------------ int8 only where it pays


def test_compare_speed_times_each_file(tmp_path):
    """yolox-s (~25x nano's FLOPs) is slower: the two files are timed, not one of them twice."""
    from yolox.deploy.compare import compare_speed
    from yolox.models.build import build_model, zoo_config

    small = build_model(zoo_config("yolox-nano", num_classes=3)).eval()
    large = build_model(zoo_config("yolox-s", num_classes=3)).eval()
    (tmp_path / "s").mkdir()
    (tmp_path / "l").mkdir()
    small_file = _onnx_file(tmp_path / "s", small)
    large_file = _onnx_file(tmp_path / "l", large)
    batch = np.stack(_calibration(2))
    speed = compare_speed(small_file, large_file, batch, runs=3, warmup=1, threads=1)
    assert speed.batch == 2 and speed.runs == 3
    assert speed.int8_ms > 2 * speed.fp32_ms and not speed.int8_pays
    assert compare_speed(large_file, small_file, batch, runs=3, warmup=1, threads=1).int8_pays


@pytest.mark.parametrize("int8_ms", [5.0, 20.0])
def test_export_keeps_int8_only_where_it_is_faster(
    tiny_exp, tmp_path, capsys, monkeypatch, int8_ms
):
    import yolox.deploy.int8 as quantize_module
    from yolox.tools.export_onnx import main

    timed = []

    def fake_speed(fp32, int8, batch, runs, **kw):
        timed.append((Path(fp32).name, batch.shape))
        return quantize_module.SpeedComparison(10.0, int8_ms, len(batch), runs)

    monkeypatch.setattr(quantize_module, "compare_speed", fake_speed)
    monkeypatch.setattr(quantize_module, "cpu_int8_flags", lambda *a: ("avx2",))
    output = tmp_path / "model.onnx"
    argv = [
        "-f",
        str(tiny_exp["exp_file"]),
        "-c",
        str(tiny_exp["ckpt"]),
        "--batch-size",
        "2",
        "--dynamic",
    ]
    argv += ["--output-name", str(output), "--int8", "--calib-images", "2", "--max-ap-drop", "100"]
    code = main(argv)
    captured = capsys.readouterr()
    assert timed == [("model.onnx", (2, 3, SIZE, SIZE))], captured
    assert "| fp32 | 10.0 | 1.00 |" in captured.out
    assert f"| int8 | {int8_ms:.1f} | {int8_ms / 10:.2f} |" in captured.out
    if int8_ms < 10:
        assert code == 0 and (tmp_path / "model_int8.onnx").exists()
        return
    assert code == 2 and not (tmp_path / "model_int8.onnx").exists()
    assert "int8 is not faster than fp32 here (20.0 vs 10.0 ms per batch of 2)" in captured.err
    assert "no int8 dot-product instructions" in captured.err and "--keep-slow-int8" in captured.err
    assert main([*argv, "--keep-slow-int8"]) == 0  # asked to keep it anyway: kept, and said
    assert (tmp_path / "model_int8.onnx").exists()


# ------------------------------------------------------------------ the validation scorer


def test_validation_scorer_scores_subsets_and_returns_outputs_in_order(tiny_exp, tmp_path):
    exp = tiny_exp["exp"]
    fp32 = _onnx_file(tmp_path, tiny_exp["model"], tiny_exp["config"])
    scorer = ValidationScorer(exp, batch_size=2)
    assert len(scorer) == SYNTHETIC[1]
    runtime = OnnxRuntime(fp32)
    # the whole set: the same AP as the exported model scored by the exp's evaluator
    ap_all, outputs = scorer.score(runtime, range(len(scorer)))
    assert ap_all == pytest.approx(score_exported(exp, fp32, batch_size=3)[0], abs=1e-9)
    assert len(outputs) == len(scorer)
    # a shuffled subset: one output per image, in the order asked for, equal to that image's
    order = [3, 0, 4]
    _, subset_outputs = scorer.score(runtime, order)
    assert len(subset_outputs) == len(order)
    for index, (out,) in zip(order, subset_outputs):
        np.testing.assert_allclose(out, runtime.run(scorer.image(index)), rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------------ NNCF accuracy control


class OutputAgreement:
    """A stand-in for :class:`ValidationScorer` whose metric falls as outputs leave fp32's:
    100 / (1 + mean absolute deviation of the raw outputs from the fp32 model's), in points.
    Accuracy control must then put operations back into float32 until the drop is small."""

    def __init__(self, images: list, reference: list) -> None:
        self.images = images
        self.reference = reference

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> np.ndarray:
        return self.images[index][None]

    def score(self, runtime, indices) -> tuple:
        outputs = [[runtime.run(self.image(i))] for i in indices]
        deviation = np.mean(
            [np.abs(o[0] - self.reference[i]).mean() for o, i in zip(outputs, indices)]
        )
        return 100.0 / (1.0 + float(deviation)), outputs


def _fake_quantizers(model) -> int:
    return sum(op.get_type_name() == "FakeQuantize" for op in model.get_ops())


class SmallNet(torch.nn.Module):
    """A few convolutions with YOLOX-like outputs [B, anchors, 8]: NNCF ranks every group of
    quantizers by compiling a model per group, minutes for a nano, a second here."""

    def __init__(self) -> None:
        super().__init__()
        widths = (3, 16, 32, 32, 32, 32)
        layers = []
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
            layers += [torch.nn.Conv2d(c_in, c_out, 3, 1 + (i < 2), 1), torch.nn.ReLU()]
        self.body = torch.nn.Sequential(*layers, torch.nn.Conv2d(widths[-1], 8, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x / 255.0).flatten(2).transpose(1, 2)


def accuracy_control_outcome() -> dict:
    """Quantize :class:`SmallNet` plainly, then with accuracy control at 90 % of the plain drop.

    Run in a child process by the test below: after NNCF's accuracy control, a later
    ``subprocess.run`` in the same long-lived pytest process crashed (SIGSEGV in the vDSO's
    clock_gettime, seen only after many other tests); the tools run it in a process of their own.
    """
    import openvino as ov

    from yolox.deploy.quantize_nncf import quantize_openvino
    from yolox.deploy.runtimes import CompiledOpenVino

    torch.manual_seed(0)
    with torch.no_grad():
        ov_model = ov.convert_model(SmallNet().eval(), example_input=torch.zeros(1, 3, SIZE, SIZE))
    ov_model.output(0).get_tensor().set_names({"output"})  # as the exported IRs name it
    images = _calibration(4)
    core = ov.Core()

    # float32 inference as NNCF's accuracy control and the project's runtimes use it (OpenVINO
    # would otherwise run in bf16 on CPUs with bf16 units, and score another model than NNCF did)
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}

    def metric(model, scorer) -> float:
        compiled = core.compile_model(model, "CPU", f32)
        return scorer.score(CompiledOpenVino(compiled, {}), range(4))[0]

    fp32 = CompiledOpenVino(core.compile_model(ov_model, "CPU", f32), {})
    scorer = OutputAgreement(images, [fp32.run(a[None]) for a in images])
    plain = quantize_openvino(ov_model, images, fast_bias_correction=None)
    plain_drop = 100.0 - metric(plain, scorer)
    budget = 0.9 * plain_drop  # within reach by putting a few operations back into float
    controlled = quantize_openvino(
        ov_model, images, fast_bias_correction=None, accuracy=scorer, max_ap_drop=budget
    )
    return {
        "plain_drop": plain_drop,
        "budget": budget,
        "controlled_drop": 100.0 - metric(controlled, scorer),
        "plain_quantizers": _fake_quantizers(plain),
        "controlled_quantizers": _fake_quantizers(controlled),
        "precision": controlled.get_rt_info(["yolox", "precision"]).astype(str),
    }


def test_accuracy_control_returns_costly_operations_to_float32():
    pytest.importorskip("nncf", reason="nncf not installed (pip install -e '.[deploy]')")
    code = (
        "import json, runpy, sys; "
        "module = runpy.run_path(sys.argv[1]); "
        "print('OUTCOME', json.dumps(module['accuracy_control_outcome']()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, __file__], capture_output=True, text=True, timeout=600
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("OUTCOME ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    outcome = json.loads(lines[-1][len("OUTCOME ") :])
    assert outcome["plain_drop"] > 0
    assert outcome["controlled_drop"] <= outcome["budget"], outcome
    assert 0 < outcome["controlled_quantizers"] < outcome["plain_quantizers"], outcome
    assert outcome["precision"] == '"int8"'


KEEP_ANY_INT8 = ("--max-ap-drop", "100", "--keep-slow-int8")


@pytest.mark.slow
def test_export_openvino_with_accuracy_control_writes_a_checked_model(tiny_exp, tmp_path):
    pytest.importorskip("nncf", reason="nncf not installed (pip install -e '.[deploy]')")
    output = tmp_path / "model.xml"
    argv = ["-f", str(tiny_exp["exp_file"]), "-c", str(tiny_exp["ckpt"])]
    argv += ["--output-name", str(output), "--int8", "--calib-images", "3", "--accuracy-control"]
    # a process of its own, as users run it (see accuracy_control_outcome)
    proc = subprocess.run(
        # --keep-slow-int8: this test is about accuracy control, not about int8 paying here
        [sys.executable, "-m", "yolox.tools.export_openvino", *argv, *KEEP_ANY_INT8],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| fp32 |" in proc.stdout and "| int8 |" in proc.stdout
    int8 = tmp_path / "model_int8.xml"
    assert int8.is_file() and (tmp_path / "model_int8.bin").is_file()
    assert ExportedPredictor(int8).metadata["precision"] == "int8"


# ------------------------------------------------------------------ the decision, as a value


def test_keep_if_it_pays_returns_its_decision_and_prints_nothing(
    tiny_exp, tmp_path, monkeypatch, capsys
):
    """The library measures and decides; what it decided comes back as a CandidateCheck (the
    tools print it): refused for speed before any AP, kept, or refused for its AP drop."""
    import yolox.deploy.int8 as int8_module
    from yolox.deploy.compare import SpeedComparison
    from yolox.deploy.int8 import CheckOptions, calibration_images, keep_if_it_pays

    exp = tiny_exp["exp"]
    fp32 = _onnx_file(tmp_path, tiny_exp["model"], tiny_exp["config"])
    images = calibration_images(exp, 2, (SIZE, SIZE))
    target = tmp_path / "out" / "fp32_int8.onnx"
    target.parent.mkdir()
    made = []

    def make(path):
        made.append(path)
        quantize_onnx(fp32, path, images)

    def timed_as(int8_ms):
        def fake(fp32_path, candidate, batch, runs, label):
            return SpeedComparison(10.0, int8_ms, len(batch), runs, label)

        return fake

    def check(int8_ms, **options):
        monkeypatch.setattr(int8_module, "compare_speed", timed_as(int8_ms))
        return keep_if_it_pays(exp, fp32, target, make, images, CheckOptions(**options))

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # ONNX Runtime's quantizer may leave files in the cwd
    slow = check(20.0, max_ap_drop=100.0)
    assert not slow.faster and slow.ap is None and not slow.written and not target.exists()
    assert slow.capability == int8_module.int8_capability_note()
    kept = check(5.0, max_ap_drop=100.0)
    assert kept.faster and kept.written and target.is_file()
    # the AP it reports is each file's own AP on the exp's validation set
    assert kept.ap.fp32 == pytest.approx(score_exported(exp, fp32))
    assert kept.ap.int8 == pytest.approx(score_exported(exp, target))
    assert kept.within_ap_budget and kept.ap_can_judge == (kept.ap.fp32[0] >= 5.0)
    target.write_bytes(b"earlier")
    refused = check(5.0, max_ap_drop=-100.0)  # any AP change exceeds -100 points
    assert refused.ap is not None and not refused.within_ap_budget and not refused.written
    assert target.read_bytes() == b"earlier"  # an earlier file is left alone
    slow_kept = check(20.0, max_ap_drop=100.0, keep_slow=True)
    assert not slow_kept.faster and slow_kept.written and slow_kept.ap is not None
    assert len(made) == 4 and not any(Path(p).exists() for p in made)  # candidates: temporary
    assert capsys.readouterr().out == ""  # the tools print; the library returns


def test_capability_note_asks_openvino_about_irs_and_the_cpu_flags_about_onnx():
    ov = pytest.importorskip("openvino")
    from yolox.deploy.int8 import capability_note, int8_capability_note

    reported = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    note = capability_note("model.xml")
    assert reported and note.endswith("OpenVINO reports " + ", ".join(reported))
    assert capability_note("model.onnx") == int8_capability_note()
