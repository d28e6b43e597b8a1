"""Classes without ground truth are reported as such, never as nan or folded into a mean as 0
(issue 18.2, evaluator half)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yolox.evaluators.coco_scoring import coco_eval_detections
from yolox.evaluators.voc_eval import VOCAnnotations, VOCDetections, voc_evaluate
from yolox.evaluators.voc_evaluator import format_voc_result

BOX = np.array([[10.0, 10.0, 50.0, 50.0]])


def _voc(labels_with_gt, detected):
    per_image = [(BOX, np.array([c]), np.array([False])) for c in labels_with_gt]
    per_image += [(np.zeros((0, 4)), np.zeros(0), np.zeros(0, bool))] * (
        len(detected) - len(per_image)
    )
    annotations = VOCAnnotations.from_per_image(per_image)
    detections = VOCDetections.from_per_image(
        [(i, BOX, np.array([0.9]), np.array([c])) for i, c in enumerate(detected)]
    )
    return voc_evaluate(detections, annotations, 3, metric="voc10", class_names=["a", "b", "c"])


def test_voc_classes_without_ground_truth_are_named_and_left_out_of_the_means():
    # a: found (AP 1), b: missed (AP 0), c: no ground truth at all
    result = _voc([0, 1], [0, 2])
    text = format_voc_result(result)
    assert result.map50 == pytest.approx(0.5)  # mean over a and b only, not (1 + 0 + 0) / 3
    row = next(line for line in text.splitlines() if line.startswith("| c "))
    assert row.count("no ground truth") == 2
    assert "nan" not in text
    assert "classes with no ground truth in this split (not in the means): c" in text
    assert "mAP50    = 50.00 (%)" in text


def test_voc_split_without_any_ground_truth_says_the_map_is_undefined():
    result = _voc([], [0])
    text = format_voc_result(result)
    assert "nan" not in text
    assert "mAP undefined: no class has non-difficult ground truth" in text
    assert "mAP50    =" not in text


class _GT:
    """The part of a COCO ground-truth object the scorer reads (``dataset``)."""

    def __init__(self, dataset):
        self.dataset = dataset


def test_coco_per_class_table_names_classes_without_ground_truth():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    data = {
        "images": [{"id": 1, "width": 100, "height": 100, "file_name": "a.jpg"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 40, 40],
                "area": 1600,
                "iscrowd": 0,
            }  # fmt: skip
        ],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }
    gt = COCO()
    gt.dataset = json.loads(json.dumps(data))
    gt.createIndex()
    dets = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9}]
    result = coco_eval_detections(dets, gt, backend="pycocotools")
    assert np.isnan(result.per_class_ap50_95[1]) and result.stats[0] == pytest.approx(1.0)
    row = next(line for line in result.summary.splitlines() if line.startswith("| b "))
    assert "no ground truth" in row and "| - " not in row
    assert "classes with no ground truth (not in the means): b" in result.summary
