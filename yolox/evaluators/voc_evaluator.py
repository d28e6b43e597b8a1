"""PASCAL VOC-style evaluation of a detector: inference, gathering, devkit AP (see voc_eval.py)."""

from __future__ import annotations

import math
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from loguru import logger
from tabulate import tabulate

from yolox.utils.detections import Detections
from yolox.utils.metric import format_ap

from .base import DetectionEvaluator, Summary, left_out_note
from .inference import InferenceTiming
from .voc_eval import VOCAnnotations, VOCDetections, VOCEvalResult, resolve_voc_metric, voc_evaluate

__all__ = ["VOCEvaluator", "format_voc_result", "resolve_dataset_index"]


def resolve_dataset_index(dataset: Any, image_id: Any, lookup: Dict[Any, int]) -> int:
    """Dataset index of a loader id: VOC loaders yield the index itself; other ids go via ``.ids``."""
    if isinstance(image_id, torch.Tensor):
        image_id = image_id.item()
    if isinstance(image_id, (int, np.integer)) and not isinstance(image_id, bool):
        index = int(image_id)
        if 0 <= index < len(dataset):
            return index
    key = tuple(image_id) if isinstance(image_id, list) else image_id
    if key in lookup:
        return lookup[key]
    raise KeyError(f"loader id {image_id!r} is neither a dataset index nor one of dataset.ids")


#: what a per-class AP cell says for a class without (non-difficult) ground truth
NO_GT = "no ground truth"


def format_voc_result(result: VOCEvalResult) -> str:
    """Per-class table (AP50, AP50:95, ground truth, detections) and the two class means."""
    rows = []
    ap50, ap_all = result.ap50, result.ap50_95
    for k, name in enumerate(result.class_names):
        fmt = [(NO_GT if math.isnan(v) else f"{100.0 * v:.2f}") for v in (ap50[k], ap_all[k])]
        rows.append([name, *fmt, int(result.num_positives[k]), int(result.num_detections[k])])
    table = tabulate(
        rows,
        headers=["class", "AP50 (%)", "AP50:95 (%)", "gt (non-difficult)", "detections"],
        tablefmt="pipe",
        stralign="left",
        numalign="right",
    )
    empty = [n for n, v in zip(result.class_names, result.num_positives) if v == 0]
    lines = [f"VOC evaluation, metric: {result.metric_name} [{result.metric}]", table]
    if len(empty) == len(result.class_names):
        lines.append(
            "mAP undefined: no class has non-difficult ground truth in this split (empty or "
            "unlabelled validation data?); reported as 0"
        )
    else:
        lines += [
            f"mAP50    = {100.0 * result.map50:.2f} (%)",
            f"mAP50:95 = {100.0 * result.map50_95:.2f} (%, mean of IoU 0.50:0.05:0.95)",
        ]
    if empty:
        lines.append(
            f"classes with no ground truth in this split (not in the means): {', '.join(empty)}"
        )
    return "\n".join(lines)


def _overrides_evaluate_detections(dataset: Any) -> bool:
    """A VOCDetection subclass with its own ``evaluate_detections`` (official's scoring hook)."""
    from yolox.data.datasets.voc import VOCDetection

    own = getattr(type(dataset), "evaluate_detections", None)
    return isinstance(dataset, VOCDetection) and own is not VOCDetection.evaluate_detections


def _official_all_boxes(
    by_index: Dict[int, Detections], scored: set, num_images: int, num_classes: int
) -> List[List[np.ndarray]]:
    """Official's ``all_boxes[class][image]`` = [k, 5] (x1, y1, x2, y2, score) arrays."""
    all_boxes = [
        [np.zeros((0, 5), np.float32) for _ in range(num_images)] for _ in range(num_classes)
    ]
    for index, det in by_index.items():
        if index not in scored:
            continue
        for cls in range(num_classes):
            mask = det.class_ids == cls
            all_boxes[cls][index] = np.concatenate(
                [det.boxes[mask], det.scores[mask, None]], axis=1
            ).astype(np.float32)
    return all_boxes


class VOCEvaluator(DetectionEvaluator):
    """mAP of a model on a VOC-format loader (``loader.dataset`` has annotation_for_eval, class_names).

    ``metric`` is "voc07" (11-point, official YOLOX on VOC2007 test; the default) or "voc10"
    (area); ``use_07_metric`` is an accepted alias. ``evaluate`` returns ``(mAP50:95, mAP50,
    summary)`` on every rank; a class mean that is undefined (no ground truth at all) becomes 0.
    """

    progress_desc = "VOC eval"

    def __init__(
        self,
        dataloader: Any,
        img_size: Sequence[int],
        confthre: float,
        nmsthre: float,
        num_classes: int,
        metric: Optional[str] = None,
        use_07_metric: Optional[bool] = None,
    ) -> None:
        super().__init__(dataloader, img_size, confthre, nmsthre, num_classes)
        self.metric = resolve_voc_metric(metric, use_07_metric)
        self.last_result: Optional[VOCEvalResult] = None

    def _per_image(self, results: List[Detections]) -> Dict[int, Detections]:
        """Results keyed by dataset index (loaders yield indices or image ids; both resolve)."""
        dataset = self.dataloader.dataset
        lookup = {
            (tuple(k) if isinstance(k, list) else k): i
            for i, k in enumerate(getattr(dataset, "ids", []))
        }
        by_index: Dict[int, Detections] = {}
        for res in results:
            by_index.setdefault(resolve_dataset_index(dataset, res.image_id, lookup), res)
        return by_index

    def _score(self, by_index: Dict[int, Detections], timing: InferenceTiming) -> Summary:
        dataset = self.dataloader.dataset
        scored = {i for i, r in by_index.items() if r.readable}
        nothing = (np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, bool))
        annotations = VOCAnnotations.from_per_image(
            [
                dataset.annotation_for_eval(i) if i in scored else nothing
                for i in range(len(dataset))
            ]
        )
        detections = VOCDetections.from_per_image(
            [
                (i, r.boxes, r.scores, r.class_ids)
                for i, r in sorted(by_index.items())
                if i in scored
            ]
        )
        skipped = getattr(dataset, "skipped_images", ())
        note = left_out_note(
            len(dataset) + len(skipped),
            len(scored),
            skipped,
            sum(not r.readable for r in by_index.values()),
        )
        if note is not None:
            logger.warning(f"VOC scoring: {note}")
        if len(detections) == 0:
            warnings.warn("no detections to score: every class AP is 0", stacklevel=2)
        names = list(getattr(dataset, "class_names", [str(c) for c in range(self.num_classes)]))
        result = voc_evaluate(
            detections, annotations, self.num_classes, metric=self.metric, class_names=names
        )
        self.last_result = result
        map50_95, map50 = result.map50_95, result.map50
        if _overrides_evaluate_detections(dataset):
            all_boxes = _official_all_boxes(by_index, scored, len(dataset), self.num_classes)
            map50_95, map50 = (float(v) for v in dataset.evaluate_detections(all_boxes))
        if math.isnan(map50_95):
            warnings.warn(
                "no class has non-difficult ground truth: mAP undefined, reported as 0",
                stacklevel=2,
            )
            map50_95, map50 = 0.0, 0.0
        header = timing.summary() if note is None else f"{timing.summary()}\n{note}"
        summary = f"{header}\n{format_voc_result(result)}\n"
        logger.info(f"VOC ({result.metric}) {format_ap(map50_95, map50)}")
        return map50_95, map50, summary
