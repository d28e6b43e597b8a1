"""ONNX Runtime and TorchScript exports agree with PyTorch, for the baseline and every attention.

Models are yolox-nano (3 classes) with attention on dark3-5 and randomised weights (so gates
that start as identities really act). Graphs are exported at 128 x 128; the dynamic ONNX graph
and the raw TorchScript trace are also checked at batch 2, 96 x 160.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from yolox.deploy.export import export_onnx, export_torchscript  # noqa: E402
from yolox.models import available_attention  # noqa: E402
from yolox.testing.fixtures import (  # noqa: E402
    CLASS_NAMES,
    assert_same_detections,
    make_model,
    save_model_checkpoint,
    write_image,
)

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
EXPORT_SIZE = (128, 128)
OTHER_SHAPE = (2, 3, 96, 160)
ATTENTIONS = [None, *available_attention()]
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:FutureWarning")


def assert_close(actual, expected, rel=1e-3):
    """Elementwise |a - e| <= rel * max(1, max|e|): the outputs mix pixels and probabilities.

    The randomised models give raw outputs of unit scale that change by O(1) from one image to
    another, so 1e-3 still catches any wrong operator; float32 kernels differ by ~2e-4 here.
    """
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    tol = rel * max(1.0, float(np.abs(expected).max()))
    err = float(np.abs(actual - expected).max())
    assert err <= tol, f"max error {err:.3g} > {tol:.3g}"


def torch_outputs(model, x, decode):
    model.head.decode_in_inference = decode
    with torch.no_grad():
        return model(x).numpy()


def inputs(shape, seed):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 255


@pytest.mark.parametrize("attention", ATTENTIONS, ids=lambda a: a or "baseline")
def test_onnx_dynamic_raw_matches_torch(attention, tmp_path):
    model, _ = make_model(attention)
    path = tmp_path / "model.onnx"
    export_onnx(
        model, path, test_size=EXPORT_SIZE, dynamic=True, decode_in_inference=False, simplify=False
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for seed, shape in enumerate([(1, 3, *EXPORT_SIZE), OTHER_SHAPE]):
        x = inputs(shape, seed)
        got = session.run(None, {"images": x.numpy()})[0]
        assert_close(got, torch_outputs(model, x, decode=False))


@pytest.mark.parametrize("attention", ATTENTIONS, ids=lambda a: a or "baseline")
def test_torchscript_matches_torch(attention, tmp_path):
    model, _ = make_model(attention)
    raw_path = export_torchscript(
        model, tmp_path / "raw.pt", test_size=EXPORT_SIZE, decode_in_inference=False
    )
    traced = torch.jit.load(raw_path)
    for seed, shape in enumerate([(1, 3, *EXPORT_SIZE), OTHER_SHAPE]):
        x = inputs(shape, seed)
        with torch.no_grad():
            got = traced(x).numpy()
        assert_close(got, torch_outputs(model, x, decode=False))


def test_decoded_exports_match_at_export_size(tmp_path):
    model, cfg = make_model("cbam")
    x = inputs((1, 3, *EXPORT_SIZE), 3)
    expected = torch_outputs(model, x, decode=True)
    export_onnx(
        model,
        tmp_path / "dec.onnx",
        test_size=EXPORT_SIZE,
        decode_in_inference=True,
        class_names=CLASS_NAMES,
        config=cfg,
    )
    session = ort.InferenceSession(str(tmp_path / "dec.onnx"), providers=["CPUExecutionProvider"])
    assert_close(session.run(None, {"images": x.numpy()})[0], expected)
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["yolox.class_names"]) == list(CLASS_NAMES)
    assert json.loads(meta["yolox.decode_in_inference"]) is True
    extra = {"yolox.json": ""}
    path = export_torchscript(
        model, tmp_path / "dec.pt", test_size=EXPORT_SIZE, class_names=CLASS_NAMES
    )
    traced = torch.jit.load(path, _extra_files=extra)
    with torch.no_grad():
        assert_close(traced(x).numpy(), expected)
    assert json.loads(extra["yolox.json"])["class_names"] == list(CLASS_NAMES)


def test_opset_is_raised_only_when_not_given(tmp_path):
    model, _ = make_model("ema", perturb=False)
    result = export_onnx(model, tmp_path / "ema.onnx", test_size=(64, 64), simplify=False)
    assert result["opset"] >= 13  # unflatten needs 13; the default 11 is raised automatically
    with pytest.raises(Exception, match="opset|version"):
        export_onnx(model, tmp_path / "ema11.onnx", test_size=(64, 64), opset=11, simplify=False)


def test_export_tools_and_onnx_predictor_end_to_end(tmp_path):
    from yolox.deploy import ExportedPredictor
    from yolox.inference import Predictor
    from yolox.tools.export_onnx import main as export_onnx_main
    from yolox.tools.export_torchscript import main as export_ts_main

    model, cfg = make_model("cam")
    ckpt = save_model_checkpoint(tmp_path / "cam.pth", model, cfg)
    onnx_path = tmp_path / "cam.onnx"
    argv = [
        "-c",
        str(ckpt),
        "--output-name",
        str(onnx_path),
        "--tsize",
        "128",
        "--dynamic",
        "--no-onnxsim",
    ]
    assert export_onnx_main(argv) == 0
    ts_path = tmp_path / "cam.torchscript.pt"
    assert export_ts_main(["-c", str(ckpt), "--output-name", str(ts_path), "--tsize", "128"]) == 0
    assert ts_path.is_file()

    image = str(write_image(tmp_path / "img.jpg", 90, 120))
    onnx_pred = ExportedPredictor(onnx_path, conf=1e-5, nms=0.45)
    assert onnx_pred.class_names == CLASS_NAMES and onnx_pred.test_size == (128, 128)
    torch_pred = Predictor(
        model, CLASS_NAMES, test_size=(128, 128), conf=1e-5, nms=0.45, device="cpu"
    )
    a, b = onnx_pred.predict(image), torch_pred.predict(image)
    assert len(a) > 20 and set(a.class_names) <= set(CLASS_NAMES)
    assert abs(len(a) - len(b)) <= 0.05 * len(b)
    assert_same_detections(a.boxes[:20], a.scores[:20], b.boxes, b.scores, subset=True)

    # the standalone ONNX Runtime example script, run as users run it
    out = tmp_path / "example_out"
    example = [str(REPO / "tools" / "onnx_inference.py"), "-m", str(onnx_path), "-i", image]
    proc = subprocess.run(
        [sys.executable, *example, "-o", str(out), "-s", "1e-5"],
        env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert cv2.imread(str(out / "img.jpg")).shape == (90, 120, 3)


def test_export_tool_reports_missing_checkpoint(tmp_path, capsys):
    from yolox.tools.export_onnx import main as export_onnx_main

    assert (
        export_onnx_main(
            ["-c", str(tmp_path / "missing.pth"), "--output-name", str(tmp_path / "x.onnx")]
        )
        == 2
    )
    assert "checkpoint not found" in capsys.readouterr().err


def test_dynamic_export_without_class_names_still_predicts(tmp_path):
    """A dynamic graph's output width is unknown: the class count comes from the metadata."""
    from yolox.deploy import ExportedPredictor
    from yolox.inference import Predictor

    model, _ = make_model(None, seed=4)
    path = tmp_path / "anonymous.onnx"
    export_onnx(model, path, test_size=EXPORT_SIZE, dynamic=True, simplify=False)
    exported = ExportedPredictor(path, conf=1e-3, nms=0.45)
    assert exported.num_classes == model.head.num_classes
    assert exported.class_names == tuple(str(c) for c in range(model.head.num_classes))
    image = str(write_image(tmp_path / "img.jpg", 90, 120))
    reference = Predictor(model, None, test_size=EXPORT_SIZE, conf=1e-3, nms=0.45, device="cpu")
    a, b = exported.predict(image), reference.predict(image)
    assert len(b) > 0 and len(a) == len(b)
    np.testing.assert_array_equal(a.class_ids, b.class_ids)
