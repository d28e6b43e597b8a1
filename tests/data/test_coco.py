"""COCODataset on tiny_coco against pycocotools read directly, plus resize/scaling protocol."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools.coco import COCO

from yolox.data import COCO_CLASSES, COCODataset, ValTransform


@pytest.fixture(scope="module")
def tiny_coco(shared_datasets):
    root = shared_datasets / "tiny_coco"
    if not root.is_dir():
        pytest.skip("tiny_coco not in the shared datasets")
    return root


def test_category_mapping_and_targets_match_pycocotools(tiny_coco):
    ds = COCODataset(tiny_coco, "instances_train2017.json", "train2017", img_size=(128, 128))
    ref = COCO(str(tiny_coco / "annotations" / "instances_train2017.json"))
    assert ds.class_ids == sorted(ref.getCatIds())
    assert ds.class_ids != list(range(1, 81))  # COCO ids are not contiguous
    assert tuple(ds.class_names) == COCO_CLASSES
    assert sorted(ds.ids) == sorted(ref.getImgIds())
    total = 0
    for index, img_id in enumerate(ds.ids):
        info = ref.loadImgs(img_id)[0]
        anns = ref.loadAnns(ref.getAnnIds(imgIds=img_id, iscrowd=False))
        r = min(128 / info["height"], 128 / info["width"])
        expected = sorted(
            (
                round(a["bbox"][0] * r, 3),
                round(a["bbox"][1] * r, 3),
                round((a["bbox"][0] + a["bbox"][2]) * r, 3),
                a["category_id"],
            )
            for a in anns
        )
        target = ds.load_anno(index)
        got = sorted(
            (
                round(float(t[0]), 3),
                round(float(t[1]), 3),
                round(float(t[2]), 3),
                ds.class_ids[int(t[4])],
            )
            for t in target
        )
        np.testing.assert_allclose([g[:3] for g in got], [e[:3] for e in expected], atol=2e-2)
        assert [g[3] for g in got] == [e[3] for e in expected]
        assert ds.image_info(index) == (info["height"], info["width"])
        total += len(target)
    crowd = ref.getAnnIds(iscrowd=True)
    assert len(ref.loadAnns(crowd)) >= 1 and any(a["iscrowd"] for a in ref.loadAnns(crowd))
    assert total == len(ref.getAnnIds(iscrowd=False)) == 196  # 197 boxes, the crowd one excluded


def test_pull_item_and_getitem_protocol(tiny_coco):
    ds = COCODataset(tiny_coco, img_size=(96, 128), preproc=ValTransform())
    img, target, info, img_id = ds.pull_item(0)
    h, w = info
    r = min(96 / h, 128 / w)
    assert img.shape == (int(h * r), int(w * r), 3) and img.dtype == np.uint8
    assert target.shape[1] == 5 and int(img_id[0]) == ds.ids[0]
    x, _, info2, _ = ds[0]
    assert x.shape == (3, 96, 128) and x.dtype == np.float32 and info2 == info
    x, _, _, _ = ds[(False, 0, (64, 64))]  # a sampler key with a multi-scale size
    assert x.shape == (3, 64, 64)
