"""tools/eval.py end to end on a tiny synthetic COCO set, and its error reporting.

The ground truth is made from the model's own top detections, so AP is far from 0 and a wrong
model, a wrong letterbox or a wrong box scaling in the tool would show. The reference AP is
computed independently: Predictor detections scored by pycocotools' COCOeval.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from loguru import logger

from yolox.testing.fixtures import (  # noqa: E402
    CLASS_NAMES,
    make_model,
    save_model_checkpoint,
    write_exp,
    write_image,
)

REPO = Path(__file__).resolve().parents[2]
CONF, NMS = 1e-4, 0.65
# (height, width): both fit 128 x 128 with ratio 1, so the dataset never resizes them
IMAGE_SHAPES = [(128, 128), (64, 128), (128, 96)]


def _build_dataset(root: Path, model) -> None:
    """Images, plus annotations = the model's top-3 detections per image (category ids 1, 3, 5)."""
    from yolox.inference import Predictor

    predictor = Predictor(
        model, CLASS_NAMES, test_size=(128, 128), conf=CONF, nms=NMS, device="cpu", clip_boxes=False
    )
    images, annotations = [], []
    for i, (h, w) in enumerate(IMAGE_SHAPES):
        name = f"img{i}.png"
        write_image(root / "val" / name, h, w, seed=i)
        det = predictor.predict(str(root / "val" / name))
        images.append({"id": 10 + i, "file_name": name, "height": h, "width": w})
        # unclipped: the COCO scoring keeps boxes that leave the image, so each GT box equals
        # one of the model's own top detections exactly; boxes wholly outside the image are not
        # taken (the loader drops them from training, and so from the scoring ground truth)
        usable = [
            (b, c)
            for b, c in zip(det.boxes, det.class_ids)
            if min(b[2], w) - max(b[0], 0) > 0
            and min(b[3], h) - max(b[1], 0) > 0
            and min(b[2] - b[0], b[3] - b[1]) >= 2
        ]
        for box, cid in usable[:3]:
            x1, y1, x2, y2 = box.tolist()
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": 10 + i,
                    "category_id": [1, 3, 5][int(cid)],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    categories = [{"id": cid, "name": n} for cid, n in zip([1, 3, 5], CLASS_NAMES)]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    data = {"images": images, "annotations": annotations, "categories": categories}
    (root / "annotations" / "val.json").write_text(json.dumps(data))


def _reference_ap(root: Path, model) -> float:
    """AP50:95 of the Predictor's detections, by pycocotools directly."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from yolox.inference import Predictor

    predictor = Predictor(
        model, CLASS_NAMES, test_size=(128, 128), conf=CONF, nms=NMS, device="cpu", clip_boxes=False
    )
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(root / "annotations" / "val.json"))
    results = []
    for img in gt.dataset["images"]:
        det = predictor.predict(str(root / "val" / img["file_name"]))
        for box, score, cid in zip(det.boxes, det.scores, det.class_ids):
            x1, y1, x2, y2 = box.tolist()
            results.append(
                {
                    "image_id": img["id"],
                    "category_id": [1, 3, 5][int(cid)],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


@pytest.fixture(scope="module")
def coco_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    model, cfg = make_model("cam", seed=1)
    ckpt = save_model_checkpoint(root / "cam.pth", model, cfg)
    _build_dataset(root / "data", model)
    exp = write_exp(
        root / "tiny_coco_exp.py",
        f"""
