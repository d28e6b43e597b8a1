"""Draw detections (box, class name, score) on a BGR image."""

from __future__ import annotations

from typing import Optional

import numpy as np

from yolox.utils.detections import Detections
from yolox.utils.visualize import class_color, draw_labelled_box

__all__ = ["class_color", "draw_detections"]


def draw_detections(
    image: np.ndarray,
    detections: Detections,
    min_score: float = 0.0,
    thickness: Optional[int] = None,
) -> np.ndarray:
    """A copy of ``image`` with every detection scoring >= ``min_score`` boxed and labelled."""
    canvas = np.ascontiguousarray(image.copy())
    if thickness is None:
        thickness = max(1, round(min(canvas.shape[:2]) / 300))
    font_scale = max(0.35, min(canvas.shape[:2]) / 1000)
    for box, score, cid, name in zip(
        detections.boxes, detections.scores, detections.class_ids, detections.class_names
    ):
        if score < min_score:
            continue
        label = f"{name}: {score * 100:.1f}%"
        draw_labelled_box(canvas, box, label, class_color(int(cid)), thickness, font_scale)
    return canvas
