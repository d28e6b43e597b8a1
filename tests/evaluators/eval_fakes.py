"""A fixed-output fake detector, and tiny fake COCO / VOC datasets and loaders for evaluator tests.

Each fake image carries its dataset index in pixel (0, 0, 0); the fake model reads it and returns
predictions built from that image's ground truth, letterboxed exactly as the real loader would
(``r = min(H / h, W / w)``, top-left). A correct evaluator must therefore recover the original
boxes and categories, and score AP 1.0.
"""

from __future__ import annotations

import contextlib
import io
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

INPUT_HW = (64, 96)
# (orig_h, orig_w) per image; different aspect ratios exercise both sides of the min() in r.
IMAGE_SIZES = [(480, 640), (300, 200), (128, 512), (640, 480), (100, 100)]
COCO_CLASS_IDS = [3, 7, 12]  # non-contiguous, like COCO's
CLASS_NAMES = ["cat_a", "cat_b", "cat_c"]


def _boxes_for(index: int) -> Tuple[np.ndarray, np.ndarray]:
    """Ground-truth xyxy boxes (original pixels) and contiguous labels of image ``index``."""
    rng = np.random.default_rng(100 + index)
    h, w = IMAGE_SIZES[index]
    n = 2 + index % 3
    x1 = rng.uniform(0, w * 0.5, n)
    y1 = rng.uniform(0, h * 0.5, n)
    x2 = x1 + rng.uniform(w * 0.15, w * 0.45, n)
    y2 = y1 + rng.uniform(h * 0.15, h * 0.45, n)
    labels = rng.integers(0, 2, n)  # class 2 is never annotated
    return np.round(np.stack([x1, y1, x2, y2], 1)), labels


class FakeDetector(nn.Module):
    """Returns decoded outputs [B, N, 5 + C] (cx, cy, w, h, obj, cls...) in input pixels."""

    def __init__(self, num_classes: int = 3, num_anchors: int = 8) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))  # gives the model a device and a dtype
        self.num_classes = num_classes
        self.num_anchors = num_anchors

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(
            imgs.shape[0],
            self.num_anchors,
            5 + self.num_classes,
            dtype=imgs.dtype,
            device=imgs.device,
        )
        for b in range(imgs.shape[0]):
            index = int(imgs[b, 0, 0, 0].item())
            boxes, labels = _boxes_for(index)
            h, w = IMAGE_SIZES[index]
            r = min(INPUT_HW[0] / h, INPUT_HW[1] / w)
            scaled = boxes * r
            for k, (box, label) in enumerate(zip(scaled, labels)):
                cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
                out[b, k, :4] = torch.tensor(
                    [cx, cy, box[2] - box[0], box[3] - box[1]], dtype=imgs.dtype
                )
                out[b, k, 4] = 1.0
                out[b, k, 5 + int(label)] = 0.9 - 0.1 * k
        return out * self.scale


class FakeCOCODataset:
    """.coco (pycocotools COCO with ids 1000+i), .class_ids, .ids, like COCODataset."""

    def __init__(self) -> None:
        from pycocotools.coco import COCO

        self.class_ids = list(COCO_CLASS_IDS)
        self.class_names = list(CLASS_NAMES)
        self.ids = [1000 + i for i in range(len(IMAGE_SIZES))]
        images, anns = [], []
        for i, (h, w) in enumerate(IMAGE_SIZES):
            images.append({"id": self.ids[i], "height": h, "width": w, "file_name": f"{i}.jpg"})
            boxes, labels = _boxes_for(i)
            for box, label in zip(boxes, labels):
                bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
                anns.append(
                    {
                        "id": len(anns) + 1,
                        "image_id": self.ids[i],
                        "category_id": self.class_ids[int(label)],
                        "bbox": [float(box[0]), float(box[1]), bw, bh],
                        "area": bw * bh,
                        "iscrowd": 0,
                    }
                )
        cats = [{"id": c, "name": n} for c, n in zip(self.class_ids, self.class_names)]
        with contextlib.redirect_stdout(io.StringIO()):
            self.coco = COCO()
            self.coco.dataset = {"images": images, "annotations": anns, "categories": cats}
            self.coco.createIndex()

    def __len__(self) -> int:
        return len(self.ids)


class FakeVOCDataset:
    """annotation_for_eval / class_names / ids, like VOCDetection; one difficult box, one empty class."""

    def __init__(self) -> None:
        self.class_names = tuple(CLASS_NAMES)
        self.ids = [("FAKE", f"{i:06d}") for i in range(len(IMAGE_SIZES))]

    def __len__(self) -> int:
        return len(self.ids)

    def annotation_for_eval(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, labels = _boxes_for(index)
        difficult = np.zeros(len(boxes), dtype=bool)
        if index == 1:  # an undetected difficult box must not cost recall
            boxes = np.concatenate([boxes, [[5.0, 5.0, 60.0, 60.0]]])
            labels = np.concatenate([labels, [0]])
            difficult = np.concatenate([difficult, [True]])
        return boxes, labels, difficult

    def image_info(self, index: int) -> Tuple[int, int]:
        return IMAGE_SIZES[index]


class FakeLoader:
    """Yields (imgs, targets, (heights, widths), ids) batches; ``id_mode`` picks what ids are."""

    def __init__(
        self, dataset, batch_size: int = 2, indices: Sequence[int] = None, id_mode: str = "index"
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.indices = list(range(len(dataset))) if indices is None else list(indices)
        self.id_mode = id_mode

    def __len__(self) -> int:
        return (len(self.indices) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        for start in range(0, len(self.indices), self.batch_size):
            chunk = self.indices[start : start + self.batch_size]
            imgs = torch.full((len(chunk), 3, *INPUT_HW), 114.0)
            for b, i in enumerate(chunk):
                imgs[b, 0, 0, 0] = float(i)
            heights = torch.tensor([IMAGE_SIZES[i][0] for i in chunk])
            widths = torch.tensor([IMAGE_SIZES[i][1] for i in chunk])
            if self.id_mode == "index":
                ids = torch.tensor(chunk)
            else:
                ids = torch.tensor([self.dataset.ids[i] for i in chunk])
            yield imgs, torch.zeros(len(chunk), 1, 5), (heights, widths), ids


def expected_outputs() -> Dict[int, Tuple[np.ndarray, np.ndarray]]:
    """Original boxes and labels per dataset index (what the evaluator must reconstruct)."""
    return {i: _boxes_for(i) for i in range(len(IMAGE_SIZES))}


def all_indices() -> List[int]:
    return list(range(len(IMAGE_SIZES)))
