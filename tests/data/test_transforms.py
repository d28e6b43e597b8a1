"""Letterbox geometry, TrainTransform label format and flip, HSV, random affine vs hand maths."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from yolox.data import TrainTransform, ValTransform, preproc
from yolox.data.data_augment import (
    apply_affine_to_bboxes,
    augment_hsv,
    get_affine_matrix,
    mirror,
    random_affine,
)


def test_letterbox_ratio_and_padding():
    img = np.full((100, 50, 3), 200, np.uint8)  # tall: height limits
    out, r = preproc(img, (64, 80))
    assert r == pytest.approx(0.64)
    assert out.shape == (3, 64, 80) and out.dtype == np.float32
    assert (out[:, :64, :32] == 200).all() and (out[:, :, 32:] == 114).all()
    wide = np.full((10, 100, 3), 7, np.uint8)
    out, r = preproc(wide, (64, 64))
    assert (
        r == pytest.approx(0.64) and (out[:, :6, :64] == 7).all() and (out[:, 6:, :] == 114).all()
    )


def test_val_transform():
    img = np.zeros((20, 40, 3), np.uint8)
    img[..., 2] = 255  # red in BGR
    x, t = ValTransform()(img, None, (32, 32))
    assert x.shape == (3, 32, 32) and t.shape == (1, 5) and not t.any()
    assert x[2, 0, 0] == 255 and x[0, 0, 0] == 0  # stays BGR
    legacy, _ = ValTransform(legacy=True)(img, None, (32, 32))
    assert legacy[0, 0, 0] == pytest.approx((1 - 0.485) / 0.229, rel=1e-5)  # RGB, normalised


def test_train_transform_labels_cxcywh_scaled_and_padded():
    img = np.random.default_rng(0).integers(0, 255, (100, 200, 3), dtype=np.uint8)
    targets = np.array([[10, 20, 50, 60, 2], [100, 0, 200, 100, 0], [5, 5, 6, 6, 1]], np.float32)
    x, labels = TrainTransform(max_labels=5, flip_prob=0.0, hsv_prob=0.0)(img, targets, (64, 64))
    r = 64 / 200
    assert x.shape == (3, 64, 64) and labels.shape == (5, 5) and labels.dtype == np.float32
    expected = np.array(
        [[2, 30 * r, 40 * r, 40 * r, 40 * r], [0, 150 * r, 50 * r, 100 * r, 100 * r]]
    )
    np.testing.assert_allclose(labels[:2], expected, rtol=1e-5)
    assert not labels[2:].any()  # the 1 px box (0.32 px after resizing) was dropped


def test_train_transform_max_labels_and_empty():
    img = np.zeros((32, 32, 3), np.uint8)
    many = np.array([[i, i, i + 10, i + 10, 0] for i in range(20)], np.float32)
    _, labels = TrainTransform(max_labels=7, flip_prob=0, hsv_prob=0)(img, many, (32, 32))
    assert labels.shape == (7, 5) and (labels[:, 3] == 10).all()
    x, labels = TrainTransform(max_labels=7)(img, np.zeros((0, 5), np.float32), (32, 32))
    assert x.shape == (3, 32, 32) and not labels.any()


def test_train_transform_keeps_tiny_boxes_when_nothing_else_survives():
    img = np.zeros((200, 200, 3), np.uint8)
    _, labels = TrainTransform(max_labels=3, flip_prob=0, hsv_prob=0)(
        img, np.array([[0, 0, 2, 2, 1]], np.float32), (32, 32)
    )
    np.testing.assert_allclose(labels[0], [1, 0.16, 0.16, 0.32, 0.32], rtol=1e-5)


def test_flip_against_hand_computation():
    img = np.zeros((50, 100, 3), np.uint8)
    img[20:40, 10:30] = 255
    boxes = np.array([[10, 20, 30, 40]], np.float32)
    flipped, fboxes = mirror(img, boxes, prob=1.0)
    np.testing.assert_allclose(fboxes, [[70, 20, 90, 40]])
    ys, xs = np.nonzero(flipped[..., 0])
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == (70, 90, 20, 40)
    same, sboxes = mirror(img, boxes, prob=0.0)
    assert same is img and (sboxes == boxes).all()
    random.seed(0)
    _, labels = TrainTransform(max_labels=2, flip_prob=1.0, hsv_prob=0.0)(
        img, np.array([[10, 20, 30, 40, 1]], np.float32), (50, 100)
    )
    np.testing.assert_allclose(labels[0], [1, 80, 30, 20, 20])


def _hsv_shift(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per-pixel |change| of (hue on its 180-circle, saturation, value)."""
    a = cv2.cvtColor(before, cv2.COLOR_BGR2HSV).astype(int)
    b = cv2.cvtColor(after, cv2.COLOR_BGR2HSV).astype(int)
    diff = np.abs(b - a)
    diff[..., 0] = np.minimum(diff[..., 0], 180 - diff[..., 0])
    return diff.reshape(-1, 3)


