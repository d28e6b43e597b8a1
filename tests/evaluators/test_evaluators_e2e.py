"""evaluate() end to end with a fixed-output fake model: rescaling, id mapping, gathering, dtype."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from eval_fakes import (  # noqa: E402
    COCO_CLASS_IDS,
    IMAGE_SIZES,
    INPUT_HW,
    FakeCOCODataset,
    FakeDetector,
    FakeLoader,
    FakeVOCDataset,
    expected_outputs,
)

from yolox.evaluators import COCOEvaluator, VOCEvaluator  # noqa: E402


def _coco_evaluator(**kw) -> COCOEvaluator:
    loader = FakeLoader(FakeCOCODataset(), batch_size=2, id_mode="image_id")
    return COCOEvaluator(loader, INPUT_HW, confthre=0.01, nmsthre=0.999, num_classes=3, **kw)


def test_coco_evaluate_recovers_original_boxes_and_ids(tmp_path: Path) -> None:
    out_json = tmp_path / "dets.json"
    evaluator = _coco_evaluator(output_json=out_json)
    model = FakeDetector()
    (ap50_95, ap50, summary), outputs = evaluator.evaluate(model, return_outputs=True)
    assert ap50_95 == pytest.approx(1.0) and ap50 == pytest.approx(1.0)
    assert "Average Precision" in summary and "cat_a" in summary
    expected = expected_outputs()
    dataset = evaluator.dataloader.dataset
    assert set(outputs) == set(dataset.ids)
    for index, (boxes, labels) in expected.items():
        got = outputs[dataset.ids[index]]
        np.testing.assert_allclose(got["bboxes"], boxes, atol=1e-3)
        np.testing.assert_array_equal(got["categories"], labels)
    written = json.loads(out_json.read_text())
    assert {d["category_id"] for d in written} <= set(COCO_CLASS_IDS)
    first = [d for d in written if d["image_id"] == dataset.ids[0]]
    boxes0, labels0 = expected[0]
    np.testing.assert_allclose(
        first[0]["bbox"], [*boxes0[0, :2], *(boxes0[0, 2:] - boxes0[0, :2])], atol=1e-3
    )
    assert first[0]["category_id"] == COCO_CLASS_IDS[int(labels0[0])]


def test_coco_evaluate_without_detections_and_testdev(tmp_path: Path) -> None:
    evaluator = _coco_evaluator(testdev=False)
    with pytest.warns(UserWarning, match="no detections"):
        ap50_95, ap50, _ = evaluator.evaluate(
            FakeDetector(num_anchors=8).requires_grad_(False).apply(_zero_scale)
        )
    assert (ap50_95, ap50) == (0.0, 0.0)
    path = tmp_path / "sub" / "testdev.json"
    testdev = _coco_evaluator(testdev=True, output_json=path)
    ap50_95, ap50, summary = testdev.evaluate(FakeDetector())
    assert (ap50_95, ap50) == (0.0, 0.0) and "scoring skipped" in summary
    assert len(json.loads(path.read_text())) > 0


def _zero_scale(module: torch.nn.Module) -> None:
    if isinstance(module, FakeDetector):
        module.scale.data.zero_()


def test_half_leaves_weights_bit_identical_and_mode() -> None:
    evaluator = _coco_evaluator()
    model = FakeDetector().train()
    with torch.no_grad():
        model.scale.fill_(1 + 2**-12)  # not representable in fp16: a round trip would give 1.0
    (ap50_95, ap50, _), outputs = evaluator.evaluate(model, half=True, return_outputs=True)
    assert ap50_95 == pytest.approx(1.0) and ap50 == pytest.approx(1.0)
    assert model.scale.dtype == torch.float32 and model.training
    assert model.scale.item() == 1 + 2**-12
    dataset = evaluator.dataloader.dataset
    for index, (boxes, labels) in expected_outputs().items():  # fp16 values, not only dtypes
        got = outputs[dataset.ids[index]]
        r = min(INPUT_HW[0] / IMAGE_SIZES[index][0], INPUT_HW[1] / IMAGE_SIZES[index][1])
        np.testing.assert_allclose(got["bboxes"], boxes, rtol=2e-3, atol=0.06 / r)
        np.testing.assert_array_equal(got["categories"], labels)


@pytest.mark.parametrize("metric", ["voc07", "voc10"])
def test_voc_evaluate_recovers_original_boxes(metric: str) -> None:
    dataset = FakeVOCDataset()
    evaluator = VOCEvaluator(
        FakeLoader(dataset, batch_size=3), INPUT_HW, 0.01, 0.999, 3, metric=metric
    )
    (map50_95, map50, summary), outputs = evaluator.evaluate(FakeDetector(), return_outputs=True)
    # The difficult box is missed without penalty; class 2 has no ground truth and is left out.
    assert map50 == pytest.approx(1.0) and map50_95 == pytest.approx(1.0)
    assert metric in summary and "| cat_c   | no ground truth | no ground truth |" in summary
    assert "nan" not in summary
    assert "classes with no ground truth in this split (not in the means): cat_c" in summary
    assert "mAP50    = 100.00 (%)" in summary  # per cent, like every AP shown to people
    result = evaluator.last_result
    assert np.isnan(result.ap[:, 2]).all()
    for index, (boxes, labels) in expected_outputs().items():
        np.testing.assert_allclose(outputs[index]["bboxes"], boxes, atol=1e-3)
        np.testing.assert_array_equal(outputs[index]["categories"], labels)


def test_voc_loader_may_yield_dataset_ids() -> None:
    from yolox.evaluators import resolve_dataset_index

    dataset = FakeVOCDataset()
    lookup = {k: i for i, k in enumerate(dataset.ids)}
    assert resolve_dataset_index(dataset, torch.tensor(3), lookup) == 3
    assert resolve_dataset_index(dataset, ["FAKE", "000002"], lookup) == 2
    with pytest.raises(KeyError):
        resolve_dataset_index(dataset, 99, lookup)


def test_voc_images_never_evaluated_are_left_out_and_reported() -> None:
    dataset = FakeVOCDataset()
    loader = FakeLoader(dataset, batch_size=2, indices=[0, 1, 2])  # images 3 and 4 never evaluated
    map50_95, map50, summary = VOCEvaluator(
        loader, INPUT_HW, 0.01, 0.999, 3, use_07_metric=False
    ).evaluate(FakeDetector())
    assert map50 == pytest.approx(1.0)  # their ground truth is not counted as missed
    assert "scored 3 of 5 images" in summary and "2 not in the evaluation loader" in summary


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_coco_evaluate_on_cuda_half() -> None:
    evaluator = _coco_evaluator()
    model = FakeDetector().to("cuda")
    ap50_95, ap50, _ = evaluator.evaluate(model, half=True)
    assert ap50 == pytest.approx(1.0)
    assert model.scale.device.type == "cuda" and model.scale.dtype == torch.float32
