"""Official subclass hooks of COCODataset and VOCDetection: called the way official calls them.

User code subclasses the datasets and overrides ``load_anno_from_ids``, ``load_image``,
``read_img`` or passes a ``target_transform``; what the dataset yields must change accordingly.
Expected targets are computed here from the raw json / XML files, not through the dataset.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch

from yolox.data.datasets import COCODataset, VOCDetection
from yolox.data.datasets.synthetic import ensure_synthetic_dataset
from yolox.data.datasets.voc import AnnotationTransform

SIZE = (64, 64)


@pytest.fixture(scope="module")
def coco_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("coco")
    return ensure_synthetic_dataset(root, fmt="coco", num_train=6, num_val=2, img_size=64, seed=1)


@pytest.fixture(scope="module")
def voc_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("voc")
    return ensure_synthetic_dataset(root, fmt="voc", num_train=6, num_val=2, img_size=64, seed=2)


def _areas(coco_root: Path) -> list:
    data = json.loads((coco_root / "annotations" / "instances_train2017.json").read_text())
    return sorted(a["bbox"][2] * a["bbox"][3] for a in data["annotations"])


class CleanCOCO(COCODataset):
    """Official-style override: reads the raw annotations, drops boxes under ``min_area``."""

    min_area = 0.0

    def load_anno_from_ids(self, id_):
        info = self.coco.loadImgs(id_)[0]
        height, width = info["height"], info["width"]
        anns = self.coco.loadAnns(self.coco.getAnnIds(imgIds=[int(id_)], iscrowd=False))
        rows = [
            [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3],
             self.class_ids.index(a["category_id"])]
            for a in anns
            if a["bbox"][2] * a["bbox"][3] >= self.min_area
        ]  # fmt: skip
        res = np.array(rows, dtype=np.float64).reshape(-1, 5)
        r = min(self.img_size[0] / height, self.img_size[1] / width)
        res[:, :4] *= r
        return res, (height, width), (int(height * r), int(width * r)), info["file_name"]


def test_coco_subclass_cleaning_boxes_in_load_anno_from_ids_changes_the_targets(coco_root):
    areas = _areas(coco_root)
    CleanCOCO.min_area = float(np.median(areas))
    base = COCODataset(data_dir=coco_root, img_size=SIZE)
    clean = CleanCOCO(data_dir=coco_root, img_size=SIZE)
    data = json.loads((coco_root / "annotations" / "instances_train2017.json").read_text())
    cat_ids = sorted(c["id"] for c in data["categories"])
    dropped = 0
    for index, img_id in enumerate(clean.ids):
        info = next(i for i in data["images"] if i["id"] == img_id)
        r = min(SIZE[0] / info["height"], SIZE[1] / info["width"])
        expected = [
            [a["bbox"][0] * r, a["bbox"][1] * r, (a["bbox"][0] + a["bbox"][2]) * r,
             (a["bbox"][1] + a["bbox"][3]) * r, cat_ids.index(a["category_id"])]
            for a in data["annotations"]
            if a["image_id"] == img_id and a["bbox"][2] * a["bbox"][3] >= CleanCOCO.min_area
        ]  # fmt: skip
        img, target, img_info, id_out = clean.pull_item(index)
        np.testing.assert_allclose(target, np.array(expected).reshape(-1, 5), rtol=1e-5)
        assert img_info == (info["height"], info["width"]) and id_out.tolist() == [img_id]
        assert np.array_equal(clean.load_anno(index), target)
        dropped += len(base.pull_item(index)[1]) - len(target)
    assert dropped > 0  # the override really removed boxes the base class keeps


def test_coco_load_image_and_read_img_overrides_are_what_pull_item_reads(coco_root):
    calls = []

    class Grey(COCODataset):
        def load_image(self, index):
            return np.full((32, 48, 3), 77, np.uint8)

    class Counting(COCODataset):
        def read_img(self, index, use_cache=True):
            calls.append(index)
            return super().read_img(index, use_cache)

    img = Grey(data_dir=coco_root, img_size=SIZE).pull_item(0)[0]
    assert img.shape == (42, 64, 3) and (img == 77).all()  # resized to fit 64x64
    Counting(data_dir=coco_root, img_size=SIZE).pull_item(2)
    assert calls == [2]


def _xml_rows(path: Path, names: list) -> list:
    """(x1 - 1, y1 - 1, x2 - 1, y2 - 1, class) straight from the XML."""
    rows = []
    for obj in ET.parse(path).getroot().iter("object"):
        box = obj.find("bndbox")
        coords = [float(box.find(t).text) - 1 for t in ("xmin", "ymin", "xmax", "ymax")]
        rows.append(coords + [names.index(obj.find("name").text.strip())])
    return rows


def test_voc_target_transform_is_run_on_each_xml(voc_root):
    base = VOCDetection(data_dir=voc_root, image_sets=["train"], img_size=SIZE)
    names = list(base.class_names)
    assert isinstance(base.target_transform, AnnotationTransform)
    one_class = VOCDetection(
        data_dir=voc_root, image_sets=["train"], img_size=SIZE,
        target_transform=AnnotationTransform({n: 0 for n in names}),
    )  # fmt: skip
    for index, (root, image_id) in enumerate(base.ids):
        height, width = base.image_info(index)
        r = min(SIZE[0] / height, SIZE[1] / width)
        rows = np.array(_xml_rows(Path(root) / "Annotations" / f"{image_id}.xml", names))
        expected = rows.copy()
        expected[:, :4] *= r
        np.testing.assert_allclose(base.pull_item(index)[1], expected, rtol=1e-5)
        expected[:, 4] = 0
        np.testing.assert_allclose(one_class.pull_item(index)[1], expected, rtol=1e-5)


def test_voc_load_anno_from_ids_override_in_the_official_three_tuple(voc_root):
    class FirstBoxOnly(VOCDetection):
        def load_anno_from_ids(self, index):
            res, img_info, resized_info = super().load_anno_from_ids(index)[:3]
            return res[:1], img_info, resized_info

    ds = FirstBoxOnly(data_dir=voc_root, image_sets=["train"], img_size=SIZE)
    base = VOCDetection(data_dir=voc_root, image_sets=["train"], img_size=SIZE)
    for index in range(len(ds)):
        assert np.array_equal(ds.pull_item(index)[1], base.pull_item(index)[1][:1])


def test_voc_evaluate_detections_scores_official_all_boxes(voc_root, tmp_path):
    ds = VOCDetection(data_dir=voc_root, image_sets=["val"], img_size=SIZE)
    perfect = [[np.zeros((0, 5)) for _ in range(len(ds))] for _ in range(ds.num_classes)]
    for image in range(len(ds)):
        boxes, labels, _ = ds.annotation_for_eval(image)
        for box, label in zip(boxes, labels):
            row = np.append(box, 0.9)[None]
            perfect[label][image] = np.concatenate([perfect[label][image], row])
    assert ds.evaluate_detections(perfect, str(tmp_path)) == (pytest.approx(1.0),) * 2
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"comp4_det_test_{n}.txt" for n in ds.class_names)
    first = next(p for p in tmp_path.iterdir() if p.read_text()).read_text().split()
    assert first[0] in {image_id for _, image_id in ds.ids} and first[1] == "0.900"
    # shifting every box by half its size drops AP50:95 below 1 and AP50 to what IoU allows
    shifted = [[b + np.array([4, 4, 4, 4, 0]) for b in per] for per in perfect]
    ap, ap50 = ds.evaluate_detections(shifted)
    assert ap < 1.0 and ap50 <= 1.0


def test_voc_evaluator_calls_an_overridden_evaluate_detections(voc_root):
    from yolox.evaluators import VOCEvaluator
    from yolox.evaluators.inference import InferenceTiming
    from yolox.utils.detections import Detections

    seen = []

    class OwnScoring(VOCDetection):
        def evaluate_detections(self, all_boxes, output_dir=None):
            seen.append(all_boxes)
            return 0.25, 0.5

    ds = OwnScoring(data_dir=voc_root, image_sets=["val"], img_size=SIZE)
    loader = torch.utils.data.DataLoader(ds, batch_size=1)
    evaluator = VOCEvaluator(loader, SIZE, 0.01, 0.65, ds.num_classes)
    boxes, labels, _ = ds.annotation_for_eval(0)
    det = Detections(boxes, np.full(len(labels), 0.8, np.float32), labels)
    map50_95, map50, _ = evaluator._score({0: det, 1: Detections.empty()}, InferenceTiming())
    assert (map50_95, map50) == (0.25, 0.5)
    all_boxes = seen[0]
    assert len(all_boxes) == ds.num_classes and all(len(per) == len(ds) for per in all_boxes)
    for cls in range(ds.num_classes):
        np.testing.assert_allclose(all_boxes[cls][0][:, :4], boxes[labels == cls])
        assert len(all_boxes[cls][1]) == 0
