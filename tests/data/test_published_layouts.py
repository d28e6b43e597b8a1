"""Datasets in the layouts they are published in, and the inputs that used to be lost silently.

Issue 21 (items 2-4) and issue 18 (items 2, 5, 6, 8, 9 and the checker part of 10): each test
builds the layout in a tmp folder and compares with what the files hold.
"""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import pytest

from yolox.data import COCODataset, DatasetError, VOCFlatDetection, YOLODetection
from yolox.data.datasets.image_io import read_image
from yolox.data.datasets.yolo_txt import read_yolo_names
from yolox.exp import Exp
from yolox.testing.data_files import (
    NAMES,
    bad_entries,
    jpeg_bytes,
    png_bytes,
    solid_image,
    voc_xml,
    write_roboflow_export,
    write_voc_flat,
    write_voc_sibling_layout,
    write_yolo,
    write_yolov8_export,
)
from yolox.tools.check_data import main as check_main


def _exp(fmt, **fields):
    exp = Exp()
    exp.dataset_format, exp.num_classes = fmt, 2
    for key, value in fields.items():
        setattr(exp, key, value)
    return exp


def _boxes(dataset):
    return sum(len(r.labels) for r in dataset.records)


# ---------------------------------------------------------------- 21.2: images/ + annotations/
@pytest.mark.parametrize("folder", ["annotations", "annots", "Annotations"])
def test_voc_flat_reads_xmls_in_a_sibling_folder(tmp_path, folder):
    write_voc_sibling_layout(tmp_path, 8, xml_folder=folder)
    ds = VOCFlatDetection(tmp_path, ["."])
    assert len(ds) == 8 and _boxes(ds) == 8 and ds.class_names == NAMES
    rec = ds.records[0]  # 0-based: the XML's xmin - 1
    xml = (tmp_path / folder / f"{rec.file.stem}.xml").read_text()
    xmin = float(xml.split("<xmin>")[1].split("<")[0])
    assert rec.boxes[0][0] == xmin - 1


def test_voc_flat_annotations_dir_field_names_another_folder(tmp_path):
    write_voc_sibling_layout(tmp_path, 6, xml_folder="xml_labels")
    exp = _exp("voc_flat", data_dir=str(tmp_path), val_fraction=0.3)
    with pytest.raises(DatasetError) as err:
        exp._make_dataset(True, (64, 64), None)
    text = str(err.value)  # names the folders it tried and the exp line that fixes it
    assert "annotations/, annots/, Annotations/" in text
    assert "self.annotations_dir = " in text
    exp.annotations_dir = "xml_labels"
    train, val = exp._make_dataset(True, (64, 64), None), exp._make_dataset(False, (64, 64), None)
    assert len(train) + len(val) == 6 and _boxes(train) + _boxes(val) == 6


