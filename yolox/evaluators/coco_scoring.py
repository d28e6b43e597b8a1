"""Score a COCO detections list against a ground-truth COCO object, without any model.

The numbers come from ``faster-coco-eval`` when it is installed (a C++ re-implementation that
reproduces pycocotools' numbers) and from ``pycocotools`` otherwise; ``COCOEvalResult.backend``
says which one ran. Both expose the accumulated ``precision [T, R, K, A, M]`` and
``recall [T, K, A, M]`` arrays, from which the per-class table is read (area "all", 100 dets).
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

import numpy as np
from tabulate import tabulate

__all__ = [
    "COCO_STAT_NAMES",
    "COCOEvalResult",
    "as_backend_gt",
    "available_coco_backends",
    "coco_eval_detections",
    "format_coco_stats",
]

#: (kind, IoU range, area, max detections) of the 12 standard COCO box statistics, in order.
COCO_STAT_NAMES = (
    ("AP", "0.50:0.95", "all", 100),
    ("AP", "0.50", "all", 100),
    ("AP", "0.75", "all", 100),
    ("AP", "0.50:0.95", "small", 100),
    ("AP", "0.50:0.95", "medium", 100),
    ("AP", "0.50:0.95", "large", 100),
    ("AR", "0.50:0.95", "all", 1),
    ("AR", "0.50:0.95", "all", 10),
    ("AR", "0.50:0.95", "all", 100),
    ("AR", "0.50:0.95", "small", 100),
    ("AR", "0.50:0.95", "medium", 100),
    ("AR", "0.50:0.95", "large", 100),
)

_BACKENDS = ("faster_coco_eval", "pycocotools")
#: what an exp's ``coco_backend`` and ``tools/eval.py --coco-backend`` accept
COCO_BACKEND_CHOICES = ("auto", *_BACKENDS)


@dataclass
class COCOEvalResult:
    """The 12 COCO statistics, per-class AP/AR (NaN where a class has no ground truth), a summary."""

    stats: np.ndarray  # [12]
    backend: str
    class_names: List[str] = field(default_factory=list)
    per_class_ap50_95: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_class_ap50: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_class_ar100: np.ndarray = field(default_factory=lambda: np.zeros(0))
    summary: str = ""
    num_detections: int = 0

    @property
    def ap50_95(self) -> float:
        """AP @ IoU 0.50:0.95, area all, 100 detections."""
        return float(self.stats[0])

    @property
    def ap50(self) -> float:
        """AP @ IoU 0.50, area all, 100 detections."""
        return float(self.stats[1])


def available_coco_backends() -> List[str]:
    """Installed scoring backends, preferred first."""
    found = []
    with contextlib.suppress(ImportError):
        import faster_coco_eval  # noqa: F401

        found.append("faster_coco_eval")
    with contextlib.suppress(ImportError):
        import pycocotools.cocoeval  # noqa: F401

        found.append("pycocotools")
    return found


def _resolve_backend(backend: str) -> str:
    available = available_coco_backends()
    if backend == "auto":
        if not available:
            raise ImportError(
                "COCO scoring needs faster-coco-eval or pycocotools: pip install pycocotools"
            )
        return available[0]
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {_BACKENDS}, got {backend!r}")
    if backend not in available:
        raise ImportError(f"COCO scoring backend {backend!r} is not installed")
    return backend


def format_coco_stats(stats: Sequence[float]) -> str:
    """The 12 statistics, one per line, in the familiar COCO layout."""
    lines = []
    for value, (kind, iou, area, dets) in zip(stats, COCO_STAT_NAMES):
        title = "Average Precision" if kind == "AP" else "Average Recall   "
        lines.append(
            f" {title}  ({kind}) @[ IoU={iou:<9} | area={area:>6} | maxDets={dets:>3} ] = {value:0.3f}"
        )
    return "\n".join(lines)


def _is_backend_object(coco_gt: Any, backend: str) -> bool:
    return type(coco_gt).__module__.split(".")[0] == backend


def as_backend_gt(coco_gt: Any, backend: str) -> Any:
    """``coco_gt`` as a ground-truth object of ``backend`` (a converted deep copy if it is foreign).

    Evaluators call this once and reuse the result, since converting a large json costs seconds.
    """
    backend = _resolve_backend(backend)
    if _is_backend_object(coco_gt, backend):
        return coco_gt
    dataset = copy.deepcopy(coco_gt.dataset)
    with contextlib.redirect_stdout(io.StringIO()):
        if backend == "faster_coco_eval":
            from faster_coco_eval import COCO

            return COCO(dataset)
        from pycocotools.coco import COCO

        gt = COCO()
        gt.dataset = dataset
        gt.createIndex()
        return gt


def _run_cocoeval(gt: Any, detections: List[dict], backend: str) -> Any:
    """evaluate + accumulate + summarize with the backend's own COCOeval, silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes([dict(d) for d in detections])  # loadRes adds keys to each dict
        if backend == "faster_coco_eval":
            from faster_coco_eval import COCOeval_faster

            ev = COCOeval_faster(gt, dt, iouType="bbox", print_function=lambda *a, **k: None)
        else:
            from pycocotools.cocoeval import COCOeval

            ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _per_class(ev: Any, num_classes: int) -> Dict[str, np.ndarray]:
    """AP50:95, AP50 and AR@100 per class (area all), NaN where COCO marks -1 (no ground truth)."""
    precision = np.asarray(ev.eval["precision"])  # [T, R, K, A, M]
    recall = np.asarray(ev.eval["recall"])  # [T, K, A, M]
    out = {
        "ap50_95": np.full(num_classes, np.nan),
        "ap50": np.full(num_classes, np.nan),
        "ar100": np.full(num_classes, np.nan),
    }
    iou_thrs = np.asarray(ev.params.iouThrs)
    t50 = int(np.flatnonzero(np.isclose(iou_thrs, 0.5))[0])
    for k in range(num_classes):
        p_all = precision[:, :, k, 0, -1]
        p_50 = precision[t50, :, k, 0, -1]
        r_all = recall[:, k, 0, -1]
        if (p_all > -1).any():
            out["ap50_95"][k] = p_all[p_all > -1].mean()
        if (p_50 > -1).any():
            out["ap50"][k] = p_50[p_50 > -1].mean()
        if (r_all > -1).any():
            out["ar100"][k] = r_all[r_all > -1].mean()
    return out