self.num_classes = 3
self.class_names = {CLASS_NAMES!r}
self.attention = "cam"
self.dataset_format = "coco"
self.data_dir = {str(root / "data")!r}
self.val_ann = "val.json"
self.val_name = "val"
self.test_size = (128, 128)
self.test_conf = {CONF}
self.nmsthre = {NMS}
self.data_num_workers = 0
self.output_dir = {str(root / "outputs")!r}
""",
    )
    return {
        "root": root,
        "model": model,
        "ckpt": ckpt,
        "exp": exp,
        "ref": _reference_ap(root / "data", model),
    }


def _eval(argv):
    from yolox.tools import eval as eval_tool

    args = eval_tool.make_parser().parse_args(argv)
    exp = eval_tool.prepare_exp(args)
    return eval_tool.evaluate(exp, args, 1)


def test_eval_with_exp_matches_reference_ap(coco_setup):
    assert coco_setup["ref"] > 0.2  # the ground truth was built from these detections (0.34 here)
    scores = _eval(
        ["-f", str(coco_setup["exp"]), "-c", str(coco_setup["ckpt"]), "-b", "2", "--device", "cpu"]
    )
    assert scores["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)


def test_eval_without_exp_rebuilds_model_from_checkpoint(coco_setup):
    root = coco_setup["root"]
    base = [
        "-c", str(coco_setup["ckpt"]), "--format", "coco", "--data-dir", str(root / "data"),
        "-b", "3", "--device", "cpu", "--tsize", "128", "--conf", str(CONF), "--nms", str(NMS), "--workers", "0",
    ]  # fmt: skip
    opts = ["val_ann", "val.json", "val_name", "val"]  # exp overrides, after the flags
    argv = [*base, *opts]
    scores = _eval(argv)
    assert scores["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)
    fused = _eval([*base, "--fuse", *opts])  # conv+bn (and attention BN) folding keeps the AP
    assert fused["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)
    assert "forward time" in _eval([*base, "--speed", *opts])["speed"]
    from yolox.tools.eval import main

    assert main(argv) == 0


def test_fp16_eval_keeps_weights_and_ap(coco_setup):
    """fp16 evaluation runs on a half copy: the model's weights stay bit-identical (a later fp32
    evaluation or training step sees exactly the same model), and the AP50 stays near fp32's.

    The tolerance (0.2) is loose: this randomly perturbed nano is far more sensitive to fp16 than a
    trained model (box sizes move by up to 50%), and 3 images give a coarse AP; a broken half
    pass scores near 0. Exact fp16 values are checked in tests/evaluators/test_evaluators_e2e.py.
    """
    import torch

    from yolox.exp import get_exp
    from yolox.inference.loading import load_model

    exp = get_exp(str(coco_setup["exp"]))
    model = load_model(coco_setup["ckpt"], exp=exp).model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    evaluator = exp.get_evaluator(2, False)
    ap_fp32, ap50_fp32, _ = evaluator.evaluate(model)
    _, ap50_fp16, _ = evaluator.evaluate(model, half=True)
    after = model.state_dict()
    assert all(v.dtype == before[k].dtype and torch.equal(v, before[k]) for k, v in after.items())
    assert ap_fp32 == pytest.approx(coco_setup["ref"], abs=1e-3)
    assert ap50_fp16 == pytest.approx(ap50_fp32, abs=0.2)  # 0.71 vs 0.59 on this data
    assert evaluator.evaluate(model)[0] == ap_fp32  # the fp32 model after the fp16 pass


def test_eval_reports_exp_that_disagrees_with_checkpoint(coco_setup, tmp_path, capsys):
    from yolox.tools.eval import main

    exp = write_exp(
        tmp_path / "five_classes.py",
        'self.num_classes = 5\nself.class_names = ("a", "b", "c", "d", "e")\nself.attention = "cam"',
    )
    assert main(["-f", str(exp), "-c", str(coco_setup["ckpt"]), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "num_classes: checkpoint 3 vs exp 5" in err and err.startswith("eval: error:")


def test_eval_needs_a_dataset_source(coco_setup, capsys):
    from yolox.tools.eval import main

    assert main(["-c", str(coco_setup["ckpt"]), "--device", "cpu"]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_eval_missing_checkpoint_exits_nonzero_with_one_line(tmp_path):
    exp = write_exp(tmp_path / "exp.py", "self.num_classes = 3")
    missing = tmp_path / "missing.pth"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "eval.py"), "-f", str(exp), "-c", str(missing), "--device", "cpu"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"eval: error: checkpoint not found: {missing}", proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def exported_onnx(coco_setup):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import copy

    from yolox.deploy.export import export_onnx

    path = coco_setup["root"] / "cam.onnx"
    export_onnx(copy.deepcopy(coco_setup["model"]), path, test_size=(128, 128), simplify=False)
    return path


def test_eval_onnxruntime_backend_scores_the_exported_model(coco_setup, exported_onnx):
    # batch 3 through a graph exported for batch 1: run image by image, same AP as PyTorch
    argv = ["-f", str(coco_setup["exp"]), "--backend", "onnxruntime", "--onnx", str(exported_onnx)]
    scores = _eval([*argv, "-b", "3", "--device", "cpu"])
    assert scores["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)


def test_eval_onnxruntime_backend_rejects_a_graph_of_another_size(
    coco_setup, exported_onnx, capsys
):
    from yolox.tools.eval import main

    argv = ["-f", str(coco_setup["exp"]), "--backend", "onnxruntime", "--onnx", str(exported_onnx)]
    assert main([*argv, "--tsize", "160", "--device", "cpu"]) == 2
    assert "exported for 128x128 input but the exp evaluates at 160x160" in capsys.readouterr().err
    missing = ["--backend", "onnxruntime", "--onnx", str(coco_setup["root"] / "nope.onnx")]
    assert main(["-f", str(coco_setup["exp"]), *missing]) == 2
    assert "needs an existing --onnx file" in capsys.readouterr().err
    assert main(["--backend", "onnxruntime", "--onnx", str(exported_onnx)]) == 2
    assert "needs the dataset's experiment" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["pycocotools", "faster_coco_eval"])
def test_eval_coco_backend_is_chosen_on_the_command_line(coco_setup, backend):
    from yolox.evaluators import available_coco_backends

    if backend not in available_coco_backends():
        pytest.skip(f"{backend} is not installed")
    messages = []
    sink = logger.add(lambda m: messages.append(str(m)), level="INFO")
    try:
        argv = ["-f", str(coco_setup["exp"]), "-c", str(coco_setup["ckpt"]), "-b", "2"]
        scores = _eval([*argv, "--device", "cpu", "--coco-backend", backend])
    finally:
        logger.remove(sink)
    assert any(f"COCO scoring backend: {backend}" in m for m in messages)
    assert scores["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)


def test_eval_openvino_backend_scores_the_exported_ir(coco_setup, tmp_path, capsys):
    pytest.importorskip("openvino", reason="openvino not installed (pip install -e '.[deploy]')")
    pytest.importorskip("onnx")
    import copy

    from yolox.deploy.openvino_export import export_openvino
    from yolox.tools.eval import main

    path = tmp_path / "cam.xml"
    export_openvino(copy.deepcopy(coco_setup["model"]), path, test_size=(128, 128))
    argv = ["-f", str(coco_setup["exp"]), "--backend", "openvino", "--xml", str(path)]
    scores = _eval([*argv, "-b", "3", "--device", "cpu"])
    assert scores["ap50_95"] == pytest.approx(coco_setup["ref"], abs=1e-3)
    wrong = ["--backend", "openvino", "--xml", str(tmp_path / "cam.onnx")]
    assert main(["-f", str(coco_setup["exp"]), *wrong]) == 2
    assert "needs an existing --xml file" in capsys.readouterr().err
