"""Exp class names: taken from the dataset when the exp gives none, checked against it otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from loguru import logger

from yolox.data import COCO_CLASSES, DatasetError
from yolox.evaluators import VOCEvaluator
from yolox.exp import Exp
from yolox.testing.data_files import bad_entries, write_voc_flat, write_yolo


def _coco_root(tmp_path: Path, names) -> Path:
    (tmp_path / "annotations").mkdir(parents=True)
    (tmp_path / "imgs").mkdir()
    cv2.imwrite(str(tmp_path / "imgs" / "a.jpg"), np.full((32, 32, 3), 80, np.uint8))
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": 32, "width": 32}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [2, 2, 10, 10], "iscrowd": 0}
        ],
        "categories": [{"id": 1 + k, "name": n} for k, n in enumerate(names)],
    }
    for split in ("train", "val"):
        (tmp_path / "annotations" / f"{split}.json").write_text(json.dumps(data))
    return tmp_path


def _coco_exp(root: Path, num_classes: int) -> Exp:
    exp = Exp()
    exp.data_dir, exp.num_classes, exp.data_num_workers = str(root), num_classes, 0
    exp.train_ann, exp.val_ann, exp.train_name, exp.val_name = (
        "train.json",
        "val.json",
        "imgs",
        "imgs",
    )
    exp.input_size = exp.test_size = (64, 64)
    return exp


@pytest.fixture
def log_lines():
    lines = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO")
    yield lines
    logger.remove(sink)


def test_80_class_exp_on_3_category_json_says_set_num_classes(tmp_path):
    exp = _coco_exp(_coco_root(tmp_path, ["a", "b", "c"]), 80)
    with pytest.raises(
        DatasetError, match=r"num_classes=80 but .* has 3 classes .* set num_classes=3"
    ):
        exp.get_data_loader(2, False)
    with pytest.raises(DatasetError, match="set num_classes=3"):
        exp.get_evaluator(2, False)  # evaluation alone fails the same way, before any model runs


def test_3_class_exp_on_80_category_json_says_set_num_classes(tmp_path):
    exp = _coco_exp(_coco_root(tmp_path, COCO_CLASSES), 3)
    with pytest.raises(DatasetError, match="set num_classes=80"):
        exp.get_data_loader(2, False)
    exp.class_names = ("a", "b", "c")  # explicit names of the wrong count: the same advice
    with pytest.raises(DatasetError, match="set num_classes=80 and class_names=None"):
        exp.get_data_loader(2, False)


def test_names_come_from_the_json_with_one_log_line(tmp_path, log_lines):
    exp = _coco_exp(_coco_root(tmp_path, ["x", "y", "z"]), 3)
    exp.get_data_loader(2, False)
    exp.get_evaluator(2, False)
    assert exp.class_names == ("x", "y", "z")
    assert exp.model_config().class_names == ("x", "y", "z")  # what checkpoints store
    assert sum("class names from the categories of train.json" in m for m in log_lines) == 1


def test_yolo_without_names_file_generates_names(tmp_path, log_lines):
    write_yolo(tmp_path, "train", bad_entries()[:3])
    write_yolo(tmp_path, "val", bad_entries()[:1])
    exp = Exp()
    exp.dataset_format, exp.data_dir, exp.num_classes = "yolo", str(tmp_path), 4
    exp.data_num_workers, exp.input_size, exp.test_size = 0, (64, 64), (64, 64)
    exp.get_data_loader(2, False)
    assert exp.class_names == ("class_0", "class_1", "class_2", "class_3")
    assert any("has no names file, using class_0..class_3" in m for m in log_lines)
    evaluator = exp.get_evaluator(2, False)
    assert isinstance(evaluator, VOCEvaluator)  # folder formats are scored by the VOC evaluator
    assert evaluator.dataloader.dataset.class_names == exp.class_names
    exp.num_classes, exp.class_names = 1, None
    exp.dataset = None
    with pytest.raises(DatasetError, match="uses class index 1 but num_classes=1"):
        exp.get_data_loader(2, False)


def test_voc_flat_names_from_the_xmls_reach_the_evaluator(tmp_path):
    write_voc_flat(tmp_path / "train", bad_entries()[:4])
    write_voc_flat(tmp_path / "valid", bad_entries()[:1])  # only "cat" in the val XMLs
    exp = Exp()
    exp.dataset_format, exp.data_dir, exp.num_classes = "voc_flat", str(tmp_path), 2
    exp.data_num_workers, exp.input_size, exp.test_size = 0, (64, 64), (64, 64)
    exp.get_data_loader(2, False)
    assert exp.class_names == ("cat", "dog")
    evaluator = exp.get_evaluator(2, False)
    assert evaluator.dataloader.dataset.class_names == ("cat", "dog")
