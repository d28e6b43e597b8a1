"""Drawing boxes with their class name and score: official's ``vis`` and the shared drawing step."""

from __future__ import annotations

import colorsys
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ["vis", "class_color", "draw_labelled_box"]


def class_color(class_id: int) -> Tuple[int, int, int]:
    """A stable, well-spread BGR colour per class (golden-ratio hue steps)."""
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


def draw_labelled_box(
    canvas: np.ndarray,
    box: Sequence[float],
    label: str,
    color: Tuple[int, int, int],
    thickness: int,
    font_scale: float,
) -> None:
    """Draw ``box`` (x1, y1, x2, y2) and ``label`` on a filled tag above it, in place."""
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
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


def vis(
    img: np.ndarray,
    boxes: Sequence[Sequence[float]],
    scores: Sequence[float],
    cls_ids: Sequence[float],
    conf: float = 0.5,
    class_names: Optional[Sequence[str]] = None,
) -> np.ndarray:
    """Draw every box scoring at least ``conf`` on ``img`` in place, labelled ``name:score%``.

    Official's signature and in-place behaviour; ``class_names`` None labels by class id.
    """
    thickness = max(1, round(min(img.shape[:2]) / 300))
    font_scale = max(0.35, min(img.shape[:2]) / 1000)
    for box, score, cls_id in zip(boxes, scores, cls_ids):
        score, cls_id = float(score), int(cls_id)
        if score < conf:
            continue
        name = class_names[cls_id] if class_names is not None else str(cls_id)
        label = f"{name}:{score * 100:.1f}%"
        draw_labelled_box(img, box, label, class_color(cls_id), thickness, font_scale)
    return img