def test_voc_checker_message_is_not_garbled_and_points_to_voc_flat(tmp_path, capsys):
    write_voc_sibling_layout(tmp_path, 4)
    assert check_main(["--voc", str(tmp_path), "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'ImageSets' / 'Main' / 'trainval.txt'}" in out  # the whole path
    assert "not found/ImageSets" not in out
    assert "voc_flat" in out and "--voc-flat" in out
    assert check_main(["--voc-flat", str(tmp_path), "--no-decode"]) == 0


def test_upper_case_xml_extension_is_read(tmp_path):
    write_voc_flat(tmp_path / "train", bad_entries()[:1])
    (tmp_path / "train" / "ok.xml").rename(tmp_path / "train" / "ok.XML")
    ds = VOCFlatDetection(tmp_path, ["train"])
    assert _boxes(ds) == 1  # not silently a background image


def test_images_in_sub_folders_of_a_flat_split_are_reported(tmp_path, capsys):
    write_voc_flat(tmp_path / "train", bad_entries()[:1])
    write_voc_flat(tmp_path / "train" / "more", bad_entries()[:1] + bad_entries()[5:6])
    ds = VOCFlatDetection(tmp_path, ["train"])
    (warning,) = [p for p in ds.problems if "sub-folders" in p.message]
    assert warning.severity == "warning" and warning.message.startswith("2 images")
    check_main(["--voc-flat", str(tmp_path), "--image-sets", "train", "--no-decode"])
    assert "2 images in sub-folders are not read" in capsys.readouterr().out


# ---------------------------------------------------------------- 21.3: data.yaml as published
def test_yolov8_export_foreign_absolute_paths_resolve_by_their_tail(tmp_path, log_messages):
    write_yolov8_export(tmp_path, 5)
    from loguru import logger

    infos = []
    sink = logger.add(lambda m: infos.append(str(m)), level="INFO", format="{message}")
    try:
        exp = _exp("yolo", data_yaml=str(tmp_path / "data.yaml"))
        train = exp._make_dataset(True, (64, 64), None)
        val = exp._make_dataset(False, (64, 64), None)
        again = exp._make_dataset(True, (64, 64), None)
    finally:
        logger.remove(sink)
    assert {r.file.parent for r in train.records} == {tmp_path / "data/train/images"}
    assert {r.file.parent for r in val.records} == {tmp_path / "data/valid/images"}
    assert len(again) == 5 and train.class_names == NAMES
    mapped = [m for m in infos if "does not exist here" in m]
    assert len(mapped) == 2 and "data/train/images" in mapped[0]  # one line per path


@pytest.mark.parametrize("point_at", ["file", "folder", "data_dir"])
def test_exp_points_at_the_yaml_or_its_folder(tmp_path, point_at):
    write_roboflow_export(tmp_path, 4)
    fields = {
        "file": {"data_yaml": str(tmp_path / "data.yaml")},
        "folder": {"data_yaml": str(tmp_path)},
        "data_dir": {"data_dir": str(tmp_path)},
    }[point_at]
    exp = _exp("yolo", **fields)
    val = exp._make_dataset(False, (64, 64), None)
    assert {r.file.parent for r in val.records} == {tmp_path / "valid/images"}
    assert val.class_names == NAMES


def test_data_yaml_one_level_up_names_the_classes(tmp_path):
    write_yolov8_export(tmp_path, 3)
    ds = YOLODetection(tmp_path / "data", ["train"])  # data_dir = the folder below data.yaml
    assert ds.class_names == NAMES and ds.class_names_source == str(tmp_path / "data.yaml")


def test_generated_names_are_a_warning(tmp_path, capsys):
    write_yolo(tmp_path, "train", bad_entries()[:1])
    ds = YOLODetection(tmp_path, ["train"])
    assert ds.class_names == ("class_0",)
    (warning,) = [p for p in ds.problems if "generated names" in p.message]
    assert warning.severity == "warning" and "data_yaml" in warning.message


# ---------------------------------------------------------------- 18.9: class names
@pytest.mark.parametrize(
    "text",
    [
        "names: [cat, dog]\n",  # valid YAML without quotes
        "names: {0: cat, 1: dog}\n",  # the form datasets/README.md documents
        "\ufeffnames:\n  - cat\n  - dog\n",  # a BOM
        "# exported\npath: .\nnames:\n  0: cat   # first\n  1: dog\n",
    ],
)
def test_data_yaml_is_read_as_yaml(tmp_path, text):
    (tmp_path / "data.yaml").write_text(text, encoding="utf-8")
    assert read_yolo_names(tmp_path)[0] == NAMES


def test_classes_txt_bom_is_stripped(tmp_path):
    (tmp_path / "classes.txt").write_bytes("\ufeffcat\r\ndog\r\n".encode("utf-8"))
    assert read_yolo_names(tmp_path)[0] == NAMES


@pytest.mark.parametrize(
    "file, text",
    [("classes.txt", "cat\ndog\ncat\n"), ("data.yaml", "names: [cat, dog, cat]\n")],
)
def test_duplicate_class_names_are_refused(tmp_path, file, text):
    (tmp_path / file).write_text(text)
    with pytest.raises(DatasetError, match=r"duplicate class names \['cat'\]"):
        read_yolo_names(tmp_path)


# ---------------------------------------------------------------- 18.2 / 21.4: nothing to train on
def _yolo_split(root, split, count, pixel=False):
    entries = [
        (f"im{i}", jpeg_bytes(solid_image(30, 40)), (40, 30), [(0, 5, 5, 20, 20)])
        for i in range(count)
    ]
    write_yolo(root, split, entries)
    if pixel:
        for label in (root / "labels" / split).glob("*.txt"):
            label.write_text("0 12.5 12.5 15 15\n")  # cx cy w h in pixels


def test_misnamed_labels_folder_is_an_error_with_the_cause(tmp_path, capsys):
    _yolo_split(tmp_path, "train", 6)
    (tmp_path / "labels").rename(tmp_path / "label")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    exp = _exp("yolo", data_dir=str(tmp_path), val_sets=("train",))
    with pytest.raises(
        DatasetError, match=r"0 boxes in 6 images; labels/ not found next to images/"
    ):
        exp._make_dataset(True, (64, 64), None)
    assert check_main(["--yolo", str(tmp_path), "--no-decode"]) == 1
    assert "0 boxes in 6 images; labels/ not found" in capsys.readouterr().out


def test_missing_val_labels_is_an_error_at_train_time(tmp_path):
    _yolo_split(tmp_path, "train", 4)
    _yolo_split(tmp_path, "val", 3)
    import shutil

    shutil.rmtree(tmp_path / "labels" / "val")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    exp = _exp("yolo", data_dir=str(tmp_path))
    assert len(exp._make_dataset(True, (64, 64), None)) == 4
    with pytest.raises(DatasetError, match="0 boxes in 3 images; labels/ not found"):
        exp._make_dataset(False, (64, 64), None)


def test_pixel_coordinates_are_named_as_the_cause(tmp_path, capsys):
    _yolo_split(tmp_path, "train", 5, pixel=True)
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    with pytest.raises(
        DatasetError, match=r"all 5 boxes have coordinates > 1: pixel coordinates\?"
    ):
        YOLODetection(tmp_path, ["train"])
    assert check_main(["--yolo", str(tmp_path), "--no-decode"]) == 1
    assert "pixel coordinates?" in capsys.readouterr().out


def test_checker_lists_every_split_and_fails_the_empty_one(tmp_path, capsys):
    write_roboflow_export(tmp_path, 3)
    for label in (tmp_path / "test" / "labels").glob("*.txt"):
        label.unlink()
    assert check_main(["--yolo", str(tmp_path), "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert "splits found: train, val, test" in out
    assert "split test: 3 images, 0 boxes" in out and "0 boxes in 3 images" in out
    write_voc_flat(tmp_path / "flat" / "train", bad_entries()[:2])
    write_voc_flat(tmp_path / "flat" / "test", bad_entries()[:1])
    assert check_main(["--voc-flat", str(tmp_path / "flat"), "--no-decode"]) == 0
    out = capsys.readouterr().out
    assert "splits found: test, train" in out and "split test: 1 images" in out


def test_checker_rejects_a_val_class_that_training_rejects(tmp_path, capsys):
    write_voc_flat(tmp_path / "train", bad_entries()[:1])  # cat only
    write_voc_flat(tmp_path / "val", bad_entries()[6:7])  # dog (and a degenerate cat)
    exp = _exp("voc_flat", data_dir=str(tmp_path), num_classes=1)
    exp.bind_class_names(exp._make_dataset(True, (64, 64), None))
    with pytest.raises(DatasetError, match="dog"):
        exp.bind_class_names(exp._make_dataset(False, (64, 64), None))
    assert check_main(["--voc-flat", str(tmp_path), "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "'dog'" in out


def test_coco_crowd_boxes_are_counted(make_coco):
    image = jpeg_bytes(solid_image(30, 40))
    anns = [
        {"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 1, 10, 10], "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 3, "bbox": [2, 2, 10, 10], "iscrowd": 1},
        {"id": 3, "image_id": 1, "category_id": 3, "bbox": [3, 3, 10, 10], "iscrowd": 1},
    ]
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
        "annotations": anns,
        "categories": [{"id": 3, "name": "cat"}],
    }
    root, json_name, name = make_coco(data, {"a.jpg": image})
    ds = COCODataset(root, json_name, name)
    assert _boxes(ds) == 1
    (crowd,) = [p for p in ds.problems if "crowd" in p.message]
    assert crowd.severity == "warning" and crowd.message.startswith("2 crowd boxes")


# ---------------------------------------------------------------- 18.5 / 18.8: silent drops
@pytest.mark.parametrize("layout", ["yolo", "voc_flat"])
def test_same_stem_different_extensions_are_refused(tmp_path, layout):
    if layout == "yolo":
        write_yolo(tmp_path, "train", bad_entries()[:1])
        folder = tmp_path / "images" / "train"
    else:
        write_voc_flat(tmp_path / "train", bad_entries()[:1])
        folder = tmp_path / "train"
    (folder / "ok.png").write_bytes(png_bytes(solid_image(30, 40)))
    cls = YOLODetection if layout == "yolo" else VOCFlatDetection
    with pytest.raises(DatasetError, match=r"ok\.jpg and ok\.png"):
        cls(tmp_path, ["train"], class_names=NAMES)


def test_yolo_label_without_image_is_warned_and_counted(tmp_path, capsys):
    write_yolo(tmp_path, "train", bad_entries()[:2])
    (tmp_path / "labels" / "train" / "gone.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    ds = YOLODetection(tmp_path, ["train"])
    (orphan,) = [p for p in ds.problems if p.file.endswith("gone.txt")]
    assert orphan.severity == "warning" and "no image" in orphan.message
    check_main(["--yolo", str(tmp_path), "--no-decode"])
    assert "gone.txt: no image for this label file" in capsys.readouterr().out


def test_16_bit_png_with_12_bit_data_keeps_its_brightness(tmp_path):
    ramp = np.linspace(0, 4095, 40 * 30).reshape(30, 40).astype(np.uint16)
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), ramp)
    img = read_image(path)
    expected = np.round(ramp.astype(np.float64) * 255.0 / 4095.0)
    assert img.dtype == np.uint8 and img.shape == (30, 40, 3)
    np.testing.assert_allclose(img[:, :, 0], expected, atol=1)


# ---------------------------------------------------------------- 18.6: disk cache invalidation
def test_disk_cache_rebuilds_a_replaced_image(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    dark, bright = solid_image(30, 40, seed=0), np.full((30, 40, 3), 250, np.uint8)
    (folder / "a.png").write_bytes(png_bytes(dark))
    (folder / "a.xml").write_text(voc_xml("a.png", (40, 30), [("cat", (2, 2, 20, 20))]))
    cache_dir = tmp_path / "cache"

    def first_pixel_mean():
        ds = VOCFlatDetection(
            tmp_path, ["train"], (30, 40), cache=True, cache_type="disk", cache_dir=cache_dir
        )
        return float(ds.pull_item(0)[0].mean())

    assert first_pixel_mean() < 60
    (folder / "a.png").write_bytes(png_bytes(bright))
    stat = (folder / "a.png").stat()
    os.utime(folder / "a.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    time.sleep(0.01)
    assert first_pixel_mean() > 200  # the new pixels, not the cached old ones
    assert len(list(cache_dir.glob("*.npy"))) == 1  # the stale entry was removed


def test_a_split_not_found_names_the_splits_found_and_the_exp_line(tmp_path):
    write_roboflow_export(tmp_path, 2)
    (tmp_path / "data.yaml").unlink()
    with pytest.raises(DatasetError) as err:
        YOLODetection(tmp_path, ["validation"], class_names=NAMES)
    text = str(err.value)
    assert "splits found: ['test', 'train', 'valid']" in text
    assert "self.train_sets = ('train',); self.val_sets = ('valid',)" in text
    assert "self.data_yaml" in text


def test_exp_fields_of_one_format_are_refused_in_another():
    exp = _exp("coco", data_yaml="data.yaml", annotations_dir="annots")
    with pytest.raises(Exception, match="data_yaml is read by dataset_format 'yolo' only") as err:
        exp.check()
    assert "annotations_dir is read by dataset_format 'voc_flat' only" in str(err.value)


def test_checker_fails_a_voc_split_without_boxes(make_voc, capsys):
    image = jpeg_bytes(solid_image(30, 40))
    root = make_voc(
        {
            "a": (image, voc_xml("a.jpg", (40, 30), [("cat", (2, 2, 9, 9))])),
            "b": (image, voc_xml("b.jpg", (40, 30), [])),
        },
        sets={"train": ["a"], "test": ["b"]},
    )
    assert check_main(["--voc", str(root), "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert "0 boxes in 1 images" in out and "split test: 1 images, 0 boxes" in out
