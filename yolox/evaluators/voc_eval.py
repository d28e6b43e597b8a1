"""PASCAL VOC evaluation: the vectorised AP (yolox.utils.voc_metric) and official's file API.

``voc_eval`` / ``parse_rec`` are official YOLOX's devkit-style functions (detections and
annotations as files); they share the matching code of :func:`voc_evaluate`.
"""

from __future__ import annotations

import os
import pickle
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from yolox.utils.voc_metric import (
    VOC_IOU_THRESHOLDS,
    VOCAnnotations,
    VOCDetections,
    VOCEvalResult,
    _best_match,
    _recall_precision,
    resolve_voc_metric,
    voc_ap,
    voc_evaluate,
)

__all__ = [
    "VOC_IOU_THRESHOLDS",
    "VOCDetections",
    "VOCAnnotations",
    "VOCEvalResult",
    "resolve_voc_metric",
    "voc_ap",
    "voc_evaluate",
    "parse_rec",
    "voc_eval",
]


# ---------------------------------------------------------------- official devkit-file API
def parse_rec(filename: str) -> List[Dict[str, Any]]:
    """The objects of one VOC XML file as official's dicts: name, pose, truncated, difficult, bbox."""
    objects = []
    for obj in ET.parse(filename).findall("object"):
        box = obj.find("bndbox")
        objects.append(
            {
                "name": _xml_text(obj, "name"),
                "pose": _xml_text(obj, "pose"),
                "truncated": int(float(_xml_text(obj, "truncated") or 0)),
                "difficult": int(float(_xml_text(obj, "difficult") or 0)),
                "bbox": [int(float(_xml_text(box, t))) for t in ("xmin", "ymin", "xmax", "ymax")],
            }
        )
    return objects


def _xml_text(node: Any, tag: str) -> Optional[str]:
    child = node.find(tag) if node is not None else None
    return child.text.strip() if child is not None and child.text is not None else None


def _cached_recs(annopath: str, imagenames: List[str], cachedir: Optional[str]) -> Dict[str, Any]:
    """Parsed annotations of every image, read from ``cachedir/annots.pkl`` when it is there."""
    cachefile = os.path.join(cachedir, "annots.pkl") if cachedir else None
    if cachefile and os.path.isfile(cachefile):
        with open(cachefile, "rb") as f:
            recs = pickle.load(f)
        if all(name in recs for name in imagenames):
            return recs
    recs = {name: parse_rec(annopath.format(name)) for name in imagenames}
    if cachefile:
        os.makedirs(cachedir, exist_ok=True)
        with open(cachefile, "wb") as f:
            pickle.dump(recs, f)
    return recs


def voc_eval(
    detpath: str,
    annopath: str,
    imagesetfile: str,
    classname: str,
    cachedir: Optional[str],
    ovthresh: float = 0.5,
    use_07_metric: bool = False,
) -> Tuple[Any, Any, float]:
    """Official's devkit-style AP of one class from files: ``(recall, precision, ap)``.

    ``detpath.format(classname)`` holds lines ``image_id score x1 y1 x2 y2``;
    ``annopath.format(image_id)`` is an image's XML; ``imagesetfile`` lists the image ids.
    Matching follows the module docstring (the same code as :func:`voc_evaluate`). With no
    detections it returns ``(0, 0, 0)``, as official does.
    """
    with open(imagesetfile) as f:
        imagenames = [line.strip() for line in f if line.strip()]
    recs = _cached_recs(annopath, imagenames, cachedir)
    index = {name: i for i, name in enumerate(imagenames)}
    gt_image, gt_boxes, gt_difficult = [], [], []
    for name in imagenames:
        for obj in recs[name]:
            if obj["name"] == classname:
                gt_image.append(index[name])
                gt_boxes.append(obj["bbox"])
                gt_difficult.append(bool(obj["difficult"]))
    num_positives = int(len(gt_difficult) - sum(gt_difficult))
    with open(detpath.format(classname)) as f:
        rows = [line.strip().split() for line in f if line.strip()]
    if not rows:
        return 0, 0, 0
    unknown = sorted({r[0] for r in rows} - set(index))
    if unknown:
        raise ValueError(
            f"{detpath.format(classname)}: image ids not in {imagesetfile}: {unknown[:3]}"
        )
    scores = np.array([float(r[1]) for r in rows])
    det_boxes = np.array([[float(v) for v in r[2:6]] for r in rows])
    det_image = np.array([index[r[0]] for r in rows], dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    gt_image_arr = np.asarray(gt_image, dtype=np.int64)
    gt_box_arr = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    best_iou, best_gt = _best_match(det_image[order], det_boxes[order], gt_image_arr, gt_box_arr)
    difficult = np.asarray(gt_difficult, dtype=bool)
    hit_difficult = np.zeros(best_gt.shape, dtype=bool)
    hit_difficult[best_gt >= 0] = difficult[best_gt[best_gt >= 0]]
    recall, precision = _recall_precision(best_iou, best_gt, hit_difficult, num_positives, ovthresh)
    return recall, precision, voc_ap(recall, precision, use_07_metric)
