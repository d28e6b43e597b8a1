"""OpenVINO backend and int8 quantization: parity with PyTorch, metadata, every attention type.

The int8 tests use trained checkpoints (the session fixture ``trained_synthetic`` of conftest.py:
a nano trained on the generated shapes, then each attention type fine-tuned from it), so
activations and scores have the distributions quantization meets in practice and the top
detections are confident enough to compare; random weights would not tell a module that
quantizes badly from one that does not.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from yolox.testing.fixtures import (
    CLASS_NAMES,
    make_model,
    save_model_checkpoint,
    write_synthetic_exp,
)

ov = pytest.importorskip("openvino", reason="openvino not installed (pip install -e '.[deploy]')")

from yolox.deploy import ExportedPredictor  # noqa: E402
from yolox.deploy.openvino_export import export_openvino, save_openvino  # noqa: E402
from yolox.deploy.quantize_nncf import quantize_openvino  # noqa: E402
from yolox.inference import Predictor  # noqa: E402
from yolox.models.attention import available_attention  # noqa: E402
from yolox.models.build import build_model  # noqa: E402
from yolox.testing.agreement import detection_agreement  # noqa: E402
from yolox.testing.shapes_training import SHAPES_IMAGES, SHAPES_SIZE  # noqa: E402

SIZE = SHAPES_SIZE


def test_fp32_ir_matches_pytorch_at_another_size_and_batch(tmp_path):
    model, cfg = make_model("cam", seed=3)
    path = tmp_path / "cam.xml"
    export_openvino(
        copy.deepcopy(model), path, test_size=(SIZE, SIZE), class_names=CLASS_NAMES, config=cfg
    )
    predictor = ExportedPredictor(path)
    assert predictor.static_size is None and predictor.static_batch is None
    batch = torch.rand(2, 3, 160, 224, generator=torch.Generator().manual_seed(0)) * 255
    model.head.decode_in_inference = True
    with torch.no_grad():
        expected = model(batch).numpy()
    got = predictor.forward(batch.numpy())
    # per output column (pixels for boxes, 0..1 for scores): OpenVINO's float32 kernels differ
    # from PyTorch's by up to ~7e-4 of the scale here; a wrong operator changes outputs by O(1)
    scale = np.abs(expected).max(axis=(0, 1)).clip(min=1.0)
    np.testing.assert_array_less(np.abs(got - expected).max(axis=(0, 1)) / scale, 2e-3)


def test_ir_carries_the_metadata_alone(tmp_path):
    model, cfg = make_model("eca", seed=4)
    path = tmp_path / "eca.xml"
    export_openvino(
        copy.deepcopy(model), path, test_size=(96, SIZE), class_names=CLASS_NAMES, config=cfg
    )
    predictor = ExportedPredictor(path, conf=0.01)
    assert predictor.class_names == CLASS_NAMES
    assert predictor.test_size == (96, SIZE)
    assert predictor.metadata["model_config"] == cfg.to_dict()
    assert predictor.num_classes == len(CLASS_NAMES)
    # the rebuilt config gives back the same network (what "loadable alone" is for)
    rebuilt = build_model(type(cfg).from_dict(predictor.metadata["model_config"]))
    assert set(rebuilt.state_dict()) == set(model.state_dict())


def test_predictor_batch_matches_pytorch_predictor(tmp_path):
    model, cfg = make_model(None, seed=5)
    path = tmp_path / "none.xml"
    export_openvino(copy.deepcopy(model), path, test_size=(SIZE, SIZE), class_names=CLASS_NAMES)
    images = [
        np.random.default_rng(i).integers(0, 255, (120 + 10 * i, 150, 3), dtype=np.uint8)
        for i in range(3)
    ]
    kwargs = dict(test_size=(160, 160), conf=0.05, nms=0.5)
    exported = ExportedPredictor(path, **kwargs).predict_batch(images)
    reference = Predictor(model, CLASS_NAMES, device="cpu", **kwargs).predict_batch(images)
    assert sum(len(d) for d in reference) > 0
    for got, want in zip(exported, reference):
        assert len(got) == len(want)
        # the same detections one to one; rows of (nearly) tied scores may come in either order
        same_class = got.class_ids[:, None] == want.class_ids[None, :]
        score_gap = np.abs(got.scores[:, None] - want.scores[None, :])
        box_gap = np.abs(got.boxes[:, None, :] - want.boxes[None, :, :]).max(-1)
        twins = same_class & (score_gap <= 1e-4) & (box_gap <= 1e-2)
        first_twin = twins.argmax(1)
        assert twins.any(1).all(), np.flatnonzero(~twins.any(1))
        assert len(set(first_twin.tolist())) == len(want)


# ---------------------------------------------------------------- int8, per attention type

#: the int8 paths: OpenVINO IR quantized by NNCF, ONNX quantized by ONNX Runtime
INT8_PATHS = ("openvino", "onnxruntime")
#: calibration images (training set) and the top detections per validation image compared
CALIB_IMAGES, TOP_K = 8, 5
#: Tolerances of int8 against fp32, over fp32's top detections (score >= 0.3) on the fixture's
#: validation images (measured on the nine types and both paths, see docs/inference.md):
#: the median IoU of each detection's int8 twin (same class; measured 0.86-0.97), the fraction
#: of twins with IoU >= 0.5 (0.78-1.0), the median score difference (0.02-0.06), and int8's
#: number of detections >= 0.3 over fp32's (1.1-1.8: int8 lifts a few borderline anchors).
#: A module whose int8 graph is broken moves boxes and scores far beyond these.
MIN_MEDIAN_IOU, MIN_MATCHED, MAX_MEDIAN_SCORE_DIFF = 0.8, 0.7, 0.1
MIN_COUNT_RATIO, MAX_COUNT_RATIO = 0.5, 2.5


def _export_fp32_and_int8(path: str, model, calibration, folder: Path) -> tuple:
    """(fp32 file, int8 file) of ``model`` exported and quantized through one int8 path."""
    if path == "openvino":
        fp32_path, int8_path = folder / "fp32.xml", folder / "int8.xml"
        ov_model = export_openvino(model, fp32_path, test_size=(SIZE, SIZE))
        save_openvino(quantize_openvino(ov_model, calibration), int8_path)
    else:
        from yolox.deploy.export import export_onnx
        from yolox.deploy.quantize_onnxruntime import quantize_onnx

        fp32_path, int8_path = folder / "fp32.onnx", folder / "int8.onnx"
        export_onnx(model, fp32_path, test_size=(SIZE, SIZE), dynamic=True, opset=13)
        quantize_onnx(fp32_path, int8_path, calibration)
    return fp32_path, int8_path


@pytest.mark.slow
@pytest.mark.parametrize("path", INT8_PATHS)
@pytest.mark.parametrize("attention", available_attention())
def test_int8_detections_of_every_attention_type_agree_with_fp32(
    attention, path, trained_synthetic, tmp_path
):
    pytest.importorskip("nncf" if path == "openvino" else "onnxruntime.quantization")
    from yolox.deploy.int8 import calibration_images

    model = trained_synthetic.with_attention(attention)
    calibration = calibration_images(trained_synthetic.exp, CALIB_IMAGES, (SIZE, SIZE))
    fp32_path, int8_path = _export_fp32_and_int8(path, model, calibration, tmp_path)

    int8 = ExportedPredictor(int8_path)
    assert int8.metadata["precision"] == "int8"
    if path == "openvino":
        assert _count_int8_quantizers(int8_path) > 0
    images = trained_synthetic.val_batch
    fp32_out = ExportedPredictor(fp32_path).forward(images)
    int8_out = int8.forward(images)
    assert int8_out.shape == fp32_out.shape and np.isfinite(int8_out).all()
    assert (int8_out[..., 4:] >= 0).all() and (int8_out[..., 4:] <= 1).all()

    num_classes = trained_synthetic.exp.num_classes
    _assert_int8_agrees(fp32_out, int8_out, num_classes, f"{attention} via {path}")


def _assert_int8_agrees(fp32_out, int8_out, num_classes: int, label: str) -> None:
    """The tolerances above, on decoded outputs of the fp32 and int8 models."""
    # the detections a user sees: each of fp32's top detections has an int8 twin of its class
    agreement = detection_agreement(fp32_out, int8_out, num_classes, top_k=TOP_K)
    summary = f"{label}: {agreement.summary()}"
    print(summary)
    assert len(agreement.ious) >= len(fp32_out), f"the fixture detects too little: {summary}"
    assert np.median(agreement.ious) >= MIN_MEDIAN_IOU, summary
    assert agreement.matched(0.5) >= MIN_MATCHED, summary
    assert np.median(agreement.score_diffs) <= MAX_MEDIAN_SCORE_DIFF, summary
    ratio = agreement.candidate_count / agreement.reference_count
    assert MIN_COUNT_RATIO <= ratio <= MAX_COUNT_RATIO, summary


def _count_int8_quantizers(path: Path) -> int:
    """int8 FakeQuantize nodes in the IR (what NNCF inserts before quantized operations)."""
    model = ov.Core().read_model(str(path))
    return sum(
        1
        for op in model.get_ops()
        if op.get_type_name() == "FakeQuantize" and int(op.get_attributes()["levels"]) in (255, 256)
    )


@pytest.mark.slow
def test_export_tool_refuses_an_int8_model_over_the_ap_drop_threshold(
    trained_synthetic, tmp_path, capsys
):
    pytest.importorskip("nncf", reason="nncf not installed (pip install -e '.[deploy]')")
    from yolox.tools.export_openvino import main

    ckpt = save_model_checkpoint(
        tmp_path / "base.pth", trained_synthetic.base, trained_synthetic.config
    )
    exp_file = write_synthetic_exp(
        tmp_path / "synthetic_exp.py",
        f"self.data_dir = {trained_synthetic.exp.data_dir!r}\n"
        f"self.synthetic_images = {SHAPES_IMAGES}\n"
        f"self.input_size = self.test_size = ({SIZE}, {SIZE})",
    )
    output = tmp_path / "out" / "model.xml"
    argv = ["-f", str(exp_file), "-c", str(ckpt), "--output-name", str(output), "--int8"]
    argv.append("--keep-slow-int8")  # the AP check, whatever int8's speed on this CPU
    # any AP change, even a gain, exceeds a threshold of -100 points: the refusal path
    assert main([*argv, "--calib-images", "4", "--max-ap-drop", "-100"]) == 2
    captured = capsys.readouterr()
    assert "| fp32 |" in captured.out and "| int8 |" in captured.out
    assert "more than --max-ap-drop -100.0" in captured.err
    assert "model_int8.xml not written" in captured.err
    assert output.is_file() and not (tmp_path / "out" / "model_int8.xml").exists()
    assert sorted(p.name for p in output.parent.iterdir()) == ["model.bin", "model.xml"]
