"""Generated shapes dataset: deterministic, idempotent, and loadable as COCO and as VOC."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from yolox.data import (
    SYNTHETIC_CLASSES,
    COCODataset,
    DatasetError,
    VOCDetection,
    ensure_synthetic_dataset,
)
from yolox.data.datasets.synthetic import render_synthetic_image


def _digest(root):
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("fmt", ["coco", "voc"])
def test_deterministic_and_idempotent(tmp_path, fmt):
    a = ensure_synthetic_dataset(tmp_path / "a", fmt, num_train=6, num_val=3, img_size=96, seed=5)
    b = ensure_synthetic_dataset(tmp_path / "b", fmt, num_train=6, num_val=3, img_size=96, seed=5)
    assert _digest(a) == _digest(b)
    c = ensure_synthetic_dataset(tmp_path / "c", fmt, num_train=6, num_val=3, img_size=96, seed=6)
    assert _digest(c) != _digest(a)
    stamp = {p: p.stat().st_mtime_ns for p in a.rglob("*")}
    assert ensure_synthetic_dataset(a, fmt, num_train=6, num_val=3, img_size=96, seed=5) == a
    assert {p: p.stat().st_mtime_ns for p in a.rglob("*")} == stamp  # reused, not rewritten
    with pytest.raises(DatasetError, match="different synthetic dataset"):
        ensure_synthetic_dataset(a, fmt, num_train=7, num_val=3, img_size=96, seed=5)
    assert not list(tmp_path.glob(".*tmp*"))


def test_refuses_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="refusing"):
        ensure_synthetic_dataset(tmp_path / "mine")


def test_loads_through_coco_and_voc(tmp_path):
    coco_root = ensure_synthetic_dataset(
        tmp_path / "coco", "coco", num_train=8, num_val=4, img_size=96, seed=0
    )
    train = COCODataset(coco_root, "instances_train2017.json", "train2017", img_size=(96, 96))
    val = COCODataset(coco_root, "instances_val2017.json", "val2017", img_size=(96, 96))
    assert len(train) == 8 and len(val) == 4 and train.class_names == SYNTHETIC_CLASSES
    voc_root = ensure_synthetic_dataset(
        tmp_path / "voc", "voc", num_train=8, num_val=4, img_size=96, seed=0
    )
    vtrain = VOCDetection(voc_root, ["train"], img_size=(96, 96), class_names=SYNTHETIC_CLASSES)
    assert (
        len(VOCDetection(voc_root, "trainval", img_size=(96, 96), class_names=SYNTHETIC_CLASSES))
        == 12
    )
    for i in range(8):  # same seed, same images: both formats give identical targets
        np.testing.assert_allclose(train.load_anno(i), vtrain.load_anno(i))
        n = len(train.load_anno(i))
        assert 1 <= n <= 4


def test_boxes_are_tight_around_the_shapes():
    rng = np.random.default_rng(0)
    for _ in range(10):
        img, boxes, classes = render_synthetic_image(rng, 128)
        assert len(boxes) == len(classes) >= 1
        for x1, y1, x2, y2 in boxes:
            side = x2 - x1
            assert side == y2 - y1 and 128 * 0.15 - 2 <= side <= 128 * 0.4
            assert 0 <= x1 and x2 <= 128 and 0 <= y1 and y2 <= 128
            centre = img[(y1 + y2) // 2 + side // 8, (x1 + x2) // 2].astype(int)
            assert (
                centre.max() >= 150
            )  # bright object colour inside the box (backgrounds are muted)
