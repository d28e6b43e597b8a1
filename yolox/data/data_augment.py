"""Image/box augmentations of the YOLOX recipe and the train/val input transforms.

Boxes are corner boxes (x1, y1, x2, y2) in pixels unless a name says otherwise.
"""

from __future__ import annotations

import math
import random
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from yolox.utils.boxes import letterbox_ratio, xyxy2cxcywh

__all__ = [
    "augment_hsv",
    "get_aug_params",
    "get_affine_matrix",
    "apply_affine_to_bboxes",
    "random_affine",
    "preproc",
    "mirror",
    "TrainTransform",
    "ValTransform",
]

Range = Union[float, Sequence[float]]


def augment_hsv(img: np.ndarray, hgain: float = 5, sgain: float = 30, vgain: float = 30) -> None:
    """Shift hue/saturation/value by random amounts (each gain switched on with p=0.5), in place."""
    gains = np.random.uniform(-1, 1, 3) * np.array([hgain, sgain, vgain])
    gains = (gains * np.random.randint(0, 2, 3)).astype(np.int16)
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + gains[0]) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] + gains[1], 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] + gains[2], 0, 255)
    cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR, dst=img)


def get_aug_params(value: Range, center: float = 0.0) -> float:
    """Sample uniformly from center +- value (a number) or from [lo, hi] (a pair)."""
    if isinstance(value, (int, float)):
        return random.uniform(center - value, center + value)
    if len(value) == 2:
        return random.uniform(float(value[0]), float(value[1]))
    raise ValueError(f"augmentation range must be a number or a (lo, hi) pair, got {value!r}")


def get_affine_matrix(
    target_size: Tuple[int, int],
    degrees: Range = 10,
    translate: float = 0.1,
    scales: Range = 0.1,
    shear: Range = 10,
    src_size: Optional[Tuple[int, int]] = None,
) -> Tuple[np.ndarray, float]:
    """Random 2x3 affine (rotate, scale, shear about the source centre, then shift).

    The source centre lands at the output centre plus a random shift of up to ``translate``
    of the output size; for a 2x mosaic canvas this keeps the mosaic junction in view.
    ``target_size`` and ``src_size`` are (width, height). Returns (matrix, scale).
    """
    out_w, out_h = target_size
    src_w, src_h = src_size if src_size is not None else target_size
    angle = math.radians(get_aug_params(degrees))
    scale = get_aug_params(scales, center=1.0)
    if scale <= 0:
        raise ValueError(f"affine scale must be positive, sampled {scale} from {scales!r}")
    shear_x = math.tan(math.radians(get_aug_params(shear)))
    shear_y = math.tan(math.radians(get_aug_params(shear)))
    to_origin = np.array([[1, 0, -src_w / 2], [0, 1, -src_h / 2], [0, 0, 1]], dtype=np.float64)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    rotate = np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]], dtype=np.float64)
    shear_m = np.array([[1, shear_x, 0], [shear_y, 1, 0], [0, 0, 1]], dtype=np.float64)
    shift_x = out_w / 2 + get_aug_params(translate) * out_w
    shift_y = out_h / 2 + get_aug_params(translate) * out_h
    to_out = np.array([[1, 0, shift_x], [0, 1, shift_y], [0, 0, 1]], dtype=np.float64)
    matrix = to_out @ shear_m @ rotate @ to_origin
    return matrix[:2], scale


def apply_affine_to_bboxes(
    targets: np.ndarray, target_size: Tuple[int, int], matrix: np.ndarray
) -> np.ndarray:
    """Map boxes through the affine (enclosing box of the 4 moved corners), clip, drop empty.

    ``targets`` is [n, 4 + k]; extra columns (the class) are carried along.
    """
    width, height = target_size
    if len(targets) == 0:
        return targets
    x1, y1, x2, y2 = (targets[:, i] for i in range(4))
    corners = np.stack([x1, y1, x2, y1, x1, y2, x2, y2], axis=1).reshape(-1, 4, 2)
    ones = np.ones((*corners.shape[:2], 1))
    moved = np.concatenate([corners, ones], axis=2) @ matrix.T
    out = targets.astype(np.float32).copy()
    out[:, 0] = np.clip(moved[..., 0].min(1), 0, width)
    out[:, 1] = np.clip(moved[..., 1].min(1), 0, height)
    out[:, 2] = np.clip(moved[..., 0].max(1), 0, width)
    out[:, 3] = np.clip(moved[..., 1].max(1), 0, height)
    return out[(out[:, 2] > out[:, 0]) & (out[:, 3] > out[:, 1])]