def _table(result: COCOEvalResult, per_class_AP: bool, per_class_AR: bool) -> str:
    headers = ["class"]
    columns = []
    if per_class_AP:
        headers += ["AP50:95 (%)", "AP50 (%)"]
        columns += [result.per_class_ap50_95, result.per_class_ap50]
    if per_class_AR:
        headers.append("AR100 (%)")
        columns.append(result.per_class_ar100)
    if not columns:
        return ""
    rows = []
    for k, name in enumerate(result.class_names):
        cells = ["no ground truth" if np.isnan(c[k]) else f"{100.0 * c[k]:.1f}" for c in columns]
        rows.append([name, *cells])
    table = tabulate(rows, headers=headers, tablefmt="pipe", stralign="left", numalign="right")
    empty = [n for n, v in zip(result.class_names, columns[0]) if np.isnan(v)]
    if empty:  # COCO leaves them out of its means too (-1 in its tables)
        table += f"\nclasses with no ground truth (not in the means): {', '.join(empty)}"
    return table


def coco_eval_detections(
    detections: List[Dict[str, Any]],
    coco_gt: Any,
    backend: str = "auto",
    per_class_AP: bool = True,
    per_class_AR: bool = True,
) -> COCOEvalResult:
    """COCO box statistics of ``detections`` (dicts with image_id, category_id, bbox xywh, score).

    ``coco_gt`` is a COCO object of either library (converted with :func:`as_backend_gt` when it is
    not the chosen backend's; pass a converted one to avoid repeating that). Detections on images unknown to the ground truth are dropped with a
    warning; with no detections at all every statistic is 0 and a warning says why.
    """
    chosen = _resolve_backend(backend)
    gt_dataset = coco_gt.dataset
    categories = sorted(gt_dataset.get("categories", []), key=lambda c: c["id"])
    class_names = [str(c.get("name", c["id"])) for c in categories]
    known_images = {img["id"] for img in gt_dataset.get("images", [])}
    kept = [d for d in detections if d["image_id"] in known_images]
    if len(kept) != len(detections):
        warnings.warn(
            f"{len(detections) - len(kept)} detections are on images absent from the ground truth; dropped",
            stacklevel=2,
        )

    nan = np.full(len(class_names), np.nan)
    if not kept:
        warnings.warn("no detections to score: every COCO statistic is reported as 0", stacklevel=2)
        result = COCOEvalResult(
            np.zeros(12), chosen, class_names, nan.copy(), nan.copy(), nan.copy()
        )
        result.summary = (
            f"No detections (scoring backend: {chosen}); all statistics are 0.\n"
            + format_coco_stats(result.stats)
        )
        return result

    ev = _run_cocoeval(as_backend_gt(coco_gt, chosen), kept, chosen)
    stats = np.asarray(ev.stats[:12], dtype=np.float64)
    per_class = _per_class(ev, len(categories))
    result = COCOEvalResult(
        stats,
        chosen,
        class_names,
        per_class["ap50_95"],
        per_class["ap50"],
        per_class["ar100"],
        num_detections=len(kept),
    )
    parts = [f"COCO bbox evaluation ({chosen}, {len(kept)} detections)", format_coco_stats(stats)]
    table = _table(result, per_class_AP, per_class_AR)
    if table:
        parts += ["per class (area all, maxDets 100, %):", table]
    result.summary = "\n".join(parts)
    return result
