"""Helpers shared by the data tests (a unique module name, imported by the test files)."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

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
