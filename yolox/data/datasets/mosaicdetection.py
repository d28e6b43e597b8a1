"""Mosaic (4 images around a random centre) + random affine + MixUp, wrapping a dataset."""

from __future__ import annotations

import random
from typing import Any, Callable, Optional, Sequence, Tuple

import cv2
import numpy as np

from yolox.utils.boxes import adjust_box_anns

from ..data_augment import random_affine
from .datasets_wrapper import Dataset

__all__ = ["MosaicDetection", "get_mosaic_coordinate"]


def get_mosaic_coordinate(
    quadrant: int, xc: int, yc: int, w: int, h: int, input_h: int, input_w: int
) -> Tuple[Tuple[int, int, int, int], Tuple[int, int, int, int]]:
    """Where tile ``quadrant`` (0 TL, 1 TR, 2 BL, 3 BR) goes on the 2x canvas, and which part of it.

    Returns ((x1, y1, x2, y2) on the canvas, (x1, y1, x2, y2) in the tile); each tile touches
    the centre (xc, yc) with one corner and is cut at the canvas border.
    """
    if quadrant == 0:
        big = (max(xc - w, 0), max(yc - h, 0), xc, yc)
        small = (w - (big[2] - big[0]), h - (big[3] - big[1]), w, h)
    elif quadrant == 1:
        big = (xc, max(yc - h, 0), min(xc + w, input_w * 2), yc)
        small = (0, h - (big[3] - big[1]), min(w, big[2] - big[0]), h)
    elif quadrant == 2:
        big = (max(xc - w, 0), yc, xc, min(input_h * 2, yc + h))
        small = (w - (big[2] - big[0]), 0, w, min(h, big[3] - big[1]))
    elif quadrant == 3:
        big = (xc, yc, min(xc + w, input_w * 2), min(input_h * 2, yc + h))
        small = (0, 0, min(w, big[2] - big[0]), min(h, big[3] - big[1]))
    else:
        raise ValueError(f"mosaic quadrant must be 0..3, got {quadrant}")
    return big, small


