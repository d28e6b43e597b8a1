"""Box formats, pairwise IoU and the detector's post-processing (score filter + NMS)."""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import torch
import torchvision

__all__ = [
    "postprocess",
    "bboxes_iou",
    "cxcywh2xyxy",
    "xyxy2xywh",
    "xyxy2cxcywh",
    "adjust_box_anns",
    "letterbox_ratio",
    "filter_box",
    "matrix_iou",
]


def letterbox_ratio(target_size: Sequence[float], height: float, width: float) -> float:
    """Scale that fits a ``height`` x ``width`` image inside ``target_size`` = (H, W), aspect kept.

    The evaluation letterbox resizes by this ratio and pads at the bottom/right, so dividing
    letterboxed coordinates by it gives original pixels.
    """
    return min(target_size[0] / height, target_size[1] / width)


def cxcywh2xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(cx, cy, w, h) -> (x1, y1, x2, y2), on the last dimension."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def xyxy2xywh(boxes: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) -> (x1, y1, w, h), the COCO json box format (returns a copy)."""
    out = np.array(boxes, copy=True)
    out[:, 2] = out[:, 2] - out[:, 0]
    out[:, 3] = out[:, 3] - out[:, 1]
    return out


def xyxy2cxcywh(boxes: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w, h) (returns a copy)."""
    out = np.array(boxes, copy=True)
    out[:, 2] = boxes[:, 2] - boxes[:, 0]
    out[:, 3] = boxes[:, 3] - boxes[:, 1]
    out[:, 0] = boxes[:, 0] + out[:, 2] * 0.5
    out[:, 1] = boxes[:, 1] + out[:, 3] * 0.5
    return out


def adjust_box_anns(
    bbox: np.ndarray, scale: float, padw: float, padh: float, w_max: float, h_max: float
) -> np.ndarray:
    """Scale and shift corner boxes, then clip them to a (w_max, h_max) canvas (in place)."""
    bbox[:, 0::2] = np.clip(bbox[:, 0::2] * scale + padw, 0, w_max)
    bbox[:, 1::2] = np.clip(bbox[:, 1::2] * scale + padh, 0, h_max)
    return bbox


def bboxes_iou(bboxes_a: torch.Tensor, bboxes_b: torch.Tensor, xyxy: bool = True) -> torch.Tensor:
    """Pairwise IoU [N, M] between two box sets, corners (xyxy) or centres (cx, cy, w, h)."""
    if bboxes_a.shape[1] != 4 or bboxes_b.shape[1] != 4:
        raise ValueError(
            f"boxes must have 4 columns, got {tuple(bboxes_a.shape)} and {tuple(bboxes_b.shape)}"
        )
    if xyxy:
        a = bboxes_a
        b = bboxes_b
    else:
        a = cxcywh2xyxy(bboxes_a)
        b = cxcywh2xyxy(bboxes_b)
    top_left = torch.max(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.min(a[:, None, 2:], b[None, :, 2:])
    if xyxy:
        area_a = torch.prod(a[:, 2:] - a[:, :2], 1)
        area_b = torch.prod(b[:, 2:] - b[:, :2], 1)
    else:
        area_a = torch.prod(bboxes_a[:, 2:], 1)
        area_b = torch.prod(bboxes_b[:, 2:], 1)
    overlap = (top_left < bottom_right).type(top_left.dtype).prod(dim=2)
    area_i = torch.prod(bottom_right - top_left, 2) * overlap
    return area_i / (area_a[:, None] + area_b[None, :] - area_i)


def postprocess(
    prediction: torch.Tensor,
    num_classes: int,
    conf_thre: float = 0.7,
    nms_thre: float = 0.45,
    class_agnostic: bool = False,
) -> List[Optional[torch.Tensor]]:
    """Turn decoded outputs [B, N, 5 + C] into per-image detections.

    Each image gets a [n, 7] tensor (x1, y1, x2, y2, obj, class_conf, class_id), sorted by score
    obj * class_conf (highest first), or None when nothing passes ``conf_thre``.
    """
    if prediction.dim() != 3 or prediction.shape[-1] != 5 + num_classes:
        raise ValueError(
            f"prediction must be [B, N, 5 + num_classes={5 + num_classes}], got {tuple(prediction.shape)}"
        )
    corners = cxcywh2xyxy(prediction[..., :4])
    outputs: List[Optional[torch.Tensor]] = []
    for image_index in range(prediction.shape[0]):
        boxes = corners[image_index]
        obj = prediction[image_index, :, 4:5]
        class_conf, class_id = prediction[image_index, :, 5 : 5 + num_classes].max(1, keepdim=True)
        keep = (obj * class_conf).squeeze(1) >= conf_thre
        if not bool(keep.any()):
            outputs.append(None)
            continue
        detections = torch.cat((boxes, obj, class_conf, class_id.to(boxes.dtype)), 1)[keep]
        scores = detections[:, 4] * detections[:, 5]
        if class_agnostic:
            kept = torchvision.ops.nms(detections[:, :4], scores, nms_thre)
        else:
            kept = torchvision.ops.batched_nms(
                detections[:, :4], scores, detections[:, 6], nms_thre
            )
        outputs.append(detections[kept])
    return outputs


def filter_box(output: torch.Tensor, scale_range: Sequence[float]) -> torch.Tensor:
    """Rows of ``output`` (x1, y1, x2, y2, ...) whose box area lies strictly between min² and max²."""
    min_scale, max_scale = scale_range
    area = (output[:, 2] - output[:, 0]) * (output[:, 3] - output[:, 1])
    return output[(area > min_scale * min_scale) & (area < max_scale * max_scale)]


def matrix_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` [N, 4] with every box of ``b`` [M, 4] (x1, y1, x2, y2), numpy [N, M]."""
    top_left = np.maximum(a[:, None, :2], b[:, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[:, 2:])
    overlap = np.prod(bottom_right - top_left, axis=2) * (top_left < bottom_right).all(axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return overlap / (area_a[:, None] + area_b - overlap + 1e-12)