def random_affine(
    img: np.ndarray,
    targets: np.ndarray = (),
    target_size: Tuple[int, int] = (640, 640),
    degrees: Range = 10,
    translate: float = 0.1,
    scales: Range = 0.1,
    shear: Range = 10,
) -> Tuple[np.ndarray, np.ndarray]:
    """Warp an image to ``target_size`` (w, h) with a random affine and move its boxes along."""
    src_size = (img.shape[1], img.shape[0])
    matrix, _ = get_affine_matrix(target_size, degrees, translate, scales, shear, src_size)
    img = cv2.warpAffine(img, matrix, dsize=tuple(target_size), borderValue=(114, 114, 114))
    targets = (
        np.asarray(targets, dtype=np.float32).reshape(-1, 5)
        if len(targets)
        else np.zeros((0, 5), np.float32)
    )
    return img, apply_affine_to_bboxes(targets, target_size, matrix)


def mirror(
    image: np.ndarray, boxes: np.ndarray, prob: float = 0.5
) -> Tuple[np.ndarray, np.ndarray]:
    """Horizontal flip with probability ``prob``; corner boxes become (w - x2, y1, w - x1, y2)."""
    if random.random() < prob:
        width = image.shape[1]
        image = image[:, ::-1]
        boxes = boxes.copy()
        boxes[:, 0::2] = width - boxes[:, 2::-2]
    return image, boxes


def preproc(
    img: np.ndarray, input_size: Sequence[int], swap: Tuple[int, ...] = (2, 0, 1)
) -> Tuple[np.ndarray, float]:
    """Letterbox: resize by r = min(H/h, W/w) at the top-left of a 114-grey canvas; to CHW float32."""
    height, width = img.shape[:2]
    canvas = np.full((int(input_size[0]), int(input_size[1]), 3), 114, dtype=np.uint8)
    r = letterbox_ratio(input_size, height, width)
    new_w, new_h = int(width * r), int(height * r)
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[:new_h, :new_w] = resized.reshape(new_h, new_w, -1)[:, :, :3]
    return np.ascontiguousarray(canvas.transpose(swap), dtype=np.float32), r


class TrainTransform:
    """HSV jitter, flip, letterbox; labels become [max_labels, 5] = (cls, cx, cy, w, h).

    Boxes with a side under 1 px after resizing are dropped; when none survive although the
    input had some, the un-augmented image and boxes are used instead so no positive is lost.
    """

    def __init__(self, max_labels: int = 50, flip_prob: float = 0.5, hsv_prob: float = 1.0) -> None:
        self.max_labels = max_labels
        self.flip_prob = flip_prob
        self.hsv_prob = hsv_prob

    def _pad(self, labels: np.ndarray, boxes_cxcywh: np.ndarray) -> np.ndarray:
        padded = np.zeros((self.max_labels, 5), dtype=np.float32)
        n = min(len(labels), self.max_labels)
        padded[:n, 0] = labels[:n]
        padded[:n, 1:] = boxes_cxcywh[:n]
        return padded

    def __call__(
        self, image: np.ndarray, targets: np.ndarray, input_dim: Sequence[int]
    ) -> Tuple[np.ndarray, np.ndarray]:
        targets = np.asarray(targets, dtype=np.float32).reshape(-1, 5)
        boxes, labels = targets[:, :4].copy(), targets[:, 4].copy()
        if len(boxes) == 0:
            image_t, _ = preproc(image, input_dim)
            return image_t, np.zeros((self.max_labels, 5), dtype=np.float32)
        image_o, boxes_o = image.copy(), boxes.copy()
        image = np.ascontiguousarray(image)
        if random.random() < self.hsv_prob:
            augment_hsv(image)
        image, boxes = mirror(image, boxes, self.flip_prob)
        image_t, r = preproc(image, input_dim)
        boxes_t = xyxy2cxcywh(boxes) * r
        keep = np.minimum(boxes_t[:, 2], boxes_t[:, 3]) > 1
        if not keep.any():
            image_t, r = preproc(image_o, input_dim)
            return image_t, self._pad(labels, xyxy2cxcywh(boxes_o) * r)
        return image_t, self._pad(labels[keep], boxes_t[keep])


class ValTransform:
    """Letterbox only; ``legacy`` also converts to RGB, 0..1 and ImageNet-normalises (old models)."""

    def __init__(self, swap: Tuple[int, ...] = (2, 0, 1), legacy: bool = False) -> None:
        self.swap = swap
        self.legacy = legacy

    def __call__(
        self, img: np.ndarray, res: object, input_size: Sequence[int]
    ) -> Tuple[np.ndarray, np.ndarray]:
        img, _ = preproc(img, input_size, self.swap)
        if self.legacy:
            img = img[::-1, :, :].copy() / 255.0
            mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
            std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)
            img = ((img - mean) / std).astype(np.float32)
        return img, np.zeros((1, 5), dtype=np.float32)
