"""Every messy-annotation case: a warning or a DatasetError that names the file, never a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yolox.data import COCODataset, DatasetError, VOCDetection
from yolox.testing.data_files import jpeg_bytes, png_bytes, solid_image, voc_xml

CLASSES = ("a", "b")


def _good(name="img", boxes=((5, 5, 20, 20),), size=(40, 30)):
    w, h = size
    img = jpeg_bytes(solid_image(h, w))
    return img, voc_xml(f"{name}.jpg", (w, h), [("a", b) for b in boxes])


def test_xml_size_zero_uses_image_size(make_voc, log_messages):
    img = jpeg_bytes(solid_image(30, 40))
    root = make_voc({"z": (img, voc_xml("z.jpg", (0, 0), [("a", (1, 1, 10, 10))]))})
    ds = VOCDetection(root, ["trainval"], img_size=(64, 64), class_names=CLASSES)
    assert ds.image_info(0) == (30, 40)
    assert any("z.jpg" in m and "0x0" in m for m in log_messages)


def test_xml_size_missing_or_wrong_uses_image_size(make_voc, log_messages):
    img = jpeg_bytes(solid_image(30, 40))
    root = make_voc(
        {
            "wrong": (
                img,
                voc_xml(
                    "wrong.jpg", (400, 300), [("a", (1, 1, 10, 10)), ("b", (100, 100, 200, 200))]
                ),
            ),
            "none": (img, voc_xml("none.jpg", None, [("a", (1, 1, 10, 10))])),
        }
    )
    ds = VOCDetection(root, ["trainval"], img_size=(64, 64), class_names=CLASSES)
    assert ds.image_info(0) == ds.image_info(1) == (30, 40)
    assert any("wrong.jpg" in m and "400x300" in m for m in log_messages)
    # The box at 100..200 lies outside the real 40x30 image: dropped, with the file named.
    assert ds.annotation_for_eval(0)[1].tolist() == [0]
    assert any("wrong.xml" in m and "degenerate" in m for m in log_messages)


def test_degenerate_and_outside_boxes(make_voc, log_messages):
    img = jpeg_bytes(solid_image(30, 40))
    boxes = [(1, 1, 10, 10), (5, 5, 5, 9), (9, 9, 3, 12), (-20, 5, 15, 50), (41, 1, 60, 20)]
    root = make_voc({"x": (img, voc_xml("x.jpg", (40, 30), [("a", b) for b in boxes]))})
    ds = VOCDetection(root, "trainval", img_size=(40, 40), class_names=CLASSES)
    got, _, _ = ds.annotation_for_eval(0)
    # zero width, negative width and fully-outside boxes dropped; the overhanging one clipped
    np.testing.assert_allclose(got, [[0, 0, 9, 9], [0, 4, 14, 30]])
    dropped = [m for m in log_messages if "x.xml" in m and "dropped degenerate box" in m]
    assert len(dropped) == 3
    assert any("x.xml" in m and "lies outside" in m for m in log_messages)


def test_unknown_class_is_a_clear_error_or_skipped(make_voc, log_messages):
    img = jpeg_bytes(solid_image(30, 40))
    root = make_voc(
        {
            "u": (
                img,
                voc_xml(
                    "u.jpg",
                    (40, 30),
                    [("a", (1, 1, 9, 9)), ("zebra", (2, 2, 8, 8)), ("yak", (1, 1, 5, 5))],
                ),
            )
        }
    )
    with pytest.raises(DatasetError) as info:
        VOCDetection(root, "trainval", class_names=CLASSES)
    assert "zebra" in str(info.value) and "yak" in str(info.value) and "u.xml" in str(info.value)
    ds = VOCDetection(root, "trainval", class_names=CLASSES, skip_unknown_classes=True)
    assert ds.annotation_for_eval(0)[1].tolist() == [0]
    assert any("zebra" in m for m in log_messages)


def test_class_names_with_stray_spaces(make_voc, log_messages):
    img = jpeg_bytes(solid_image(30, 40))
    root = make_voc(
        {"s": (img, voc_xml("s.jpg", (40, 30), [(" a ", (1, 1, 9, 9)), ("b\n", (2, 2, 8, 8))]))}
    )
    ds = VOCDetection(root, "trainval", class_names=(" a", "b "))
    assert ds.class_names == ("a", "b")
    assert ds.annotation_for_eval(0)[1].tolist() == [0, 1]
    assert any("s.xml" in m and "whitespace" in m for m in log_messages)


def test_missing_image_is_skipped_with_warning(make_voc, log_messages):
    img, xml = _good("ok")
    root = make_voc(
        {"ok": (img, xml), "gone": (None, voc_xml("gone.jpg", (40, 30), [("a", (1, 1, 5, 5))]))}
    )
    ds = VOCDetection(root, "trainval", class_names=CLASSES)
    assert [i for _, i in ds.ids] == ["ok"]
    assert any("gone.jpg" in m and "not found" in m for m in log_messages)


def test_png_in_jpg_and_greyscale_images_load(make_voc):
    grey = solid_image(30, 40)[:, :, 0]
    root = make_voc(
        {
            "png": (
                png_bytes(solid_image(30, 40)),
                voc_xml("png.jpg", (40, 30), [("a", (1, 1, 9, 9))]),
            ),
            "grey": (png_bytes(grey), voc_xml("grey.jpg", (40, 30), [("b", (1, 1, 9, 9))])),
        }
    )
    ds = VOCDetection(root, "trainval", img_size=(40, 40), class_names=CLASSES)
    for i in range(2):
        img, target, _, _ = ds.pull_item(i)
        assert img.shape == (30, 40, 3) and len(target) == 1


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        ("<annotation><object><name>a</name>", "malformed XML"),
        ("<annotation><object><name>a</name></object></annotation>", "no <bndbox>"),
        (
            "<annotation><object><name>a</name><bndbox><xmin>x</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>",
            "non-numeric",
        ),
        ("<foo/>", "expected <annotation>"),
    ],
)
def test_malformed_xml_is_a_clear_error(make_voc, xml, needle):
    img, good_xml = _good("g")
    root = make_voc({"g": (img, good_xml), "bad": (img, xml)})
    with pytest.raises(DatasetError) as info:
        VOCDetection(root, "trainval", class_names=CLASSES)
    assert "bad.xml" in str(info.value) and needle in str(info.value)


def test_missing_xml_and_missing_image_set(make_voc):
    img, _ = _good()
    root = make_voc({"noxml": (img, None)})
    with pytest.raises(DatasetError, match="noxml.xml"):
        VOCDetection(root, "trainval", class_names=CLASSES)
    with pytest.raises(DatasetError, match=r"test\.txt.*available.*trainval"):
        VOCDetection(root, "test", class_names=CLASSES)


def test_unreadable_image_at_training_time_is_substituted(make_voc, log_messages):
    img, xml = _good("ok")
    root = make_voc({"ok": (img, xml), "bad": (img, _good("bad")[1])})
    ds = VOCDetection(root, "trainval", img_size=(32, 32), class_names=CLASSES)
    bad = [i for _, i in ds.ids].index("bad")
    (root / "JPEGImages" / "bad.jpg").write_bytes(
        img[: len(img) // 2]
    )  # truncated after construction
    out_img, target, info, index = ds.pull_item(bad)
    assert index != bad and out_img.shape[2] == 3
    assert any("bad.jpg" in m and "substitut" in m for m in log_messages)
    blank = VOCDetection(
        root, "trainval", img_size=(32, 32), class_names=CLASSES, bad_image="blank"
    )
    out_img, target, info, index = blank.pull_item(bad)
    assert index == bad and len(target) == 0 and (out_img == 114).all()
    strict = VOCDetection(
        root, "trainval", img_size=(32, 32), class_names=CLASSES, bad_image="raise"
    )
    with pytest.raises(DatasetError, match="bad.jpg"):
        strict.pull_item(bad)


def test_all_images_unreadable_gives_bounded_error(make_voc):
    img, xml = _good("x")
    root = make_voc({"x": (img, xml)})
    ds = VOCDetection(root, "trainval", class_names=CLASSES)
    (root / "JPEGImages" / "x.jpg").write_bytes(b"junk")
    with pytest.raises(DatasetError, match="in a row"):
        ds.pull_item(0)


def _coco(images, annotations, categories=({"id": 7, "name": "a"}, {"id": 3, "name": " b "})):
    return {
        "images": list(images),
        "annotations": list(annotations),
        "categories": list(categories),
    }


def test_coco_messy_json(make_coco, log_messages):
    blob = jpeg_bytes(solid_image(30, 40))
    data = _coco(
        [
            {"id": 1, "file_name": "1.jpg", "height": 30, "width": 40},
            {"id": 2, "file_name": "2.jpg", "height": 30, "width": 40},  # no boxes: allowed
            {"id": 3, "file_name": "missing.jpg", "height": 30, "width": 40},
            {"id": 4, "file_name": "4.jpg", "height": 0, "width": 0},  # size from the image
        ],
        [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 2, 10, 10], "iscrowd": 0},
            {
                "id": 2,
                "image_id": 1,
                "category_id": 3,
                "bbox": [30, 20, 30, 30],
                "iscrowd": 0,
            },  # clipped
            {
                "id": 3,
                "image_id": 1,
                "category_id": 3,
                "bbox": [5, 5, 0, 4],
                "iscrowd": 0,
            },  # zero width
            {
                "id": 4,
                "image_id": 1,
                "category_id": 7,
                "bbox": [0, 0, 40, 30],
                "iscrowd": 1,
            },  # crowd
            {"id": 5, "image_id": 99, "category_id": 7, "bbox": [0, 0, 4, 4]},  # unknown image
            {"id": 6, "image_id": 4, "category_id": 7, "bbox": "oops"},
            {"image_id": 4, "category_id": 3, "bbox": [2, 2, 5, 5]},  # no id
        ],
    )
    root, jf, name = make_coco(data, {"1.jpg": blob, "2.jpg": blob, "4.jpg": blob})
    ds = COCODataset(root, jf, name, img_size=(40, 40))
    assert ds.class_ids == [3, 7] and ds.class_names == ("b", "a")
    assert ds.ids == [1, 2, 4]
    np.testing.assert_allclose(ds.load_anno(0), [[1, 2, 11, 12, 1], [30, 20, 40, 30, 0]])
    assert len(ds.load_anno(1)) == 0 and ds.image_info(2) == (30, 40)
    np.testing.assert_allclose(ds.load_anno(2), [[2, 2, 7, 7, 0]])
    assert any("missing.jpg" in m for m in log_messages)
    assert any("1.jpg" in m and "degenerate" in m for m in log_messages)
    assert any("unknown image id 99" in m for m in log_messages)
    assert any("malformed bbox" in m for m in log_messages)
    img, target, info, img_id = ds.pull_item(1)
    assert target.shape == (0, 5) and int(img_id[0]) == 2


def test_coco_unknown_category(make_coco, log_messages):
    blob = jpeg_bytes(solid_image(30, 40))
    data = _coco(
        [{"id": 1, "file_name": "1.jpg", "height": 30, "width": 40}],
        [
            {"id": 1, "image_id": 1, "category_id": 42, "bbox": [1, 1, 5, 5]},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [1, 1, 5, 5]},
        ],
    )
    root, jf, name = make_coco(data, {"1.jpg": blob})
    with pytest.raises(DatasetError, match=r"instances_x\.json.*42"):
        COCODataset(root, jf, name)
    ds = COCODataset(root, jf, name, skip_unknown_classes=True)
    assert ds.load_anno(0)[:, 4].tolist() == [1]


def test_coco_wrong_json_size_fixed_at_load_time(make_coco, log_messages):
    blob = jpeg_bytes(solid_image(30, 40))
    data = _coco(
        [{"id": 1, "file_name": "1.jpg", "height": 60, "width": 80}],
        [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 60, 40]}],
    )
    root, jf, name = make_coco(data, {"1.jpg": blob})
    ds = COCODataset(root, jf, name, img_size=(40, 40))
    img, target, info, _ = ds.pull_item(0)
    assert info == (30, 40) and img.shape == (30, 40, 3)
    np.testing.assert_allclose(target, [[10, 10, 40, 30, 1]])
    assert any("1.jpg" in m and "80x60" in m for m in log_messages)
    checked = COCODataset(root, jf, name, img_size=(40, 40), verify_image_sizes=True)
    assert checked.image_info(0) == (30, 40)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "malformed JSON"),
        (json.dumps([1, 2]), "top level"),
        (json.dumps({"images": [], "annotations": []}), "categories"),
        (json.dumps({"images": [{"id": 1}], "categories": []}), "file_name"),
        (json.dumps({"images": [], "categories": [{"id": 1}, {"id": 1}]}), "unique"),
    ],
)
def test_coco_malformed_json_is_a_clear_error(make_coco, text, needle):
    root, jf, name = make_coco(text, {})
    with pytest.raises(DatasetError) as info:
        COCODataset(root, jf, name)
    assert "instances_x.json" in str(info.value) and needle in str(info.value)


def test_eval_dataset_defaults_to_blank_for_bad_images(make_voc, log_messages):
    from yolox.data import TrainTransform, ValTransform

    img, xml = _good("ok")
    root = make_voc({"ok": (img, xml), "bad": (img, _good("bad")[1])})
    val = VOCDetection(
        root, "trainval", img_size=(32, 32), class_names=CLASSES, preproc=ValTransform()
    )
    train = VOCDetection(
        root, "trainval", img_size=(32, 32), class_names=CLASSES, preproc=TrainTransform()
    )
    assert (val.bad_image, train.bad_image) == ("blank", "substitute")
    bad = [i for _, i in val.ids].index("bad")
    (root / "JPEGImages" / "bad.jpg").write_bytes(b"")
    x, _, info, index = val[bad]
    assert index == bad and x.shape == (3, 32, 32) and info == (30, 40)


def test_bad_image_reported_once_and_skipped_afterwards(make_voc, log_messages):
    img, xml = _good("ok")
    root = make_voc({"ok": (img, xml), "bad": (img, _good("bad")[1])})
    ds = VOCDetection(root, "trainval", img_size=(32, 32), class_names=CLASSES)
    bad = [i for _, i in ds.ids].index("bad")
    (root / "JPEGImages" / "bad.jpg").unlink()  # vanished after construction
    for _ in range(5):
        assert ds.pull_item(bad)[3] != bad
    assert sum("bad.jpg" in m for m in log_messages) == 1
