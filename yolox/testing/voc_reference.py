"""A deliberately plain VOC devkit AP: one Python iteration per detection, as the devkit reads.

Used by the tests and the stress benchmark as the independent reference for the vectorised
implementation in yolox.evaluators.voc_eval. Written for clarity, not speed.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np


def reference_ap(rec: np.ndarray, prec: np.ndarray, use_07_metric: bool) -> float:
    """AP from one precision/recall curve, the devkit's two definitions."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            if np.sum(rec >= t) == 0:
                p = 0.0
            else:
                p = np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return float(ap)
    mrec = [0.0] + list(rec) + [1.0]
    mpre = [0.0] + list(prec) + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    ap = 0.0
    for i in range(1, len(mrec)):
        if mrec[i] != mrec[i - 1]:
            ap += (mrec[i] - mrec[i - 1]) * mpre[i]
    return float(ap)


def reference_class_ap(
    class_dets: List[Tuple[int, float, Sequence[float]]],
    gts: Dict[int, Tuple[np.ndarray, np.ndarray]],
    iou_thresh: float,
    use_07_metric: bool,
) -> float:
    """AP of one class.

    class_dets: (image, score, box) of this class; gts: image -> (boxes [n,4], difficult [n]) of
    this class. Returns NaN when the class has no non-difficult ground truth.
    """
    npos = sum(int((~dif).sum()) for _, dif in gts.values())
    if npos == 0:
        return float("nan")
    detected = {img: [False] * len(boxes) for img, (boxes, _) in gts.items()}
    order = sorted(range(len(class_dets)), key=lambda i: -class_dets[i][1])  # stable
    tp = np.zeros(len(order))
    fp = np.zeros(len(order))
    for d, i in enumerate(order):
        img, _, bb = class_dets[i]
        ovmax = -np.inf
        jmax = -1
        if img in gts:
            boxes, difficult = gts[img]
            for j in range(len(boxes)):
                g = boxes[j]
                iw = max(min(bb[2], g[2]) - max(bb[0], g[0]) + 1.0, 0.0)
                ih = max(min(bb[3], g[3]) - max(bb[1], g[1]) + 1.0, 0.0)
                inter = iw * ih
                union = (
                    (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                    + (g[2] - g[0] + 1.0) * (g[3] - g[1] + 1.0)
                    - inter
                )
                ov = inter / union
                if ov > ovmax:
                    ovmax = ov
                    jmax = j
        if ovmax > iou_thresh:
            if not difficult[jmax]:
                if not detected[img][jmax]:
                    tp[d] = 1.0
                    detected[img][jmax] = True
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return reference_ap(rec, prec, use_07_metric)


def reference_voc_ap(
    dets: List[Tuple[int, int, float, Sequence[float]]],
    annotations: List[Tuple[np.ndarray, np.ndarray, np.ndarray]],
    num_classes: int,
    iou_thresholds: Sequence[float],
    use_07_metric: bool,
) -> np.ndarray:
    """AP [T, C] from dets (image, class, score, box) and per-image (boxes, labels, difficult)."""
    out = np.zeros((len(iou_thresholds), num_classes))
    for c in range(num_classes):
        class_dets = [(img, score, box) for img, cls, score, box in dets if cls == c]
        gts = {}
        for img, (boxes, labels, difficult) in enumerate(annotations):
            mask = np.asarray(labels) == c
            if mask.any():
                gts[img] = (np.asarray(boxes)[mask], np.asarray(difficult, dtype=bool)[mask])
        for t, thresh in enumerate(iou_thresholds):
            out[t, c] = reference_class_ap(class_dets, gts, thresh, use_07_metric)
    return out
