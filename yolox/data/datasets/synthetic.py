"""A generated toy detection dataset (coloured shapes on noisy backgrounds) in COCO or VOC layout.

It lets tests, demos and CI train and evaluate a tiny model on a CPU in minutes without any
download: objects are large, few and clearly coloured, and every file is a pure function of
the seed, so two runs produce byte-identical datasets.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Dict, List, Tuple, Union

import cv2
import numpy as np

from .errors import DatasetError

__all__ = ["SYNTHETIC_CLASSES", "ensure_synthetic_dataset", "render_synthetic_image"]

SYNTHETIC_CLASSES = ("circle", "square", "triangle")
_FORMAT_VERSION = 1
_MARKER = "synthetic.json"
Box = Tuple[int, int, int, int]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Muted two-colour gradient + random thin lines + pixel noise."""
    c0 = rng.integers(30, 140, 3).astype(np.float32)
    c1 = rng.integers(30, 140, 3).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    t = np.clip((np.cos(angle) * xx + np.sin(angle) * yy + 1) / 2, 0, 1)[..., None]
    img = c0 * (1 - t) + c1 * t
    for _ in range(int(rng.integers(3, 9))):
        p0 = tuple(int(v) for v in rng.integers(0, size, 2))
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        shade = tuple(float(v) for v in rng.integers(40, 150, 3))
        cv2.line(img, p0, p1, shade, int(rng.integers(1, 3)))
    img += rng.normal(0.0, 10.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _bright_colour(rng: np.random.Generator) -> Tuple[int, int, int]:
    hsv = np.array(
        [[[rng.integers(0, 180), rng.integers(170, 256), rng.integers(190, 256)]]], np.uint8
    )
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def _iou(a: Box, b: Box) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _draw(img: np.ndarray, cls: int, box: Box, colour: Tuple[int, int, int]) -> None:
    x1, y1, x2, y2 = box
    if cls == 0:
        radius = (x2 - x1) // 2
        cv2.circle(img, (x1 + radius, y1 + radius), radius, colour, -1, cv2.LINE_AA)
    elif cls == 1:
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), colour, -1)
    else:
        pts = np.array([[(x1 + x2) // 2, y1], [x1, y2 - 1], [x2 - 1, y2 - 1]], np.int32)
        cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)


def render_synthetic_image(
    rng: np.random.Generator, size: int
) -> Tuple[np.ndarray, List[Box], List[int]]:
    """One image with 1-4 non-overlapping shapes; returns (BGR image, boxes x1y1x2y2, classes)."""
    img = _background(rng, size)
    boxes: List[Box] = []
    classes: List[int] = []
    for _ in range(int(rng.integers(1, 5))):
        for _attempt in range(50):
            side = int(rng.integers(max(size * 0.15, 8), max(size * 0.4, 10)))
            side -= side % 2
            x1, y1 = (int(v) for v in rng.integers(0, size - side + 1, 2))
            box = (x1, y1, x1 + side, y1 + side)
            if all(_iou(box, other) < 0.05 for other in boxes):
                cls = int(rng.integers(0, len(SYNTHETIC_CLASSES)))
                _draw(img, cls, box, _bright_colour(rng))
                boxes.append(box)
                classes.append(cls)
                break
    return img, boxes, classes


def _write_jpeg(path: Path, img: np.ndarray) -> None:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:  # pragma: no cover - encoding a uint8 BGR array does not fail
        raise DatasetError(f"cannot encode {path}")
    path.write_bytes(data.tobytes())


def _voc_xml(filename: str, size: int, boxes: List[Box], classes: List[int]) -> str:
    objects = "".join(
        f"  <object>\n    <name>{SYNTHETIC_CLASSES[c]}</name>\n    <pose>Unspecified</pose>\n"
        f"    <truncated>0</truncated>\n    <difficult>0</difficult>\n    <bndbox>\n"
        f"      <xmin>{b[0] + 1}</xmin>\n      <ymin>{b[1] + 1}</ymin>\n"
        f"      <xmax>{b[2] + 1}</xmax>\n      <ymax>{b[3] + 1}</ymax>\n    </bndbox>\n  </object>\n"
        for b, c in zip(boxes, classes)
    )
    return (
        f"<annotation>\n  <folder>JPEGImages</folder>\n  <filename>{filename}</filename>\n"
        f"  <size>\n    <width>{size}</width>\n    <height>{size}</height>\n    <depth>3</depth>\n  </size>\n"
        f"{objects}</annotation>\n"
    )


def _generate(tmp: Path, fmt: str, counts: Dict[str, int], size: int, seed: int) -> None:
    categories = [
        {"id": i + 1, "name": n, "supercategory": "shape"} for i, n in enumerate(SYNTHETIC_CLASSES)
    ]
    if fmt == "voc":
        for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
            (tmp / sub).mkdir(parents=True, exist_ok=True)
    for split_code, (split, count) in enumerate(counts.items()):
        images, annotations, ids = [], [], []
        if fmt == "coco":
            (tmp / f"{split}2017").mkdir(parents=True, exist_ok=True)
        for i in range(count):
            rng = np.random.default_rng([seed, split_code, i])
            img, boxes, classes = render_synthetic_image(rng, size)
            if fmt == "coco":
                name = f"{i:06d}.jpg"
                _write_jpeg(tmp / f"{split}2017" / name, img)
                images.append({"id": i + 1, "file_name": name, "height": size, "width": size})
                for b, c in zip(boxes, classes):
                    w, h = b[2] - b[0], b[3] - b[1]
                    annotations.append(
                        {"id": len(annotations) + 1, "image_id": i + 1, "category_id": c + 1,
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0}
                    )  # fmt: skip
            else:
                image_id = f"{split}_{i:06d}"
                _write_jpeg(tmp / "JPEGImages" / f"{image_id}.jpg", img)
                xml = _voc_xml(f"{image_id}.jpg", size, boxes, classes)
                (tmp / "Annotations" / f"{image_id}.xml").write_text(xml, encoding="utf-8")
                ids.append(image_id)
        if fmt == "coco":
            (tmp / "annotations").mkdir(exist_ok=True)
            data = {"images": images, "annotations": annotations, "categories": categories}
            (tmp / "annotations" / f"instances_{split}2017.json").write_text(
                json.dumps(data), encoding="utf-8"
            )
        else:
            (tmp / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{x}\n" for x in ids))
    if fmt == "voc":
        sets = tmp / "ImageSets" / "Main"
        (sets / "trainval.txt").write_text(
            (sets / "train.txt").read_text() + (sets / "val.txt").read_text()
        )


def ensure_synthetic_dataset(
    root: Union[str, Path],
    fmt: str = "coco",
    num_train: int = 200,
    num_val: int = 50,
    img_size: int = 256,
    seed: int = 0,
) -> Path:
    """Create the dataset under ``root`` unless an identical one is already there; return root.

    COCO layout: annotations/instances_{train,val}2017.json + {train,val}2017/*.jpg (the Exp
    defaults). VOC layout: Annotations/, JPEGImages/, ImageSets/Main/{train,val,trainval}.txt.
    Files are written to a temporary sibling folder and renamed into place, so concurrent
    callers (several ranks) and interrupted runs never see a half-written dataset.
    """
    if fmt not in ("coco", "voc"):
        raise ValueError(f"fmt must be 'coco' or 'voc', got {fmt!r}")
    root = Path(root)
    params = {"version": _FORMAT_VERSION, "format": fmt, "num_train": int(num_train),
              "num_val": int(num_val), "img_size": int(img_size), "seed": int(seed),
              "classes": list(SYNTHETIC_CLASSES)}  # fmt: skip

    def existing() -> bool:
        marker = root / _MARKER
        if marker.is_file():
            try:
                found = json.loads(marker.read_text())
            except (OSError, json.JSONDecodeError):
                found = None
            if found == params:
                return True
            raise DatasetError(
                f"{root} holds a different synthetic dataset ({found}); use another root or delete it"
            )
        if root.exists() and any(root.iterdir()):
            raise DatasetError(
                f"{root} exists, is not empty and is not a synthetic dataset; refusing to overwrite it"
            )
        return False

    if existing():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        _generate(tmp, fmt, {"train": num_train, "val": num_val}, int(img_size), int(seed))
        (tmp / _MARKER).write_text(json.dumps(params))
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()
        try:
            os.rename(tmp, root)
        except OSError:
            if not existing():  # lost a race against another process; its copy is identical
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root
