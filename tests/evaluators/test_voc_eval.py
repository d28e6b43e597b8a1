"""Vectorised VOC AP against a per-detection devkit reference and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from yolox.evaluators.voc_eval import (  # noqa: E402
    VOC_IOU_THRESHOLDS,
    VOCAnnotations,
    VOCDetections,
    resolve_voc_metric,
    voc_ap,
    voc_evaluate,
)
from yolox.testing.voc_reference import reference_voc_ap  # noqa: E402


def _random_case(seed: int, num_images: int = 40, num_classes: int = 5, integer_boxes: bool = True):
    """Jittered ground truth (some difficult, last class never annotated) plus random false positives."""
    rng = np.random.default_rng(seed)
    annotations, dets = [], []
    for i in range(num_images):
        n = int(rng.integers(0, 6))
        xy = rng.uniform(0, 200, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(3, 80, (n, 2))], 1)
        if integer_boxes:
            boxes = np.round(boxes)
        labels = rng.integers(0, num_classes - 1, n)
        difficult = rng.random(n) < 0.2
        annotations.append((boxes, labels, difficult))
        for box, label in zip(boxes, labels):
            for _ in range(int(rng.integers(0, 3))):  # misses, hits and duplicates
                dets.append((i, int(label), float(rng.random()), box + rng.normal(0, 5, 4)))
        for _ in range(int(rng.integers(0, 4))):
            xy = rng.uniform(0, 200, 2)
            box = np.concatenate([xy, xy + rng.uniform(3, 80, 2)])
            dets.append((i, int(rng.integers(0, num_classes)), float(rng.random()), box))
    # Two identical boxes in one image: the devkit's first-max tie rule decides the match.
    annotations[0] = (
        np.array([[10.0, 10.0, 50.0, 50.0], [10.0, 10.0, 50.0, 50.0]]),
        np.array([1, 1]),
        np.array([False, False]),
    )
    dets += [
        (0, 1, 0.99, np.array([11.0, 10.0, 50.0, 49.0])),
        (0, 1, 0.98, np.array([10.0, 11.0, 49.0, 50.0])),
    ]
    return annotations, dets


def _to_arrays(dets):
    return VOCDetections(
        np.array([d[0] for d in dets], dtype=np.int64),
        np.array([d[1] for d in dets], dtype=np.int64),
        np.array([d[2] for d in dets], dtype=np.float64),
        np.array([d[3] for d in dets], dtype=np.float64).reshape(-1, 4),
    )


@pytest.mark.parametrize("metric", ["voc07", "voc10"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_devkit_reference(metric: str, seed: int) -> None:
    annotations, dets = _random_case(seed, integer_boxes=seed != 2)
    num_classes = 5
    expected = reference_voc_ap(
        dets, annotations, num_classes, VOC_IOU_THRESHOLDS, metric == "voc07"
    )
    result = voc_evaluate(
        _to_arrays(dets), VOCAnnotations.from_per_image(annotations), num_classes, metric=metric
    )
    assert result.metric == metric
    assert np.isnan(expected[:, -1]).all(), "the empty class must be undefined in the reference"
    np.testing.assert_array_equal(np.isnan(result.ap), np.isnan(expected))
    np.testing.assert_allclose(result.ap, expected, rtol=0, atol=1e-12)
    # Means skip the empty class (NaN), as documented.
    assert result.map50 == pytest.approx(np.nanmean(expected[0]), abs=1e-12)
    assert result.map50_95 == pytest.approx(np.nanmean(expected.mean(0)), abs=1e-12)
    assert 0.05 < result.map50 < 0.95, "the random case should be neither trivial nor hopeless"


def test_detection_order_does_not_matter() -> None:
    annotations, dets = _random_case(3)
    anns = VOCAnnotations.from_per_image(annotations)
    base = voc_evaluate(_to_arrays(dets), anns, 5, metric="voc10").ap
    perm = np.random.default_rng(0).permutation(len(dets))
    shuffled = voc_evaluate(_to_arrays([dets[i] for i in perm]), anns, 5, metric="voc10").ap
    np.testing.assert_array_equal(base, shuffled)


def test_hand_computed_curve() -> None:
    # TP, FP, TP with 2 positives: recall 0.5, 0.5, 1; precision 1, 1/2, 2/3.
    rec = np.array([0.5, 0.5, 1.0])
    prec = np.array([1.0, 0.5, 2.0 / 3.0])
    assert voc_ap(rec, prec, use_07_metric=False) == pytest.approx(0.5 + 0.5 * 2.0 / 3.0)
    assert voc_ap(rec, prec, use_07_metric=True) == pytest.approx((6 * 1.0 + 5 * 2.0 / 3.0) / 11.0)


def test_difficult_and_pixel_convention() -> None:
    # One image: a normal and a difficult box of class 0.
    annotations = [
        (
            np.array([[0.0, 0.0, 9.0, 9.0], [20.0, 20.0, 29.0, 29.0]]),
            np.array([0, 0]),
            np.array([False, True]),
        )
    ]
    dets = [
        (0, 0, 0.9, np.array([20.0, 20.0, 29.0, 29.0])),  # hits the difficult box: ignored
        (
            0,
            0,
            0.8,
            np.array([0.0, 0.0, 9.0, 4.0]),
        ),  # IoU with +1 convention: 50/100 = 0.5, not > 0.5
        (0, 0, 0.7, np.array([0.0, 0.0, 9.0, 5.0])),  # 60/100 = 0.6 > 0.5: TP
    ]
    result = voc_evaluate(
        _to_arrays(dets), VOCAnnotations.from_per_image(annotations), 1, metric="voc10"
    )
    assert result.num_positives.tolist() == [1]
    # Ranked list after ignoring: FP, TP -> precision at recall 1 is 1/2.
    assert result.ap50[0] == pytest.approx(0.5)
    # Without the +1 the second box would have IoU 45/90 = 0.5 too, but the third 54/90 = 0.6;
    # at 0.55 the third still matches (0.6 > 0.55), at 0.6 it does not (strict >).
    assert result.ap_at(0.55)[0] == pytest.approx(0.5)
    assert result.ap_at(0.6)[0] == 0.0


def test_no_detections_and_no_ground_truth() -> None:
    annotations = [
        (np.array([[0.0, 0.0, 9.0, 9.0]]), np.array([0]), np.array([False])),
        (np.zeros((0, 4)), [], []),
    ]
    anns = VOCAnnotations.from_per_image(annotations)
    result = voc_evaluate(VOCDetections.empty(), anns, 2, metric="voc07")
    assert result.ap[:, 0].tolist() == [0.0] * 10
    assert np.isnan(result.ap[:, 1]).all()
    assert result.map50 == 0.0
    empty = voc_evaluate(
        VOCDetections.empty(), VOCAnnotations.from_per_image([(np.zeros((0, 4)), [], [])]), 2
    )
    assert np.isnan(empty.map50)


def test_all_difficult_class_is_undefined() -> None:
    annotations = [(np.array([[0.0, 0.0, 9.0, 9.0]]), np.array([0]), np.array([True]))]
    dets = [(0, 0, 0.5, np.array([0.0, 0.0, 9.0, 9.0]))]
    result = voc_evaluate(_to_arrays(dets), VOCAnnotations.from_per_image(annotations), 1)
    assert np.isnan(result.ap).all()


def test_metric_names_and_validation() -> None:
    assert resolve_voc_metric() == "voc07"
    assert resolve_voc_metric(use_07_metric=False) == "voc10"
    assert resolve_voc_metric("VOC2010") == "voc10"
    with pytest.raises(ValueError):
        resolve_voc_metric("coco")
    with pytest.raises(ValueError):
        resolve_voc_metric("voc10", use_07_metric=True)
    anns = VOCAnnotations.from_per_image(
        [(np.array([[0.0, 0.0, 9.0, 9.0]]), np.array([0]), np.array([False]))]
    )
    with pytest.raises(ValueError):
        voc_evaluate(_to_arrays([(0, 3, 0.5, np.zeros(4))]), anns, 2)
    with pytest.raises(ValueError):
        voc_evaluate(_to_arrays([(5, 0, 0.5, np.zeros(4))]), anns, 2)
    assert "11-point" in voc_evaluate(VOCDetections.empty(), anns, 1, metric="voc07").metric_name
    assert "area" in voc_evaluate(VOCDetections.empty(), anns, 1, metric="voc10").metric_name
