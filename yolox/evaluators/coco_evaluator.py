"""COCO-style evaluation of a detector: inference, json conversion, gathering, scoring."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
from pathlib import Path
from typing import Any, Collection, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from loguru import logger
from pycocotools.coco import COCO
from tabulate import tabulate

from yolox.data.datasets.coco_classes import COCO_CLASSES
from yolox.utils.detections import Detections

from .base import DetectionEvaluator, Summary, left_out_note
from .coco_scoring import as_backend_gt, coco_eval_detections
from .inference import InferenceTiming

__all__ = [
    "COCOEvaluator",
    "detections_to_coco_json",
    "per_class_AP_table",
    "per_class_AR_table",
    "scoring_ground_truth",
]

TESTDEV_JSON = "yolox_testdev_2017.json"


def _json_id(image_id: Any) -> Any:
    """Image ids as plain Python (json-serialisable) values."""
    if isinstance(image_id, (np.integer, torch.Tensor)):
        return int(image_id)
    return image_id


def detections_to_coco_json(
    results: Sequence[Detections], class_ids: Sequence[int]
) -> List[Dict[str, Any]]:
    """COCO result dicts (xywh boxes in original pixels, original category ids) from detections."""
    out: List[Dict[str, Any]] = []
    for res in results:
        if res.boxes.shape[0] == 0:
            continue
        xywh = res.boxes.astype(np.float64).copy()
        xywh[:, 2:] -= xywh[:, :2]
        image_id = _json_id(res.image_id)
        for box, score, label in zip(xywh.tolist(), res.scores.tolist(), res.class_ids.tolist()):
            out.append(
                {
                    "image_id": image_id,
                    "category_id": int(class_ids[int(label)]),
                    "bbox": [float(v) for v in box],
                    "score": float(score),
                }
            )
    return out


def scoring_ground_truth(dataset: Any, image_ids: Collection[Any]) -> COCO:
    """The dataset's COCO ground truth restricted to ``image_ids`` and the boxes it trains on.

    Images the loader skipped or could not decode, and boxes it dropped as degenerate, are not
    what the model was evaluated on, so they must not count as missed objects.
    """
    coco = dataset.coco
    dropped = getattr(dataset, "dropped_annotation_ids", frozenset())
    all_ids = {img["id"] for img in coco.dataset["images"]}
    if all_ids <= set(image_ids) and not dropped:
        return coco
    keep = set(image_ids)
    data = dict(coco.dataset)
    data["images"] = [img for img in coco.dataset["images"] if img["id"] in keep]
    data["annotations"] = [
        a for a in coco.dataset["annotations"] if a["image_id"] in keep and a["id"] not in dropped
    ]
    gt = COCO()
    gt.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt


class COCOEvaluator(DetectionEvaluator):
    """AP of a model on a COCO-format evaluation loader (``loader.dataset`` has .coco, .class_ids).

    ``evaluate`` returns ``(ap50_95, ap50, summary)`` on every rank (rank 0 scores, then shares the
    result). With ``testdev=True`` it only writes the detections json (``output_json``, by default
    ``yolox_testdev_2017.json`` in the working directory) and returns zeros.
    """

    progress_desc = "COCO eval"

    def __init__(
        self,
        dataloader: Any,
        img_size: Sequence[int],
        confthre: float,
        nmsthre: float,
        num_classes: int,
        testdev: bool = False,
        per_class_AP: bool = True,
        per_class_AR: bool = True,
        output_json: Optional[Union[str, os.PathLike]] = None,
        backend: str = "auto",
    ) -> None:
        super().__init__(dataloader, img_size, confthre, nmsthre, num_classes)
        self.testdev = testdev
        self.per_class_AP = per_class_AP
        self.per_class_AR = per_class_AR
        self.output_json = output_json
        self.backend = backend
        self._gt_cache: Optional[Tuple[Any, Any]] = None  # (dataset.coco, backend ground truth)

    def _per_image(self, results: List[Detections]) -> Dict[Any, Detections]:
        """One entry per image id: a distributed sampler pads ranks with repeated images."""
        per_image: Dict[Any, Detections] = {}
        for res in results:
            per_image.setdefault(_json_id(res.image_id), res)
        return per_image

    def _score(self, per_image: Dict[Any, Detections], timing: InferenceTiming) -> Summary:
        dataset = self.dataloader.dataset
        data_list = detections_to_coco_json(list(per_image.values()), dataset.class_ids)
        json_path = self.output_json
        if json_path is None and self.testdev:
            json_path = TESTDEV_JSON
        if json_path is not None:
            path = Path(json_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w") as f:
                json.dump(data_list, f)
            logger.info(f"wrote {len(data_list)} detections to {path}")
        header = timing.summary()
        if self.testdev:
            note = f"test-dev: detections written to {json_path}; no ground truth, scoring skipped"
            logger.info(note)
            return 0.0, 0.0, f"{header}\n{note}\n"
        scored = frozenset(k for k, r in per_image.items() if r.readable)
        key = (dataset.coco, scored)
        if self._gt_cache is None or self._gt_cache[0] != key:
            self._gt_cache = (
                key,
                as_backend_gt(scoring_ground_truth(dataset, scored), self.backend),
            )
        note = left_out_note(
            len(dataset.coco.dataset["images"]),
            len(scored),
            getattr(dataset, "skipped_images", ()),
            sum(not r.readable for r in per_image.values()),
            len(getattr(dataset, "dropped_annotation_ids", ())),
        )
        if note is not None:
            logger.warning(f"COCO scoring: {note}")
            header = f"{header}\n{note}"
        result = coco_eval_detections(
            [d for d in data_list if d["image_id"] in scored],
            self._gt_cache[1],
            backend=self.backend,
            per_class_AP=self.per_class_AP,
            per_class_AR=self.per_class_AR,
        )
        logger.info(f"COCO scoring backend: {result.backend}")
        return result.ap50_95, result.ap50, f"{header}\n{result.summary}\n"


def _per_class_table(values: Dict[str, float], headers: Sequence[str], colums: int) -> str:
    """Official's layout: (class, value) pairs side by side, ``colums`` cells per row."""
    num_cols = min(colums, len(values) * len(headers))
    cells = [x for pair in values.items() for x in pair]
    rows = itertools.zip_longest(*[cells[i::num_cols] for i in range(num_cols)])
    table_headers = list(headers) * (num_cols // len(headers))
    return tabulate(rows, tablefmt="pipe", floatfmt=".3f", headers=table_headers, numalign="left")


def _class_mean(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else float("nan")


def per_class_AP_table(
    coco_eval: Any,
    class_names: Sequence[str] = COCO_CLASSES,
    headers: Sequence[str] = ("class", "AP"),
    colums: int = 6,
) -> str:
    """Per-class AP50:95 (%, area all, 100 dets) of an evaluated COCOeval, as official prints it."""
    precisions = np.asarray(coco_eval.eval["precision"])  # [T, R, K, A, M]
    if len(class_names) != precisions.shape[2]:
        raise ValueError(f"{len(class_names)} class names for {precisions.shape[2]} classes")
    values = {
        name: 100 * _class_mean(precisions[:, :, k, 0, -1]) for k, name in enumerate(class_names)
    }
    return _per_class_table(values, headers, colums)


def per_class_AR_table(
    coco_eval: Any,
    class_names: Sequence[str] = COCO_CLASSES,
    headers: Sequence[str] = ("class", "AR"),
    colums: int = 6,
) -> str:
    """Per-class AR@100 (%, area all) of an evaluated COCOeval, as official prints it."""
    recalls = np.asarray(coco_eval.eval["recall"])  # [T, K, A, M]
    if len(class_names) != recalls.shape[1]:
        raise ValueError(f"{len(class_names)} class names for {recalls.shape[1]} classes")
    values = {name: 100 * _class_mean(recalls[:, k, 0, -1]) for k, name in enumerate(class_names)}
    return _per_class_table(values, headers, colums)
