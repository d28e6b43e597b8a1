"""tools/check_data.py -f EXP checks every split the exp uses, as training builds it."""

from __future__ import annotations

from pathlib import Path

from loguru import logger

from yolox.testing.data_files import bad_entries, jpeg_bytes, solid_image, voc_xml, write_voc_flat
from yolox.tools.check_data import main


def _exp_file(tmp_path: Path, data_dir: Path) -> Path:
    exp = tmp_path / "flat_exp.py"
    exp.write_text(
        "from yolox.exp import Exp as BaseExp\n\n\n"
        "class Exp(BaseExp):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.num_classes = 2\n"
        "        self.dataset_format = 'voc_flat'\n"
        f"        self.data_dir = {str(data_dir)!r}\n"
    )
    return exp


def test_every_split_of_the_exp_is_checked_and_counted(tmp_path, capsys):
    data = tmp_path / "data"
    entries = bad_entries()
    write_voc_flat(data / "train", [entries[0], entries[2]])  # both classes
    write_voc_flat(data / "val", entries[:3])  # the truncated JPEG is in val only
    exp = _exp_file(tmp_path, data)
    assert main(["-f", str(exp)]) == 0  # the truncated JPEG: training substitutes it
    out = capsys.readouterr().out
    assert "split train: 2 images, 2 boxes (cat 1, dog 1), 0 images without boxes" in out
    assert "split val: 3 images, 3 boxes (cat 1, dog 2), 0 images without boxes" in out
    assert "val/truncated.jpg: truncated JPEG" in out and "0 error(s)" in out
    assert "training substitutes another image" in out
    # overrides may follow the flags or precede them
    assert main(["val_sets", "('train',)", "-f", str(exp), "--no-decode"]) == 0
    assert "split val: 2 images" in capsys.readouterr().out


def test_a_split_that_cannot_be_built_is_an_error_line(tmp_path, capsys):
    data = tmp_path / "data"
    write_voc_flat(data / "train", [bad_entries()[0], bad_entries()[2]])
    assert main(["-f", str(_exp_file(tmp_path, data)), "--no-decode"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: <val split>" in out and "val_fraction" in out


def test_each_warning_is_printed_once(tmp_path, capsys):
    """The XML 0x0 size warning was logged by the dataset build and printed by the report."""
    data = tmp_path / "data"
    write_voc_flat(data / "train", bad_entries()[:3])  # png_as_jpg has <size> 0x0
    write_voc_flat(data / "val", bad_entries()[:1])
    logged = []
    sink = logger.add(lambda m: logged.append(str(m)), level="WARNING", format="{message}")
    try:
        main(["-f", str(_exp_file(tmp_path, data)), "--no-decode"])
    finally:
        logger.remove(sink)
    out = capsys.readouterr().out
    assert out.count("XML <size> is 0x0") == 1
    assert not [m for m in logged if "0x0" in m]


def test_an_exp_split_without_boxes_is_an_error(tmp_path, capsys):
    data = tmp_path / "voc"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (data / sub).mkdir(parents=True)
    image = jpeg_bytes(solid_image(30, 40))
    for stem, objects in (("a", [("cat", (2, 2, 9, 9))]), ("b", [])):
        (data / "JPEGImages" / f"{stem}.jpg").write_bytes(image)
        (data / "Annotations" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", (40, 30), objects))
    (data / "ImageSets/Main/train.txt").write_text("a\n")
    (data / "ImageSets/Main/val.txt").write_text("b\n")
    exp = tmp_path / "voc_exp.py"
    exp.write_text(
        "from yolox.exp import Exp as BaseExp\n\n\n"
        "class Exp(BaseExp):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.num_classes = 1\n"
        "        self.dataset_format = 'voc'\n"
        f"        self.data_dir = {str(data)!r}\n"
        "        self.train_sets, self.val_sets = ('train',), ('val',)\n"
    )
    assert main(["-f", str(exp), "--no-decode"]) == 1
    assert "<val split>: 0 boxes in 1 images" in capsys.readouterr().out


def test_splits_the_exp_does_not_use_are_named(tmp_path, capsys):
    data = tmp_path / "data"
    for split in ("train", "val", "test"):
        write_voc_flat(data / split, [bad_entries()[0], bad_entries()[2]])
    assert main(["-f", str(_exp_file(tmp_path, data)), "--no-decode"]) == 0
    assert "splits in the data that the exp does not use: test" in capsys.readouterr().out


def test_a_missing_image_set_file_is_named_once_in_full(tmp_path, capsys):
    """A VOC root without ImageSets/Main: the list's full path once, the root by name (no
    "the file" standing in for a folder), through the one tool and its exit status."""
    root = tmp_path / "voc"
    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    assert main(["--voc", str(root), "--image-sets", "a", "--no-decode"]) == 1
    out = capsys.readouterr().out
    missing = str(root / "ImageSets" / "Main" / "a.txt")
    assert out.count(missing) == 1, out
    assert f"ERROR: {root}: image set file not found: {missing} (available: none)" in out
    assert f"; {root} has no ImageSets/Main: for images with XMLs beside them" in out
    assert "the file" not in out and "1 error(s), 0 warning(s)" in out


def test_a_folder_and_an_exp_are_one_command_with_one_error_path(tmp_path, capsys):
    assert main(["--coco", str(tmp_path / "a.json")]) == 2  # run_command: one line, exit 2
    assert capsys.readouterr().err.strip() == (
        "check_data: error: --coco needs the image folder: --images DIR"
    )
    assert main(["--voc", str(tmp_path), "max_epoch", "3"]) == 2
    assert "need an experiment (-f)" in capsys.readouterr().err
