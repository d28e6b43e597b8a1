"""PASCAL VOC average precision, vectorised with numpy (below the data and evaluator floors).

Conventions (the PASCAL VOC devkit's, which the official YOLOX evaluator also follows):

* Pixel convention: boxes are inclusive pixel indices, so a box spans ``x2 - x1 + 1`` pixels.
  Widths, heights, intersections and areas all carry the ``+ 1``.
* A detection is matched to the ground-truth box (of its class, in its image, difficult ones
  included) with which it has the largest IoU; ties go to the earlier box in the annotation.
  If that IoU is strictly greater than the threshold: a difficult box makes the detection
  neither TP nor FP (ignored); an unclaimed box makes it a TP and claims the box; a box already
  claimed by a higher-scoring detection makes it a FP. Otherwise it is a FP. Detections are
  taken in order of decreasing score (ties keep their input order: a stable sort).
* Recall is over the non-difficult boxes (``npos``); precision is ``tp / max(tp + fp, eps)``.
* ``voc07`` is the VOC2007 11-point metric (mean of the interpolated precision at recall
  0, 0.1, ..., 1.0); ``voc10`` is the VOC2010+ metric (area under the monotone precision
  envelope, summed over every recall change).
* A class with no non-difficult ground truth has undefined AP: it is reported as NaN and left out
  of every class mean (``np.nanmean``).

Because the devkit matches each detection only to its arg-max box, the match of every detection
is fixed by ``(max IoU, arg-max box)`` alone, whatever the threshold. At a threshold the TPs are
then exactly the first (highest-scoring) eligible detection of each box, which is a ``np.unique``
over the sorted detections: there is no per-detection Python loop. IoUs are computed only for the
(detection, box) pairs that share an image and a class, found with ``np.searchsorted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "VOC_IOU_THRESHOLDS",
    "VOCDetections",
    "VOCAnnotations",
    "VOCEvalResult",
    "resolve_voc_metric",
    "voc_ap",
    "voc_evaluate",
]

#: IoU thresholds 0.50, 0.55, ..., 0.95 of the "mAP 50:95" figure.
VOC_IOU_THRESHOLDS: np.ndarray = np.linspace(0.5, 0.95, 10)

_METRIC_NAMES = {
    "voc07": "VOC07 11-point interpolated AP",
    "voc10": "VOC10+ all-point interpolated AP (area)",
}


def resolve_voc_metric(metric: Optional[str] = None, use_07_metric: Optional[bool] = None) -> str:
    """Normalise ``metric`` / ``use_07_metric`` to "voc07" or "voc10" (they must agree if both given)."""
    if metric is not None:
        key = str(metric).lower().replace("_", "").replace("-", "")
        aliases = {
            "voc07": "voc07",
            "voc2007": "voc07",
            "11point": "voc07",
            "voc10": "voc10",
            "voc2010": "voc10",
            "area": "voc10",
        }
        if key not in aliases:
            raise ValueError(f"metric must be 'voc07' or 'voc10', got {metric!r}")
        resolved = aliases[key]
        if use_07_metric is not None and use_07_metric != (resolved == "voc07"):
            raise ValueError(f"metric={metric!r} contradicts use_07_metric={use_07_metric}")
        return resolved
    if use_07_metric is None:
        return "voc07"
    return "voc07" if use_07_metric else "voc10"


def voc_ap(recall: np.ndarray, precision: np.ndarray, use_07_metric: bool = False) -> float:
    """AP from a recall/precision curve (detections in decreasing score order)."""
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if use_07_metric:
        # The devkit's own grid, including its floating-point values (0.30000000000000004, ...).
        total = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            above = recall >= t
            total += (float(precision[above].max()) if above.any() else 0.0) / 11.0
        return total
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    change = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[change + 1] - mrec[change]) * mpre[change + 1]))


@dataclass
class VOCDetections:
    """All detections of a split, flat: image index, class, score, box (x1, y1, x2, y2)."""

    image_index: np.ndarray  # int64 [D]
    labels: np.ndarray  # int64 [D]
    scores: np.ndarray  # float64 [D]
    boxes: np.ndarray  # float64 [D, 4]

    @classmethod
    def empty(cls) -> VOCDetections:
        """No detections at all."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 4)))

    @classmethod
    def from_per_image(
        cls, per_image: Sequence[Tuple[int, np.ndarray, np.ndarray, np.ndarray]]
    ) -> VOCDetections:
        """Concatenate ``(image_index, boxes [n,4], scores [n], labels [n])`` tuples."""
        if not per_image:
            return cls.empty()
        index = [np.full(len(s), i, dtype=np.int64) for i, _, s, _ in per_image]
        return cls(
            np.concatenate(index),
            np.concatenate([np.asarray(lab, np.int64).reshape(-1) for *_, lab in per_image]),
            np.concatenate([np.asarray(s, np.float64).reshape(-1) for _, _, s, _ in per_image]),
            np.concatenate([np.asarray(b, np.float64).reshape(-1, 4) for _, b, _, _ in per_image]),
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass
class VOCAnnotations:
    """All ground truth of a split, flat, in annotation order within each image."""

    image_index: np.ndarray  # int64 [G]
    labels: np.ndarray  # int64 [G]
    boxes: np.ndarray  # float64 [G, 4]
    difficult: np.ndarray  # bool [G]
    num_images: int

    @classmethod
    def from_per_image(
        cls, per_image: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> VOCAnnotations:
        """Build from a list, indexed by image, of ``(boxes [n,4], labels [n], difficult [n])``."""
        index, labels, boxes, difficult = [], [], [], []
        for i, (b, lab, dif) in enumerate(per_image):
            b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
            index.append(np.full(len(b), i, dtype=np.int64))
            labels.append(np.asarray(lab, dtype=np.int64).reshape(-1))
            boxes.append(b)
            difficult.append(np.asarray(dif, dtype=bool).reshape(-1))
            if not (len(labels[-1]) == len(b) == len(difficult[-1])):
                raise ValueError(f"image {i}: boxes, labels and difficult flags differ in length")
        if not per_image:
            return cls(
                np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0, bool), 0
            )
        return cls(
            np.concatenate(index),
            np.concatenate(labels),
            np.concatenate(boxes),
            np.concatenate(difficult),
            len(per_image),
        )


@dataclass
class VOCEvalResult:
    """AP per (IoU threshold, class), with the class counts that explain it."""

    metric: str  # "voc07" or "voc10"
    iou_thresholds: np.ndarray  # [T]
    ap: np.ndarray  # [T, C], NaN for classes without non-difficult ground truth
    num_positives: np.ndarray  # [C] non-difficult boxes
    num_detections: np.ndarray  # [C]
    class_names: List[str] = field(default_factory=list)

    @property
    def metric_name(self) -> str:
        """Human-readable name of the AP definition used."""
        return _METRIC_NAMES[self.metric]

    def ap_at(self, iou: float) -> np.ndarray:
        """Per-class AP [C] at one of the evaluated thresholds."""
        hits = np.flatnonzero(np.isclose(self.iou_thresholds, iou))
        if hits.size == 0:
            raise KeyError(f"IoU {iou} was not evaluated (have {self.iou_thresholds.tolist()})")
        return self.ap[hits[0]]

    @property
    def ap50(self) -> np.ndarray:
        """Per-class AP at IoU 0.50."""
        return self.ap_at(0.5)

    @property
    def ap50_95(self) -> np.ndarray:
        """Per-class AP averaged over the evaluated thresholds (NaN for empty classes)."""
        return self.ap.mean(axis=0)

    @staticmethod
    def _class_mean(values: np.ndarray) -> float:
        valid = values[~np.isnan(values)]
        return float(valid.mean()) if valid.size else float("nan")

    @property
    def map50(self) -> float:
        """Mean over classes with ground truth of the AP at IoU 0.50."""
        return self._class_mean(self.ap50)

    @property
    def map50_95(self) -> float:
        """Mean over classes with ground truth of the AP averaged over thresholds."""
        return self._class_mean(self.ap50_95)


def _pair_ious(det_boxes: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """IoU of aligned pairs, devkit pixel convention (+1)."""
    iw = (
        np.minimum(det_boxes[:, 2], gt_boxes[:, 2])
        - np.maximum(det_boxes[:, 0], gt_boxes[:, 0])
        + 1.0
    )
    ih = (
        np.minimum(det_boxes[:, 3], gt_boxes[:, 3])
        - np.maximum(det_boxes[:, 1], gt_boxes[:, 1])
        + 1.0
    )
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    det_area = (det_boxes[:, 2] - det_boxes[:, 0] + 1.0) * (det_boxes[:, 3] - det_boxes[:, 1] + 1.0)
    gt_area = (gt_boxes[:, 2] - gt_boxes[:, 0] + 1.0) * (gt_boxes[:, 3] - gt_boxes[:, 1] + 1.0)
    return inter / (det_area + gt_area - inter)


def _best_match(
    det_image: np.ndarray, det_boxes: np.ndarray, gt_image: np.ndarray, gt_boxes: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """For each detection: max IoU over the boxes of its image (-inf if none) and that box's row.

    ``gt_image`` must be sorted (stably, so annotation order is kept inside an image).
    """
    num_det = det_image.shape[0]
    best_iou = np.full(num_det, -np.inf)
    best_gt = np.full(num_det, -1, dtype=np.int64)
    start = np.searchsorted(gt_image, det_image, side="left")
    count = np.searchsorted(gt_image, det_image, side="right") - start
    has_gt = np.flatnonzero(count > 0)
    if has_gt.size == 0:
        return best_iou, best_gt
    count = count[has_gt]
    # One row per (detection, candidate box) pair, grouped by detection.
    pair_det = np.repeat(has_gt, count)
    group_start = np.cumsum(count) - count
    offset = np.arange(pair_det.size) - np.repeat(group_start, count)
    pair_gt = np.repeat(start[has_gt], count) + offset
    iou = _pair_ious(det_boxes[pair_det], gt_boxes[pair_gt])
    group_max = np.maximum.reduceat(iou, group_start)
    # First box reaching the maximum, like np.argmax in the devkit.
    candidate = np.where(iou == np.repeat(group_max, count), pair_gt, np.iinfo(np.int64).max)
    best_gt[has_gt] = np.minimum.reduceat(candidate, group_start)
    best_iou[has_gt] = group_max
    return best_iou, best_gt


def _class_ap(
    scores: np.ndarray,
    best_iou: np.ndarray,
    best_gt: np.ndarray,
    gt_difficult: np.ndarray,
    num_positives: int,
    iou_thresholds: np.ndarray,
    use_07_metric: bool,
) -> np.ndarray:
    """AP [T] of one class from each detection's (max IoU, arg-max box)."""
    if num_positives == 0:
        return np.full(len(iou_thresholds), np.nan)
    order = np.argsort(-scores, kind="stable")
    best_iou = best_iou[order]
    best_gt = best_gt[order]
    hit_difficult = np.zeros(best_gt.shape, dtype=bool)
    has_gt = best_gt >= 0
    hit_difficult[has_gt] = gt_difficult[best_gt[has_gt]]
    out = np.empty(len(iou_thresholds))
    for t, thresh in enumerate(iou_thresholds):
        recall, precision = _recall_precision(
            best_iou, best_gt, hit_difficult, num_positives, thresh
        )
        out[t] = voc_ap(recall, precision, use_07_metric)
    return out


def _recall_precision(
    best_iou: np.ndarray,
    best_gt: np.ndarray,
    hit_difficult: np.ndarray,
    num_positives: int,
    thresh: float,
) -> Tuple[np.ndarray, np.ndarray]:
    """Cumulative recall and precision of detections already sorted by decreasing score."""
    above = best_iou > thresh
    eligible = np.flatnonzero(above & ~hit_difficult)
    _, first = np.unique(best_gt[eligible], return_index=True)
    tp = np.zeros(best_gt.shape, dtype=np.float64)
    tp[eligible[first]] = 1.0
    fp = (~(above & hit_difficult)).astype(np.float64) - tp
    tp_cum = np.cumsum(tp)
    fp_cum = np.cumsum(fp)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tp_cum / float(num_positives)
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
    return recall, precision


def voc_evaluate(
    detections: VOCDetections,
    annotations: VOCAnnotations,
    num_classes: int,
    metric: Optional[str] = None,
    use_07_metric: Optional[bool] = None,
    iou_thresholds: Optional[Sequence[float]] = None,
    class_names: Optional[Sequence[str]] = None,
) -> VOCEvalResult:
    """Per-class VOC AP at each IoU threshold (default 0.50:0.05:0.95); see the module docstring."""
    resolved = resolve_voc_metric(metric, use_07_metric)
    thresholds = (
        VOC_IOU_THRESHOLDS if iou_thresholds is None else np.asarray(iou_thresholds, np.float64)
    )
    if len(detections) and (detections.labels.min() < 0 or detections.labels.max() >= num_classes):
        raise ValueError(f"detection labels must lie in [0, {num_classes})")
    if annotations.labels.size and (
        annotations.labels.min() < 0 or annotations.labels.max() >= num_classes
    ):
        raise ValueError(f"ground-truth labels must lie in [0, {num_classes})")
    if len(detections) and (
        detections.image_index.min() < 0 or detections.image_index.max() >= annotations.num_images
    ):
        raise ValueError(f"detection image indices must lie in [0, {annotations.num_images})")

    # One sort key per (class, image): the boxes a detection may match are one contiguous run.
    n_img = max(annotations.num_images, 1)
    gt_key = annotations.labels * n_img + annotations.image_index
    gt_order = np.argsort(gt_key, kind="stable")
    gt_key = gt_key[gt_order]
    gt_boxes = annotations.boxes[gt_order]
    gt_difficult = annotations.difficult[gt_order]
    det_key = detections.labels * n_img + detections.image_index

    ap = np.empty((len(thresholds), num_classes))
    num_positives = np.bincount(annotations.labels[~annotations.difficult], minlength=num_classes)
    num_dets = np.bincount(detections.labels, minlength=num_classes)
    det_by_class = np.argsort(detections.labels, kind="stable")
    class_start = np.concatenate(([0], np.cumsum(num_dets)))
    for c in range(num_classes):
        rows = det_by_class[class_start[c] : class_start[c + 1]]
        best_iou, best_gt = _best_match(det_key[rows], detections.boxes[rows], gt_key, gt_boxes)
        ap[:, c] = _class_ap(
            detections.scores[rows],
            best_iou,
            best_gt,
            gt_difficult,
            int(num_positives[c]),
            thresholds,
            resolved == "voc07",
        )
    names = list(class_names) if class_names is not None else [str(c) for c in range(num_classes)]
    return VOCEvalResult(resolved, thresholds, ap, num_positives, num_dets, names)
