"""Stress benchmark: vectorised VOC AP (yolox.evaluators.voc_eval) vs a per-detection reference.

Builds a synthetic split (default 5,000 images x 20 classes, 250,000 detections: jittered
ground-truth boxes, duplicates and random false positives, 10% difficult boxes), times
``voc_evaluate`` (median of --repeats runs after one warm-up) and the plain devkit-style
reference from yolox/testing/voc_reference.py. The reference is run on the first
--ref-images images only and extrapolated linearly in the number of detections (its cost is one
Python iteration per detection and ground-truth box per threshold); both are also compared on
that subset to check they agree.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/voc_eval_stress.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, List, Tuple

import numpy as np

from yolox.evaluators.voc_eval import (
    VOC_IOU_THRESHOLDS,
    VOCAnnotations,
    VOCDetections,
    voc_ap,
    voc_evaluate,
)
from yolox.testing.voc_reference import reference_voc_ap
from yolox.utils.precision import cpu_description
from yolox.utils.tables import markdown_table


def make_split(num_images: int, num_classes: int, dets_per_image: int, seed: int = 0):
    """Per-image annotations and a flat detection set of exactly num_images * dets_per_image rows."""
    rng = np.random.default_rng(seed)
    annotations = []
    det_img, det_cls, det_score, det_box = [], [], [], []
    for i in range(num_images):
        n = int(rng.integers(1, 9))
        xy = rng.uniform(0, 400, (n, 2))
        boxes = np.round(np.concatenate([xy, xy + rng.uniform(10, 200, (n, 2))], 1))
        labels = rng.integers(0, num_classes, n)
        annotations.append((boxes, labels, rng.random(n) < 0.1))
        # About two detections per object (hits and duplicates), the rest random false positives.
        hits = rng.integers(0, n, min(2 * n, dets_per_image))
        hit_boxes = boxes[hits] + rng.normal(0, 6, (len(hits), 4))
        hit_cls = np.where(
            rng.random(len(hits)) < 0.9, labels[hits], rng.integers(0, num_classes, len(hits))
        )
        m = dets_per_image - len(hits)
        xy = rng.uniform(0, 400, (m, 2))
        fp_boxes = np.concatenate([xy, xy + rng.uniform(10, 200, (m, 2))], 1)
        det_img.append(np.full(dets_per_image, i))
        det_cls.append(np.concatenate([hit_cls, rng.integers(0, num_classes, m)]))
        det_score.append(
            np.concatenate([rng.uniform(0.3, 1.0, len(hits)), rng.uniform(0.0, 0.8, m)])
        )
        det_box.append(np.concatenate([hit_boxes, fp_boxes]))
    dets = VOCDetections(
        np.concatenate(det_img).astype(np.int64),
        np.concatenate(det_cls).astype(np.int64),
        np.concatenate(det_score),
        np.concatenate(det_box),
    )
    return annotations, dets


def subset(dets: VOCDetections, num_images: int) -> VOCDetections:
    keep = dets.image_index < num_images
    return VOCDetections(
        dets.image_index[keep], dets.labels[keep], dets.scores[keep], dets.boxes[keep]
    )


def as_tuples(dets: VOCDetections) -> List[Tuple[int, int, float, np.ndarray]]:
    return [
        (int(i), int(c), float(s), b)
        for i, c, s, b in zip(dets.image_index, dets.labels, dets.scores, dets.boxes)
    ]


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> Tuple[float, object]:
    """Median seconds over ``repeats`` runs after ``warmup`` runs, and the last result."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def devkit_style_voc_ap(
    dets: VOCDetections,
    annotations: List[Tuple[np.ndarray, np.ndarray, np.ndarray]],
    num_classes: int,
    iou_thresholds: np.ndarray,
    use_07_metric: bool,
) -> np.ndarray:
    """The devkit's own shape of loop: per class and threshold, one iteration per detection with
    numpy IoU against that image's boxes (how the official YOLOX evaluator runs). Baseline only."""
    out = np.zeros((len(iou_thresholds), num_classes))
    for c in range(num_classes):
        gts = {}
        for img, (boxes, labels, difficult) in enumerate(annotations):
            mask = labels == c
            gts[img] = (boxes[mask], difficult[mask])
        npos = sum(int((~d).sum()) for _, d in gts.values())
        rows = np.flatnonzero(dets.labels == c)
        order = rows[np.argsort(-dets.scores[rows], kind="stable")]
        for t, thresh in enumerate(iou_thresholds):
            if npos == 0:
                out[t, c] = np.nan
                continue
            claimed = {img: np.zeros(len(b), bool) for img, (b, _) in gts.items()}
            tp = np.zeros(len(order))
            fp = np.zeros(len(order))
            for d, row in enumerate(order):
                img = int(dets.image_index[row])
                bb = dets.boxes[row]
                g, difficult = gts[img]
                ovmax = -np.inf
                if g.size:
                    iw = np.maximum(
                        np.minimum(g[:, 2], bb[2]) - np.maximum(g[:, 0], bb[0]) + 1.0, 0.0
                    )
                    ih = np.maximum(
                        np.minimum(g[:, 3], bb[3]) - np.maximum(g[:, 1], bb[1]) + 1.0, 0.0
                    )
                    inter = iw * ih
                    union = (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                    union = union + (g[:, 2] - g[:, 0] + 1.0) * (g[:, 3] - g[:, 1] + 1.0) - inter
                    ov = inter / union
                    ovmax, jmax = ov.max(), int(ov.argmax())
                if ovmax > thresh:
                    if not difficult[jmax]:
                        if not claimed[img][jmax]:
                            tp[d] = 1.0
                            claimed[img][jmax] = True
                        else:
                            fp[d] = 1.0
                else:
                    fp[d] = 1.0
            tp_c, fp_c = np.cumsum(tp), np.cumsum(fp)
            rec = tp_c / npos
            prec = tp_c / np.maximum(tp_c + fp_c, np.finfo(np.float64).eps)
            out[t, c] = voc_ap(rec, prec, use_07_metric)
    return out


def _agree(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(
        np.array_equal(np.isnan(a), np.isnan(b))
        and np.allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=0, atol=1e-12)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--dets-per-image", type=int, default=50)
    parser.add_argument(
        "--ref-images", type=int, default=500, help="images the slow baselines run on"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ref-repeats", type=int, default=3)
    args = parser.parse_args()

    annotations, dets = make_split(args.images, args.classes, args.dets_per_image)
    anns = VOCAnnotations.from_per_image(annotations)
    small_annotations = annotations[: args.ref_images]
    small_anns = VOCAnnotations.from_per_image(small_annotations)
    small = subset(dets, args.ref_images)
    small_tuples = as_tuples(small)
    scale = len(dets) / max(len(small), 1)
    cpu = cpu_description()
    print(f"CPU: {cpu['cpu']} (flags: {', '.join(cpu['cpu_flags'])})")
    print(
        f"{args.images} images, {args.classes} classes, {len(dets):,} detections, "
        f"{len(anns.labels):,} ground-truth boxes ({int(anns.difficult.sum()):,} difficult); "
        f"baselines on the first {args.ref_images} images ({len(small):,} detections)"
        + (f", times x{scale:.0f} (linear extrapolation)" if scale > 1 else "")
    )
    rows = []
    for metric in ("voc07", "voc10"):
        for thresholds, label in (
            (VOC_IOU_THRESHOLDS, ".50:.95 (10)"),
            (np.array([0.5]), ".50 (1)"),
        ):
            is07 = metric == "voc07"

            def fast_full(m=metric, t=thresholds):
                return voc_evaluate(dets, anns, args.classes, metric=m, iou_thresholds=t)

            def fast_small(m=metric, t=thresholds):
                return voc_evaluate(small, small_anns, args.classes, metric=m, iou_thresholds=t)

            def ref_small(t=thresholds, m07=is07):
                return reference_voc_ap(small_tuples, small_annotations, args.classes, t, m07)

            def devkit_small(t=thresholds, m07=is07):
                return devkit_style_voc_ap(small, small_annotations, args.classes, t, m07)

            t_full, full = timed(fast_full, args.repeats)
            _, fast = timed(fast_small, 1, warmup=0)
            t_ref, ref = timed(ref_small, args.ref_repeats, warmup=0)
            t_dev, dev = timed(devkit_small, args.ref_repeats, warmup=0)
            t_ref, t_dev = t_ref * scale, t_dev * scale
            rows.append(
                (
                    metric,
                    label,
                    f"{t_full:.3f}",
                    f"{t_ref:.1f}",
                    f"{t_dev:.1f}",
                    f"{t_ref / t_full:.0f}x / {t_dev / t_full:.0f}x",
                    "yes" if _agree(ref, fast.ap) and _agree(dev, fast.ap) else "NO",
                    f"{full.map50:.4f} / {full.map50_95:.4f}",
                )
            )
    headers = (
        "metric",
        "IoU thresholds",
        "vectorised (s)",
        "python-loop reference (s)",
        "devkit-style numpy loop (s)",
        "speed-up vs ref / devkit",
        "AP agree",
        "mAP50 / mAP50:95",
    )
    print(markdown_table(headers, rows))
    print(
        f"vectorised: median of {args.repeats} runs after 1 warm-up, on all {len(dets):,} detections; "
        f"baselines: median of {args.ref_repeats} runs"
        + (f" on {len(small):,} detections x{scale:.0f}" if scale > 1 else "")
        + "; AP agree: all per-class APs equal to 1e-12 on the baselines' images"
    )


if __name__ == "__main__":
    main()