class MosaicDetection(Dataset):
    """Training wrapper: with ``mosaic_prob`` builds a 4-image mosaic, warps it, then MixUp.

    Items are ``preproc(img, target, input_dim)`` outputs as for the plain dataset. The batch
    sampler's flag (or :meth:`close_mosaic`) turns the mosaic path off for the last epochs.
    """

    def __init__(
        self,
        dataset: Any,
        img_size: Sequence[int],
        mosaic: bool = True,
        preproc: Optional[Callable] = None,
        degrees: float = 10.0,
        translate: float = 0.1,
        mosaic_scale: Tuple[float, float] = (0.1, 2.0),
        mixup_scale: Tuple[float, float] = (0.5, 1.5),
        shear: float = 2.0,
        enable_mixup: bool = True,
        mosaic_prob: float = 1.0,
        mixup_prob: float = 1.0,
        *args: Any,
    ) -> None:
        super().__init__(img_size, mosaic=mosaic)
        self._dataset = dataset
        self.preproc = preproc
        self.degrees = degrees
        self.translate = translate
        self.scale = mosaic_scale
        self.shear = shear
        self.mixup_scale = mixup_scale
        self.enable_mixup = enable_mixup
        self.mosaic_prob = mosaic_prob
        self.mixup_prob = mixup_prob

    def __len__(self) -> int:
        return len(self._dataset)

    def close_mosaic(self) -> None:
        """Disable mosaic/mixup on this wrapper (the sampler flag overrides it per key)."""
        self.enable_mosaic = False

    def _mosaic(self, index: int) -> Tuple[np.ndarray, np.ndarray, Any]:
        input_h, input_w = self.input_dim
        yc = int(random.uniform(0.5 * input_h, 1.5 * input_h))
        xc = int(random.uniform(0.5 * input_w, 1.5 * input_w))
        indices = [index] + [random.randint(0, len(self._dataset) - 1) for _ in range(3)]
        canvas = np.full((input_h * 2, input_w * 2, 3), 114, dtype=np.uint8)
        all_labels = []
        img_id = None
        for quadrant, tile_index in enumerate(indices):
            img, labels, _, tile_id = self._dataset.pull_item(tile_index)
            if quadrant == 0:
                img_id = tile_id
            h0, w0 = img.shape[:2]
            scale = min(input_h / h0, input_w / w0)
            w, h = max(int(w0 * scale), 1), max(int(h0 * scale), 1)
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
            (bx1, by1, bx2, by2), (sx1, sy1, sx2, sy2) = get_mosaic_coordinate(
                quadrant, xc, yc, w, h, input_h, input_w
            )
            canvas[by1:by2, bx1:bx2] = img[sy1:sy2, sx1:sx2]
            labels = np.asarray(labels, dtype=np.float32).reshape(-1, 5).copy()
            if len(labels):
                labels[:, :4] = labels[:, :4] * scale
                labels[:, [0, 2]] += bx1 - sx1
                labels[:, [1, 3]] += by1 - sy1
            all_labels.append(labels)
        labels = np.concatenate(all_labels, 0)
        labels[:, [0, 2]] = np.clip(labels[:, [0, 2]], 0, 2 * input_w)
        labels[:, [1, 3]] = np.clip(labels[:, [1, 3]], 0, 2 * input_h)
        labels = labels[(labels[:, 2] > labels[:, 0]) & (labels[:, 3] > labels[:, 1])]
        img, labels = random_affine(
            canvas, labels, (input_w, input_h), self.degrees, self.translate, self.scale, self.shear
        )
        return img, labels, img_id

    @Dataset.mosaic_getitem
    def __getitem__(self, index: int) -> Tuple[Any, Any, Tuple[int, int], Any]:
        if self.enable_mosaic and random.random() < self.mosaic_prob:
            img, labels, img_id = self._mosaic(index)
            if self.enable_mixup and len(labels) and random.random() < self.mixup_prob:
                img, labels = self.mixup(img, labels, self.input_dim)
            if self.preproc is not None:
                out_img, out_labels = self.preproc(img, labels, self.input_dim)
            else:
                out_img, out_labels = img, labels
            return out_img, out_labels, (img.shape[0], img.shape[1]), img_id
        self._dataset._input_dim = self.input_dim
        img, labels, img_info, img_id = self._dataset.pull_item(index)
        if self.preproc is not None:
            img, labels = self.preproc(img, labels, self.input_dim)
        return img, labels, img_info, img_id

    def mixup(
        self, origin_img: np.ndarray, origin_labels: np.ndarray, input_dim: Sequence[int]
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Blend 50/50 with another image that is letterboxed, jittered in scale, maybe flipped and cropped."""
        jitter = random.uniform(*self.mixup_scale)
        flip = random.random() > 0.5
        cp_index = random.randint(0, len(self._dataset) - 1)
        for _ in range(20):  # prefer a partner with boxes, but never loop forever
            if len(self._dataset.load_anno(cp_index)):
                break
            cp_index = random.randint(0, len(self._dataset) - 1)
        img, cp_labels, _, _ = self._dataset.pull_item(cp_index)
        cp_labels = np.asarray(cp_labels, dtype=np.float32).reshape(-1, 5)
        in_h, in_w = int(input_dim[0]), int(input_dim[1])
        ratio = min(in_h / img.shape[0], in_w / img.shape[1])
        rw, rh = max(int(img.shape[1] * ratio), 1), max(int(img.shape[0] * ratio), 1)
        cp_img = np.full((in_h, in_w, 3), 114, dtype=np.uint8)
        cp_img[:rh, :rw] = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
        cp_img = cv2.resize(cp_img, (max(int(in_w * jitter), 1), max(int(in_h * jitter), 1)))
        ratio *= jitter
        if flip:
            cp_img = cp_img[:, ::-1, :]
        cp_h, cp_w = cp_img.shape[:2]
        target_h, target_w = origin_img.shape[:2]
        padded = np.zeros((max(cp_h, target_h), max(cp_w, target_w), 3), dtype=np.uint8)
        padded[:cp_h, :cp_w] = cp_img
        y_off = (
            random.randint(0, padded.shape[0] - target_h - 1) if padded.shape[0] > target_h else 0
        )
        x_off = (
            random.randint(0, padded.shape[1] - target_w - 1) if padded.shape[1] > target_w else 0
        )
        cropped = padded[y_off : y_off + target_h, x_off : x_off + target_w]
        boxes = adjust_box_anns(cp_labels[:, :4].copy(), ratio, 0, 0, cp_w, cp_h)
        if flip:
            boxes[:, 0::2] = cp_w - boxes[:, 2::-2]
        boxes[:, 0::2] = np.clip(boxes[:, 0::2] - x_off, 0, target_w)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2] - y_off, 0, target_h)
        new = np.hstack((boxes, cp_labels[:, 4:5])).astype(np.float32)
        new = new[(new[:, 2] > new[:, 0]) & (new[:, 3] > new[:, 1])]
        labels = np.vstack((origin_labels, new))
        blended = 0.5 * origin_img.astype(np.float32) + 0.5 * cropped.astype(np.float32)
        return blended.astype(np.uint8), labels
