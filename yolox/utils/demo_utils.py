"""Numpy post-processing for exported models (ONNX/OpenVINO demos) and drawing helpers.

These are what official YOLOX's deployment demos import from ``yolox.utils``: decoding raw head
outputs without torch, NMS in numpy, and a picture of which anchors SimOTA assigned to a box.
"""

from __future__ import annotations

import os
import random
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

__all__ = [
    "mkdir",
    "nms",
    "multiclass_nms",
    "multiclass_nms_class_aware",
    "multiclass_nms_class_agnostic",
    "demo_postprocess",
    "random_color",
    "visualize_assign",
]


def random_color() -> Tuple[int, int, int]:
    """A random BGR colour (three ints in 0..255)."""
    return tuple(random.randint(0, 255) for _ in range(3))  # type: ignore[return-value]


def visualize_assign(
    img: np.ndarray,
    boxes: Sequence[Sequence[float]],
    coords: torch.Tensor,
    match_results: torch.Tensor,
    save_name: Optional[str] = None,
) -> np.ndarray:
    """Draw each ground-truth box with dots on the anchor centres assigned to it (in place).

    ``coords`` [A, 2] are anchor centres, ``match_results`` [A] the index of the box each anchor
    was matched to (torch tensors, as the head produces them). A box nothing was assigned to is
    drawn red and labelled "unmatched". Written to ``save_name`` when given.
    """
    for box_id, box in enumerate(boxes):
        x1, y1, x2, y2 = (int(v) for v in box)
        color = random_color()
        assigned = coords[match_results == box_id]
        if assigned.numel() == 0:
            color = (0, 0, 255)
            cv2.putText(img, "unmatched", (x1, y1 - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1)
        for point in assigned:
            cv2.circle(img, (int(point[0]), int(point[1])), 3, color, -1)
        cv2.rectangle(img, (x1, y1), (x2, y2), color, 2)
    if save_name is not None:
        cv2.imwrite(save_name, img)
    return img


def mkdir(path: str) -> None:
    """Create ``path`` (and parents) unless it exists."""
    os.makedirs(path, exist_ok=True)


def nms(boxes: np.ndarray, scores: np.ndarray, nms_thr: float) -> List[int]:
    """Greedy single-class NMS; indices of the kept boxes, highest score first.

    Official YOLOX's numpy NMS measures widths as ``x2 - x1 + 1`` (pixel-inclusive), unlike
    ``torchvision.ops.nms``; kept here so ONNX demos give the same boxes as official's.
    """
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: List[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = w * h
        iou = inter / (areas[best] + areas[rest] - inter)
        order = rest[iou <= nms_thr]
    return keep


def multiclass_nms_class_aware(
    boxes: np.ndarray, scores: np.ndarray, nms_thr: float, score_thr: float
) -> Optional[np.ndarray]:
    """NMS per class; rows (x1, y1, x2, y2, score, class), or None when nothing is kept."""
    found = []
    for cls in range(scores.shape[1]):
        mask = scores[:, cls] > score_thr
        if not mask.any():
            continue
        cls_boxes, cls_scores = boxes[mask], scores[mask, cls]
        keep = nms(cls_boxes, cls_scores, nms_thr)
        if keep:
            labels = np.full((len(keep), 1), float(cls))
            found.append(np.concatenate([cls_boxes[keep], cls_scores[keep, None], labels], 1))
    return np.concatenate(found, 0) if found else None


def multiclass_nms_class_agnostic(
    boxes: np.ndarray, scores: np.ndarray, nms_thr: float, score_thr: float
) -> Optional[np.ndarray]:
    """Each box keeps its best class, then one NMS over all; rows as above, or None."""
    labels = scores.argmax(1)
    best = scores[np.arange(len(labels)), labels]
    mask = best > score_thr
    if not mask.any():
        return None
    kept_boxes, kept_scores, kept_labels = boxes[mask], best[mask], labels[mask]
    keep = nms(kept_boxes, kept_scores, nms_thr)
    if not keep:
        return None
    return np.concatenate(
        [kept_boxes[keep], kept_scores[keep, None], kept_labels[keep, None].astype(float)], 1
    )


def multiclass_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    nms_thr: float,
    score_thr: float,
    class_agnostic: bool = True,
) -> Optional[np.ndarray]:
    """Numpy NMS over [N, 4] boxes and [N, C] scores; class-agnostic by default (as official)."""
    if class_agnostic:
        return multiclass_nms_class_agnostic(boxes, scores, nms_thr, score_thr)
    return multiclass_nms_class_aware(boxes, scores, nms_thr, score_thr)


def demo_postprocess(outputs: np.ndarray, img_size: Sequence[int], p6: bool = False) -> np.ndarray:
    """Decode raw head outputs [B, A, 5 + C] of an export made with ``decode_in_inference=False``.

    Centres become ``(raw + grid) * stride`` and sizes ``exp(raw) * stride`` (in input pixels),
    in place, with the grid walked row by row over strides 8, 16, 32 (and 64 with ``p6``).
    """
    strides = [8, 16, 32, 64] if p6 else [8, 16, 32]
    grids, stride_map = [], []
    for stride in strides:
        h, w = img_size[0] // stride, img_size[1] // stride
        ys, xs = np.mgrid[0:h, 0:w]
        grids.append(np.stack((xs, ys), axis=-1).reshape(1, -1, 2))
        stride_map.append(np.full((1, h * w, 1), stride))
    grid = np.concatenate(grids, 1)
    stride_all = np.concatenate(stride_map, 1)
    outputs[..., :2] = (outputs[..., :2] + grid) * stride_all
    outputs[..., 2:4] = np.exp(outputs[..., 2:4]) * stride_all
    return outputs
