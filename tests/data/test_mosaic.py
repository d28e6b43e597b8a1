"""Mosaic + MixUp: shapes, boxes inside the canvas and on their objects, the sampler flag."""

from __future__ import annotations

import random

import numpy as np
import pytest

from yolox.data import MosaicDetection, TrainTransform
from yolox.data.datasets.mosaicdetection import get_mosaic_coordinate
from yolox.testing.data_files import solid_image


class RectDataset:
    """Images with bright rectangles exactly on their boxes; index 3 has none."""

    def __init__(self, n: int = 6) -> None:
        self.items = []
        for i in range(n):
            h, w = 40 + 10 * i, 70 - 5 * i
            boxes = [] if i == 3 else [(5, 5, 5 + 10 + i, 5 + 12), (w - 20, h - 18, w - 2, h - 3)]
            self.items.append(
                (
                    solid_image(h, w, boxes, seed=i),
                    np.array([[*b, i % 3] for b in boxes], np.float32).reshape(-1, 5),
                )
            )
        self._input_dim = None

    def __len__(self) -> int:
        return len(self.items)

    def load_anno(self, index):
        return self.items[index][1]

    def pull_item(self, index):
        img, labels = self.items[index]
        return img.copy(), labels.copy(), img.shape[:2], index


def test_mosaic_coordinates_tile_the_canvas():
    for q in range(4):
        (bx1, by1, bx2, by2), (sx1, sy1, sx2, sy2) = get_mosaic_coordinate(
            q, 50, 30, 40, 25, 32, 48
        )
        assert bx2 - bx1 == sx2 - sx1 and by2 - by1 == sy2 - sy1
        assert 0 <= bx1 <= bx2 <= 96 and 0 <= by1 <= by2 <= 64
        assert (bx2 if q in (0, 2) else bx1) == 50 and (by2 if q in (0, 1) else by1) == 30


@pytest.mark.parametrize("seed", range(6))
def test_mosaic_shapes_and_boxes_inside_canvas(seed):
    random.seed(seed)
    np.random.seed(seed)
    ds = MosaicDetection(RectDataset(), (64, 96), preproc=None, enable_mixup=seed % 2 == 0)
    img, labels, info, _ = ds[seed % len(ds)]
    assert img.shape == (64, 96, 3) and img.dtype == np.uint8
    assert labels.ndim == 2 and labels.shape[1] == 5 and len(labels) > 0
    assert (labels[:, 0] >= 0).all() and (labels[:, 2] <= 96).all()
    assert (labels[:, 1] >= 0).all() and (labels[:, 3] <= 64).all()
    assert (labels[:, 2] > labels[:, 0]).all() and (labels[:, 3] > labels[:, 1]).all()
    pre = MosaicDetection(RectDataset(), (64, 96), preproc=TrainTransform(max_labels=120))
    x, padded, _, _ = pre[0]
    assert x.shape == (3, 64, 96) and padded.shape == (120, 5)


def test_mosaic_boxes_sit_on_their_objects():
    """No rotation/shear/scale/mixup: every box region is the bright object colour."""
    total = 0
    for seed in range(5):
        random.seed(seed)
        ds = MosaicDetection(
            RectDataset(),
            (64, 64),
            degrees=0,
            translate=0,
            mosaic_scale=(1, 1),
            shear=0,
            enable_mixup=False,
        )
        img, labels, _, _ = ds[0]
        checked = 0
        for x1, y1, x2, y2, _ in labels:
            if x2 - x1 < 3 or y2 - y1 < 3:
                continue
            inner = img[int(np.ceil(y1)) + 1 : int(y2) - 1, int(np.ceil(x1)) + 1 : int(x2) - 1]
            assert inner[..., 1].mean() > 150, (seed, (x1, y1, x2, y2))
            checked += 1
        assert checked >= 1, f"seed {seed}: no box large enough to check"
        total += checked
    assert total >= 8  # 11 of the 14 boxes of these seeds are checkable


def test_mixup_adds_partner_boxes_and_blends():
    random.seed(0)
    ds = MosaicDetection(RectDataset(), (64, 64), mixup_prob=1.0)
    base = np.full((64, 64, 3), 100, np.uint8)
    labels = np.array([[1, 1, 10, 10, 0]], np.float32)
    img, out = ds.mixup(base, labels, (64, 64))
    assert img.shape == base.shape and len(out) >= 1 and (out[0] == labels[0]).all()
    assert (out[:, 2] <= 64).all() and (out[:, 3] <= 64).all() and (out[:, :2] >= 0).all()


def test_mosaic_flag_from_sampler_and_close_mosaic():
    ds = MosaicDetection(RectDataset(), (64, 64), preproc=None)
    img, _, info, idx = ds[(False, 2)]
    assert idx == 2 and info == (60, 60) and img.shape == (60, 60, 3)  # plain item, not a mosaic
    img, _, _, _ = ds[(True, 2, (32, 48))]
    assert img.shape == (32, 48, 3)  # mosaic at the sampler's multi-scale size
    ds.close_mosaic()
    img, _, _, idx = ds[1]
    assert idx == 1 and img.shape[:2] == RectDataset().items[1][0].shape[:2]
