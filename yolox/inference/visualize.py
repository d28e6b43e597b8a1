"""Draw detections (box, class name, score) on a BGR image."""

from __future__ import annotations

import colorsys
from typing import Optional, Tuple

import cv2
import numpy as np

from yolox.utils.detections import Detections

__all__ = ["class_color", "draw_detections"]


def class_color(class_id: int) -> Tuple[int, int, int]:
    """A stable, well-spread BGR colour per class (golden-ratio hue steps)."""
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


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
        color = class_color(int(cid))
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
        label = f"{name}: {score * 100:.1f}%"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        top = max(y1 - th - base - 2, 0)
        cv2.rectangle(canvas, (x1, top), (x1 + tw + 2, top + th + base + 2), color, -1)
        text_color = (0, 0, 0) if np.mean(color) > 127 else (255, 255, 255)
        cv2.putText(
            canvas,
            label,
            (x1 + 1, top + th + 1),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            text_color,
            1,
            cv2.LINE_AA,
        )
    return canvas
