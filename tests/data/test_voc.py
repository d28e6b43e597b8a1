"""VOCDetection on BCCD (any VOC-layout root) and on a classic VOCdevkit/VOC2007+2012 layout."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from yolox.data import VOC_CLASSES, VOCDetection
from yolox.testing.data_files import jpeg_bytes, solid_image, voc_xml

BCCD_CLASSES = ("RBC", "WBC", "Platelets")


@pytest.fixture(scope="module")
def bccd(shared_datasets):
    root = shared_datasets / "BCCD"
    if not root.is_dir():
        pytest.skip("BCCD not in the shared datasets")
    return root


def _xml_boxes(path):
    out = []
    for obj in ET.parse(path).getroot().iter("object"):
        b = obj.find("bndbox")
        out.append(
            (
                obj.find("name").text.strip(),
                *(float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")),
            )
        )
    return out


@pytest.mark.parametrize(
    ("split", "count", "bad_id", "xml_corner"),
    [
        ("val", 87, "BloodImage_00338", "504.0, 337.0"),
        ("train", 205, "BloodImage_00343", "181.0, 329.0"),
    ],
)
def test_bccd_zero_size_boxes_dropped_with_warning(
    bccd, log_messages, split, count, bad_id, xml_corner
):
    ds = VOCDetection(bccd, [split], img_size=(160, 160), class_names=BCCD_CLASSES)
    assert len(ds) == count
    assert any(
        bad_id in m and "dropped degenerate box" in m and xml_corner in m for m in log_messages
    )
    ids = [i for _, i in ds.ids]
    index = ids.index(bad_id)
    raw = _xml_boxes(bccd / "Annotations" / f"{bad_id}.xml")
    boxes, labels, difficult = ds.annotation_for_eval(index)
    assert len(boxes) == len(raw) - 1
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert not difficult.any()


def test_bccd_boxes_equal_xml_minus_one(bccd):
    ds = VOCDetection(bccd, ["val"], img_size=(160, 160), class_names=BCCD_CLASSES)
    for index in (0, 5, 40):
        raw = [
            r for r in _xml_boxes(bccd / "Annotations" / f"{ds.ids[index][1]}.xml") if r[1] != r[3]
        ]
        boxes, labels, _ = ds.annotation_for_eval(index)
        np.testing.assert_allclose(boxes, np.array([r[1:] for r in raw]) - 1)
        assert [BCCD_CLASSES[i] for i in labels] == [r[0] for r in raw]
        assert ds.image_info(index) == (480, 640)
        img, target, info, idx = ds.pull_item(index)
        assert img.shape == (120, 160, 3) and info == (480, 640) and idx == index
        np.testing.assert_allclose(target[:, :4], boxes * 0.25, rtol=1e-6)


def test_trainval_is_union(bccd):
    ds = VOCDetection(bccd, ["train", "val"], img_size=(64, 64), class_names=BCCD_CLASSES)
    tv = VOCDetection(bccd, "trainval", img_size=(64, 64), class_names=BCCD_CLASSES)
    assert sorted(ds.ids) == sorted(tv.ids) and len(ds) == 292


def test_classic_vocdevkit_layout(tmp_path, make_voc):
    devkit = tmp_path / "VOCdevkit"
    img = jpeg_bytes(solid_image(40, 50))
    make_voc(
        {"a": (img, voc_xml("a.jpg", (50, 40), [("dog", (2, 3, 20, 30))]))}, root=devkit / "VOC2007"
    )
    make_voc(
        {
            "b": (
                img,
                voc_xml(
                    "b.jpg", (50, 40), [("cat", (5, 5, 10, 10)), ("person", (1, 1, 50, 40))], [0, 1]
                ),
            )
        },
        root=devkit / "VOC2012",
    )
    sets = [("2007", "trainval"), ("2012", "trainval")]
    ds = VOCDetection(devkit, sets, img_size=(64, 64), class_names=VOC_CLASSES)
    assert len(ds) == 2 and ds.class_names[11] == "dog"
    boxes, labels, difficult = ds.annotation_for_eval(1)
    assert labels.tolist() == [7, 14] and difficult.tolist() == [False, True]
    # without names: the XML names, sorted (for all of VOC that is the official order)
    found = VOCDetection(devkit, sets, img_size=(64, 64))
    assert found.class_names == ("cat", "dog", "person")
    assert found.class_names_source == "the XML <name>s (sorted)"
    assert found.annotation_for_eval(1)[1].tolist() == [0, 2]
    assert sorted(VOC_CLASSES) == list(VOC_CLASSES)
    easy = VOCDetection(
        devkit, ("2012", "trainval"), img_size=(64, 64), keep_difficult=False,
        class_names=VOC_CLASSES,
    )  # fmt: skip
    assert easy.load_anno(0)[:, 4].tolist() == [7]
    assert easy.annotation_for_eval(0)[2].tolist() == [False, True]  # the evaluator still sees it
