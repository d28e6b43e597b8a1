"""Datasets that give their class names in each way an exp can get them, with their exp files
(the resume and checkpoint-only-eval tests of the tools)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, Tuple

from .data_files import jpeg_bytes, solid_image, voc_xml, write_yolo
from .fixtures import write_exp

__all__ = ["NAMES", "LAYOUTS", "write_layout_exp"]

NAMES = ("rect", "circle")
BOX = (8, 8, 40, 40)


def _images(n: int = 2):
    return [(f"i{k}", jpeg_bytes(solid_image(64, 64, [BOX], seed=k)), k % 2) for k in range(n)]


def _objects(cls: int):
    return [(NAMES[cls], tuple(v + 1 for v in BOX))]


def _yolo(root: Path, names_file: bool) -> str:
    entries = [(stem, data, (64, 64), [(cls, *BOX)]) for stem, data, cls in _images()]
    for split in ("train", "val"):
        write_yolo(root, split, entries)
    if names_file:
        (root / "classes.txt").write_text("\n".join(NAMES) + "\n")
    return "self.dataset_format = 'yolo'\nself.train_sets = ('train',)\nself.val_sets = ('val',)"


def _voc_flat(root: Path) -> str:
    for split in ("train", "val"):
        (root / split).mkdir(parents=True)
        for stem, data, cls in _images():
            (root / split / f"{stem}.jpg").write_bytes(data)
            (root / split / f"{stem}.xml").write_text(
                voc_xml(f"{stem}.jpg", (64, 64), _objects(cls))
            )
    return (
        "self.dataset_format = 'voc_flat'\nself.train_sets = ('train',)\nself.val_sets = ('val',)"
    )


def _voc(root: Path) -> str:
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True)
    for stem, data, cls in _images():
        (root / "JPEGImages" / f"{stem}.jpg").write_bytes(data)
        (root / "Annotations" / f"{stem}.xml").write_text(
            voc_xml(f"{stem}.jpg", (64, 64), _objects(cls))
        )
    ids = "".join(f"{stem}\n" for stem, _, _ in _images())
    for split in ("train", "val"):
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text(ids)
    return "self.dataset_format = 'voc'\nself.train_sets = ('train',)\nself.val_sets = ('val',)"


def _coco(root: Path) -> str:
    (root / "annotations").mkdir(parents=True)
    (root / "imgs").mkdir()
    images, annotations = [], []
    for k, (stem, data, cls) in enumerate(_images()):
        (root / "imgs" / f"{stem}.jpg").write_bytes(data)
        images.append({"id": k + 1, "file_name": f"{stem}.jpg", "height": 64, "width": 64})
        box = [BOX[0], BOX[1], BOX[2] - BOX[0], BOX[3] - BOX[1]]
        annotations.append(
            {
                "id": k + 1,
                "image_id": k + 1,
                "category_id": cls + 1,
                "bbox": box,
                "area": 1024,
                "iscrowd": 0,
            }  # fmt: skip
        )
    categories = [{"id": k + 1, "name": n} for k, n in enumerate(NAMES)]
    text = json.dumps({"images": images, "annotations": annotations, "categories": categories})
    (root / "annotations" / "train.json").write_text(text)
    return (
        "self.dataset_format = 'coco'\nself.train_ann = self.val_ann = 'train.json'\n"
        "self.train_name = self.val_name = 'imgs'"
    )


#: way of giving class names -> (writes the data, returns exp lines; names the run should store)
LAYOUTS: Dict[str, Tuple[Callable[[Path], str], Tuple[str, ...]]] = {
    "explicit": (lambda r: _yolo(r, False) + f"\nself.class_names = {NAMES!r}", NAMES),
    "coco_json": (_coco, NAMES),
    "voc_xml": (_voc, tuple(sorted(NAMES))),
    "voc_flat": (_voc_flat, tuple(sorted(NAMES))),
    "yolo_names_file": (lambda r: _yolo(r, True), NAMES),
    "generated": (lambda r: _yolo(r, False), ("class_0", "class_1")),
}


def write_layout_exp(tmp_path: Path, layout: str) -> Path:
    """``tmp_path/exp.py`` training 64 px runs on ``tmp_path/data`` written in ``layout`` (a key
    of :data:`LAYOUTS`), into ``tmp_path/out/run``."""
    data = tmp_path / "data"
    data.mkdir()
    lines = LAYOUTS[layout][0](data)
    return write_exp(
        tmp_path / "exp.py",
        f"""{lines}
self.data_dir = {str(data)!r}
self.num_classes = 2
self.input_size = self.test_size = (64, 64)
self.random_size = (2, 2)
self.warmup_epochs = 1
self.no_aug_epochs = 0
self.eval_interval = 1
self.data_num_workers = 0
self.save_history_ckpt = False
self.output_dir = {str(tmp_path / "out")!r}
self.exp_name = 'run'""",
    )
