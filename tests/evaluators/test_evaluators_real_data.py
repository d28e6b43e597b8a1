"""Evaluators on the real data pipeline (COCODataset / VOCDetection + ValTransform + DataLoader).

An "oracle" model replays each image's ground truth, letterboxed into input pixels, in loader
order; so AP must come out as 1.0 when the evaluator's id handling, rescaling and class mapping
agree with the data package.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
import pytest
import torch
from torch import nn

from yolox import data
from yolox.evaluators import COCOEvaluator, VOCEvaluator

INPUT_HW = (96, 160)  # not the aspect of any image: r = min(H / h, W / w) picks a side


class OracleModel(nn.Module):
    """Emits the next images' ground truth as decoded (cx, cy, w, h, obj, cls...) predictions."""

    def __init__(
        self, per_image: Sequence[Tuple[np.ndarray, np.ndarray, Tuple[int, int]]], num_classes: int
    ) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))
        self.per_image = list(per_image)
        self.num_classes = num_classes
        self.cursor = 0

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        n = max(1, max(len(b) for b, _, _ in self.per_image))
        out = torch.zeros(imgs.shape[0], n, 5 + self.num_classes)
        for k in range(imgs.shape[0]):
            boxes, labels, (h, w) = self.per_image[self.cursor]
            self.cursor += 1
            r = min(INPUT_HW[0] / h, INPUT_HW[1] / w)
            b = torch.as_tensor(np.asarray(boxes, np.float64) * r, dtype=torch.float32)
            out[k, : len(b), 0] = (b[:, 0] + b[:, 2]) / 2
            out[k, : len(b), 1] = (b[:, 1] + b[:, 3]) / 2
            out[k, : len(b), 2] = b[:, 2] - b[:, 0]
            out[k, : len(b), 3] = b[:, 3] - b[:, 1]
            out[k, : len(b), 4] = 1.0
            out[k, torch.arange(len(b)), 5 + torch.as_tensor(labels, dtype=torch.long)] = 1.0
        return out.to(imgs.device) + self.anchor


def _loader(dataset) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=False, num_workers=0)


def test_coco_evaluator_on_tiny_coco(shared_datasets: Path) -> None:
    root = shared_datasets / "tiny_coco"
    dataset = data.COCODataset(
        root, "instances_train2017.json", "train2017", INPUT_HW, preproc=data.ValTransform()
    )
    per_image: List = []
    for img_id in dataset.ids:
        info = dataset.coco.loadImgs(img_id)[0]
        anns = [
            a
            for a in dataset.coco.loadAnns(dataset.coco.getAnnIds(imgIds=img_id))
            if not a.get("iscrowd", 0)
        ]
        boxes = np.array(
            [
                [
                    a["bbox"][0],
                    a["bbox"][1],
                    a["bbox"][0] + a["bbox"][2],
                    a["bbox"][1] + a["bbox"][3],
                ]
                for a in anns
            ]
        ).reshape(-1, 4)
        labels = np.array([dataset.class_ids.index(a["category_id"]) for a in anns], dtype=np.int64)
        per_image.append((boxes, labels, (info["height"], info["width"])))
    evaluator = COCOEvaluator(
        _loader(dataset), INPUT_HW, 0.01, 0.999, len(dataset.class_ids), backend="pycocotools"
    )
    ap50_95, ap50, summary = evaluator.evaluate(OracleModel(per_image, len(dataset.class_ids)))
    assert ap50 == pytest.approx(1.0)
    assert ap50_95 == pytest.approx(1.0)
    assert "person" in summary


def test_voc_evaluator_on_microcontroller(shared_datasets: Path) -> None:
    root = shared_datasets / "microcontroller"
    names = ["Arduino_Nano", "ESP8266", "Heltec_ESP32_Lora", "Raspberry_Pi_3"]
    dataset = data.VOCDetection(
        root, ["test"], INPUT_HW, preproc=data.ValTransform(), class_names=names
    )
    per_image = []
    for i in range(len(dataset)):
        boxes, labels, _ = dataset.annotation_for_eval(i)
        per_image.append((boxes, labels, dataset.image_info(i)))
    for metric in ("voc07", "voc10"):
        evaluator = VOCEvaluator(_loader(dataset), INPUT_HW, 0.01, 0.999, len(names), metric=metric)
        map50_95, map50, summary = evaluator.evaluate(OracleModel(per_image, len(names)))
        assert map50 == pytest.approx(1.0) and map50_95 == pytest.approx(1.0)
        assert metric in summary and "Raspberry_Pi_3" in summary
