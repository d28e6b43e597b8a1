"""voc_flat (XMLs beside images) and yolo (images/ + labels/) in their published layouts.

Every bad input the VOC and COCO loaders handle (truncated JPEG, PNG named .jpg, RGBA, XML
size 0x0, EXIF rotation, boxes outside the image or degenerate) is written into both layouts
in a tmp folder, and must be handled the same way.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from yolox.data import DatasetError, TrainTransform, ValTransform, VOCDetection
from yolox.data.datasets.folder_layout import in_holdout
from yolox.data.datasets.xml_folder import VOCFlatDetection
from yolox.data.datasets.yolo_txt import YOLODetection, label_path, read_yolo_names
from yolox.exp import Exp
from yolox.testing.data_files import (
    NAMES,
    bad_entries,
    jpeg_bytes,
    solid_image,
    write_voc_flat,
    write_yolo,
)
from yolox.tools.check_data import main as check_main


def _by_stem(dataset):
    return {rec.file.stem: rec for rec in dataset.records}


def _check_bad_inputs_handled(dataset, tolerance):
    recs = _by_stem(dataset)
    assert set(recs) == {e[0] for e in bad_entries()}
    assert (recs["exif"].height, recs["exif"].width) == (40, 20)  # EXIF rotation applied
    assert (recs["png_as_jpg"].height, recs["png_as_jpg"].width) == (30, 40)  # 0x0 size fixed
    np.testing.assert_allclose(recs["outside"].boxes, [[30, 20, 40, 30]], atol=tolerance)
    assert recs["degenerate"].labels.tolist() == [1]  # the zero-width box is dropped
    assert len(recs["background"].boxes) == 0
    np.testing.assert_allclose(recs["ok"].boxes, [[5, 5, 20, 20]], atol=tolerance)
    for stem in ("rgba", "png_as_jpg", "exif"):
        img = dataset.load_image(list(recs).index(stem))
        assert img.shape[2] == 3 and img.dtype == np.uint8
    # the truncated JPEG never reaches training: substituted in training, blank in evaluation
    index = list(recs).index("truncated")
    with pytest.raises(DatasetError, match="truncated JPEG"):
        dataset.load_image(index)
    dataset.preproc, dataset.bad_image = ValTransform(), "blank"
    _, target, _, _ = dataset[index]
    assert (target == -1).all()  # the evaluator's "unreadable, do not score" marker


def test_voc_flat_roboflow_layout_handles_bad_inputs(tmp_path):
    write_voc_flat(tmp_path / "train", bad_entries())
    write_voc_flat(tmp_path / "valid", bad_entries()[:1])
    ds = VOCFlatDetection(tmp_path, ["train"], (64, 64), TrainTransform())
    assert ds.class_names == NAMES and ds.class_names_source == "the XML <name>s (sorted)"
    _check_bad_inputs_handled(ds, tolerance=0)
    assert len(VOCFlatDetection(tmp_path, ["valid"], class_names=NAMES)) == 1


def test_yolo_v5_layout_handles_bad_inputs(tmp_path):
    write_yolo(tmp_path, "train", bad_entries())
    (tmp_path / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames:\n  0: cat\n  1: dog\n"
    )
    ds = YOLODetection(tmp_path, ["train"], (64, 64), TrainTransform())
    assert ds.class_names == NAMES and ds.class_names_source.endswith("data.yaml")
    _check_bad_inputs_handled(ds, tolerance=1e-3)


@pytest.mark.parametrize(
    "text",
    [
        "names: ['cat', 'dog']\n",
        "names:\n  - cat\n  - dog\nnc: 2\n",
        "nc: 2\nnames: {0: cat, 1: dog}\n".replace("{0: cat, 1: dog}", "{0: 'cat', 1: 'dog'}"),
    ],
)
def test_yolo_names_from_data_yaml_forms(tmp_path, text):
    (tmp_path / "data.yaml").write_text(text)
    assert read_yolo_names(tmp_path)[0] == NAMES


def test_yolo_label_path_rule_and_flat_images(tmp_path):
    assert label_path(tmp_path / "images" / "train" / "a.jpg") == tmp_path / "labels/train/a.txt"
    assert label_path(tmp_path / "train" / "images" / "a.png") == tmp_path / "train/labels/a.txt"
    assert label_path(tmp_path / "pics" / "a.jpg") == tmp_path / "pics" / "a.txt"
    # images/ + labels/ without split folders, names from classes.txt (LabelImg's YOLO mode)
    write_yolo(tmp_path / "d", ".", bad_entries()[:2])
    (tmp_path / "d" / "classes.txt").write_text("cat\ndog\n")
    ds = YOLODetection(tmp_path / "d", ["."])
    assert len(ds) == 2 and ds.class_names == NAMES


def test_yolo_label_errors_name_file_and_line(tmp_path):
    write_yolo(tmp_path, "train", bad_entries()[:1])
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    (tmp_path / "labels" / "train" / "ok.txt").write_text(
        "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\nx\n"
    )
    with pytest.raises(DatasetError) as err:
        YOLODetection(tmp_path, ["train"])
    text = str(err.value)
    assert "ok.txt:2: invalid class index 7 (the names file has 2)" in text
    assert "ok.txt:3: not numbers" in text


def test_holdout_split_is_deterministic_and_disjoint(tmp_path):
    box = [(0, 1, 1, 9, 9)]  # every image has a box: a side without any would be an error
    entries = [(f"im{i}", jpeg_bytes(solid_image(30, 40)), (40, 30), box) for i in range(40)]
    entries[0] = ("im0", entries[0][1], (40, 30), [(0, 1, 1, 9, 9), (1, 2, 2, 8, 8)])
    write_voc_flat(tmp_path, entries)
    exp = Exp()
    exp.dataset_format, exp.data_dir, exp.val_fraction, exp.num_classes = (
        "voc_flat",
        str(tmp_path),
        0.25,
        2,
    )
    train = exp._make_dataset(True, (64, 64), None)
    val = exp._make_dataset(False, (64, 64), None)
    train_ids, val_ids = set(train.ids), set(val.ids)
    assert not train_ids & val_ids and len(train_ids | val_ids) == 40
    assert 3 <= len(val_ids) <= 17  # about a quarter
    assert val_ids == {i for i in train_ids | val_ids if in_holdout(i, 0.25)}
    assert train.class_names == val.class_names == NAMES  # names from all images, before the split


def test_folder_format_without_val_folder_says_what_to_set(tmp_path):
    write_voc_flat(tmp_path / "train", bad_entries()[:1])
    exp = Exp()
    exp.dataset_format, exp.data_dir = "voc_flat", str(tmp_path)
    with pytest.raises(DatasetError, match="val_fraction"):
        exp._make_dataset(False, (64, 64), None)


def test_checker_prints_each_split_and_each_path_once(tmp_path, capsys):
    write_yolo(tmp_path, "train", bad_entries())
    write_yolo(tmp_path, "val", bad_entries()[:2])
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    # a truncated JPEG is a warning: training substitutes it (not an error in one, a repair in the other)
    assert check_main(["--yolo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "split train: 8 images, 7 boxes (cat 4, dog 3), 1 images without boxes" in out
    assert "split val: 2 images, 2 boxes (cat 1, dog 1), 0 images without boxes" in out
    assert out.count("truncated.jpg: truncated JPEG") == 2  # one file per split, once each
    assert "truncated.jpg: truncated JPEG (no end-of-image marker); training" in out  # path once
    write_voc_flat(tmp_path / "flat" / "train", bad_entries())
    assert check_main(["--voc-flat", str(tmp_path / "flat"), "--no-decode"]) == 0
    out = capsys.readouterr().out
    assert "split train: 8 images, 7 boxes (cat 4, dog 3)" in out and "0 error(s)" in out


def test_checker_hint_names_its_own_flag(tmp_path, capsys):
    write_voc_flat(tmp_path / "train", [bad_entries()[0], bad_entries()[6]])  # cat; cat + dog
    assert check_main(["--voc-flat", str(tmp_path), "--classes", "dog", "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert "--skip-unknown-classes" in out
    args = [
        "--voc-flat",
        str(tmp_path),
        "--classes",
        "dog",
        "--skip-unknown-classes",
        "--no-decode",
    ]
    assert check_main(args) == 0


def _voc_counts(dataset):
    counts = np.zeros(len(dataset.class_names), int)
    for rec in dataset.records:
        np.add.at(counts, rec.labels, 1)
    return len(dataset), counts.tolist()


def test_bccd_converted_to_flat_and_yolo_gives_the_voc_counts(shared_datasets, tmp_path):
    bccd = shared_datasets / "BCCD"
    for split in ("train", "val"):
        voc = VOCDetection(bccd, [split], class_names=("RBC", "WBC", "Platelets"))
        flat, yolo = tmp_path / "flat" / split, tmp_path / "yolo"
        flat.mkdir(parents=True)
        (yolo / "images" / split).mkdir(parents=True)
        (yolo / "labels" / split).mkdir(parents=True)
        for rec in voc.records:
            shutil.copy(rec.file, flat / rec.file.name)
            shutil.copy(bccd / "Annotations" / f"{rec.img_id}.xml", flat / f"{rec.file.stem}.xml")
            shutil.copy(rec.file, yolo / "images" / split / rec.file.name)
            cx = (rec.boxes[:, 0] + rec.boxes[:, 2]) / 2 / rec.width
            cy = (rec.boxes[:, 1] + rec.boxes[:, 3]) / 2 / rec.height
            w = (rec.boxes[:, 2] - rec.boxes[:, 0]) / rec.width
            h = (rec.boxes[:, 3] - rec.boxes[:, 1]) / rec.height
            lines = [
                f"{c} {a:.7f} {b:.7f} {d:.7f} {e:.7f}"
                for c, a, b, d, e in zip(rec.labels, cx, cy, w, h)
            ]
            (yolo / "labels" / split / f"{rec.file.stem}.txt").write_text("\n".join(lines))
        (yolo / "classes.txt").write_text("RBC\nWBC\nPlatelets\n")
        as_flat = VOCFlatDetection(tmp_path / "flat", [split], class_names=voc.class_names)
        as_yolo = YOLODetection(yolo, [split])
        assert _voc_counts(as_flat) == _voc_counts(voc) == _voc_counts(as_yolo)
        by_file = {r.file.name: r for r in as_yolo.records}
        for rec in voc.records:
            np.testing.assert_allclose(by_file[rec.file.name].boxes, rec.boxes, atol=1e-3)