def test_augment_hsv_in_place_and_bounded():
    """Each call moves hue by at most hgain and saturation/value by at most sgain/vgain
    (+2 for the uint8 HSV round trip), and does move them over a few seeds."""
    rng = np.random.default_rng(0)
    hsv = np.stack(
        [
            rng.integers(20, 160, (16, 16)),
            rng.integers(100, 200, (16, 16)),
            rng.integers(100, 200, (16, 16)),
        ],
        axis=-1,
    ).astype(np.uint8)
    original = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    largest = np.zeros(3)
    for seed in range(20):
        np.random.seed(seed)
        img = original.copy()
        augment_hsv(img, hgain=5, sgain=30, vgain=30)
        assert img.dtype == np.uint8 and img.shape == original.shape
        shift = _hsv_shift(original, img)
        assert (shift.max(0) <= np.array([5, 30, 30]) + 2).all(), (seed, shift.max(0))
        largest = np.maximum(largest, shift.max(0))
    assert (largest >= np.array([2, 15, 15])).all(), largest  # the augmentation did act


def test_augment_hsv_clips_instead_of_wrapping():
    """A bright, saturated image stays bright: value/saturation saturate at 255, never wrap to 0."""
    hsv = np.full((8, 8, 3), (60, 250, 250), np.uint8)
    original = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    for seed in range(20):
        np.random.seed(seed)
        img = original.copy()
        augment_hsv(img, hgain=5, sgain=30, vgain=30)
        value = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[..., 2]
        assert value.min() >= 250 - 30 - 2, seed


def test_affine_identity_maps_canvas_centre_to_output_centre():
    random.seed(0)
    matrix, scale = get_affine_matrix(
        (60, 40), degrees=0, translate=0, scales=(1, 1), shear=0, src_size=(120, 80)
    )
    np.testing.assert_allclose(matrix, [[1, 0, -30], [0, 1, -20]], atol=1e-9)
    assert scale == 1
    boxes = np.array([[40, 30, 50, 45, 3], [0, 0, 10, 10, 1], [25, 15, 35, 25, 2]], np.float32)
    out = apply_affine_to_bboxes(boxes, (60, 40), matrix)
    np.testing.assert_allclose(
        out, [[10, 10, 20, 25, 3], [0, 0, 5, 5, 2]]
    )  # the outside box is gone


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_affine_boxes_follow_pixels(seed):
    """A filled rectangle warped with a random scale + shift stays inside its moved box."""
    random.seed(seed)
    canvas = np.zeros((160, 160, 3), np.uint8)
    canvas[50:90, 60:110] = 255
    targets = np.array([[60, 50, 110, 90, 0]], np.float32)
    img, out = random_affine(
        canvas, targets, (80, 80), degrees=0, translate=0.1, scales=(0.5, 1.5), shear=0
    )
    assert img.shape == (80, 80, 3) and len(out) == 1
    ys, xs = np.nonzero(img[..., 0] > 127)
    got = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    np.testing.assert_allclose(out[0, :4], got, atol=1.5)
    assert out[0, 4] == 0


def test_random_affine_rotation_box_encloses_object():
    random.seed(3)
    canvas = np.zeros((160, 160), np.uint8)
    canvas[60:100, 50:110] = 255
    img, out = random_affine(
        np.dstack([canvas] * 3),
        np.array([[50, 60, 110, 100, 1]], np.float32),
        (80, 80),
        30,
        0.0,
        (0.8, 1.2),
        5,
    )
    ys, xs = np.nonzero(img[..., 0] > 127)
    x1, y1, x2, y2 = out[0, :4]
    assert (
        xs.min() >= x1 - 1
        and xs.max() + 1 <= x2 + 1
        and ys.min() >= y1 - 1
        and ys.max() + 1 <= y2 + 1
    )
    # The reference: the same corners pushed through cv2.transform.
    corners = np.array([[[50, 60]], [[110, 60]], [[50, 100]], [[110, 100]]], np.float32)
    random.seed(3)
    matrix, _ = get_affine_matrix((80, 80), 30, 0.0, (0.8, 1.2), 5, src_size=(160, 160))
    moved = cv2.transform(corners, matrix).reshape(-1, 2)
    np.testing.assert_allclose(
        [x1, y1, x2, y2], np.clip([*moved.min(0), *moved.max(0)], 0, 80), atol=1e-3
    )
