"""Images the loader skipped or blanked, and boxes it dropped, are not scored (COCO and VOC).

Datasets are written to tmp folders with a missing image, a truncated JPEG and (COCO) a
degenerate box; a constant detector predicts the same boxes on every image. The evaluators'
numbers must equal pycocotools / the plain devkit reference on a ground truth filtered by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch import nn

from yolox.data import COCODataset, ValTransform, VOCDetection
from yolox.evaluators import COCOEvaluator, VOCEvaluator
from yolox.testing.voc_reference import reference_voc_ap

SIZE = 64
# (x1, y1, x2, y2, class) in pixels of every 64x64 image; the detector finds the first two only
GT = [(8, 8, 28, 28, 0), (36, 36, 56, 56, 1), (40, 4, 60, 20, 0)]
PREDICTED = [(8, 8, 28, 28, 0, 0.9), (36, 36, 56, 56, 1, 0.8), (2, 40, 20, 60, 0, 0.3)]


class ConstantDetector(nn.Module):
    """Decoded outputs [B, N, 5 + 2]: the PREDICTED boxes on every image that is not blank."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(imgs.shape[0], len(PREDICTED), 7)
        for k, (x1, y1, x2, y2, cls, score) in enumerate(PREDICTED):
            out[:, k, :5] = torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 1.0])
            out[:, k, 5 + cls] = score
        blank = imgs.flatten(1).std(dim=1) < 1.0  # like a real model: nothing on a grey image
        out[blank] = 0.0
        return out + self.anchor


def _write_images(folder: Path, names, truncated: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(0).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    data = cv2.imencode(".jpg", img)[1].tobytes()  # noise: the header survives the cut below
    for name in names:
        (folder / name).write_bytes(data[: len(data) * 3 // 4] if name == truncated else data)


def _loader(dataset) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=0)


def test_coco_scores_exactly_the_evaluated_images_and_boxes(tmp_path):
    names = [f"{i}.jpg" for i in range(6)]
    images = [
        {"id": i + 1, "file_name": n, "height": SIZE, "width": SIZE} for i, n in enumerate(names)
    ]
    anns = []
    for image in images:
        for x1, y1, x2, y2, cls in GT:
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image["id"],
                    "category_id": 1 + cls,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    degenerate = {"id": 999, "image_id": 1, "category_id": 2, "bbox": [50, 50, 0, 9]}
    degenerate.update(area=0, iscrowd=0)
    data = {
        "images": images,
        "annotations": anns + [degenerate],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "gt.json").write_text(json.dumps(data))
    _write_images(tmp_path / "imgs", [n for n in names if n != "5.jpg"], truncated="4.jpg")

    dataset = COCODataset(tmp_path, "gt.json", "imgs", (SIZE, SIZE), ValTransform())
    evaluator = COCOEvaluator(_loader(dataset), (SIZE, SIZE), 0.01, 0.65, 2, backend="pycocotools")
    ap50_95, ap50, summary = evaluator.evaluate(ConstantDetector())

    # reference: pycocotools on the json without image 6 (missing), image 5 (truncated) and
    # the degenerate box; detections on the four images that were really evaluated
    kept = {1, 2, 3, 4}
    ref = dict(data)
    ref["images"] = [i for i in images if i["id"] in kept]
    ref["annotations"] = [a for a in anns if a["image_id"] in kept]
    dets = [
        {
            "image_id": i,
            "category_id": 1 + cls,
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "score": score,
        }
        for i in sorted(kept)
        for x1, y1, x2, y2, cls, score in PREDICTED
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = ref
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ap50_95 == pytest.approx(ev.stats[0], abs=1e-12)
    assert ap50 == pytest.approx(ev.stats[1], abs=1e-12)
    assert "scored 4 of 6 images" in summary
    assert "1 image file not found" in summary and "1 unreadable when evaluated" in summary
    assert "1 degenerate boxes left out" in summary


def _voc_xml(name: str) -> str:
    objs = "".join(
        f"<object><name>{'ab'[c]}</name><difficult>0</difficult><bndbox><xmin>{x1 + 1}</xmin>"
        f"<ymin>{y1 + 1}</ymin><xmax>{x2 + 1}</xmax><ymax>{y2 + 1}</ymax></bndbox></object>"
        for x1, y1, x2, y2, c in GT
    )
    size = f"<size><width>{SIZE}</width><height>{SIZE}</height></size>"
    return f"<annotation><filename>{name}</filename>{size}{objs}</annotation>"


def test_voc_scores_exactly_the_evaluated_images(tmp_path):
    ids = [f"im{i}" for i in range(5)]
    for sub in ("Annotations", "ImageSets/Main"):
        (tmp_path / sub).mkdir(parents=True)
    for image_id in ids:
        (tmp_path / "Annotations" / f"{image_id}.xml").write_text(_voc_xml(f"{image_id}.jpg"))
    (tmp_path / "ImageSets" / "Main" / "test.txt").write_text("\n".join(ids))
    files = [f"{i}.jpg" for i in ids if i != "im4"]
    _write_images(tmp_path / "JPEGImages", files, truncated="im3.jpg")

    dataset = VOCDetection(tmp_path, ["test"], (SIZE, SIZE), ValTransform(), class_names=("a", "b"))
    evaluator = VOCEvaluator(_loader(dataset), (SIZE, SIZE), 0.01, 0.65, 2, metric="voc10")
    map50_95, map50, summary = evaluator.evaluate(ConstantDetector())

    gt = (
        np.array([g[:4] for g in GT], np.float64),
        np.array([g[4] for g in GT]),
        np.zeros(len(GT), bool),
    )
    dets = [
        (img, cls, score, (x1, y1, x2, y2))
        for img in range(3)
        for x1, y1, x2, y2, cls, score in PREDICTED
    ]
    thresholds = np.arange(0.5, 0.96, 0.05)
    ref = reference_voc_ap(dets, [gt] * 3, 2, thresholds, use_07_metric=False)
    assert map50 == pytest.approx(ref[0].mean(), abs=1e-12)
    assert map50_95 == pytest.approx(ref.mean(), abs=1e-12)
    assert "scored 3 of 5 images" in summary
    assert "1 image file not found" in summary and "1 unreadable when evaluated" in summary
