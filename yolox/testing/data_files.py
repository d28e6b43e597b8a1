"""Image and annotation files for data tests: encoded images, VOC XML, whole dataset layouts."""

from __future__ import annotations

import io
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

BCCD_CLASSES = ("RBC", "WBC", "Platelets")


def solid_image(
    h: int, w: int, boxes: Sequence[Tuple[int, int, int, int]] = (), seed: int = 0
) -> np.ndarray:
    """A noisy dark image with a bright filled rectangle per (x1, y1, x2, y2) box."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in boxes:
        img[int(y1) : int(y2), int(x1) : int(x2)] = (0, 200, 255)
    return img


def jpeg_bytes(img: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", img)
    assert ok
    return data.tobytes()


def png_bytes(img: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", img)
    assert ok
    return data.tobytes()


def voc_xml(
    filename: str,
    size: Optional[Tuple[int, int]],
    objects: Sequence[Tuple[str, Sequence[float]]],
    difficult: Sequence[int] = (),
) -> str:
    """XML text; ``size`` is (width, height) or None for no <size>; boxes are 1-based VOC."""
    size_xml = (
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
        if size
        else ""
    )
    objs = ""
    for i, (name, box) in enumerate(objects):
        diff = difficult[i] if i < len(difficult) else 0
        objs += (
            f"<object><name>{name}</name><difficult>{diff}</difficult><bndbox>"
            f"<xmin>{box[0]}</xmin><ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax>"
            "</bndbox></object>"
        )
    return f"<annotation><filename>{filename}</filename>{size_xml}{objs}</annotation>"


NAMES = ("cat", "dog")  # the classes of bad_entries()


def _exif_rotated_jpeg() -> bytes:
    """Raw 20 high x 40 wide, EXIF orientation 6: displayed 40 high x 20 wide."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(solid_image(20, 40)[:, :, ::-1]).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _rgba_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((30, 40, 4), 200, np.uint8), "RGBA").save(buf, "PNG")
    return buf.getvalue()


def bad_entries():
    """(stem, image bytes, displayed (w, h), objects [(class, x1, y1, x2, y2) in pixels])."""
    good = jpeg_bytes(solid_image(30, 40, [(5, 5, 20, 20)]))
    noisy = jpeg_bytes(np.random.default_rng(1).integers(0, 255, (30, 40, 3), dtype=np.uint8))
    return [
        ("ok", good, (40, 30), [(0, 5, 5, 20, 20)]),
        ("truncated", noisy[: len(noisy) * 3 // 4], (40, 30), [(1, 2, 2, 12, 12)]),
        ("png_as_jpg", png_bytes(solid_image(30, 40)), (40, 30), [(1, 10, 10, 30, 25)]),
        ("rgba", _rgba_png(), (40, 30), [(0, 1, 1, 9, 9)]),
        ("exif", _exif_rotated_jpeg(), (20, 40), [(0, 2, 20, 18, 38)]),
        ("outside", good, (40, 30), [(0, 30, 20, 55, 40)]),  # clipped to 30..40, 20..30
        ("degenerate", good, (40, 30), [(0, 10, 10, 10, 20), (1, 5, 5, 15, 15)]),
        ("background", good, (40, 30), None),  # no annotation file at all
    ]


def write_voc_flat(folder, entries, zero_size=("png_as_jpg",)):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data, (w, h), objects in entries:
        suffix = ".png" if stem == "rgba" else ".jpg"
        (folder / f"{stem}{suffix}").write_bytes(data)
        if objects is None:
            continue
        size = (0, 0) if stem in zero_size else (w, h)
        objs = [(NAMES[c], (x1 + 1, y1 + 1, x2 + 1, y2 + 1)) for c, x1, y1, x2, y2 in objects]
        (folder / f"{stem}.xml").write_text(voc_xml(f"{stem}{suffix}", size, objs))


def write_yolo(root, split, entries):
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for stem, data, (w, h), objects in entries:
        suffix = ".png" if stem == "rgba" else ".jpg"
        (images / f"{stem}{suffix}").write_bytes(data)
        if objects is None:
            continue
        lines = [
            f"{c} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
            for c, x1, y1, x2, y2 in objects
        ]
        (labels / f"{stem}.txt").write_text("\n".join(lines) + "\n")


def _layout_items(count: int, seed: int):
    """(stem, jpeg bytes, [(class, x1, y1, x2, y2)]) of ``count`` 96x128 images, two classes."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(count):
        x1, y1 = int(rng.integers(4, 60)), int(rng.integers(4, 40))
        w, h = int(rng.integers(20, 50)), int(rng.integers(20, 40))
        cls = i % 2
        box = (x1, y1, min(x1 + w, 127), min(y1 + h, 95))
        items.append(
            (f"img_{i:03d}", jpeg_bytes(solid_image(96, 128, [box], seed=i)), [(cls, *box)])
        )
    return items


def _yolo_lines(objects, w: int = 128, h: int = 96) -> str:
    return "".join(
        f"{c} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"
        for c, x1, y1, x2, y2 in objects
    )


def write_voc_sibling_layout(root, count: int = 16, names=NAMES, xml_folder: str = "annotations"):
    """A flat VOC dataset as often published: ``images/*.jpg`` + ``annotations/*.xml``."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / xml_folder).mkdir(parents=True, exist_ok=True)
    for stem, data, objects in _layout_items(count, 0):
        (root / "images" / f"{stem}.jpg").write_bytes(data)
        objs = [(names[c], (x1 + 1, y1 + 1, x2, y2)) for c, x1, y1, x2, y2 in objects]
        (root / xml_folder / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", (128, 96), objs))
    return root


def write_yolov8_export(root, count: int = 12, names=NAMES):
    """A YOLOv8 export as downloaded: data.yaml at the root whose ``train:``/``val:`` are the
    exporter's absolute Windows paths, images under ``data/<split>/images``."""
    for split, seed in (("train", 0), ("valid", 1)):
        images, labels = root / "data" / split / "images", root / "data" / split / "labels"
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for stem, data, objects in _layout_items(count, seed):
            (images / f"{stem}.jpg").write_bytes(data)
            (labels / f"{stem}.txt").write_text(_yolo_lines(objects))
    base = "C:\\Users\\someone\\Downloads\\Battery\\data"
    (root / "data.yaml").write_text(
        f"train: {base}\\train\\images\nval: {base}\\valid\\images\n\n"
        f"nc: {len(names)}\nnames: [{', '.join(names)}]\n"
    )
    return root


def write_roboflow_export(root, count: int = 12, names=NAMES):
    """Roboflow's YOLO export: ``train/``, ``valid/``, ``test/`` each with ``images/`` and
    ``labels/``, and a data.yaml whose paths are ``../<split>/images``."""
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        images, labels = root / split / "images", root / split / "labels"
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for stem, data, objects in _layout_items(count, seed):
            (images / f"{stem}.jpg").write_bytes(data)
            (labels / f"{stem}.txt").write_text(_yolo_lines(objects))
    listed = "\n".join(f"- {n}" for n in names)
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\n"
        f"nc: {len(names)}\nnames:\n{listed}\n\nroboflow:\n  workspace: someone\n  version: 1\n"
    )
    return root
