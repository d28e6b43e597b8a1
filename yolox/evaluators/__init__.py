"""Evaluators: COCO (pycocotools / faster-coco-eval scoring) and PASCAL VOC (devkit AP)."""

from .coco_evaluator import COCOEvaluator, detections_to_coco_json
from .coco_scoring import (
    COCO_STAT_NAMES,
    COCOEvalResult,
    as_backend_gt,
    available_coco_backends,
    coco_eval_detections,
    format_coco_stats,
)
from .inference import InferenceTiming, gather_detections, run_inference
from .voc_eval import (
    VOC_IOU_THRESHOLDS,
    VOCAnnotations,
    VOCDetections,
    VOCEvalResult,
    resolve_voc_metric,
    voc_ap,
    voc_evaluate,
)
from .voc_evaluator import VOCEvaluator, format_voc_result, resolve_dataset_index

__all__ = [
    "COCOEvaluator",
    "COCOEvalResult",
    "COCO_STAT_NAMES",
    "InferenceTiming",
    "VOCAnnotations",
    "VOCDetections",
    "VOCEvalResult",
    "VOCEvaluator",
    "VOC_IOU_THRESHOLDS",
    "as_backend_gt",
    "available_coco_backends",
    "coco_eval_detections",
    "detections_to_coco_json",
    "format_coco_stats",
    "format_voc_result",
    "gather_detections",
    "resolve_dataset_index",
    "resolve_voc_metric",
    "run_inference",
    "voc_ap",
    "voc_evaluate",
]
