"""COCO scoring on tiny_coco against pycocotools' COCOeval run directly in the test."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pycocotools.coco as pycocotools_coco
import pycocotools.cocoeval as pycocotools_eval
import pytest

from yolox.evaluators.coco_scoring import (
    available_coco_backends,
    coco_eval_detections,
)


@pytest.fixture(scope="module")
def tiny_coco_gt(shared_datasets: Path):
    ann = shared_datasets / "tiny_coco" / "annotations" / "instances_train2017.json"
    if not ann.is_file():
        pytest.skip(f"tiny_coco annotations missing: {ann}")
    with contextlib.redirect_stdout(io.StringIO()):
        return pycocotools_coco.COCO(str(ann))


def _plausible_detections(gt, seed: int) -> list:
    """Jittered ground-truth boxes (some missed, some duplicated, some mislabelled) plus false positives."""
    rng = np.random.default_rng(seed)
    cat_ids = sorted(gt.getCatIds())
    dets = []
    for img_id in sorted(gt.getImgIds()):
        info = gt.loadImgs(img_id)[0]
        for ann in gt.loadAnns(gt.getAnnIds(imgIds=img_id)):
            x, y, w, h = ann["bbox"]
            for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
                jit = rng.normal(0, 0.08, 4) * np.array([w, h, w, h])
                cat = ann["category_id"] if rng.random() > 0.1 else int(rng.choice(cat_ids))
                box = [x + jit[0], y + jit[1], max(w + jit[2], 1.0), max(h + jit[3], 1.0)]
                dets.append(
                    {
                        "image_id": img_id,
                        "category_id": int(cat),
                        "bbox": [float(v) for v in box],
                        "score": float(rng.uniform(0.3, 1.0)),
                    }
                )
        for _ in range(int(rng.integers(2, 12))):
            w, h = rng.uniform(4, info["width"] / 2), rng.uniform(4, info["height"] / 2)
            x, y = rng.uniform(0, info["width"] - w), rng.uniform(0, info["height"] - h)
            dets.append(
                {
                    "image_id": img_id,
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": [x, y, w, h],
                    "score": float(rng.uniform(0.0, 0.7)),
                }
            )
    return dets


def _direct_pycocotools(gt, dets) -> np.ndarray:
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(copy.deepcopy(dets))
        ev = pycocotools_eval.COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


@pytest.mark.parametrize("seed", [0, 1])
def test_pycocotools_backend_matches_direct_cocoeval(
    tiny_coco_gt, seed: int, tmp_path: Path
) -> None:
    dets = _plausible_detections(tiny_coco_gt, seed)
    # Round-trip through a json file, as the evaluator writes it.
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))
    dets = json.loads(path.read_text())
    expected = _direct_pycocotools(tiny_coco_gt, dets)
    result = coco_eval_detections(dets, tiny_coco_gt, backend="pycocotools")
    assert result.backend == "pycocotools"
    assert result.stats.shape == (12,)
    np.testing.assert_array_equal(result.stats, expected)
    assert 0.2 < result.ap50_95 < 0.9 and result.ap50 >= result.ap50_95
    # Every class with ground truth has all T x R precision entries, so the class mean is stats[0].
    assert np.nanmean(result.per_class_ap50_95) == pytest.approx(expected[0], abs=1e-12)
    assert np.nanmean(result.per_class_ap50) == pytest.approx(expected[1], abs=1e-12)
    assert np.nanmean(result.per_class_ar100) == pytest.approx(expected[8], abs=1e-12)
    present = {a["category_id"] for a in tiny_coco_gt.dataset["annotations"]}
    cat_ids = sorted(tiny_coco_gt.getCatIds())
    assert [c in present for c in cat_ids] == list(~np.isnan(result.per_class_ap50_95))
    assert (
        "AP50:95" in result.summary
        and "person" in result.summary
        and "pycocotools" in result.summary
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_faster_coco_eval_backend_matches_pycocotools(tiny_coco_gt, seed: int) -> None:
    if "faster_coco_eval" not in available_coco_backends():
        pytest.skip("faster-coco-eval is not installed (optional: pip install faster-coco-eval)")
    dets = _plausible_detections(tiny_coco_gt, seed)
    expected = _direct_pycocotools(tiny_coco_gt, dets)
    result = coco_eval_detections(dets, tiny_coco_gt, backend="faster_coco_eval")
    assert result.backend == "faster_coco_eval"
    np.testing.assert_allclose(result.stats, expected, rtol=0, atol=1e-12)
    reference = coco_eval_detections(dets, tiny_coco_gt, backend="pycocotools")
    np.testing.assert_allclose(
        result.per_class_ap50_95, reference.per_class_ap50_95, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        result.per_class_ar100, reference.per_class_ar100, rtol=0, atol=1e-12
    )
    assert (
        coco_eval_detections(dets, tiny_coco_gt).backend == "faster_coco_eval"
    )  # preferred by "auto"


def test_no_detections_is_zero_with_warning(tiny_coco_gt) -> None:
    with pytest.warns(UserWarning, match="no detections"):
        result = coco_eval_detections([], tiny_coco_gt, backend="pycocotools")
    assert result.stats.tolist() == [0.0] * 12
    assert result.ap50_95 == 0.0 and result.ap50 == 0.0


def test_unknown_images_are_dropped(tiny_coco_gt) -> None:
    dets = _plausible_detections(tiny_coco_gt, 0)
    extra = dets + [{"image_id": -5, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9}]
    with pytest.warns(UserWarning, match="absent from the ground truth"):
        result = coco_eval_detections(extra, tiny_coco_gt, backend="pycocotools")
    np.testing.assert_array_equal(result.stats, _direct_pycocotools(tiny_coco_gt, dets))


def test_bad_backend_name(tiny_coco_gt) -> None:
    with pytest.raises(ValueError):
        coco_eval_detections([], tiny_coco_gt, backend="detectron")
